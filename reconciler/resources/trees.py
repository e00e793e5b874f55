"""Planning shared by the two tree families (departments, offices): names, external ids and parents.

The API cannot delete either.

Identity: `external_id` when given, else `name`, else a `previously` name. The matched live object is
renamed, re-keyed or re-parented by PATCH; an unmatched entry is created (parents first).

Bulk rows run in any order on Greenhouse's side, so a PATCH that changes `parent_id` (whose place in the
shallowest-first order matters) is never bulk-able. Office names are unique [inferred: office-names-unique]
(the sandbox enforces it; department names are not): office renames that wait for each other are sent first, one PATCH each, in
the order `reconciler/planner/renames.py` gives, swaps and cycles through a temporary name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.manifest.model import Entry
from reconciler.plan import Change, FieldChange, Settle, Write
from reconciler.planner.context import Context, Diff, Handle, Index, LiveNames, match_one, path_ref, ref
from reconciler.planner.renames import RenameOrder, order_renames, temporary_rename


@dataclass(frozen=True)
class Tree:
    section: str
    type: str
    collection: str
    path: str
    noun: str
    #: Whether Greenhouse refuses two objects with one name, so renames must be ordered.
    unique_names: bool = False


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
    return matches


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
    sequence = _order_renames(ctx, tree, matches)
    separate = {step.key for step in sequence.steps if step.ordered}
    for pos, entry in enumerate(ctx.entries(tree.section)):
        data = entry.data
        if pos not in matches:
            continue
        live_id = matches[pos]
        row = live.get(live_id) if live_id is not None else None
        parent: Handle | None = None
        parent_managed = "parent" in data
        if parent_managed and data["parent"] is not None:
            parent = ctx.resolve(tree.type, data["parent"], entry.at("parent"))
            if parent is None:
                continue
        handle: Handle = live_id if live_id is not None else create_key(tree, data)
        if parent_managed:
            final_parent[handle] = parent
        if row is None:
            creates.append((_create(ctx, tree, entry, parent if parent_managed else None), parent))
        else:
            change = _update(ctx, tree, entry, row, parent_managed, parent, rename=live_id not in separate)
            if change is None:
                ctx.same(tree.type)
            else:
                updates.append(change)

    if not _check_cycles(ctx, tree, final_parent, index):
        return
    for change in _parents_first(creates):
        ctx.add(tree.type, change)
    for change in _rename_steps(ctx, tree, sequence, updates):
        ctx.add(tree.type, change)
    # Updates that move nothing first (order-independent, so they form one run of bulk rows); then moves,
    # shallowest first in the final tree: when a node moves under a new parent, that parent's chain is
    # already final, so no intermediate state has a cycle (which the API would refuse).
    for change in sorted(updates, key=lambda c: ("parent" in c.fields, _depth(final_parent, c.id))):
        ctx.add(tree.type, change)

    if tree.section in ctx.manifest.present and ctx.prune_mode(tree.section) != "off":
        claimed = {m for m in matches.values() if m is not None}
        for live_id, row in sorted(live.items()):
            if live_id not in claimed:
                ctx.add_unmanaged(tree.type, str(row.get("name")), live_id)


def _order_renames(ctx: Context, tree: Tree, matches: dict[int, int | None]) -> RenameOrder[int]:
    """The safe order of this tree's renames when names are unique (else none); warns about blocked ones."""
    if not tree.unique_names:
        return RenameOrder(())
    live = ctx.live_rows(tree.collection)
    entries = ctx.entries(tree.section)
    renames = {live_id: (str(live[live_id].get("name")), str(entries[pos].data["name"]))
               for pos, live_id in matches.items() if live_id is not None}
    renames = {k: v for k, v in renames.items() if v[0] != v[1]}
    keep = {str(r.get("name")): i for i, r in live.items() if i not in renames}
    created = {str(entries[pos].data["name"]) for pos, live_id in matches.items() if live_id is None}
    sequence = order_renames(renames, keep.keys() | created)
    for live_id in sequence.blocked:
        before, after = renames[live_id]
        ctx.warn(f'{tree.noun} "{before}" cannot be renamed to "{after}" while live {tree.noun} id {keep.get(after)} '
                 f"has that name ({tree.noun} names are unique)")
    return sequence


