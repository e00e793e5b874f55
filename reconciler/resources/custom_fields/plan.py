"""Custom fields, their options, and their department/office visibility rows.

* Identity: `key` (the API's name_key) when given, matched whatever the field_type; else `name` within
  the same field_type; else a `previously` name. A key match whose field_type or value_type differs is a
  *replace* (delete + create: destructive, the field's stored values are lost).
* Desired and live meet in one canonical shape (`shape.FIELD`, `shape.OPTION`): the manifest entry goes
  through `from_manifest`, the live row (with its join rows) through `from_api`, the field comparison and
  the PATCH body through `Shape.diff`, and POST bodies through `to_api`. What is not a field comparison
  stays explicit here, reading canonical values: replacing, option order and archive/reactivation, join rows.
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
* Linear: every lookup goes through an index built once per plan (fields by key and by name, options and
  join rows by field: `Context.rows_by`); nothing scans a whole collection per object.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.manifest.model import Entry, Source
from reconciler.plan import Change, FieldChange, Settle, Write
from reconciler.planner.context import Context, Diff, Handle, path_ref, ref
from reconciler.planner.names import quoted
from reconciler.planner.renames import order_renames, temporary_rename
from reconciler.resources.canonical import Display, resolver
from reconciler.resources.custom_fields.definition import SELECT_VALUE_TYPES, USER_ATTRIBUTE_KEYS, accepts
from reconciler.resources.custom_fields.shape import (
    CREATED,
    FIELD,
    OPTION,
    PROPERTIES,
    SCOPES,
    Scope,
    composed,
)
from reconciler.resources.matching import LiveNames, match_one

PATH = "/v3/custom_fields"
OPTIONS = "/v3/custom_field_options"
#: The canonical fields that hold references (resolved by name or external id).
_REFERENCES = frozenset(a.name for a in FIELD.attrs if a.ref is not None)


@dataclass(frozen=True)
class LiveField:
    """One live custom field: its row, its canonical value, and its join rows.

    `scoping` maps each scope key to {referenced id: join row id} (the row a DELETE removes); the canonical
    `departments` / `offices` are the ids of those rows.
    """

    id: int
    row: Mapping[str, Any]
    canonical: Mapping[str, Any]
    scoping: Mapping[str, Mapping[int, int]]


@dataclass(frozen=True)
class Desired:
    """One manifest entry in canonical form: the field (`FIELD`) and its listed options (`OPTION`, in order).

    `mentions` gives each resolved reference ((index kind, handle)) the position of its first mention in the
    manifest: scoping rows are planned in display-name order, and same-named objects keep the manifest's order.
    When a reference does not resolve, `canonical` leaves out the reference keys: the problem is recorded (so
    there is no plan), and the rest of the entry is still planned for problems of its own.
    """

    canonical: Mapping[str, Any]
    options: tuple[Mapping[str, Any], ...]
    mentions: Mapping[tuple[str, Handle], int]


def plan_custom_fields(ctx: Context) -> None:
    rows = ctx.live_rows("custom_fields")
    live = {fid: _live_field(ctx, fid, row) for fid, row in rows.items()}
    by_key: dict[str, list[int]] = defaultdict(list)
    by_name: dict[tuple[str, str], list[int]] = defaultdict(list)
    for fid, current in live.items():
        by_key[str(current.canonical["key"])].append(fid)
        by_name[(str(current.canonical["field_type"]), str(current.canonical["name"]))].append(fid)

    prefer = _active_first(rows)
    claimed: dict[int, Entry] = {}
    written: dict[str, list[tuple[str, Source | str, int | None]]] = defaultdict(list)
    for entry in ctx.entries("custom_fields"):
        data = entry.data
        ftype = str(data["field_type"])
        rules: list[tuple[str, list[int]]] = []
        if data.get("key"):
            rules.append((f'key "{data["key"]}"', by_key.get(str(data["key"]), [])))
        rules.append((f'name "{data["name"]}"', prefer(by_name.get((ftype, str(data["name"])), []))))
        for old in data.get("previously", []):
            rules.append((f'previous name "{old}"', prefer(by_name.get((ftype, str(old)), []))))
        ok, live_id = match_one(ctx, "custom field", entry, rules, claimed)
        if not ok:
            continue
        written[ftype].append((str(data["name"]), entry.source, live_id))
        for old in data.get("previously", []):
            _check_previously(ctx, entry, str(old), live_id, by_name.get((ftype, str(old)), []), live)
        if live_id is None:
            _create(ctx, entry)
            continue
        current = live[live_id]
        before = current.canonical
        if data.get("key") and before["key"] != data["key"]:
            # Matched by name: the manifest's key is never reached (the API fixes keys at creation). A warning,
            # not an error: a field this tool created with a `key` lands here on the next plan (POST takes no
            # name_key), and the field's other changes are still worth planning.
            ctx.warn(f'{entry.at("key")}: custom field "{data["name"]}" (id {live_id}) has key "{before["key"]}" in '
                     f'Greenhouse, and keys are fixed at creation, so "{data["key"]}" cannot be set: write key: '
                     f'"{before["key"]}" (or leave key out)', unreachable=True)
        if before["field_type"] != ftype or before["value_type"] != data["value_type"]:
            _replace(ctx, entry, current)
        else:
            _update(ctx, entry, current)

    if "custom_fields" in ctx.manifest.present:
        by_type: dict[str, dict[int, str]] = defaultdict(dict)
        for fid, current in live.items():
            by_type[str(current.canonical["field_type"])][fid] = str(current.canonical["name"])
        for ftype, names in written.items():
            ctx.near_duplicates(f"{ftype} custom field", by_type.get(ftype, {}), names)
        identities: list[tuple[str | None, str]] = [(str(c.canonical["key"]), str(c.canonical["name"]))
                                                    for c in live.values()]
        identities += [(_opt(e.data.get("key")), str(e.data["name"])) for e in ctx.entries("custom_fields")]
        ctx.check_protect("custom_fields", "custom field", identities)
        _prune(ctx, live, claimed)


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _check_previously(ctx: Context, entry: Entry, old: str, live_id: int | None, holders: list[int],
                      live: Mapping[int, LiveField]) -> None:
    """Warn when the previous name `old` of a field (matched to `live_id`, None: created) is not the name of the
    field it renames: another live field of its field_type still holds it (drift), or none does."""
    live_name = None if live_id is None else str(live[live_id].canonical["name"])
    _warn_previously(ctx, entry.at("previously"), old, live_id, holders, live_name, noun="custom field",
                     name=quoted(str(entry.data["name"])), lead="",
                     kept=" and keeps its name; remove `previously`, or merge the two in Greenhouse",
                     nowhere="names no live custom field of this field_type")


def _warn_previously(ctx: Context, where: Source, old: str, live_id: int | None, holders: list[int],
                     live_name: str | None, *, noun: str, name: str, lead: str, kept: str, nowhere: str) -> None:
    """The warning of a `previously` that does not apply, for a field or an option (`noun`).

    Nothing when the matched live object still has the previous name (the rename is planned). Otherwise, when
    other live objects (`holders` besides `live_id`) still hold the old name, an unreachable warning (drift):
    the manifest cannot make them go; when none does, a plain note that `previously` is ignored (and, for a
    matched object, that the rename is done)."""
    if live_id is not None and live_name == old:
        return
    matched = (f"{noun} {name} already exists (id {live_id}) and is the one this entry manages"
               if live_id is not None else f"a new {noun} {name} is created")
    others = [i for i in holders if i != live_id]
    if others:
        ctx.warn(f"{where}: {lead}previously {quoted(old)} is ignored: {matched}, and live {noun} {quoted(old)} "
                 f"({', '.join(f'id {i}' for i in others)}) also still exists{kept}", unreachable=True)
    else:
        done = "; the rename is done, so the `previously` entry can go" if live_id is not None else ""
        ctx.warn(f"{where}: {lead}previously {quoted(old)} {nowhere}, so it is ignored: {matched}{done}")


def _live_field(ctx: Context, field_id: int, row: Mapping[str, Any]) -> LiveField:
    scoping: dict[str, dict[int, int]] = {}
    for scope in SCOPES:
        joins = ctx.live_rows(scope.collection)
        ids = ctx.rows_by(scope.collection, "custom_field_id").get(field_id, ())
        scoping[scope.key] = {int(joins[i][scope.column]): int(i) for i in ids}
    return LiveField(field_id, row, FIELD.from_api(composed(row, scoping)), scoping)


def _active_first(rows: Mapping[int, Mapping[str, Any]]) -> Callable[[list[int]], list[int]]:
    """Narrows several candidates to the active ones, if any (one candidate or none stays as it is)."""
    def prefer(ids: list[int]) -> list[int]:
        if len(ids) < 2:
            return ids
        return [i for i in ids if rows[i].get("active", True)] or ids

    return prefer


def field_key(data: Mapping[str, Any]) -> str:
    return f"custom_field:{data.get('key') or data['field_type'] + '/' + str(data['name'])}"


def _display(ctx: Context) -> Display:
    return lambda kind, handle: ctx.indices[kind].display(handle)


def _desired(ctx: Context, entry: Entry) -> Desired:
    mentions: dict[tuple[str, Handle], int] = {}
    base = resolver(ctx, entry.at)

    def resolve(kind: str, value: Any, relative: str) -> Handle | None:
        handle = base(kind, value, relative)
        if handle is not None:
            mentions.setdefault((kind, handle), len(mentions))
        return handle

    data = entry.data
    canonical = FIELD.from_manifest(data, resolve)
    if canonical is None:  # a reference did not resolve (recorded, so no plan): keep the rest for its problems
        canonical = FIELD.from_manifest({k: v for k, v in data.items() if k not in _REFERENCES}, resolve)
        assert canonical is not None
    options = [OPTION.from_manifest(o, resolve) for o in data.get("options") or ()]
    return Desired(canonical, tuple(o for o in options if o is not None), mentions)  # an option refers to nothing


def _create_body(desired: Desired) -> dict[str, Any]:
    canonical = desired.canonical
    body = FIELD.to_api({k: v for k, v in canonical.items() if k in CREATED})
    if canonical["value_type"] in SELECT_VALUE_TYPES and desired.options:
        body["custom_field_options"] = [_option_body(OPTION.to_api(o), sort_order=i + 1)
                                        for i, o in enumerate(desired.options)]
    return body


def _option_body(api: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """An option's POST body: its name, then `extra`, then its external_id (sent only when it has one)."""
    return {"name": api["name"], **extra, **({"external_id": api["external_id"]} if api.get("external_id") else {})}


