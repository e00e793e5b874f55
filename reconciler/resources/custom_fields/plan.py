"""Custom fields, their options, and their department/office visibility rows.

* Identity: `key` (the API's name_key) when given, matched whatever the field_type; else `name` within
  the same field_type; else a `previously` name. A key match whose field_type or value_type differs is a
  *replace* (delete + create: destructive, the field's stored values are lost).
* An inactive (archived) field is never PATCHed `active`: archiving and reactivating fields is done in
  Greenhouse's UI, and a user_attribute field's PATCH accepts only name, description and required. A listed
  inactive field gets a warning saying so; its other changes are planned as usual.
* Options (`options:` present = the exact list in display order): matched by external_id, then name
  (active before archived), then `previously`. Unlisted active options are archived (the API's delete is
  soft); a listed archived option is reactivated by a single PATCH (never bulked: the bulk page documents
  no `active`), never re-created (the API answers 422).
  Display order: live sort_order values are kept when they already ascend in the desired order; new
  options take a free value between their neighbours; otherwise the list is renumbered 1..n.
* Option names are unique within a field [inferred: option-names-unique]: renames that wait for each other
  are ordered, swaps and cycles go through a temporary name (`reconciler/planner/renames.py`), and none of
  those is bulked (bulk rows run in any order).
* Scoping (`departments:` / `offices:` present = the exact set): join rows are created before extra ones
  are deleted, so a field never becomes visible everywhere by accident in between.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from reconciler.manifest.model import Entry
from reconciler.plan import Change, FieldChange, Settle, Write
from reconciler.planner.context import Context, Diff, Handle, LiveNames, match_one, path_ref, ref
from reconciler.planner.renames import order_renames, temporary_rename
from reconciler.resources.custom_fields.definition import (
    CUSTOM_FIELD,
    SELECT_VALUE_TYPES,
    USER_ATTRIBUTE_KEYS,
)

PATH = "/v3/custom_fields"
OPTIONS = "/v3/custom_field_options"
SELECT_TYPES = SELECT_VALUE_TYPES

#: Manifest keys of a custom field that are not pass-through properties of the API object.
STRUCTURAL = frozenset({"name", "key", "field_type", "value_type", "departments", "offices", "options", "previously"})

#: Properties compared with the live field's key of the same name and sent as-is ("type-specific properties
#: pass through as the API names them"): every other key of the manifest's custom-field definition.
PROPERTIES: tuple[str, ...] = tuple(k for k in CUSTOM_FIELD.keys() if k not in STRUCTURAL)  # noqa: SIM118 - not a dict


def plan_custom_fields(ctx: Context) -> None:
    live = ctx.live_rows("custom_fields")
    by_key: dict[str, list[int]] = defaultdict(list)
    by_name: dict[tuple[str, str], list[int]] = defaultdict(list)
    for fid, row in live.items():
        by_key[str(row.get("name_key"))].append(fid)
        by_name[(str(row.get("field_type")), str(row.get("name")))].append(fid)

    claimed: dict[int, Entry] = {}
    for entry in ctx.entries("custom_fields"):
        data = entry.data
        ftype = str(data["field_type"])
        rules: list[tuple[str, list[int]]] = []
        if data.get("key"):
            rules.append((f'key "{data["key"]}"', by_key.get(str(data["key"]), [])))
        rules.append((f'name "{data["name"]}"', _prefer_active(live, by_name.get((ftype, str(data["name"])), []))))
        for old in data.get("previously", []):
            rules.append((f'previous name "{old}"', _prefer_active(live, by_name.get((ftype, str(old)), []))))
        ok, live_id = match_one(ctx, "custom field", entry, rules, claimed)
        if not ok:
            continue
        if live_id is None:
            _create(ctx, entry)
            continue
        row = live[live_id]
        if data.get("key") and row.get("name_key") != data["key"]:
            ctx.warn(
                f'{entry.source}: custom field "{data["name"]}" has key "{row.get("name_key")}" in Greenhouse; '
                f'keys are fixed at creation, so "{data["key"]}" cannot be set'
            )
        if row.get("field_type") != ftype or row.get("value_type") != data["value_type"]:
            _replace(ctx, entry, row)
        else:
            _update(ctx, entry, row)

    if "custom_fields" in ctx.manifest.present:
        _prune(ctx, live, claimed)


def _prefer_active(live: Mapping[int, Mapping[str, Any]], ids: list[int]) -> list[int]:
    active = [i for i in ids if live[i].get("active", True)]
    return active or ids


def field_key(data: Mapping[str, Any]) -> str:
    return f"custom_field:{data.get('key') or data['field_type'] + '/' + str(data['name'])}"


def _create_body(data: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"name": data["name"], "field_type": data["field_type"], "value_type": data["value_type"]}
    for prop in PROPERTIES:
        if prop in data:
            body[prop] = data[prop]
    if data["value_type"] in SELECT_TYPES and data.get("options"):
        body["custom_field_options"] = [
            {"name": o["name"], "sort_order": i + 1, **({"external_id": o["external_id"]} if o.get("external_id") else {})}
            for i, o in enumerate(data["options"])
        ]
    return body


def _create_fields(data: Mapping[str, Any]) -> dict[str, FieldChange]:
    fields = {k: FieldChange(None, data[k]) for k in ("name", "field_type", "value_type", *PROPERTIES) if k in data}
    if data.get("options"):
        fields["options"] = FieldChange(None, [o["name"] for o in data["options"]])
    return fields


def _create(ctx: Context, entry: Entry) -> None:
    data = entry.data
    key = field_key(data)
    write = Write("POST", PATH, _create_body(data), Settle(PATH, {}, {"name": data["name"], "field_type": data["field_type"]}))
    ctx.add("custom_field", Change("create", "custom_field", str(data["name"]), key,
                                    fields=_create_fields(data), writes=(write,)))
    _plan_scoping(ctx, entry, key, live_field_id=None)


def _replace(ctx: Context, entry: Entry, row: Mapping[str, Any]) -> None:
    data = entry.data
    live_id = int(row["id"])
    if ctx.protected("custom_fields", row.get("name_key"), row.get("name")):
        ctx.warn(f'custom field "{row.get("name")}" is protected: its field_type/value_type change (a replace) is not planned')
        return
    key = field_key(data)
    reasons = [
        f"immutable {name} changed: {row.get(name)} -> {data[name]}"
        for name in ("field_type", "value_type")
        if row.get(name) != data[name]
    ]
    reasons.append("the field and every value stored in it are deleted, then created anew")
    fields = _create_fields(data)
    for name in ("field_type", "value_type"):
        fields[name] = FieldChange(row.get(name), data[name])
    writes = (
        Write("DELETE", f"{PATH}/{live_id}", None, Settle(PATH, {}, {"id": live_id}, "absent")),
        Write("POST", PATH, _create_body(data), Settle(PATH, {}, {"name": data["name"], "field_type": data["field_type"]})),
    )
    ctx.add("custom_field", Change("replace", "custom_field", str(data["name"]), key, live_id, destructive=True,
                                    removal=True, fields=fields, reasons=tuple(reasons), writes=writes))
    _plan_scoping(ctx, entry, key, live_field_id=None)


def _update(ctx: Context, entry: Entry, row: Mapping[str, Any]) -> None:
    """PATCH the changed name and properties; never `active` (reactivating a field is a UI action)."""
    data = entry.data
    live_id = int(row["id"])
    user_attribute = row.get("field_type") == "user_attribute"
    diff = Diff()
    diff.rename(row.get("name"), data["name"])
    for prop in PROPERTIES:
        if prop not in data:
            continue
        if user_attribute and prop not in USER_ATTRIBUTE_KEYS:
            ctx.warn(f'{entry.source}: {prop} cannot be changed on user_attribute field "{data["name"]}" (the API '
                     "accepts only name, description and required): not planned")
            continue
        diff.compare(prop, row.get(prop), data[prop])
    if row.get("active") is False:
        other = "; its other changes are planned as usual" if diff.body else ""
        ctx.warn(f'{entry.source}: custom field "{row.get("name")}" (id {live_id}) is inactive in Greenhouse, and '
                 "the API cannot reactivate it: reactivate it in Greenhouse (custom field settings), then plan "
                 f"again{other}")
    body, fields, reasons = diff.body, diff.fields, diff.reasons
    if body:
        write = Write("PATCH", f"{PATH}/{live_id}", body, Settle(PATH, {"ids": [live_id]}, {"id": live_id, **body}))
        ctx.add("custom_field", Change("update", "custom_field", str(data["name"]), f"custom_field:{live_id}", live_id,
                                        fields=fields, reasons=tuple(reasons), writes=(write,)))
    else:
        ctx.same("custom_field")
    if "options" in data:
        _plan_options(ctx, entry, row)
    _plan_scoping(ctx, entry, f"custom_field:{live_id}", live_field_id=live_id)


# -- options ---------------------------------------------------------------------------------------


def _plan_options(ctx: Context, entry: Entry, row: Mapping[str, Any]) -> None:
    """Plan one field's options: creates and plain updates in desired order, then renames in a safe order."""
    field_id = int(row["id"])
    field_name = str(entry.data["name"])
    rows = ctx.live_rows("custom_field_options")
    live = {i: rows[i] for i in ctx.rows_by("custom_field_options", "custom_field_id").get(field_id, ())}
    names = LiveNames.of(live)
    claimed: dict[int, Entry] = {}
    desired: list[tuple[int, Mapping[str, Any], int | None]] = []
    for pos, option in enumerate(entry.data["options"]):
        sub = Entry("custom_fields", option, entry.at(f"options[{pos}]"))
        rules = names.rules(option, prefer=lambda ids: _prefer_active(live, ids))
        ok, live_id = match_one(ctx, "option", sub, rules, claimed)
        if ok:
            desired.append((pos, option, live_id))

    orders = sort_orders([live[i].get("sort_order") if i is not None else None for _, _, i in desired])
    updates: dict[int, tuple[str, Diff]] = {}
    created: set[str] = set()
    for (_pos, option, live_id), order in zip(desired, orders, strict=True):
        name = f"{field_name} / {option['name']}"
        if live_id is None:
            body = {"custom_field_id": field_id, "name": option["name"], "sort_order": order}
            if option.get("external_id"):
                body["external_id"] = option["external_id"]
            fields = {k: FieldChange(None, v) for k, v in body.items() if k != "custom_field_id"}
            settle = Settle(OPTIONS, {"custom_field_ids": [field_id]}, {"custom_field_id": field_id, "name": option["name"]})
            write = Write("POST", OPTIONS, body, settle, bulk=f"POST {OPTIONS}/bulk", bulk_item=body)
            ctx.add("custom_field_option", Change("create", "custom_field_option", name,
                                                   f"custom_field_option:{field_id}:{option['name']}",
                                                   fields=fields, writes=(write,)))
            created.add(str(option["name"]))
            continue
        lo = live[live_id]
        diff = Diff()
        diff.rename(lo.get("name"), option["name"])
        if "external_id" in option:
            diff.compare("external_id", lo.get("external_id"), option["external_id"])
        diff.compare("sort_order", lo.get("sort_order"), order)
        if lo.get("active") is False:
            # The index phrases reactivation three ways (PATCH `active: true`; PATCH with the original name;
            # PATCH with the desired name and the same custom_field_id): this body satisfies all three
            # [inferred: option-reactivation-body]; it is always a single PATCH (see _option_update).
            diff.compare("active", False, True)
            diff.body.update(name=option["name"], custom_field_id=field_id)
            diff.reasons.append("archived option reactivated")
        if not diff.body:
            ctx.same("custom_field_option")
            continue
        updates[live_id] = (name, diff)

    renames = {i: (str(live[i].get("name")), str(d.fields["name"].after)) for i, (_, d) in updates.items()
               if "name" in d.fields}
    keep = {str(o.get("name")): i for i, o in live.items() if i not in renames}
    sequence = order_renames(renames, keep.keys() | created)
    for live_id in sequence.blocked:
        before, after = renames[live_id]
        ctx.warn(f'custom field "{field_name}": option "{before}" cannot be renamed to "{after}" while option id '
                 f"{keep.get(after)} of the field has that name (names are unique within a field)")
    for live_id, (name, diff) in updates.items():
        if live_id not in renames:
            ctx.add("custom_field_option", _option_update(field_id, live_id, name, diff, in_order=False))
    for step in sequence.steps:
        name, diff = updates[step.key]
        if step.temporary:
            ctx.add("custom_field_option", temporary_rename(
                "custom_field_option", name, step.key, step.before, step.after, f"{OPTIONS}/{step.key}",
                Settle(OPTIONS, {"custom_field_ids": [field_id]}, {"id": step.key, "name": step.after})))
            continue
        if step.before != renames[step.key][0]:
            diff.fields["name"] = FieldChange(step.before, step.after)
            diff.reasons.append(f'completes the rename from "{renames[step.key][0]}" through a temporary name')
        ctx.add("custom_field_option", _option_update(field_id, step.key, name, diff, in_order=step.ordered))

    for live_id, lo in sorted(live.items()):
        if live_id in claimed or lo.get("active") is False:
            continue
        settle = Settle(OPTIONS, {"custom_field_ids": [field_id]}, {"id": live_id, "active": False})
        write = Write("DELETE", f"{OPTIONS}/{live_id}", None, settle, bulk=f"DELETE {OPTIONS}/bulk", bulk_item=live_id)
        ctx.add("custom_field_option_archive", Change(
            "delete", "custom_field_option", f"{field_name} / {lo.get('name')}", f"custom_field_option:{live_id}",
            live_id, removal=True, fields={"active": FieldChange(True, False)},
            reasons=("archived (soft delete: past selections are kept; re-adding it reactivates it)",),
            writes=(write,)))