def _rename_steps(ctx: Context, tree: Tree, sequence: RenameOrder[int], updates: list[Change]) -> list[Change]:
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


def _extra_fields(ctx: Context, tree: Tree, entry: Entry) -> tuple[dict[str, Any], dict[str, Any]]:
    """Office-only managed fields: (manifest-name -> desired value for display, api-name -> value to send)."""
    shown: dict[str, Any] = {}
    api: dict[str, Any] = {}
    if tree.type != "office":
        return shown, api
    data = entry.data
    if "location" in data:
        shown["location"] = data["location"]
        api["location"] = data["location"]
    if "primary_contact" in data:
        email = data["primary_contact"]
        shown["primary_contact"] = email
        api["primary_in_house_contact_user_id"] = None if email is None else _user_id(ctx, email, entry)
    return shown, api


def _user_id(ctx: Context, email: str, entry: Entry) -> Handle | None:
    """The live id of the user with `email`, or the key of the user's create in this plan, or a problem."""
    wanted = email.lower()
    found = list(ctx.rows_keyed("users", "every email, lower-case", _emails).get(wanted, ()))
    if len(found) == 1:
        return found[0]
    if not found and any(str(e.data.get("email", "")).lower() == wanted for e in ctx.entries("users")):
        return f"user:{wanted}"  # created by this plan (users come after offices): set in a later change
    if not found:
        ctx.problem(
            entry.at("primary_contact"),
            f'unknown user "{email}" (the primary contact must be an existing Greenhouse user)',
        )
    else:
        ctx.problem(entry.at("primary_contact"), f'ambiguous user "{email}": ids {sorted(found)}')
    return None


def _emails(user: Mapping[str, Any]) -> list[str]:
    """A user's primary and other email addresses, lower-cased (the index key of primary contacts)."""
    return [str(e).lower() for e in [user.get("primary_email"), *(user.get("emails") or [])] if e]


def _create(ctx: Context, tree: Tree, entry: Entry, parent: Handle | None) -> Change:
    data = entry.data
    key = create_key(tree, data)
    body: dict[str, Any] = {"name": data["name"]}
    fields: dict[str, FieldChange] = {"name": FieldChange(None, data["name"])}
    if data.get("external_id") is not None:
        body["external_id"] = data["external_id"]
        fields["external_id"] = FieldChange(None, data["external_id"])
    if parent is not None:
        body["parent_id"] = ref(parent)
        fields["parent"] = FieldChange(None, ctx.indices[tree.type].display(parent))
    shown, api = _extra_fields(ctx, tree, entry)
    contact = api.pop(CONTACT, None)
    if isinstance(contact, str):
        _defer_contact(ctx, tree, entry, key, None, contact)
        shown.pop("primary_contact")
    elif contact is not None:
        body[CONTACT] = contact
    for k, v in shown.items():
        if v is not None:
            fields[k] = FieldChange(None, v)
    body.update({k: v for k, v in api.items() if v is not None})
    match = {"name": data["name"]}
    write = Write("POST", tree.path, body, Settle(tree.path, {}, match))
    return Change("create", tree.type, str(data["name"]), key, writes=(write,), fields=fields)


CONTACT = "primary_in_house_contact_user_id"


def _defer_contact(ctx: Context, tree: Tree, entry: Entry, office: Handle, before: Any, user_key: str) -> None:
    """Set an office's primary contact to a user this plan creates, after the users phase."""
    body = {CONTACT: {"$ref": user_key}}
    settle = Settle(tree.path, {}, {"name": entry.data["name"], CONTACT: {"$ref": user_key}})
    write = Write("PATCH", f"{tree.path}/{path_ref(office)}", body, settle)
    ctx.add("office_contact", Change(
        "update", tree.type, str(entry.data["name"]), f"{tree.type}:contact:{office}",
        office if isinstance(office, int) else None,
        fields={"primary_contact": FieldChange(before, entry.data["primary_contact"])},
        reasons=("the contact is a user created by this apply, so it is set after the user exists",),
        writes=(write,)))