def _create_fields(desired: Desired) -> dict[str, FieldChange]:
    fields = {k: FieldChange(None, v) for k, v in desired.canonical.items() if k in CREATED}
    if desired.options:
        fields["options"] = FieldChange(None, [o["name"] for o in desired.options])
    return fields


def _create_write(desired: Desired) -> Write:
    canonical = desired.canonical
    settle = Settle(PATH, {}, {"name": canonical["name"], "field_type": canonical["field_type"]})
    return Write("POST", PATH, _create_body(desired), settle)


def _create(ctx: Context, entry: Entry) -> None:
    desired = _desired(ctx, entry)
    key = field_key(entry.data)
    wanted, derived = entry.data.get("key"), derived_key(str(entry.data["name"]))
    if wanted and wanted != derived:
        ctx.warn(f'{entry.at("key")}: custom field "{entry.data["name"]}" is created, but POST takes no name_key: the '
                 f'API derives the key from the name (expect "{derived}"), so key "{wanted}" cannot be set; write '
                 f'key: "{derived}", or leave key out [inferred: replace-name-key]', unreachable=True)
    ctx.add("custom_field", Change("create", "custom_field", str(desired.canonical["name"]), key,
                                    fields=_create_fields(desired), writes=(_create_write(desired),)))
    _plan_scoping(ctx, desired, key, None)


