"""The manifest side of the two tree families: their definition, and the offline checks of a tree.

Offline (no live data) a tree's entries must have distinct external ids and ids, distinct names (names
that display alike count as one; entries may share a name when each has an `external_id` or an `id`, which
is then their identity, but never one exact name in a tree whose names are unique in Greenhouse), free
`previously` names, parents that name at most one manifest object, and no parent cycle among the
manifests' own objects (a parent no manifest names is fine here: it may exist live). A reference is a name or external id (a string) or a Harvest id (an integer). Other families
check their references to a tree through `reference` (e.g. a custom field's `departments`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.errors import RANK_SEMANTIC, Problem
from reconciler.manifest.checks import Checking, by_field, composed, duplicates, place, renames
from reconciler.manifest.definitions import NAME, REFERENCE, ObjectDef, Prop, harvest_id, nullable, previously
from reconciler.manifest.model import Entry, Source
from reconciler.manifest.text import prose_list, quote
from reconciler.resources.trees import Tree


def identity_props(noun: str) -> tuple[Prop, Prop]:
    """The `external_id` and `parent` keys that departments and offices share."""
    return (
        Prop(
            "external_id",
            "The HRIS id. When given it is the identity, so renames are safe. null = none.",
            nullable(NAME),
            identity=True,
        ),
        Prop(
            "parent",
            f"The parent {noun}, by name or external_id, or by Harvest id (an unquoted number). null = top level; "
            "omitted = unmanaged.",
            nullable(REFERENCE),
        ),
    )


def definition(noun: str, description: str, name_help: str, *extra: Prop) -> ObjectDef:
    """A tree object's definition: name, id, external_id, parent, the family's own keys, previously."""
    return ObjectDef(
        noun,
        description,
        (Prop("name", name_help, NAME, required=True), harvest_id(noun), *identity_props(noun), *extra,
         previously(noun)),
    )


class TreeEntries:
    """A tree's manifest entries: identities, renames, and parents among the manifests' own objects."""

    def __init__(self, what: str, entries: Sequence[Entry], unique_names: bool = False) -> None:
        self.what = what
        self.unique_names = unique_names
        self.entries = list(entries)
        self.by_name: dict[str, list[Entry]] = {}
        self.by_ext: dict[str, Entry] = {}
        self.by_id: dict[int, Entry] = {}
        self.old_names: dict[str, Entry] = {}
        for entry in self.entries:
            self.by_name.setdefault(entry.data["name"], []).append(entry)
            if entry.data.get("external_id") is not None:
                self.by_ext.setdefault(entry.data["external_id"], entry)
            if entry.data.get("id") is not None:
                self.by_id.setdefault(entry.data["id"], entry)
            for old in entry.data.get("previously", []):
                self.old_names.setdefault(old, entry)

    def resolve(self, ref: str | int) -> list[Entry]:
        """The manifest objects `ref` names (by name or external_id, or by id when an int); several = ambiguous."""
        if isinstance(ref, int):
            return [self.by_id[ref]] if ref in self.by_id else []
        found = [*self.by_name.get(ref, []), *([self.by_ext[ref]] if ref in self.by_ext else [])]
        return [e for i, e in enumerate(found) if all(e is not f for f in found[:i])]

    def reference(self, ref: Any, at: Source, role: str) -> list[Problem]:
        """Problems with a reference to one of these objects (`role` names the referring key).

        An id reference to no entry is fine offline (the live object may be unmanaged); plan resolves it.
        """
        if not isinstance(ref, str):
            return []
        found = self.resolve(ref)
        if len(found) > 1:
            places = prose_list(f"{quote(e.data['name'])} at {place(e.source)}" for e in found)
            return [Problem(RANK_SEMANTIC, str(at), f"{role} {quote(ref)} matches more than one {self.what}: {places}")]
        renamed = self.old_names.get(ref)
        if not found and renamed is not None:
            return [
                Problem(
                    RANK_SEMANTIC,
                    str(at),
                    f"{role} {quote(ref)} is the previous name of {self.what} {quote(renamed.data['name'])} "
                    f"(at {place(renamed.source)}): refer to its new name",
                )
            ]
        return []

    def references(self, entry: Entry, key: str, role: str) -> list[Problem]:
        """Problems with each reference in the list `entry.data[key]`."""
        out: list[Problem] = []
        for j, ref in enumerate(entry.data.get(key) or []):
            out += self.reference(ref, entry.at(f"{key}[{j}]"), role)
        return out

    def check(self) -> list[Problem]:
        out = self._duplicate_names()
        out += duplicates(self.entries, by_field("external_id"), f"{self.what} external_id")
        out += duplicates(self.entries, by_field("id"), f"{self.what} id")
        out += renames(self.entries, self.what)
        parent_of: dict[int, Entry] = {}
        for entry in self.entries:
            parent = entry.data.get("parent")
            if parent is None:
                continue
            out += self.reference(parent, entry.at("parent"), "parent")
            found = self.resolve(parent)
            if len(found) == 1:
                parent_of[id(entry)] = found[0]
        return out + self._cycles(parent_of)

    def _duplicate_names(self) -> list[Problem]:
        """Entries that share a name. Names that display alike (`composed`: Unicode NFC) are one name, and
        entries may share one when each has an identity of its own (`external_id` or `id`), except that in a
        tree whose names are unique in Greenhouse (`unique_names`) one exact name is never written twice."""
        out: list[Problem] = []
        exact: set[int] = set()
        if self.unique_names:
            twice = [e for group in self.by_name.values() if len(group) > 1 for e in group]
            exact = {id(e) for e in twice}
            out += duplicates(twice, by_field("name"), f"{self.what} name")
        groups: dict[str, list[Entry]] = {}
        for entry in self.entries:
            if id(entry) not in exact:
                groups.setdefault(composed(entry.data["name"]), []).append(entry)
        shared: list[Entry] = []
        for group in groups.values():
            if len(group) > 1 and not all(_identified(e) for e in group):
                shared += group
        return out + duplicates(shared, by_field("name"), f"{self.what} name",
                                f"{self.what}s may share a name only when each has an external_id or an id")

    def _cycles(self, parent_of: Mapping[int, Entry]) -> list[Problem]:
        """Parent cycles among the entries: each walk stops at a node already settled, so this is linear."""
        out: list[Problem] = []
        done: set[int] = set()
        for start in self.entries:
            chain: list[Entry] = []
            on_chain: set[int] = set()
            node: Entry | None = start
            while node is not None and id(node) not in done and id(node) not in on_chain:
                chain.append(node)
                on_chain.add(id(node))
                node = parent_of.get(id(node))
            if node is not None and id(node) not in done:  # walked back into this chain: a cycle
                loop = chain[next(i for i, c in enumerate(chain) if c is node) :]
                names = " -> ".join(quote(e.data["name"]) for e in (*loop, loop[0]))
                out.append(
                    Problem(RANK_SEMANTIC, str(loop[0].at("parent")), f"{self.what} parents form a cycle: {names}")
                )
            done.update(on_chain)
        return out


def _identified(entry: Entry) -> bool:
    """Whether an entry has an identity besides its name."""
    return entry.data.get("external_id") is not None or entry.data.get("id") is not None


def entries_of(checking: Checking, tree: Tree) -> TreeEntries:
    """The tree's checked entries, built once per check run and shared with the families that refer to it."""
    return checking.shared(tree.section,
                           lambda: TreeEntries(tree.noun, checking.entries(tree.section), tree.unique_names))


def check(_entries: Sequence[Entry], checking: Checking, tree: Tree) -> list[Problem]:
    return entries_of(checking, tree).check()