def _update(
    ctx: Context, tree: Tree, entry: Entry, row: Any, parent_managed: bool, parent: Handle | None, *, rename: bool
) -> Change | None:
    """The PATCH of one matched object, or None when nothing differs. `rename=False` leaves the name out
    (an ordered rename step of its own sets it). Bulk-able unless it moves the object (`parent_id`)."""
    data = entry.data
    live_id = int(row["id"])
    index = ctx.indices[tree.type]
    diff = Diff()
    if rename:
        diff.rename(row.get("name"), data["name"])
    if "external_id" in data:
        diff.compare("external_id", row.get("external_id"), data["external_id"])
    if parent_managed and diff.compare("parent", row.get("parent_id"), parent, api="parent_id", send=ref(parent),
                                       shown=(index.display(row.get("parent_id")), index.display(parent))):
        diff.reasons.append("moved to the top level" if parent is None else "moved")
    shown, api = _extra_fields(ctx, tree, entry)
    if "location" in shown:
        diff.compare("location", row.get("location"), api["location"])
    if "primary_contact" in shown:
        before = _email_of(ctx, row.get(CONTACT))
        if isinstance(api[CONTACT], str):
            _defer_contact(ctx, tree, entry, live_id, before, api[CONTACT])
        else:
            diff.compare("primary_contact", row.get(CONTACT), api[CONTACT], api=CONTACT,
                         shown=(before, shown["primary_contact"]))
    if not diff.body:
        return None
    body, fields, reasons = diff.body, diff.fields, diff.reasons
    path = f"{tree.path}/{live_id}"
    settle = Settle(tree.path, {"ids": [live_id]}, {"id": live_id, **body})
    moves = "parent_id" in body
    write = Write("PATCH", path, body, settle, bulk=None if moves else f"PATCH {tree.path}/bulk",
                  bulk_item=None if moves else {"id": live_id, **body})
    return Change("update", tree.type, str(data["name"]), f"{tree.type}:{live_id}", live_id,
                  fields=fields, reasons=tuple(reasons), writes=(write,))


def _email_of(ctx: Context, user_id: Any) -> Any:
    if user_id is None:
        return None
    row = ctx.live_rows("users").get(int(user_id))
    return row.get("primary_email") if row else f"user {user_id}"


def _parents_first(creates: list[tuple[Change, Handle | None]]) -> list[Change]:
    """Order creates so that a create whose parent is another create comes after it."""
    pending = {c.key: (c, parent) for c, parent in creates}
    done: list[Change] = []
    placed: set[str] = set()

    def visit(key: str, trail: frozenset[str]) -> None:
        if key in placed or key in trail:
            return
        change, parent = pending[key]
        if isinstance(parent, str) and parent in pending:
            visit(parent, trail | {key})
        placed.add(key)
        done.append(change)

    for c, _ in creates:
        visit(c.key, frozenset())
    return done


def _depth(parents: dict[Handle, Handle | None], node: Handle | None) -> int:
    depth = 0
    while node is not None and depth <= len(parents):
        node = parents.get(node)
        depth += 1
    return depth


def _check_cycles(ctx: Context, tree: Tree, parents: dict[Handle, Handle | None], index: Index) -> bool:
    """After the plan, every parent chain must end at the top level. False (and a problem) when one does not."""
    for start in sorted(parents, key=str):
        seen: list[Handle] = []
        node: Handle | None = start
        while node is not None and node not in seen:
            seen.append(node)
            node = parents.get(node)
        if node is not None and node == start:
            names = " -> ".join(str(index.display(n)) for n in [*seen, start])
            ctx.problem(tree.section, f"the planned {tree.noun} tree has a cycle: {names}")
            return False
    return True
