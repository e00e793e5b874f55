"""Job creation and the job permissions it grants automatically (reference 2.10, 2.11).

`POST /v3/jobs` "Create a new job from an existing template. `template_job_id` and
`number_of_openings` are required ... Department and offices can be set either by Greenhouse id
(`department_id`, `office_ids`) or by partner `external_id` (`external_department_id`,
`external_office_ids`) — the id and external-id forms are mutually exclusive. The legacy
`confidential` flag cannot be set through this endpoint."
(https://harvestdocs.greenhouse.io/reference/post_v3-jobs.md, `[seed]`). Only the job row is
emulated: openings, job posts, hiring teams and the template's interview plan are not.

Future job permissions then act on the new job: "when a new job is created in the matching
department and/or office, the permission automatically assigns the user that role on the job"
(https://harvestdocs.greenhouse.io/reference/get_v3-future-job-permissions.md, `[seed]`). Each
match becomes a `user_job_permissions` row with `automated: true`. Deleting the future permission
later leaves those rows alone `[seed]` (see `ops_users.delete_future_permission`).
"""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.context import Ctx, Result, created
from reconciler.sandbox.errors import invalid
from reconciler.sandbox.validate import MISSING, body_object, exclusive, integer, string

_KEYS = (
    "template_job_id", "number_of_openings", "job_name", "name", "job_post_name", "requisition_id", "opening_ids",
    "department_id", "external_department_id", "office_ids", "external_office_ids",
)


def _department(ctx: Ctx, data: dict[str, Any], template: dict[str, Any]) -> int | None:
    """`department_id` or `external_department_id` (exclusive); neither: the template's `[inferred]`."""
    exclusive(data, "department_id", "external_department_id")
    value = integer(data, "department_id", nullable=True)
    if value is None:
        return None
    if value is not MISSING:
        if ctx.store.get("departments", value) is None:
            raise invalid("department_id", f"department {value} does not exist")
        return int(value)
    ext = string(data, "external_department_id", nullable=True)
    if ext is None:
        return None
    if ext is MISSING:
        inherited = template["department_id"]
        return int(inherited) if isinstance(inherited, int) else None
    matches = ctx.store.find("departments", "external_id", ext)
    if not matches:
        raise invalid("external_department_id", f"no department has external_id {ext!r}")
    return int(matches[0]["id"])


def _offices(ctx: Ctx, data: dict[str, Any], template: dict[str, Any]) -> list[int]:
    """`office_ids` or `external_office_ids` (exclusive); neither: the template's `[inferred]`."""
    exclusive(data, "office_ids", "external_office_ids")
    if "office_ids" in data:
        ids = data["office_ids"]
        if not isinstance(ids, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in ids):
            raise invalid("office_ids", "must be an array of integers")
        for office_id in ids:
            if ctx.store.get("offices", office_id) is None:
                raise invalid("office_ids", f"office {office_id} does not exist")
        return list(dict.fromkeys(ids))
    if "external_office_ids" in data:
        exts = data["external_office_ids"]
        if not isinstance(exts, list) or any(not isinstance(v, str) for v in exts):
            raise invalid("external_office_ids", "must be an array of strings")
        found: list[int] = []
        for ext in exts:
            matches = ctx.store.find("offices", "external_id", ext)
            if not matches:
                raise invalid("external_office_ids", f"no office has external_id {ext!r}")
            found.append(int(matches[0]["id"]))
        return list(dict.fromkeys(found))
    return [int(v) for v in template["office_ids"] or []]


def _openings(data: dict[str, Any]) -> None:
    count = integer(data, "number_of_openings", required=True)
    if count < 1:
        raise invalid("number_of_openings", "must be at least 1")
    opening_ids = data.get("opening_ids")
    if opening_ids is not None:
        if not isinstance(opening_ids, list) or any(not isinstance(v, str) for v in opening_ids):
            raise invalid("opening_ids", "must be an array of strings")
        if len(opening_ids) > count:
            raise invalid("opening_ids", "must not name more openings than number_of_openings")


def create_job(ctx: Ctx, _id: int | None, body: Any) -> Result:
    """`POST /v3/jobs`: a new draft job copied from a template, plus its automated grants."""
    if isinstance(body, dict) and "confidential" in body:
        raise invalid("confidential", "cannot be set through this endpoint")
    data = body_object(body, _KEYS, ctx.strict)
    template_id = integer(data, "template_job_id", required=True)
    template = ctx.store.get("jobs", template_id)
    if template is None:
        raise invalid("template_job_id", f"job {template_id} does not exist")
    _openings(data)
    exclusive(data, "job_name", "name")
    name = string(data, "job_name")
    if name is MISSING:
        name = string(data, "name")
    if name is MISSING:
        name = f"Copy of {template['name']}"
    string(data, "job_post_name")
    requisition_id = string(data, "requisition_id", nullable=True, non_empty=False)
    row = {
        "name": name, "requisition_id": None if requisition_id is MISSING else requisition_id,
        "status": "draft", "department_id": _department(ctx, data, template), "office_ids": _offices(ctx, data, template),
        "confidential": False, "is_template": False, "copied_from_id": template["id"], "notes": template["notes"],
        "opened_at": None, "closed_at": None, "custom_fields": dict(template["custom_fields"] or {}),
    }
    job = ctx.store.insert("jobs", row, ctx.now)
    grant_future_permissions(ctx, job)
    return created(job)


def grant_future_permissions(ctx: Ctx, job: dict[str, Any]) -> list[dict[str, Any]]:
    """Add an `automated: true` grant for each future job permission matching a new job.

    A permission matches when its `department_id` is null or the job's department, and its
    `office_id` is null or one of the job's offices `[seed]`. Permissions of deactivated users
    (who "can no longer ... be assigned to new jobs" `[seed]`) and of site admins (never
    represented in `user_job_permissions` `[seed]`) grant nothing. One row per (user, role); a
    second role for the same user on this job is added only when
    `reject_duplicate_job_permission` is off `[inferred]`. Returns the rows added.
    """
    added: list[dict[str, Any]] = []
    users = ctx.store.rows["users"]
    held: dict[int, set[int]] = {}
    for row_id in sorted(ctx.store.rows["future_job_permissions"]):
        permission = ctx.store.rows["future_job_permissions"][row_id]
        if permission["department_id"] is not None and permission["department_id"] != job["department_id"]:
            continue
        if permission["office_id"] is not None and permission["office_id"] not in job["office_ids"]:
            continue
        user = users.get(permission["user_id"])
        if user is None or user["deactivated"] or user["site_admin"]:
            continue
        roles = held.setdefault(user["id"], set())
        if permission["role_id"] in roles or (roles and ctx.options.reject_duplicate_job_permission):
            continue
        roles.add(permission["role_id"])
        grant = {"user_id": user["id"], "job_id": job["id"], "role_id": permission["role_id"], "automated": True}
        added.append(ctx.store.insert("user_job_permissions", grant, ctx.now))
    return added
