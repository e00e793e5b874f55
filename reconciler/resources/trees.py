"""Planning shared by the tree families (departments, offices): names, external ids, parents, and the
family's own fields.

A family declares its tree as a `Tree`: the section, collection and path, and its canonical `Shape`
(name, external_id, parent, then the family's `extra` attributes). References to another family's objects
(`Attr.ref` naming a kind that is not the tree's own) are declared as `Foreign`: how the manifest's value
resolves, how the plan shows a live value, how export writes it, and whether a target created by the same
plan is set in a later phase. This module knows no tree by name.

The API cannot delete tree objects.

Identity: `external_id` when given, else `name`, else a `previously` name. The matched live object is
renamed, re-keyed or re-parented by PATCH; an unmatched entry is created (parents first).

Bulk rows run in any order on Greenhouse's side, so a PATCH that changes `parent_id` is a bulk row only when
it is valid in every order (`order_independent_moves`: its new parent is the top level, or a live object
none of whose live ancestors, itself included, this plan moves); every other move is a single PATCH, after
the bulk rows, shallowest first in the final tree. When a tree's names are unique (`Tree.unique_names`),
renames that wait for each other are sent first, one PATCH each, in the order
`reconciler/planner/renames.py` gives, swaps and cycles through a temporary name.

Trees may be thousands of levels deep: the final-tree cycle check, the depths, the parents-first order
of creates and the order-independence of moves each visit every node once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler.manifest.model import Entry, Source
from reconciler.plan import Change, FieldChange, Settle, Write
from reconciler.planner.context import Context, Handle, Index, path_ref
from reconciler.planner.names import quoted
from reconciler.planner.renames import RenameOrder, order_renames, temporary_rename
from reconciler.resources.canonical import Attr, Shape
from reconciler.resources.matching import LiveNames, match_one

if TYPE_CHECKING:
    from reconciler.resources.exporting import Exporting

H = TypeVar("H", bound=Hashable)


@dataclass(frozen=True)
class Deferred:
    """A foreign reference whose target this plan creates is set by a PATCH of its own in `phase`
    (which runs after the target's phase); the change's key is f"{tree type}:{key}:{object}"."""

    phase: str
    key: str
    reason: str


@dataclass(frozen=True)
class Foreign:
    """A reference from a tree object to another family's object (`Attr.ref == kind`).

    `resolve(ctx, value, where)`: the manifest's value -> a handle (a live id, or the key of the change
    that creates it), or None with a problem recorded at `where`. `show(ctx, live id)`: what the plan
    shows for the live value (the desired side is shown as the manifest writes it). `export(exporting,
    live id)`: what a manifest writes, or None when it cannot be written (export then leaves the key out,
    unmanaged). `deferred`: set a target created by this plan later (else it is sent as a `$ref`).
    """

    kind: str
    resolve: Callable[[Context, Any, Source], Handle | None]
    show: Callable[[Context, Any], Any]
    export: Callable[[Exporting, Any], Any]
    deferred: Deferred | None = None


@dataclass(frozen=True)
class Tree:
    section: str
    type: str
    collection: str
    path: str
    noun: str
    #: Whether Greenhouse refuses two objects with one name, so renames must be ordered.
    unique_names: bool = False
    #: The family's own canonical fields, after name, external_id and parent.
    extra: tuple[Attr, ...] = ()
    #: The references of `extra` to other families' objects, by the kind their `Attr.ref` names.
    foreign: tuple[Foreign, ...] = ()

    @cached_property
    def shape(self) -> Shape:
        """name, external_id, parent (a reference to this tree's own index kind), then `extra`."""
        return Shape((Attr("name"), Attr("external_id"), Attr("parent", api="parent_id", ref=self.type),
                      *self.extra))

    @cached_property
    def foreign_by_kind(self) -> Mapping[str, Foreign]:
        return {f.kind: f for f in self.foreign}


def index(ctx: Context, tree: Tree) -> None:
    """Build the tree's reference index; keep the entry matches for `plan` in the context's state."""
    ctx.state[tree.section] = index_tree(ctx, tree)


def plan(ctx: Context, tree: Tree) -> None:
    """Plan the tree's section (its index was built first: the registry runs every index before any plan)."""
    plan_tree(ctx, tree, ctx.state[tree.section])


def index_tree(ctx: Context, tree: Tree) -> dict[int, int | None]:
    """Match desired entries to live objects and build the reference index for `tree`.

    Returns {entry position: live id or None (to be created)}; entries that failed to match are left out.
    The index maps names and external ids of desired entries (to their live id, or to their create-change
    key) and of unmatched live objects.
    """
    live = ctx.live_rows(tree.collection)
    names = LiveNames.of(live)
    claimed: dict[int, Entry] = {}
    matches: dict[int, int | None] = {}
    index = Index(tree.noun)
    for pos, entry in enumerate(ctx.entries(tree.section)):
        data = entry.data
        rules = names.rules(data)
        ok, live_id = match_one(ctx, tree.noun, entry, rules, claimed)
        if not ok:
            continue
        matches[pos] = live_id
        handle: Handle = live_id if live_id is not None else create_key(tree, data)
        index.add([str(data["name"]), _opt_str(data.get("external_id"))], handle, str(data["name"]))
    for oid, row in live.items():
        if oid not in claimed:
            index.add([str(row.get("name")), _opt_str(row.get("external_id"))], oid, str(row.get("name")))
    ctx.indices[tree.type] = index
    if tree.section in ctx.manifest.present:
        _check_names(ctx, tree, names, matches)
    return matches


def _check_names(ctx: Context, tree: Tree, names: LiveNames, matches: Mapping[int, int | None]) -> None:
    """Warnings about the section's names: `previously` names that cannot apply, near-duplicate names
    (`Context.near_duplicates`) and protect entries that match nothing. Linear in the entries and live rows."""
    live = ctx.live_rows(tree.collection)
    entries = ctx.entries(tree.section)
    for pos, live_id in matches.items():
        entry = entries[pos]
        for old in entry.data.get("previously", []):
            _check_previously(ctx, tree, entry, str(old), live_id, names.by_name.get(str(old), []), live)
    written = [(str(entries[pos].data["name"]), entries[pos].source, live_id) for pos, live_id in matches.items()]
    ctx.near_duplicates(tree.noun, {i: str(r.get("name")) for i, r in live.items()}, written)
    identities = [(str(r.get("name")), _opt_str(r.get("external_id"))) for r in live.values()]
    identities += [(str(e.data["name"]), _opt_str(e.data.get("external_id"))) for e in entries]
    ctx.check_protect(tree.section, tree.noun, identities)


def _check_previously(ctx: Context, tree: Tree, entry: Entry, old: str, live_id: int | None, holders: list[int],
                      live: Mapping[int, Mapping[str, Any]]) -> None:
    """Warn when the previous name `old` of `entry` (matched to `live_id`, None: created) is not the name of the
    object it renames: another live object still holds it (drift: the manifest says that object was renamed),
    or no live object does (the rename is done, or there is nothing to rename)."""
    if live_id is not None and str(live[live_id].get("name")) == old:
        return  # the rename this `previously` asks for
    name = quoted(str(entry.data["name"]))
    where = entry.at("previously")
    matched = (f"{tree.noun} {name} already exists (id {live_id}) and is the one this entry manages"
               if live_id is not None else f"a new {tree.noun} {name} is created")
    others = [i for i in holders if i != live_id]
    if others:
        held = ", ".join(f"id {i}" for i in others)
        ctx.warn(f"{where}: previously {quoted(old)} is ignored: {matched}, and live {tree.noun} {quoted(old)} "
                 f"({held}) also still exists and keeps its name; merge the two in Greenhouse, or remove "
                 f"`previously` (and list {quoted(old)} as its own {tree.noun} if it stays)", unreachable=True)
    else:
        done = "; the rename is done, so the `previously` entry can go" if live_id is not None else ""
        ctx.warn(f"{where}: previously {quoted(old)} names no live {tree.noun}, so it is ignored: {matched}{done}")


def create_key(tree: Tree, data: Any) -> str:
    return f"{tree.type}:{data.get('external_id') or data['name']}"


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def plan_tree(ctx: Context, tree: Tree, matches: dict[int, int | None]) -> None:
    """Plan creates and updates for one tree; list unmatched live objects as unmanaged."""
    live = ctx.live_rows(tree.collection)
    index = ctx.indices[tree.type]
    creates: list[tuple[Change, Handle | None]] = []
    updates: list[Change] = []
    final_parent: dict[Handle, Handle | None] = {i: r.get("parent_id") for i, r in live.items()}
    entries = ctx.entries(tree.section)
    sequence = _order_renames(ctx, tree, matches, entries)
    separate = {step.key for step in sequence.steps if step.ordered}
    for pos, entry in enumerate(entries):
        if pos not in matches:
            continue
        desired = tree.shape.from_manifest(entry.data, _resolver(ctx, tree, entry))
        if desired is None:
            continue
        live_id = matches[pos]
        handle: Handle = live_id if live_id is not None else create_key(tree, entry.data)
        if "parent" in desired:
            final_parent[handle] = desired["parent"]
        if live_id is None:
            creates.append((_create(ctx, tree, entry, desired), desired.get("parent")))
            continue
        change = _update(ctx, tree, entry, desired, live[live_id], rename=live_id not in separate)
        if change is None:
            ctx.same(tree.type)
        else:
            updates.append(change)

    cycle = find_cycle(final_parent)
    if cycle is not None:
        names = " -> ".join(str(index.display(n)) for n in [*cycle, cycle[0]])
        ctx.problem(tree.section, f"the planned {tree.noun} tree has a cycle: {names}")
        return
    for change in _parents_first(creates):
        ctx.add(tree.type, change)
    for change in _rename_steps(tree, sequence, updates):
        ctx.add(tree.type, change)
    # Updates that move nothing, then the moves valid in every order (together one run of bulk rows); then
    # the other moves, single, shallowest first in the final tree: when such a node moves under a new
    # parent, that parent's chain is already final (its nodes stay, were moved by a bulk row, or moved
    # earlier, being shallower), so no intermediate state has a cycle (which the API would refuse).
    moves = {c.id: final_parent[c.id] for c in updates if c.id is not None and "parent" in c.fields}
    free = order_independent_moves(moves, {i: r.get("parent_id") for i, r in live.items()})
    updates = [_as_bulk_row(tree, c) if c.id in free else c for c in updates]
    depth = depths(final_parent)

    def rank(change: Change) -> tuple[int, int]:
        single_move = "parent" in change.fields and change.id not in free
        return (2 if single_move else 1 if "parent" in change.fields else 0,
                0 if change.id is None else depth[change.id])

    for change in sorted(updates, key=rank):
        ctx.add(tree.type, change)

    if tree.section in ctx.manifest.present and ctx.prune_mode(tree.section) != "off":
        claimed = {m for m in matches.values() if m is not None}
        for live_id, row in sorted(live.items()):
            if live_id not in claimed:
                ctx.add_unmanaged(tree.type, str(row.get("name")), live_id)


def _resolver(ctx: Context, tree: Tree, entry: Entry) -> Callable[[str, Any, str], Handle | None]:
    """References of one entry: the tree's own (and any indexed kind) through the context's indexes,
    another family's through its `Foreign`; problems are located at the entry's key."""
    def resolve(kind: str, value: Any, relative: str) -> Handle | None:
        foreign = tree.foreign_by_kind.get(kind)
        if foreign is not None:
            return foreign.resolve(ctx, value, entry.at(relative))
        return ctx.resolve(kind, value, entry.at(relative))

    return resolve


def _display(ctx: Context, tree: Tree) -> Callable[[str, Handle | None], Any]:
    """What the plan shows for a reference: a tree object's name, or the foreign kind's `show`."""
    def display(kind: str, handle: Handle | None) -> Any:
        foreign = tree.foreign_by_kind.get(kind)
        if foreign is not None:
            return foreign.show(ctx, handle)
        return ctx.indices[kind].display(handle)

    return display


def _split_deferred(tree: Tree, desired: dict[str, Any]) -> list[tuple[Attr, Foreign, str]]:
    """Take out of `desired` the foreign references to objects this plan creates that are set later."""
    out: list[tuple[Attr, Foreign, str]] = []
    for attr in tree.extra:
        foreign = tree.foreign_by_kind.get(attr.ref or "")
        value = desired.get(attr.name)
        if foreign is not None and foreign.deferred is not None and isinstance(value, str):
            del desired[attr.name]
            out.append((attr, foreign, value))
    return out


def _as_written(tree: Tree, entry: Entry, fields: dict[str, FieldChange]) -> None:
    """Show the desired side of foreign references as the manifest writes them (an email as typed)."""
    for attr in tree.extra:
        if attr.name in fields and attr.ref in tree.foreign_by_kind:
            fields[attr.name] = FieldChange(fields[attr.name].before, entry.data[attr.name])


def _create(ctx: Context, tree: Tree, entry: Entry, desired: dict[str, Any]) -> Change:
    """The POST of a new object: every desired field that is not none (references as ids or `$ref`s)."""
    data = entry.data
    key = create_key(tree, data)
    for attr, foreign, target in _split_deferred(tree, desired):
        _defer(ctx, tree, entry, key, attr, foreign, None, target)
    diff = tree.shape.diff(desired, {}, _display(ctx, tree))
    _as_written(tree, entry, diff.fields)
    write = Write("POST", tree.path, diff.body, Settle(tree.path, {}, {"name": data["name"]}))
    return Change("create", tree.type, str(data["name"]), key, writes=(write,), fields=diff.fields)


def _update(ctx: Context, tree: Tree, entry: Entry, desired: dict[str, Any], row: Mapping[str, Any], *,
            rename: bool) -> Change | None:
    """The PATCH of one matched object, or None when nothing differs. `rename=False` leaves the name out
    (an ordered rename step of its own sets it). Bulk-able unless it moves the object (`parent_id`): a move
    becomes a bulk row only once the whole plan's moves are known (`order_independent_moves`, `_as_bulk_row`)."""
    data = entry.data
    live_id = int(row["id"])
    before = tree.shape.from_api(row)
    display = _display(ctx, tree)
    for attr, foreign, target in _split_deferred(tree, desired):
        _defer(ctx, tree, entry, live_id, attr, foreign, foreign.show(ctx, before[attr.name]), target)
    names = [n for n in desired if rename or n != "name"]
    diff = tree.shape.diff(desired, before, display, names)
    if not diff.body:
        return None
    _as_written(tree, entry, diff.fields)
    if "name" in diff.fields:
        diff.reasons.append(f'renamed from "{row.get("name")}"')
    if "parent" in diff.fields:
        diff.reasons.append("moved to the top level" if desired["parent"] is None else "moved")
    body = diff.body
    path = f"{tree.path}/{live_id}"
    settle = Settle(tree.path, {"ids": [live_id]}, {"id": live_id, **body})
    moves = "parent" in diff.fields
    write = Write("PATCH", path, body, settle, bulk=None if moves else f"PATCH {tree.path}/bulk",
                  bulk_item=None if moves else {"id": live_id, **body})
    return Change("update", tree.type, str(data["name"]), f"{tree.type}:{live_id}", live_id,
                  fields=diff.fields, reasons=tuple(diff.reasons), writes=(write,))


def _as_bulk_row(tree: Tree, change: Change) -> Change:
    """`change` (a single-write PATCH of a live object) with its write marked bulk-able, its row the body."""
    (write,) = change.writes
    row = replace(write, bulk=f"PATCH {tree.path}/bulk", bulk_item={"id": change.id, **write.body})
    return replace(change, writes=(row,))


def _defer(ctx: Context, tree: Tree, entry: Entry, obj: Handle, attr: Attr, foreign: Foreign, before: Any,
           target: str) -> None:
    """Set `attr` of `obj` to `target`, an object this plan creates, in the deferred phase."""
    assert foreign.deferred is not None
    body = {attr.api_key: {"$ref": target}}
    settle = Settle(tree.path, {}, {"name": entry.data["name"], **body})
    write = Write("PATCH", f"{tree.path}/{path_ref(obj)}", body, settle)
    ctx.add(foreign.deferred.phase, Change(
        "update", tree.type, str(entry.data["name"]), f"{tree.type}:{foreign.deferred.key}:{obj}",
        obj if isinstance(obj, int) else None,
        fields={attr.name: FieldChange(before, entry.data[attr.name])},
        reasons=(foreign.deferred.reason,), writes=(write,)))


# -- renames of unique names -------------------------------------------------------------------------


def _order_renames(ctx: Context, tree: Tree, matches: dict[int, int | None],
                   entries: tuple[Entry, ...]) -> RenameOrder[int]:
    """The safe order of this tree's renames when names are unique (else none); warns about blocked ones."""
    if not tree.unique_names:
        return RenameOrder(())
    live = ctx.live_rows(tree.collection)
    renames = {live_id: (str(live[live_id].get("name")), str(entries[pos].data["name"]))
               for pos, live_id in matches.items() if live_id is not None}
    renames = {k: v for k, v in renames.items() if v[0] != v[1]}
    keep = {str(r.get("name")): i for i, r in live.items() if i not in renames}
    created = {str(entries[pos].data["name"]) for pos, live_id in matches.items() if live_id is None}
    sequence = order_renames(renames, keep.keys() | created)
    for live_id in sequence.blocked:
        before, after = renames[live_id]
        ctx.warn(f'{tree.noun} "{before}" cannot be renamed to "{after}" while live {tree.noun} id {keep.get(after)} '
                 f"has that name ({tree.noun} names are unique)", unreachable=True)
    return sequence


def _rename_steps(tree: Tree, sequence: RenameOrder[int], updates: list[Change]) -> list[Change]:
    """One single-PATCH change per ordered rename step, in the sequence's order.

    The object's other changes (parent, location, ...) stay in its regular update, which runs after every
    rename, in the shallowest-first order.
    """
    original = {s.key: s.before for s in sequence.steps if s.temporary}
    updated = {c.id for c in updates}
    out: list[Change] = []
    for step in sequence.steps:
        if not step.ordered:
            continue
        settle = Settle(tree.path, {"ids": [step.key]}, {"id": step.key, "name": step.after})
        path = f"{tree.path}/{step.key}"
        if step.temporary:
            out.append(temporary_rename(tree.type, step.before, step.key, step.before, step.after, path, settle))
            continue
        reasons = [f'renamed from "{original.get(step.key, step.before)}"']
        if step.key in original:
            reasons.append("completes the rename through a temporary name")
        else:
            reasons.append(f"ordered: {tree.noun} names are unique, so this waits for or frees another rename")
        out.append(Change("update", tree.type, step.after,
                          f"{tree.type}:{step.key}" + (":name" if step.key in updated else ""),
                          step.key, fields={"name": FieldChange(step.before, step.after)}, reasons=tuple(reasons),
                          writes=(Write("PATCH", path, {"name": step.after}, settle),)))
    return out


# -- the final tree: linear in its size ----------------------------------------------------------------


def _parents_first(creates: list[tuple[Change, Handle | None]]) -> list[Change]:
    """Order creates so that a create whose parent is another create comes after it (planned order otherwise).

    Iterative, each create placed once: a chain of new objects may be thousands deep, given in any order.
    """
    pending = {c.key: (c, parent) for c, parent in creates}
    placed: set[str] = set()
    done: list[Change] = []
    for change, _ in creates:
        chain: list[str] = []
        key: Handle | None = change.key
        while isinstance(key, str) and key in pending and key not in placed:
            placed.add(key)
            chain.append(key)
            key = pending[key][1]
        done.extend(pending[k][0] for k in reversed(chain))
    return done


def find_cycle(parents: Mapping[H, H | None]) -> list[H] | None:
    """A parent cycle, from its least node (by `str`) round to the node before it; None when every chain
    ends at the top level (a parent outside `parents` is top level).

    One pass with colouring: a node is walked once, and a walk stops at a node settled by an earlier walk.
    Each node has one parent, so every cycle is found; the one holding the least cycle node is returned.
    """
    walking, settled = 1, 2
    colour: dict[H, int] = {}
    best: list[H] | None = None
    for start in parents:
        walk: list[H] = []
        node: H | None = start
        while node is not None and node not in colour:
            colour[node] = walking
            walk.append(node)
            node = parents.get(node)
        if node is not None and colour[node] == walking:  # back into this walk: a cycle
            loop = walk[walk.index(node):]
            first = min(range(len(loop)), key=lambda i: str(loop[i]))
            loop = loop[first:] + loop[:first]
            if best is None or str(loop[0]) < str(best[0]):
                best = loop
        for n in walk:
            colour[n] = settled
    return best


def depths(parents: Mapping[H, H | None]) -> dict[H, int]:
    """Each node's level in the final tree (1 = top level; a parent outside `parents` is top level).

    Memoised: a walk stops at a node whose depth is known, so each node is visited once. `parents` must
    have no cycle (`find_cycle` first); a cycle raises ValueError.
    """
    depth: dict[H, int] = {}
    for start in parents:
        walk: list[H] = []
        node: H | None = start
        while node is not None and node not in depth:
            depth[node] = 0  # on this walk
            walk.append(node)
            node = parents.get(node)
        level = 0 if node is None else depth[node]
        if node is not None and level == 0:
            raise ValueError(f"parent cycle through {node!r}")
        for n in reversed(walk):
            level += 1
            depth[n] = level
    return depth


def order_independent_moves(moves: Mapping[H, H | None], parents: Mapping[H, H | None]) -> set[H]:
    """The nodes of `moves` (node -> new parent: a live node, None for the top level, or anything not in
    `parents`, such as an object this plan creates) whose move is valid in every order: at any point of the
    apply, whichever of the plan's other writes (these moves included) have run before it. `parents` is the
    live tree (node -> live parent; a parent outside it is top level).

    The rule: a move is order-independent when its new parent is the top level, or a live node none of whose
    live ancestors, itself included, is in `moves`. Why that is enough: the API refuses a move only when the
    new parent does not exist or the moved node is on the new parent's chain of ancestors (a cycle).
    Greenhouse cannot delete tree objects, so a live parent exists throughout; a node's chain changes only
    when a node on it changes parent, and no node on this parent's chain is moved by the plan (creates and
    renames change no chain, and a parent named by id does not depend on names), so the chain is the live
    chain at every point of the apply; the moved node is in `moves`, so it is not on it. A move to the top
    level never makes a cycle. A move under an object this plan creates waits for the create's id (a `$ref`),
    and is never counted here. So a move under a moved node, under a descendant of a moved node, and the
    dependent half of a parent/child swap or of a chain of moves are never order-independent; they stay
    single, shallowest first.

    Linear in `parents`: whether a node's chain is free of moves is memoised, so each node is walked once
    (iteratively: a tree may be thousands deep). A live cycle (not a tree) counts as moved.
    """
    steady: dict[H, bool] = {}  # node -> no node on its live chain (itself included) is moved
    for target in moves.values():
        walk: list[H] = []
        node = target
        while node is not None and node in parents and node not in steady:
            steady[node] = False  # on this walk: a walk that comes back to it is in a live cycle
            walk.append(node)
            node = parents[node]
        ok = node is None or node not in parents or steady[node]
        for n in reversed(walk):
            ok = ok and n not in moves
            steady[n] = ok
    return {n for n, p in moves.items() if p is None or (p in parents and steady[p])}
