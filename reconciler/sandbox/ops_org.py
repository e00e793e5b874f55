"""Departments, offices and candidate tags (reference 2.1, 2.2, 2.6).

Departments and offices have no DELETE; a parent is given by `parent_id` or by
`external_parent_id` (never both; resolved, not stored); a re-parent that would make a cycle is
refused; `parent_id: null` moves to the top level `[inferred]`. Office names are unique `[2nd]`;
tag names are unique, case-sensitively `[seed]`.
"""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.context import Ctx, Result, created, delete_row, existing, updated
from reconciler.sandbox.errors import invalid
from reconciler.sandbox.validate import MISSING, body_object, exclusive, integer, string

_DEPARTMENT_KEYS = ("name", "external_id", "parent_id", "external_parent_id")
_OFFICE_KEYS = (*_DEPARTMENT_KEYS, "location", "primary_in_house_contact_user_id")


def _parent(ctx: Ctx, collection: str, data: dict[str, Any]) -> Any:
    """The parent id from `parent_id` / `external_parent_id`: MISSING, None (top level) or an id."""
    exclusive(data, "parent_id", "external_parent_id")
    parent_id = integer(data, "parent_id", nullable=True)
    if parent_id is not MISSING and parent_id is not None and ctx.store.get(collection, parent_id) is None:
        raise invalid("parent_id", f"{parent_id} does not exist")
    external = string(data, "external_parent_id", nullable=True)
    if external is MISSING or external is None:
        return parent_id if external is MISSING else None
    matches = ctx.store.find(collection, "external_id", external)
    if not matches:
        raise invalid("external_parent_id", f"no {collection[:-1]} has external_id {external!r}")
    return matches[0]["id"]


def _check_cycle(ctx: Ctx, collection: str, row_id: int, parent_id: int | None) -> None:
    seen = set()
    node = parent_id
    while node is not None and node not in seen:
        if node == row_id:
            raise invalid("parent_id", "would make the hierarchy cyclic")
        seen.add(node)
        parent = ctx.store.get(collection, node)
        node = parent["parent_id"] if parent else None


def _external_id(ctx: Ctx, collection: str, data: dict[str, Any], row_id: int | None) -> Any:
    value = string(data, "external_id", nullable=True, non_empty=False)
    if value not in (MISSING, None, "") and ctx.options.unique_external_ids:
        for other in ctx.store.find(collection, "external_id", value):
            if other["id"] != row_id:
                raise invalid("external_id", f"{value!r} is already used by {collection[:-1]} {other['id']}")
    return value


def _org_changes(ctx: Ctx, collection: str, data: dict[str, Any], row_id: int | None) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    name = string(data, "name", required=row_id is None)
    if name is not MISSING:
        changes["name"] = name
    external_id = _external_id(ctx, collection, data, row_id)
    if external_id is not MISSING:
        changes["external_id"] = external_id
    parent = _parent(ctx, collection, data)
    if parent is not MISSING:
        if row_id is not None:
            _check_cycle(ctx, collection, row_id, parent)
        changes["parent_id"] = parent
    return changes


def create_department(ctx: Ctx, _id: int | None, body: Any) -> Result:
    data = body_object(body, _DEPARTMENT_KEYS, ctx.strict)
    return created(ctx.store.insert("departments", _org_changes(ctx, "departments", data, None), ctx.now))


def update_department(ctx: Ctx, row_id: int | None, body: Any) -> Result:
    row = existing(ctx, "departments", row_id, "department")
    data = body_object(body, _DEPARTMENT_KEYS, ctx.strict)
    changes = _org_changes(ctx, "departments", data, row["id"])
    return updated(ctx.store.update("departments", row["id"], changes, ctx.now))


def _office_changes(ctx: Ctx, data: dict[str, Any], row_id: int | None) -> dict[str, Any]:
    changes = _org_changes(ctx, "offices", data, row_id)
    if "name" in changes:
        for other in ctx.store.find("offices", "name", changes["name"]):
            if other["id"] != row_id:
                raise invalid("name", f"an office named {changes['name']!r} already exists")
    location = string(data, "location", nullable=True, non_empty=False)
    if location is not MISSING:
        changes["location"] = location
    contact = integer(data, "primary_in_house_contact_user_id", nullable=True)
    if contact is not MISSING:
        if contact is not None and ctx.store.get("users", contact) is None:
            raise invalid("primary_in_house_contact_user_id", f"user {contact} does not exist")
        changes["primary_in_house_contact_user_id"] = contact
    return changes


def create_office(ctx: Ctx, _id: int | None, body: Any) -> Result:
    data = body_object(body, _OFFICE_KEYS, ctx.strict)
    return created(ctx.store.insert("offices", _office_changes(ctx, data, None), ctx.now))


def update_office(ctx: Ctx, row_id: int | None, body: Any) -> Result:
    row = existing(ctx, "offices", row_id, "office")
    data = body_object(body, _OFFICE_KEYS, ctx.strict)
    return updated(ctx.store.update("offices", row["id"], _office_changes(ctx, data, row["id"]), ctx.now))


def create_candidate_tag(ctx: Ctx, _id: int | None, body: Any) -> Result:
    data = body_object(body, ("name",), ctx.strict)
    name = string(data, "name", required=True)
    if ctx.store.find("candidate_tags", "name", name):
        raise invalid("name", f"a candidate tag named {name!r} already exists")
    return created(ctx.store.insert("candidate_tags", {"name": name}, ctx.now))


delete_candidate_tag = delete_row("candidate_tags", "candidate tag")
