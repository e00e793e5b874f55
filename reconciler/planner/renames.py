"""Order renames within one name-uniqueness scope so that no step makes two objects share a name.

When names are unique within a scope (the active options of one custom field, the offices of an
organisation), renames can depend on each other: A -> B has to wait until the object holding B has been
renamed away (a *chain*), and renames that swap names or go round (A -> B, B -> A; A -> B, B -> C, C -> A)
can only complete through a temporary name. `order_renames` knows no resource type: it takes the renames
as {key: (before, after)} plus the names held by objects that are not renamed, and returns the steps in
an order in which every intermediate state has unique names.

Because desired names are unique within a scope (offline validation) and live names are too, each name
is wanted by at most one rename and held by at most one object: the "waits for" relation is a set of
simple paths and simple cycles, ordered in time linear in the number of renames.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from reconciler.plan import Change, FieldChange, Settle, Write

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Step(Generic[K]):
    """Rename object `key` from `before` to `after`.

    `temporary` marks the first step of a cycle, whose `after` is a temporary name that collides with no
    name held or wanted in the scope; the same key gets a later, final step. `ordered` is true when the
    step's place in the sequence matters (it waits for another rename, or another rename waits for it):
    such a step must not be sent in a bulk request, whose rows Greenhouse runs in any order.
    """

    key: K
    before: str
    after: str
    temporary: bool = False
    ordered: bool = False


@dataclass(frozen=True)
class RenameOrder(Generic[K]):
    """The steps in execution order, and the renames that no order can free.

    `blocked` holds the keys whose new name belongs to an object outside the renames (in `taken`): the
    scope's uniqueness rule refuses them whatever the order; they are still in `steps`, last in their chain.
    """

    steps: tuple[Step[K], ...]
    blocked: tuple[K, ...] = ()


def temporary_name(before: str, key: Hashable, used: Collection[str]) -> str:
    """A deterministic name for `key` while its cycle completes: f"{before} (renaming {key})", made unique."""
    base = f"{before} (renaming {key})"
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base} {n}"
    return name


def order_renames(renames: Mapping[K, tuple[str, str]], taken: Collection[str]) -> RenameOrder[K]:
    """Order `renames` ({key: (before, after)}, in the caller's order) so that no step duplicates a name.

    `taken` holds the names of the scope's objects that keep their name. A chain runs from its free end
    backwards (B -> C before A -> B); a cycle renames its earliest member (in the caller's order) to a
    temporary name first, then the others backwards along the cycle, then that member to its final name.
    Renames that depend on no other come in the caller's order. Deterministic.
    """
    pending = {k: names for k, names in renames.items() if names[0] != names[1]}
    holder = {before: k for k, (before, _) in pending.items()}
    waits_for: dict[K, K | None] = {k: holder.get(after) for k, (_, after) in pending.items()}
    waited_on = {other for other in waits_for.values() if other is not None}
    used = set(taken) | {n for names in pending.values() for n in names}
    steps: list[Step[K]] = []
    blocked: list[K] = []
    done: set[K] = set()

    def ordered(k: K) -> bool:
        return waits_for[k] is not None or k in waited_on or pending[k][1] in taken

    for start in pending:
        if start in done:
            continue
        path: list[K] = []
        on_path: set[K] = set()
        node: K | None = start
        while node is not None and node not in done and node not in on_path:
            path.append(node)
            on_path.add(node)
            node = waits_for[node]
        if node is not None and node in on_path:
            # A cycle: path[i:] goes round; path[:i] (never non-empty, as no two renames want one name) leads in.
            i = path.index(node)
            cycle, lead_in = path[i:], path[:i]
            first = cycle[0]
            before, after = pending[first]
            temp = temporary_name(before, first, used)
            used.add(temp)
            steps.append(Step(first, before, temp, temporary=True, ordered=True))
            for k in reversed(cycle[1:]):
                steps.append(Step(k, *pending[k], ordered=True))
            steps.append(Step(first, temp, after, ordered=True))
            done.update(cycle)
            path = lead_in
        for k in reversed(path):
            if waits_for[k] is None and pending[k][1] in taken:
                blocked.append(k)
            steps.append(Step(k, *pending[k], ordered=ordered(k)))
            done.add(k)
    return RenameOrder(tuple(steps), tuple(blocked))


def temporary_rename(type_: str, name: str, live_id: int, before: str, temporary: str, path: str,
                     settle: Settle) -> Change:
    """The change for a cycle's first step: one PATCH of `path` to the `temporary` name, freeing `before`.

    Never bulk-able (its place in the sequence is the point). Its key is "<type>:<id>:temporary-name", as the
    same object's final rename is a later change of its own.
    """
    return Change("update", type_, name, f"{type_}:{live_id}:temporary-name", live_id,
                  fields={"name": FieldChange(before, temporary)},
                  reasons=(f'temporary name: renames in this plan swap or cycle names, so "{before}" is freed first '
                           "and this object takes its final name after the others",),
                  writes=(Write("PATCH", path, {"name": temporary}, settle),))