def _replace(ctx: Context, entry: Entry, current: LiveField) -> None:
    """Plan a replace (DELETE the live field, then POST the new one, in one change).

    What the manifest leaves unmanaged is carried over from the live field (`_carried`): its properties the
    new field_type accepts, its department/office scoping, and its active options when both value types are
    select types. The change's fields are the real differences between the live field and the new one; its
    reasons list what is re-created from the live field and what is lost.
    """
    before = current.canonical
    if ctx.protected("custom_fields", before["key"], before["name"]):
        ctx.warn(f'custom field "{before["name"]}" is protected: its field_type/value_type change (a replace) is not '
                 "planned", unreachable=True)
        return
    written = _desired(ctx, entry)
    desired, reasons = _carried(ctx, entry, written, current)
    after = desired.canonical
    key = field_key(entry.data)
    reasons = [
        *(f"immutable {name} changed: {before[name]} -> {after[name]}"
          for name in ("field_type", "value_type") if before[name] != after[name]),
        *reasons,
        "the field and every value stored in it are deleted, then created anew (values stored on records "
        "cannot be carried over)",
    ]
    reasons.extend(_key_reasons(ctx, entry, before, after))
    writes = (
        Write("DELETE", f"{PATH}/{current.id}", None, Settle(PATH, {}, {"id": current.id}, "absent")),
        _create_write(desired),
    )
    ctx.add("custom_field", Change("replace", "custom_field", str(after["name"]), key, current.id, destructive=True,
                                    removal=True, fields=_replace_fields(ctx, desired, current),
                                    reasons=tuple(reasons), writes=writes))
    _plan_scoping(ctx, desired, key, None)


