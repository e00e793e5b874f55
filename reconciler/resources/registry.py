"""The registry of resource families, and every table the shared machinery derives from it.

Families register themselves when the catalog (`reconciler.resources.catalog`) is imported, which the
first read of a view does. The tables (sections, types, collections, phases,
files, definitions) are derived views, computed on first use and recomputed after a registration.

Registering a section, type, collection, phase or export file name that is already registered raises
`ValueError`. Reading a view while the catalog is loading raises `RuntimeError`: it would mean a module
the families import computes a table at import time, from a half-filled registry, which is how a table
silently misses a type.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from types import MappingProxyType

from reconciler.resources.base import Collection, Family, Phase, ResourceType


class Registry:
    def __init__(self) -> None:
        self._families: list[Family] = []
        self._sealed = False
        self._loading = False
        #: Bumped by every registration change: caches of derived tables key on it.
        self.generation = 0
        self._views: _Views | None = None

    # -- registration --------------------------------------------------------------------------
    def register(self, family: Family) -> Family:
        """Add a family; raises ValueError when any of its names is taken. Returns the family."""
        _check_own(family)
        taken = _Views(tuple(self._families))
        for what, mine, theirs in (
            ("section", {family.section}, set(taken.sections)),
            ("resource type", {t.name for t in family.types}, set(taken.types)),
            ("collection", {c.name for c in family.collections}, set(taken.collections)),
            ("phase", {p.name for p in family.phases}, {p.name for f in taken.families for p in f.phases}),
            ("export file", {family.export_file}, set(taken.files.values())),
        ):
            clash = mine & theirs
            if clash:
                raise ValueError(f"{what} {', '.join(sorted(clash))} is already registered")
        self._families.append(family)
        self._views = None
        self.generation += 1
        return family

    def unregister(self, section: str) -> None:
        """Remove a family (tests that register a throwaway type)."""
        self._families = [f for f in self._families if f.section != section]
        self._views = None
        self.generation += 1

    @contextmanager
    def registered(self, family: Family) -> Iterator[Family]:
        """Register `family` for the duration of a `with` block."""
        self.register(family)
        try:
            yield family
        finally:
            self.unregister(family.section)

    def _load_catalog(self) -> None:
        if self._loading:
            raise RuntimeError("the resource registry was read while the catalog was loading (a table computed "
                               "at import time by a module the resource families import)")
        self._loading = True
        try:
            import reconciler.resources.catalog  # noqa: F401 - registers every family, then seals
        finally:
            self._loading = False

    def seal(self, order: tuple[str, ...] | None = None) -> None:
        """Mark the catalog complete: views may be read from now on.

        `order` (the catalog's section order) reorders the families, so registration order (which
        depends on which module happened to import which first) never decides the schema or the
        renderings; a registered family missing from it, or a name in it that nothing registered,
        raises. An unknown or cyclic phase `after` raises here too, at import, not mid-plan.
        """
        if order is not None:
            by_section = {f.section: f for f in self._families}
            if set(order) != set(by_section) or len(order) != len(by_section):
                raise ValueError(f"catalog order {list(order)} does not match the registered sections "
                                 f"{sorted(by_section)}")
            self._families = [by_section[s] for s in order]
            self._views = None
            self.generation += 1
        self._sealed = True
        self.views.phase_rank  # noqa: B018 - computing it validates the phases

    # -- views ---------------------------------------------------------------------------------
    @property
    def views(self) -> _Views:
        if not self._sealed:
            self._load_catalog()
        if self._views is None:
            self._views = _Views(tuple(self._families))
        return self._views

    @property
    def families(self) -> tuple[Family, ...]:
        return self.views.families

    def family(self, section: str) -> Family:
        return self.views.by_section[section]

    def family_of(self, type_name: str) -> Family:
        return self.views.family_of_type[type_name]


class _Views:
    """The derived tables of one set of families (immutable; rebuilt after each registration)."""

    def __init__(self, families: tuple[Family, ...]) -> None:
        self.families = families

    @cached_property
    def by_section(self) -> Mapping[str, Family]:
        return MappingProxyType({f.section: f for f in self.families})

    @cached_property
    def sections(self) -> tuple[str, ...]:
        return tuple(f.section for f in self.families)

    @cached_property
    def types(self) -> tuple[str, ...]:
        """Every resource type, in the order the plan and the renderings group them."""
        return tuple(t.name for f in self.families for t in f.types)

    @cached_property
    def resource_types(self) -> Mapping[str, ResourceType]:
        return MappingProxyType({t.name: t for f in self.families for t in f.types})

    @cached_property
    def family_of_type(self) -> Mapping[str, Family]:
        return MappingProxyType({t.name: f for f in self.families for t in f.types})

    @cached_property
    def section_types(self) -> Mapping[str, tuple[str, ...]]:
        return MappingProxyType({f.section: tuple(t.name for t in f.types) for f in self.families})

    @cached_property
    def type_collection(self) -> Mapping[str, str]:
        return MappingProxyType({t.name: t.collection for f in self.families for t in f.types})

    @cached_property
    def collections(self) -> Mapping[str, Collection]:
        """Every live collection, in the fixed order reads are made."""
        return MappingProxyType({c.name: c for f in self.families for c in f.collections})

    @cached_property
    def files(self) -> Mapping[str, str]:
        return MappingProxyType({f.section: f.export_file for f in self.families})

    @cached_property
    def undeletable_sections(self) -> frozenset[str]:
        return frozenset(f.section for f in self.families if not f.deletable)

    @cached_property
    def independent_phases(self) -> frozenset[str]:
        return frozenset(p.name for f in self.families for p in f.phases if p.independent)

    @cached_property
    def phase_rank(self) -> Mapping[str, int]:
        """Phase name -> its position in the apply order.

        A topological order of the `after` constraints; among phases that are ready at once, the one
        declared first (family order, then order within the family) goes first; `final` phases last.
        """
        declared = [p for f in self.families for p in f.phases]
        position = {p.name: i for i, p in enumerate(declared)}
        for p in declared:
            for before in p.after:
                if before not in position:
                    raise ValueError(f"phase {p.name} runs after unknown phase {before}")
        ordered: list[str] = []
        for final in (False, True):
            group = [p for p in declared if p.final is final]
            waiting = {p.name: {a for a in p.after if a not in ordered} for p in group}
            while waiting:
                ready = sorted((n for n, deps in waiting.items() if not deps), key=position.__getitem__)
                if not ready:
                    raise ValueError(f"phases wait for each other in a cycle: {', '.join(sorted(waiting))}")
                name = ready[0]
                ordered.append(name)
                del waiting[name]
                for deps in waiting.values():
                    deps.discard(name)
        return MappingProxyType({name: i for i, name in enumerate(ordered)})


def _check_own(family: Family) -> None:
    """A family's own names must be distinct, and its types' collections must exist somewhere."""
    for what, names in (("resource type", [t.name for t in family.types]),
                        ("collection", [c.name for c in family.collections]),
                        ("phase", [p.name for p in family.phases])):
        if len(names) != len(set(names)):
            raise ValueError(f"family {family.section}: a {what} is declared twice")
    if not family.types:
        raise ValueError(f"family {family.section} declares no resource type")


def phases(*names: str | Phase) -> tuple[Phase, ...]:
    """Shorthand: a plain name is a phase with no constraint."""
    return tuple(n if isinstance(n, Phase) else Phase(n) for n in names)


#: The one registry of the program.
REGISTRY = Registry()

__all__ = ["REGISTRY", "Collection", "Family", "Phase", "Registry", "ResourceType", "phases"]
