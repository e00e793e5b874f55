"""Shared state of one planning run: problems, warnings, changes by phase, reference indices.

A *handle* names an object the plan can point at: an `int` is a live id; a `str` is the key of a change in
this plan that creates the object (its id is known only at apply time, written as {"$ref": key}).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.errors import PLAN_RANK, Problem
from reconciler.manifest.model import Entry, Manifest, Source
from reconciler.manifest.text import did_you_mean
from reconciler.plan import Change, FieldChange, GreenhouseManaged, Unmanaged
from reconciler.planner.names import differences, fold, quoted

if TYPE_CHECKING:
    from reconciler.live import LiveOrg

Handle = int | str

def ref(handle: Handle | None) -> Any:
    """The JSON value to send for a handle: the id, or a reference the executor substitutes."""
    return {"$ref": handle} if isinstance(handle, str) else handle


def path_ref(handle: Handle) -> str:
    """A path segment for a handle: the id, or "{$ref:<key>}" the executor substitutes."""
    return f"{{$ref:{handle}}}" if isinstance(handle, str) else str(handle)


def suggestion(value: str, candidates: Iterable[str]) -> str:
    """` (did you mean "name"?)` for the closest candidate, or the empty string."""
    return did_you_mean(value, sorted(set(candidates)))


@dataclass
class Index:
    """Lookup from reference strings to handles; one string may name several objects (ambiguous)."""

    noun: str
    entries: dict[str, set[Handle]] = field(default_factory=lambda: defaultdict(set))
    names: dict[Handle, str] = field(default_factory=dict)

    def add(self, keys: Iterable[str | None], handle: Handle, display: str) -> None:
        for k in keys:
            if k is not None and k != "":
                self.entries[k].add(handle)
        self.names[handle] = display

    def display(self, handle: Handle | None) -> str | None:
        return None if handle is None else self.names.get(handle, str(handle))


@dataclass
class Context:
    manifest: Manifest
    live: LiveOrg
    #: Phase name -> position in the apply order (from the resource registry).
    phases: Mapping[str, int] = field(default_factory=dict)
    #: Phases whose changes do not depend on each other's order: grouped by bulk endpoint when ordered.
    independent_phases: frozenset[str] = frozenset()
    #: The Greenhouse user the token acts as (settings GREENHOUSE_USER_ID, the OAuth `sub`); None when the
    #: token acts as the credential's service user. Families refuse plans that cut this user's access.
    acting_user_id: int | None = None
    #: Per-family scratch shared between a family's index and plan steps (e.g. entry -> live matches).
    state: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: The warnings that say part of the manifest cannot be reached (see `warn`).
    unreachable: list[str] = field(default_factory=list)
    #: (phase rank, endpoint group, insertion order, change)
    changes: list[tuple[int, int, int, Change]] = field(default_factory=list)
    _endpoint_groups: dict[int, dict[str, int]] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unmanaged: list[Unmanaged] = field(default_factory=list)
    greenhouse_managed: list[GreenhouseManaged] = field(default_factory=list)
    indices: dict[str, Index] = field(default_factory=dict)
    groups: dict[tuple[str, str], Mapping[Any, tuple[int, ...]]] = field(default_factory=dict)
    #: Per section, the protect entries by `fold` (built on first use).
    _protect: dict[str, dict[str, list[tuple[str, int]]]] = field(default_factory=dict)
    _warned: set[str] = field(default_factory=set)

    # -- reporting -----------------------------------------------------------------------------
    def problem(self, where: Source | str, message: str) -> None:
        self.problems.append(Problem(PLAN_RANK, str(where), message))

    def warn_once(self, message: str, *, unreachable: bool = False) -> None:
        """`warn`, unless the same message was already recorded."""
        if message not in self._warned:
            self.warn(message, unreachable=unreachable)

    def warn(self, message: str, *, unreachable: bool = False) -> None:
        """Record a warning for the reviewer. `unreachable`: it says that part of the manifest cannot be
        reached (the live organisation will still differ from it after apply, e.g. a protected user the
        manifest deactivates): such warnings are drift (`Plan.drifted`, `plan --detailed-exitcode`), and no
        rendering says the organisation matches the manifests. Problems the manifest itself can fix, and
        that make the plan wrong, are `problem`s (errors), not warnings."""
        self.warnings.append(message)
        self._warned.add(message)
        if unreachable:
            self.unreachable.append(message)

    def add(self, phase: str, change: Change) -> None:
        rank = self.phases[phase]
        group = 0
        if phase in self.independent_phases:
            # Changes of one bulk endpoint together, in the order endpoints first appear; the rest keep theirs.
            bulk = change.writes[0].bulk if len(change.writes) == 1 else None
            groups = self._endpoint_groups.setdefault(rank, {})
            group = groups.setdefault(bulk or "", len(groups))
        self.changes.append((rank, group, len(self.changes), change))

    def add_unmanaged(self, type_: str, name: str, live_id: int, *, protected: bool = False) -> None:
        """List a live object no manifest names; `protected`: kept by policy.protect from a planned delete."""
        self.unmanaged.append(Unmanaged(type_, name, live_id, protected))

    def add_greenhouse_managed(self, type_: str, name: str, live_id: int, reason: str) -> None:
        self.greenhouse_managed.append(GreenhouseManaged(type_, name, live_id, reason))

    def same(self, type_: str) -> None:
        self.unchanged[type_] += 1

    def ordered_changes(self) -> list[Change]:
        return [c for *_, c in sorted(self.changes, key=lambda t: (t[0], t[1], t[2]))]

    # -- references ----------------------------------------------------------------------------
    def resolve(self, kind: str, value: Any, where: Source) -> Handle | None:
        """Resolve a reference by name/external id to exactly one handle, or record a problem.

        Returns None (and records the problem) when the value names nothing or several objects.
        """
        index = self.indices[kind]
        if isinstance(value, int) and not isinstance(value, bool):
            # The id form: a live object of this index by its Harvest id (export writes it when no name or
            # external id names the object uniquely). Index.names holds every live object's id as a handle.
            if value in index.names:
                return value
            self.problem(where, f"unknown {index.noun} id {value}: no live {index.noun} has this Harvest id "
                         "(an id names an object of one organisation only)")
            return None
        key = str(value)
        found = index.entries.get(key, set())
        if len(found) == 1:
            return next(iter(found))
        if not found:
            self.problem(where, f'unknown {index.noun} "{key}"{suggestion(key, index.entries)}')
        else:
            shown = ", ".join(sorted(f"{index.display(h)} ({_show(h)})" for h in found))
            self.problem(where, f'ambiguous {index.noun} "{key}": it names {len(found)} objects: {shown}')
        return None

    def live_rows(self, collection: str) -> Mapping[int, Mapping[str, Any]]:
        return self.live.get(collection)

    def rows_by(self, collection: str, column: str) -> Mapping[Any, tuple[int, ...]]:
        """Ids of the live rows of `collection` grouped by their `column` value (ascending ids).

        Built once per plan and cached: collections run to tens of thousands of rows (grants, options), so a
        planner looks a group up instead of scanning the collection once per object.
        """
        return self.rows_keyed(collection, column, lambda row: (row.get(column),))

    def rows_keyed(
        self, collection: str, name: str, keys: Callable[[Mapping[str, Any]], Iterable[Any]]
    ) -> Mapping[Any, tuple[int, ...]]:
        """Like `rows_by`, with the keys of a row computed by `keys` (a row may have several); cached by `name`."""
        cache = (collection, name)
        if cache not in self.groups:
            grouped: dict[Any, list[int]] = defaultdict(list)
            for row_id, row in sorted(self.live.get(collection).items()):
                for value in dict.fromkeys(keys(row)):
                    grouped[value].append(row_id)
            self.groups[cache] = {value: tuple(ids) for value, ids in grouped.items()}
        return self.groups[cache]

    def protected(self, section: str, *identities: str | None) -> bool:
        """Whether `policy.protect.<section>` names an object with one of `identities`.

        Protect entries match ignoring letter case, spaces and Unicode form (`names.fold`) for every type,
        whatever its identity rule: protecting is the safe side, and `protect: ["do not contact"]` is meant to
        keep the tag `Do Not Contact`. A match that holds only so is protected and warned about (so the entry
        can be corrected); `check_protect` warns about entries that match nothing.
        """
        entries = self._protect_entries(section)
        if not entries:
            return False
        present = [i for i in identities if i is not None]
        for identity in present:
            if any(name == identity for name, _ in entries.get(fold(identity), ())):
                return True
        for identity in present:
            listed = entries.get(fold(identity), [])
            if listed:
                name, pos = listed[0]
                self.warn_once(f"{self._protect_place(section, pos)}policy.protect.{section} entry {quoted(name)} "
                               f"differs from {quoted(identity)} only in {differences(name, identity)}; it protects "
                               "it (protect entries match ignoring those differences): write it as in Greenhouse")
                return True
        return False

    def _protect_entries(self, section: str) -> dict[str, list[tuple[str, int]]]:
        """The section's protect entries (with their positions) by `fold`, built once."""
        if section not in self._protect:
            grouped: dict[str, list[tuple[str, int]]] = defaultdict(list)
            for pos, name in enumerate(self.manifest.policy.protect.get(section, ())):
                grouped[fold(name)].append((name, pos))
            self._protect[section] = dict(grouped)
        return self._protect[section]

    def _protect_place(self, section: str, pos: int) -> str:
        """"file:line:col: " of protect entry `pos` of `section`, or "" when unknown."""
        where = self.manifest.policy.sources.get(f"protect.{section}[{pos}]")
        return f"{where}: " if where is not None else ""

    def check_protect(self, section: str, noun: str, identities: Iterable[Iterable[str | None]]) -> None:
        """Warn about each `policy.protect.<section>` entry that names no object: `identities` gives, for each
        live object of the section and each desired one, its identities (name, external id, key, email).
        Matching ignores case, spaces and Unicode form, as `protected` does. Linear: one pass over them."""
        entries = self.manifest.policy.protect.get(section, ())
        if not entries:
            return
        wanted = {fold(e) for e in entries}
        found: set[str] = set()
        names: list[str] = []
        for ids in identities:
            for identity in ids:
                if identity is not None and identity != "":
                    names.append(identity)
                    key = fold(identity)
                    if key in wanted:
                        found.add(key)
        for pos, entry in enumerate(entries):
            if fold(entry) in found:
                continue
            self.warn(f"{self._protect_place(section, pos)}policy.protect.{section} entry {quoted(entry)} matches no {noun} (live or in the "
                      f"manifests), so it protects nothing{suggestion(entry, names)}")

    def near_duplicates(self, noun: str, live: Mapping[int, str],
                        desired: Iterable[tuple[str, Source | str, int | None]]) -> None:
        """Warn about each desired name that a person would read as another name: one that differs only in
        letter case, spaces or Unicode form (`names.fold`) from a live object's name, or from another desired
        name of the same scope. `live` maps the scope's live ids to names; `desired` gives each entry's name,
        location and matched live id (None: created). A desired name equal to its own object's live name is
        not new: it is not compared with live names, nor with another such name (two live near-duplicates are
        Greenhouse's, and an export lists both). Linear:
        live names are indexed by their fold once.
        """
        entries = list(desired)
        if not entries:
            return
        by_fold: dict[str, list[int]] = defaultdict(list)
        for live_id, name in live.items():
            by_fold[fold(name)].append(live_id)
        first: dict[str, tuple[str, Source | str, bool]] = {}
        for name, where, matched in entries:
            key = fold(name)
            unchanged = matched is not None and live.get(matched) == name
            other = first.get(key)
            if other is not None and other[0] != name:
                if unchanged and other[2]:
                    continue  # both already live as written: Greenhouse's near-duplicates, not the manifest's
                self.warn(f"{where}: {noun} {quoted(name)} differs only in {differences(name, other[0])} from "
                          f"{noun} {quoted(other[0])} at {other[1]}: Greenhouse would hold two {noun}s a person "
                          "reads as one; write one name")
                continue
            first.setdefault(key, (name, where, unchanged))
            if unchanged:
                continue
            near = [i for i in sorted(by_fold.get(key, ())) if i != matched and live[i] != name]
            if not near:
                continue
            shown = ", ".join(f"{quoted(live[i])} (id {i})" for i in near)
            what = "is created beside" if matched is None else "is the new name of live id " f"{matched}, beside"
            self.warn(f"{where}: {noun} {quoted(name)} {what} live {noun} {shown}, which differs only in "
                      f"{differences(name, live[near[0]])}: if they are meant to be one {noun}, write the name "
                      "exactly as in Greenhouse")

    def prune_mode(self, section: str) -> str:
        return self.manifest.policy.prune.get(section, "report")

    def entries(self, section: str) -> tuple[Entry, ...]:
        return tuple(self.manifest.entries.get(section, ()))


def _show(handle: Handle) -> str:
    return f"id {handle}" if isinstance(handle, int) else "to be created"


@dataclass
class Diff:
    """The managed fields of one live object that differ from the desired ones: for the plan and the PATCH."""

    fields: dict[str, FieldChange] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def compare(self, name: str, before: Any, after: Any, *, api: str | None = None, send: Any = None,
                shown: tuple[Any, Any] | None = None) -> bool:
        """Record `name` when `before != after`: the body gets `api` (default `name`) = `send` (default `after`).

        `shown` replaces (before, after) in the plan, e.g. names instead of ids.
        """
        if before == after:
            return False
        self.fields[name] = FieldChange(*(shown or (before, after)))
        self.body[api or name] = after if send is None else send
        return True

    def rename(self, before: Any, after: Any) -> None:
        if self.compare("name", before, after):
            self.reasons.append(f'renamed from "{before}"')