def _carried(ctx: Context, entry: Entry, written: Desired, current: LiveField) -> tuple[Desired, list[str]]:
    """The new field of a replace: the manifest's keys, plus what it leaves unmanaged, taken from the live field.

    Carried over (only where the manifest does not write the key): each property the new field_type accepts
    whose live value is set (not null); each scoping the new field_type accepts (the live join rows'
    references); the live field's active options (in display order) when the old and new value types are
    both select types. Returns the new field and the reasons naming what is re-created and what is lost.
    """
    before, data = current.canonical, entry.data
    canonical = dict(written.canonical)
    mentions = dict(written.mentions)
    options = written.options
    new_type, display = str(canonical["field_type"]), _display(ctx)
    kept: list[str] = []
    off: list[str] = []
    lost: list[str] = []
    for prop in PROPERTIES:
        value = before.get(prop)
        if prop in data or value is None:
            continue
        if accepts(prop, new_type):
            canonical[prop] = value
            if value is False:
                off.append(prop)
            else:
                kept.append(f"{prop} {json.dumps(value)}")
        elif value is not False:
            lost.append(f"{prop} ({_not_accepted(prop, new_type)})")
    if off:
        kept.append(f"{', '.join(off)} false")
    for scope in SCOPES:
        live_ids: tuple[Handle, ...] = tuple(before.get(scope.key) or ())
        if scope.key in data or not live_ids:
            continue
        names = ", ".join(sorted(str(display(scope.kind, h)) for h in live_ids))
        if accepts(scope.key, new_type):
            canonical[scope.key] = live_ids
            for handle in live_ids:
                mentions.setdefault((scope.kind, handle), len(mentions))
            kept.append(f"{scope.key} ({names})")
        else:
            lost.append(f"{scope.key} ({names}: {_not_accepted(scope.key, new_type)}; the new field is visible "
                        "everywhere)")
    if "options" not in data:
        rows = ctx.live_rows("custom_field_options")
        active = sorted((rows[i] for i in ctx.rows_by("custom_field_options", "custom_field_id").get(current.id, ())
                         if rows[i].get("active") is not False),
                        key=lambda o: (o.get("sort_order") or 0, o["id"]))
        if active and canonical["value_type"] in SELECT_VALUE_TYPES:
            options = tuple({k: v for k, v in OPTION.from_api(o).items() if k == "name" or v} for o in active)
            kept.append(f"{len(options)} active option(s) ({', '.join(str(o['name']) for o in options)})")
        elif active:
            lost.append(f"{len(active)} option(s) ({canonical['value_type']} fields have no options)")
    reasons = []
    if kept:
        reasons.append(f"carried over from the live field (not in the manifest): {'; '.join(kept)}")
    if lost:
        reasons.append(f"cannot be carried over: {'; '.join(lost)}")
    return Desired(canonical, options, mentions), reasons


