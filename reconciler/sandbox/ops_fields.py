"""Custom fields, their options and their department/office scoping (reference 2.3, 2.4, 2.5).

`field_type` and `value_type` are immutable; `name_key` is derived from the name at creation and
never changes `[seed]`/`[v1]`. Deleting a field is permanent and takes its options and scoping rows
with it `[seed]`. Deleting an option only archives it; an archived name cannot be re-created (422,
reactivate instead) `[seed]`.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.sandbox.context import Ctx, Result, created, delete_row, existing, updated
from reconciler.sandbox.errors import invalid
from reconciler.sandbox.schema import FIELD_TYPES, VALUE_TYPES
from reconciler.sandbox.validate import MISSING, body_object, boolean, integer, string

_SELECT = ("single_select", "multi_select")
_APPROVAL_TYPES = ("job", "opening")
_FLAGS = ("private", "required", "api_only", "expose_in_job_board_api")
_CREATE_KEYS = (
    "name", "field_type", "value_type", "description", *_FLAGS, "generate_email_token", "require_approval",
    "trigger_new_version", "custom_field_options",
)
_UPDATE_KEYS = (
    "name", "field_type", "value_type", "description", *_FLAGS, "require_approval", "trigger_new_version", "active",
)
_USER_ATTRIBUTE_KEYS = {"name", "description", "required", "field_type", "value_type"}
_OPTION_KEYS = ("custom_field_id", "name", "sort_order", "external_id")


def derive_name_key(ctx: Ctx, name: str) -> str:
    """Lowercase, non-alphanumerics to `_`, collapsed and stripped; `_2`, `_3`... when taken."""
    base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "custom_field"
    key, n = base, 1
    while ctx.store.find("custom_fields", "name_key", key):
        n += 1
        key = f"{base}_{n}"
    return key


def _type_specific(data: dict[str, Any], field_type: str, changes: dict[str, Any]) -> None:
    approval = boolean(data, "require_approval")
    if approval is not MISSING:
        if field_type not in _APPROVAL_TYPES:
            raise invalid("require_approval", "applies only to job and opening fields")
        changes["require_approval"] = approval
    version = boolean(data, "trigger_new_version")
    if version is not MISSING:
        if field_type != "offer":
            raise invalid("trigger_new_version", "applies only to offer fields")
        changes["trigger_new_version"] = version


def _common(data: dict[str, Any], changes: dict[str, Any]) -> None:
    description = string(data, "description", nullable=True, non_empty=False)
    if description is not MISSING:
        changes["description"] = description
    for flag in _FLAGS:
        value = boolean(data, flag)
        if value is not MISSING:
            changes[flag] = value


def create_custom_field(ctx: Ctx, _id: int | None, body: Any) -> Result:
    data = body_object(body, _CREATE_KEYS, ctx.strict)
    name = string(data, "name", required=True)
    field_type = string(data, "field_type", required=True)
    if field_type not in FIELD_TYPES:
        raise invalid("field_type", f"must be one of {', '.join(FIELD_TYPES)}")
    value_type = string(data, "value_type", required=True)
    if value_type not in VALUE_TYPES:
        raise invalid("value_type", f"must be one of {', '.join(VALUE_TYPES)}")
    changes: dict[str, Any] = {"name": name, "field_type": field_type, "value_type": value_type}
    _common(data, changes)
    _type_specific(data, field_type, changes)
    options = _inline_options(data, value_type)
    key = derive_name_key(ctx, name)
    changes["name_key"] = key
    if boolean(data, "generate_email_token") is True:
        changes["template_token_string"] = "{{" + key.upper() + "}}"
    rows = ctx.store.rows["custom_fields"].values()
    changes["sort_order"] = max((r["sort_order"] or 0 for r in rows), default=0) + 1
    changes["updated_by_id"] = ctx.user_id
    row = ctx.store.insert("custom_fields", changes, ctx.now)
    for i, option in enumerate(options, start=1):
        ctx.store.insert(
            "custom_field_options",
            {"custom_field_id": row["id"], "name": option["name"], "sort_order": option.get("sort_order", i),
             "external_id": option.get("external_id"), "active": True},
            ctx.now,
        )
    return created(row)


def _inline_options(data: dict[str, Any], value_type: str) -> list[dict[str, Any]]:
    raw = data.get("custom_field_options", MISSING)
    if raw is MISSING:
        return []
    if value_type not in _SELECT:
        raise invalid("custom_field_options", "only single_select and multi_select fields have options")
    if not isinstance(raw, list):
        raise invalid("custom_field_options", "must be an array of {name, sort_order?, external_id?}")
    options, names = [], set()
    for i, item in enumerate(raw):
        where = f"custom_field_options[{i}]"
        if not isinstance(item, dict):
            raise invalid(where, "must be an object")
        for key in item:
            if key not in ("name", "sort_order", "external_id"):
                raise invalid(f"{where}.{key}", "is not a recognised attribute")
        name = string(item, "name", required=True)
        if name in names:
            raise invalid(f"{where}.name", f"duplicate option name {name!r}")
        names.add(name)
        option: dict[str, Any] = {"name": name}
        sort_order = integer(item, "sort_order", nullable=True)
        if sort_order not in (MISSING, None):
            option["sort_order"] = sort_order
        external_id = string(item, "external_id", nullable=True, non_empty=False)
        if external_id is not MISSING:
            option["external_id"] = external_id
        options.append(option)
    return options


def update_custom_field(ctx: Ctx, row_id: int | None, body: Any) -> Result:
    row = existing(ctx, "custom_fields", row_id, "custom field")
    if isinstance(body, dict) and "custom_field_options" in body:
        raise invalid("custom_field_options", "options cannot be edited here; use /v3/custom_field_options")
    data = body_object(body, _UPDATE_KEYS, ctx.strict)
    for key in ("field_type", "value_type"):
        if key in data and data[key] != row[key]:
            raise invalid(key, "is immutable (delete and re-create the field to change it)")
    if row["field_type"] == "user_attribute":
        for key in data:
            if key not in _USER_ATTRIBUTE_KEYS:
                raise invalid(key, "cannot be changed on user_attribute fields (only name, description, required)")
    changes: dict[str, Any] = {}
    name = string(data, "name")
    if name is not MISSING:
        changes["name"] = name
    _common(data, changes)
    _type_specific(data, row["field_type"], changes)
    active = boolean(data, "active")
    if active is not MISSING:
        changes["active"] = active
    if changes:
        changes["updated_by_id"] = ctx.user_id
    return updated(ctx.store.update("custom_fields", row["id"], changes, ctx.now))


def delete_custom_field(ctx: Ctx, row_id: int | None, _body: Any) -> Result:
    row = existing(ctx, "custom_fields", row_id, "custom field")
    for collection in ("custom_field_options", "custom_field_departments", "custom_field_offices"):
        for child in ctx.store.find(collection, "custom_field_id", row["id"]):
            ctx.store.delete(collection, child["id"])
    ctx.store.delete("custom_fields", row["id"])
    return Result(204, None, row["id"])


def _siblings(ctx: Ctx, field_id: int, name: str) -> list[dict[str, Any]]:
    return [o for o in ctx.store.find("custom_field_options", "name", name) if o["custom_field_id"] == field_id]


def create_option(ctx: Ctx, _id: int | None, body: Any) -> Result:
    data = body_object(body, _OPTION_KEYS, ctx.strict)
    field_id = integer(data, "custom_field_id", required=True)
    field = ctx.store.get("custom_fields", field_id)
    if field is None:
        raise invalid("custom_field_id", f"custom field {field_id} does not exist")
    if field["value_type"] not in _SELECT:
        raise invalid("custom_field_id", "options can only be added to single_select or multi_select fields")
    name = string(data, "name", required=True)
    for other in _siblings(ctx, field_id, name):
        if not other["active"]:
            raise invalid("name", f"an archived option named {name!r} exists on this field (id {other['id']}); "
                                  "reactivate it with PATCH instead of creating it")
        if ctx.options.reject_duplicate_active_option_name:
            raise invalid("name", f"an option named {name!r} already exists on this field")
    sort_order = integer(data, "sort_order", nullable=True)
    if sort_order in (MISSING, None):
        sort_order = ctx.store.max_in_group("custom_field_options", "custom_field_id", field_id, "sort_order") + 1
    external_id = string(data, "external_id", nullable=True, non_empty=False)
    row = {"custom_field_id": field_id, "name": name, "sort_order": sort_order,
           "external_id": None if external_id is MISSING else external_id, "active": True}
    return created(ctx.store.insert("custom_field_options", row, ctx.now))


def update_option(ctx: Ctx, row_id: int | None, body: Any) -> Result:
    row = existing(ctx, "custom_field_options", row_id, "custom field option")
    data = body_object(body, (*_OPTION_KEYS, "active"), ctx.strict)
    field_id = integer(data, "custom_field_id")
    if field_id is not MISSING and field_id != row["custom_field_id"]:
        raise invalid("custom_field_id", "is immutable: an option cannot move to another field")
    changes: dict[str, Any] = {}
    name = string(data, "name")
    if name is not MISSING:
        for other in _siblings(ctx, row["custom_field_id"], name):
            if other["id"] != row["id"]:
                raise invalid("name", f"another option of this field (id {other['id']}) is named {name!r}")
        changes["name"] = name
    sort_order = integer(data, "sort_order")
    if sort_order is not MISSING:
        changes["sort_order"] = sort_order
    external_id = string(data, "external_id", nullable=True, non_empty=False)
    if external_id is not MISSING:
        changes["external_id"] = external_id
    active = boolean(data, "active")
    if active is not MISSING:
        changes["active"] = active
    elif name is not MISSING and not row["active"]:
        changes["active"] = True  # a PATCH carrying the name reactivates an archived option [inferred]
    return updated(ctx.store.update("custom_field_options", row["id"], changes, ctx.now))


def archive_option(ctx: Ctx, row_id: int | None, _body: Any) -> Result:
    row = existing(ctx, "custom_field_options", row_id, "custom field option")
    ctx.store.update("custom_field_options", row["id"], {"active": False}, ctx.now)
    return Result(204, None, row["id"])


def _scoping(collection: str, key: str, target: str) -> Any:
    def create(ctx: Ctx, _id: int | None, body: Any) -> Result:
        data = body_object(body, ("custom_field_id", key), ctx.strict)
        field_id = integer(data, "custom_field_id", required=True)
        target_id = integer(data, key, required=True)
        if ctx.store.get("custom_fields", field_id) is None:
            raise invalid("custom_field_id", f"custom field {field_id} does not exist")
        if ctx.store.get(target, target_id) is None:
            raise invalid(key, f"{target[:-1]} {target_id} does not exist")
        if ctx.options.reject_duplicate_scoping_pair:
            for other in ctx.store.find(collection, "custom_field_id", field_id):
                if other[key] == target_id:
                    raise invalid(key, f"custom field {field_id} is already scoped to {target[:-1]} {target_id}")
        return created(ctx.store.insert(collection, {"custom_field_id": field_id, key: target_id}, ctx.now))

    return create


create_field_department = _scoping("custom_field_departments", "department_id", "departments")
create_field_office = _scoping("custom_field_offices", "office_id", "offices")
delete_field_department = delete_row("custom_field_departments", "custom field department")
delete_field_office = delete_row("custom_field_offices", "custom field office")