def _option_update(field_id: int, live_id: int, name: str, diff: Diff, *, in_order: bool) -> Change:
    """The PATCH of one option. Bulk-able unless it reactivates (the bulk page documents no `active`) or its
    place in a rename sequence matters (`in_order`: bulk rows run in any order)."""
    body = diff.body
    settle = Settle(OPTIONS, {"custom_field_ids": [field_id]}, {"id": live_id, **body})
    single = in_order or "active" in body
    write = Write("PATCH", f"{OPTIONS}/{live_id}", body, settle, bulk=None if single else f"PATCH {OPTIONS}/bulk",
                  bulk_item=None if single else {"id": live_id, **body})
    return Change("update", "custom_field_option", name, f"custom_field_option:{live_id}", live_id,
                  fields=dict(diff.fields), reasons=tuple(diff.reasons), writes=(write,))


def sort_orders(live_orders: list[Any]) -> list[int]:
    """Desired sort_order for each desired option, given the live value of the matched ones (None = new).

    Keeps every live value when they ascend in the desired order and each new option fits strictly between
    its neighbours; otherwise renumbers 1..n. Deterministic, and a fixed point: planning the result again
    keeps it.
    """
    known = [o for o in live_orders if isinstance(o, int)]
    if known == sorted(known) and len(set(known)) == len(known):
        result: list[int] = []
        ok = True
        for pos, value in enumerate(live_orders):
            if isinstance(value, int):
                if result and value <= result[-1]:
                    ok = False
                    break
                result.append(value)
                continue
            low = result[-1] if result else 0
            nxt = next((v for v in live_orders[pos + 1 :] if isinstance(v, int)), None)
            candidate = low + 1
            if nxt is not None and candidate >= nxt:
                ok = False
                break
            result.append(candidate)
        if ok:
            return result
    return list(range(1, len(live_orders) + 1))