def _not_accepted(key: str, field_type: str) -> str:
    return f"not accepted on {field_type} fields"


def _key_reasons(ctx: Context, entry: Entry, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """What happens to the key in a replace. The POST takes no name_key: the API derives it from the name, and
    the old field is deleted first, so the new one is expected to get the old key back when that derivation
    of the new name gives it [inferred: replace-name-key]; otherwise the key changes (a warning)."""
    old = str(before["key"])
    derived = derived_key(str(after["name"]))
    if derived == old:
        return [f'key "{old}" kept: the API derives name_key from the name, and the old field is deleted first']
    ctx.warn(f'{entry.source}: custom field "{after["name"]}" is replaced, and the API derives the new field\'s '
             f'key from its name (POST takes no name_key): the old key "{old}" cannot be kept (expect "{derived}"); '
             "update `key:` in the manifest and in whatever reads the key after the apply")
    return [f'key "{old}" cannot be kept: the API derives name_key from the name "{after["name"]}"']


def derived_key(name: str) -> str:
    """The name_key the API is expected to derive from `name` [inferred: replace-name-key]: lowercase, runs of
    other characters than a-z and 0-9 as one `_`, stripped of `_` at both ends."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _replace_fields(ctx: Context, desired: Desired, current: LiveField) -> dict[str, FieldChange]:
    """The fields of a replace that really differ between the live field and the new one (names for references,
    option names for options); a live value the new field drops shows as `-> null`."""
    before, after = current.canonical, desired.canonical
    display = _display(ctx)
    out: dict[str, FieldChange] = {}
    for attr in FIELD.attrs:
        if attr.name == "key":
            continue
        was, becomes = before.get(attr.name), after.get(attr.name)
        if attr.many:
            was = sorted(str(display(attr.ref or "", h)) for h in was or ())
            becomes = sorted(str(display(attr.ref or "", h)) for h in becomes or ())
            if attr.name not in after and not was:
                continue
        elif attr.name not in after and was in (None, False):
            continue
        if was != becomes:
            out[attr.name] = FieldChange(was or None, becomes or None) if attr.many else FieldChange(was, becomes)
    rows = ctx.live_rows("custom_field_options")
    live_options = [str(rows[i].get("name")) for i in sorted(
        ctx.rows_by("custom_field_options", "custom_field_id").get(current.id, ()),
        key=lambda i: (rows[i].get("sort_order") or 0, i)) if rows[i].get("active") is not False]
    new_options = [str(o["name"]) for o in desired.options]
    if live_options != new_options:
        out["options"] = FieldChange(live_options or None, new_options or None)
    return out


def _update(ctx: Context, entry: Entry, current: LiveField) -> None:
    """PATCH the changed name and properties; never `active` (reactivating a field is a UI action)."""
    desired = _desired(ctx, entry)
    after, before, live_id = desired.canonical, current.canonical, current.id
    managed = ["name"]
    for prop in PROPERTIES:
        if prop not in after:
            continue
        if before["field_type"] == "user_attribute" and prop not in USER_ATTRIBUTE_KEYS:
            ctx.warn(f'{entry.source}: {prop} cannot be changed on user_attribute field "{after["name"]}" (the API '
                     "accepts only name, description and required): not planned", unreachable=True)
            continue
        managed.append(prop)
    diff = FIELD.diff(after, before, _display(ctx), names=managed)
    if "name" in diff.fields:
        diff.reasons.append(f'renamed from "{before["name"]}"')
    if current.row.get("active") is False:
        other = "; its other changes are planned as usual" if diff.body else ""
        ctx.warn(f'{entry.source}: custom field "{before["name"]}" (id {live_id}) is inactive in Greenhouse, and '
                 "the API cannot reactivate it: reactivate it in Greenhouse (custom field settings), then plan "
                 f"again{other}", unreachable=True)
    body = diff.body
    if body:
        write = Write("PATCH", f"{PATH}/{live_id}", body, Settle(PATH, {"ids": [live_id]}, {"id": live_id, **body}))
        ctx.add("custom_field", Change("update", "custom_field", str(after["name"]), f"custom_field:{live_id}", live_id,
                                        fields=diff.fields, reasons=tuple(diff.reasons), writes=(write,)))
    else:
        ctx.same("custom_field")
    if "options" in entry.data:
        _plan_options(ctx, entry, desired, live_id)
    _plan_scoping(ctx, desired, f"custom_field:{live_id}", current)


# -- options ---------------------------------------------------------------------------------------


def _plan_options(ctx: Context, entry: Entry, desired: Desired, field_id: int) -> None:
    """Plan one field's options: creates and plain updates in desired order, then renames in a safe order."""
    field_name = str(desired.canonical["name"])
    rows = ctx.live_rows("custom_field_options")
    live = {i: rows[i] for i in ctx.rows_by("custom_field_options", "custom_field_id").get(field_id, ())}
    names = LiveNames.of(live)
    display = _display(ctx)
    claimed: dict[int, Entry] = {}
    matched: list[tuple[Mapping[str, Any], int | None]] = []
    prefer = _active_first(live)
    decided: dict[int, str] = {}
    written: list[tuple[str, Source | str, int | None]] = []
    for pos, (option, wanted) in enumerate(zip(entry.data["options"], desired.options, strict=True)):
        sub = Entry("custom_fields", option, entry.at(f"options[{pos}]"))
        rules = names.rules(option, prefer=prefer)
        if _conflicting_option(ctx, field_name, sub, rules, claimed, decided, live):
            continue
        ok, live_id = match_one(ctx, "option", sub, rules, claimed)
        if ok and live_id is not None:
            decided[live_id] = next(rule for rule, ids in rules if ids)
        if ok:
            matched.append((wanted, live_id))
            written.append((str(option_name(option)), sub.source, live_id))
            for old in option.get("previously", []) if isinstance(option, Mapping) else ():
                _option_previously(ctx, field_name, sub, str(old), live_id, names.by_name.get(str(old), []), live)
    ctx.near_duplicates(f'option of custom field "{field_name}"', {i: str(o.get("name")) for i, o in live.items()},
                        written)

    orders = sort_orders([live[i].get("sort_order") if i is not None else None for _, i in matched])
    updates: dict[int, tuple[str, Diff]] = {}
    created: set[str] = set()
    for (wanted, live_id), order in zip(matched, orders, strict=True):
        name = f"{field_name} / {wanted['name']}"
        if live_id is None:
            body = {"custom_field_id": field_id, **_option_body(OPTION.to_api(wanted), sort_order=order)}
            fields = {k: FieldChange(None, v) for k, v in body.items() if k != "custom_field_id"}
            settle = Settle(OPTIONS, {"custom_field_ids": [field_id]}, {"custom_field_id": field_id, "name": wanted["name"]})
            write = Write("POST", OPTIONS, body, settle, bulk=f"POST {OPTIONS}/bulk", bulk_item=body)
            ctx.add("custom_field_option_create", Change("create", "custom_field_option", name,
                                                   f"custom_field_option:{field_id}:{wanted['name']}",
                                                   fields=fields, writes=(write,)))
            created.add(str(wanted["name"]))
            continue
        lo = live[live_id]
        before = OPTION.from_api(lo)
        if lo.get("sort_order") == order and lo.get("active") is not False and wanted.items() <= before.items():
            ctx.same("custom_field_option")  # most options, at any scale: no diff to build
            continue
        diff = OPTION.diff(wanted, before, display)
        if "name" in diff.fields:
            diff.reasons.append(f'renamed from "{before["name"]}"')
        diff.compare("sort_order", lo.get("sort_order"), order)
        if lo.get("active") is False:
            # The index phrases reactivation three ways (PATCH `active: true`; PATCH with the original name;
            # PATCH with the desired name and the same custom_field_id): this body satisfies all three
            # [inferred: option-reactivation-body]; it is always a single PATCH (see _option_update).
            diff.compare("active", False, True)
            diff.body.update(name=wanted["name"], custom_field_id=field_id)
            diff.reasons.append("archived option reactivated")
        if not diff.body:
            ctx.same("custom_field_option")
            continue
        if set(diff.body) == {"sort_order"}:
            # Renumbering to keep the display order is one reorder of the field, for max_change_percent.
            diff.reasons.append("display order only: with the field's other renumbered options, one reorder of "
                                "the field for policy.limits.max_change_percent")
        updates[live_id] = (name, diff)

    renames = {i: (str(live[i].get("name")), str(d.fields["name"].after)) for i, (_, d) in updates.items()
               if "name" in d.fields}
    keep = {str(o.get("name")): i for i, o in live.items() if i not in renames}
    sequence = order_renames(renames, keep.keys() | created)
    for live_id in sequence.blocked:
        was, becomes = renames[live_id]
        ctx.warn(f'custom field "{field_name}": option "{was}" cannot be renamed to "{becomes}" while option id '
                 f"{keep.get(becomes)} of the field has that name (names are unique within a field)", unreachable=True)
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


def option_name(option: Any) -> Any:
    """An option entry's name: the entry itself (shorthand) or its `name`."""
    return option["name"] if isinstance(option, Mapping) else option


def _option_previously(ctx: Context, field_name: str, sub: Entry, old: str, live_id: int | None, holders: list[int],
                       live: Mapping[int, Mapping[str, Any]]) -> None:
    """Like `_check_previously`, for one option of a field."""
    live_name = None if live_id is None else str(live[live_id].get("name"))
    _warn_previously(ctx, sub.at("previously"), old, live_id, holders, live_name, noun="option",
                     name=quoted(str(option_name(sub.data))), lead=f'custom field "{field_name}": ',
                     kept=" (it is archived unless listed); remove `previously`", nowhere="names no option of the field")


def _conflicting_option(ctx: Context, field_name: str, sub: Entry, rules: list[tuple[str, list[int]]],
                        claimed: Mapping[int, Entry], decided: Mapping[int, str],
                        live: Mapping[int, Mapping[str, Any]]) -> bool:
    """Whether option entry `sub` resolves to a live option an earlier entry of the field already resolved to
    (e.g. one by external_id, one by name); if so, records a plan error naming both entries' places and the
    rule that matched each. `decided` maps each claimed live option to the rule that claimed it."""
    rule = next(((r, ids) for r, ids in rules if ids), None)
    if rule is None or len(set(rule[1])) != 1 or rule[1][0] not in claimed:
        return False
    live_id = rule[1][0]
    first = claimed[live_id]
    ctx.problem(sub.source, (
        f'custom field "{field_name}": option "{sub.data["name"]}" (by {rule[0]}) and the option at '
        f'{first.source} (by {decided.get(live_id, "its identity")}) both resolve to live option id {live_id} '
        f'("{live[live_id].get("name")}"); each live option can be listed once: remove one entry, or correct '
        "its name or external_id"))
    return True


def _option_update(field_id: int, live_id: int, name: str, diff: Diff, *, in_order: bool) -> Change:
    """The PATCH of one option. Bulk-able unless it reactivates (the bulk page documents no `active`) or its
    place in a rename sequence matters (`in_order`: bulk rows run in any order)."""
    body = diff.body
    settle = Settle(OPTIONS, {"custom_field_ids": [field_id]}, {"id": live_id, **body})
    single = in_order or "active" in body
    write = Write("PATCH", f"{OPTIONS}/{live_id}", body, settle, bulk=None if single else f"PATCH {OPTIONS}/bulk",
                  bulk_item=None if single else {"id": live_id, **body})
    reorder = f"custom_field:{field_id}:option-order" if set(body) == {"sort_order"} else None
    return Change("update", "custom_field_option", name, f"custom_field_option:{live_id}", live_id,
                  fields=dict(diff.fields), reasons=tuple(diff.reasons), writes=(write,), counts_as=reorder)


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


def _plan_scoping(ctx: Context, desired: Desired, field_key_: str, current: LiveField | None) -> None:
    """Plan the join rows of each scope key the entry writes: creates for the desired references the field
    lacks (in display-name order), then deletes of its extra rows (by referenced id), in a later phase.

    `current` is the live field, or None for a field this plan creates (referred to by `field_key_`).
    """
    field: Handle = current.id if current is not None else field_key_
    field_name = str(desired.canonical["name"])
    for scope in SCOPES:
        if scope.key not in desired.canonical:
            continue
        wanted: tuple[Handle, ...] = desired.canonical[scope.key]
        rows = current.scoping[scope.key] if current is not None else {}
        index = ctx.indices[scope.kind]
        for handle in sorted(wanted, key=lambda h: (str(index.display(h)), desired.mentions[(scope.kind, h)])):
            if isinstance(handle, int) and handle in rows:
                ctx.same(scope.type)
                continue
            _scope_create(ctx, scope, field, field_key_, field_name, handle, str(index.display(handle)))
        wanted_ids = set(wanted)
        extra = {h: i for h, i in rows.items() if h not in wanted_ids}
        if extra and not wanted:
            ctx.warn(f'custom field "{field_name}" becomes visible in every {scope.kind} (its last {scope.kind} '
                     "scoping row is removed)")
        for handle, row_id in sorted(extra.items()):
            shown = str(index.display(handle))
            settle = Settle(scope.path, {"custom_field_ids": [field]}, {"id": row_id}, "absent")
            ctx.add("custom_field_scope_delete", Change(
                "delete", scope.type, f"{field_name} / {shown}", f"{scope.type}:{row_id}", row_id, removal=True,
                fields={scope.kind: FieldChange(shown, None)},
                writes=(Write("DELETE", f"{scope.path}/{path_ref(row_id)}", None, settle),)))


def _scope_create(ctx: Context, scope: Scope, field: Handle, field_key_: str, field_name: str, handle: Handle,
                  shown: str) -> None:
    body = {"custom_field_id": ref(field), scope.column: ref(handle)}
    settle = Settle(scope.path, {"custom_field_ids": [ref(field)]}, dict(body))
    ctx.add("custom_field_scope_create", Change(
        "create", scope.type, f"{field_name} / {shown}", f"{scope.type}:{field_key_}:{handle}",
        fields={scope.kind: FieldChange(None, shown)}, writes=(Write("POST", scope.path, body, settle),)))


# -- prune -----------------------------------------------------------------------------------------


def _prune(ctx: Context, live: Mapping[int, LiveField], claimed: Mapping[int, Entry]) -> None:
    mode = ctx.prune_mode("custom_fields")
    if mode == "off":
        return
    for live_id, current in sorted(live.items()):
        if live_id in claimed or current.row.get("active") is False:
            continue
        name = str(current.canonical["name"])
        protected = mode == "enforce" and ctx.protected("custom_fields", current.canonical["key"], name)
        if mode == "enforce" and not protected:
            write = Write("DELETE", f"{PATH}/{live_id}", None, Settle(PATH, {}, {"id": live_id}, "absent"))
            ctx.add("custom_field_delete", Change(
                "delete", "custom_field", name, f"custom_field:{live_id}", live_id, destructive=True, removal=True,
                reasons=("not in any manifest (prune: enforce); every value stored in it is lost",),
                writes=(write,)))
        else:
            ctx.add_unmanaged("custom_field", name, live_id, protected=protected)