# -- scoping ---------------------------------------------------------------------------------------


def _plan_scoping(ctx: Context, entry: Entry, field_handle_key: str, live_field_id: int | None) -> None:
    field: Handle = live_field_id if live_field_id is not None else field_handle_key
    for manifest_key, kind, collection, column, type_ in (
        ("departments", "department", "custom_field_departments", "department_id", "custom_field_department"),
        ("offices", "office", "custom_field_offices", "office_id", "custom_field_office"),
    ):
        if manifest_key not in entry.data:
            continue
        wanted: dict[Handle, str] = {}
        for pos, name in enumerate(entry.data[manifest_key]):
            handle = ctx.resolve(kind, name, entry.at(f"{manifest_key}[{pos}]"))
            if handle is not None:
                wanted[handle] = str(ctx.indices[kind].display(handle))
        rows = {}
        if live_field_id is not None:
            live = ctx.live_rows(collection)
            rows = {int(live[i][column]): int(i) for i in ctx.rows_by(collection, "custom_field_id").get(live_field_id, ())}
        field_name = str(entry.data["name"])
        path = f"/v3/{collection}"
        for handle, shown in sorted(wanted.items(), key=lambda kv: kv[1]):
            if isinstance(handle, int) and handle in rows:
                ctx.same(type_)
                continue
            body = {"custom_field_id": ref(field), column: ref(handle)}
            settle = Settle(path, {"custom_field_ids": [ref(field)]}, dict(body))
            ctx.add("custom_field_scope_create", Change(
                "create", type_, f"{field_name} / {shown}", f"{type_}:{field_handle_key}:{handle}",
                fields={kind: FieldChange(None, shown)}, writes=(Write("POST", path, body, settle),)))
        extra = {h: i for h, i in rows.items() if h not in wanted}
        if extra and not wanted:
            ctx.warn(f'custom field "{field_name}" becomes visible in every {kind} (its last {kind} scoping row is removed)')
        for handle, row_id in sorted(extra.items()):
            shown = str(ctx.indices[kind].display(handle))
            settle = Settle(path, {"custom_field_ids": [live_field_id]}, {"id": row_id}, "absent")
            ctx.add("custom_field_scope_delete", Change(
                "delete", type_, f"{field_name} / {shown}", f"{type_}:{row_id}", row_id, removal=True,
                fields={kind: FieldChange(shown, None)}, writes=(Write("DELETE", f"{path}/{path_ref(row_id)}", None, settle),)))


# -- prune -----------------------------------------------------------------------------------------


def _prune(ctx: Context, live: Mapping[int, Mapping[str, Any]], claimed: Mapping[int, Entry]) -> None:
    mode = ctx.prune_mode("custom_fields")
    if mode == "off":
        return
    for live_id, row in sorted(live.items()):
        if live_id in claimed or row.get("active") is False:
            continue
        name = str(row.get("name"))
        if mode == "enforce" and not ctx.protected("custom_fields", row.get("name_key"), name):
            write = Write("DELETE", f"{PATH}/{live_id}", None, Settle(PATH, {}, {"id": live_id}, "absent"))
            ctx.add("custom_field_delete", Change(
                "delete", "custom_field", name, f"custom_field:{live_id}", live_id, destructive=True, removal=True,
                reasons=("not in any manifest (prune: enforce); every value stored in it is lost",),
                writes=(write,)))
        else:
            ctx.add_unmanaged("custom_field", name, live_id)
