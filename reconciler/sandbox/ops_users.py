"""Users, user emails and job permissions (reference 2.8, 2.9, 2.10).

Users cannot be deleted or made site admin through the API; activate / deactivate /
revoke_permissions always answer 204 and revoke also deletes the user's job permissions `[seed]`.
Emails are globally unique (409) and a primary email can only move to a verified address of the
same user `[seed]`. Permission grants to a site admin are 204 no-ops that store nothing `[seed]`.
A hand-made grant has `automated: false` (automated ones come from `ops_jobs`); the very same
(user, job, role) twice is always a 422, another role on the same (user, job) is a 422 under
`reject_duplicate_job_permission` `[inferred]`. Both messages say "already".
"""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.context import Ctx, Result, created, delete_row, existing, updated
from reconciler.sandbox.errors import ApiError, invalid
from reconciler.sandbox.timeutil import iso
from reconciler.sandbox.validate import (
    MISSING,
    body_object,
    boolean,
    exclusive,
    integer,
    integer_list,
    string,
)

_CREATE_KEYS = ("first_name", "last_name", "primary_email", "employee_id", "send_email_invite", "job_title",
                "office_ids", "department_ids")
_UPDATE_KEYS = ("first_name", "last_name", "employee_id", "job_title", "office_ids", "department_ids",
                "primary_email", "site_admin", "deactivated")


def _email(data: dict[str, Any], key: str, required: bool) -> Any:
    value = string(data, key, required=required)
    if value is not MISSING and ("@" not in value or value.strip() != value):
        raise invalid(key, f"{value!r} is not an email address")
    return value


def _conflict(email: str, owner: int) -> ApiError:
    return ApiError(409, f"The email address {email} is already in use",
                    [{"field": "email", "message": f"already belongs to user {owner}"}])


def _refs(ctx: Ctx, data: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, collection in (("office_ids", "offices"), ("department_ids", "departments")):
        ids = integer_list(data, key)
        if ids is MISSING:
            continue
        for ref in ids:
            if ctx.store.get(collection, ref) is None:
                raise invalid(key, f"{collection[:-1]} {ref} does not exist")
        changes[key] = ids


def _names(data: dict[str, Any], changes: dict[str, Any], required: bool) -> None:
    for key in ("first_name", "last_name"):
        value = string(data, key, required=required)
        if value is not MISSING:
            changes[key] = value
    employee_id = string(data, "employee_id", nullable=True, non_empty=False)
    if employee_id is not MISSING:
        changes["employee_id"] = employee_id
    job_title = string(data, "job_title", nullable=True, non_empty=False)
    if job_title is not MISSING:
        changes["job_title"] = job_title


def refresh_emails(ctx: Ctx, user_id: int) -> None:
    """`users.emails`: the primary address first, then the other verified ones by id."""
    user = ctx.store.rows["users"][user_id]
    verified = [r["email"] for r in ctx.store.find("user_emails", "user_id", user_id) if r["verified"]]
    primary = [user["primary_email"]] if user["primary_email"] else []
    rest = [e for e in verified if e.lower() != str(user["primary_email"]).lower()]
    ctx.store.update("users", user_id, {"emails": primary + rest}, ctx.now)


def create_user(ctx: Ctx, _id: int | None, body: Any) -> Result:
    data = body_object(body, _CREATE_KEYS, ctx.strict)
    changes: dict[str, Any] = {}
    _names(data, changes, required=True)
    email = _email(data, "primary_email", required=True)
    for row in ctx.store.find("user_emails", "email", email) + ctx.store.find("users", "primary_email", email):
        raise _conflict(email, row.get("user_id", row["id"]))
    boolean(data, "send_email_invite")
    _refs(ctx, data, changes)
    changes.update(primary_email=email, name=f"{changes['first_name']} {changes['last_name']}",
                   site_admin=False, deactivated=False, emails=[email])
    row = ctx.store.insert("users", changes, ctx.now)
    ctx.store.insert("user_emails", {"user_id": row["id"], "email": email, "verified": True}, ctx.now)
    return created(row)


def update_user(ctx: Ctx, row_id: int | None, body: Any) -> Result:
    row = existing(ctx, "users", row_id, "user")
    if isinstance(body, dict):
        for key, how in (("site_admin", "revoke_permissions"), ("deactivated", "activate / deactivate")):
            if key in body:
                raise invalid(key, f"cannot be changed with PATCH /v3/users (use {how})")
    data = body_object(body, _UPDATE_KEYS, ctx.strict)
    changes: dict[str, Any] = {}
    _names(data, changes, required=False)
    _refs(ctx, data, changes)
    email = _email(data, "primary_email", required=False)
    if email is not MISSING:
        mine = [r for r in ctx.store.find("user_emails", "email", email) if r["user_id"] == row["id"]]
        if not mine or not mine[0]["verified"]:
            raise invalid("primary_email", "must be a verified email address of this user (add it with "
                                           "POST /v3/user_emails and have the user verify it)")
        changes["primary_email"] = mine[0]["email"]
    first = changes.get("first_name", row["first_name"])
    last = changes.get("last_name", row["last_name"])
    changes["name"] = f"{first} {last}"
    ctx.store.update("users", row["id"], changes, ctx.now)
    if "primary_email" in changes:
        refresh_emails(ctx, row["id"])
    return updated(row)


def _flag_action(flag: str, value: bool) -> Any:
    def action(ctx: Ctx, row_id: int | None, _body: Any) -> Result:
        row = existing(ctx, "users", row_id, "user")
        ctx.store.update("users", row["id"], {flag: value}, ctx.now)
        return Result(204, None, row["id"])

    return action


activate_user = _flag_action("deactivated", False)
deactivate_user = _flag_action("deactivated", True)


def revoke_permissions(ctx: Ctx, row_id: int | None, _body: Any) -> Result:
    row = existing(ctx, "users", row_id, "user")
    ctx.store.update("users", row["id"], {"site_admin": False}, ctx.now)
    for grant in ctx.store.find("user_job_permissions", "user_id", row["id"]):
        ctx.store.delete("user_job_permissions", grant["id"])
    return Result(204, None, row["id"])


def create_user_email(ctx: Ctx, _id: int | None, body: Any) -> Result:
    data = body_object(body, ("user_id", "email", "send_verification"), ctx.strict)
    user_id = integer(data, "user_id", required=True)
    if ctx.store.get("users", user_id) is None:
        raise invalid("user_id", f"user {user_id} does not exist")
    email = _email(data, "email", required=True)
    send = boolean(data, "send_verification") is True
    sent_at = iso(ctx.now) if send else None
    for other in ctx.store.find("user_emails", "email", email):
        if other["user_id"] == user_id and not other["verified"] and send:
            resent = ctx.store.update("user_emails", other["id"], {"verification_token_sent_at": sent_at}, ctx.now)
            return Result(200, resent, other["id"])
        raise _conflict(email, other["user_id"])
    row = {"user_id": user_id, "email": email, "verified": False, "verification_token_sent_at": sent_at}
    return created(ctx.store.insert("user_emails", row, ctx.now))


def verify_email(ctx: Ctx, email: str) -> dict[str, Any] | None:
    """Sandbox-only: mark an address verified, as if its owner clicked the link."""
    rows = ctx.store.find("user_emails", "email", email)
    if not rows:
        return None
    row = ctx.store.update("user_emails", rows[0]["id"], {"verified": True}, ctx.now)
    refresh_emails(ctx, row["user_id"])
    return row


def _grant_target(ctx: Ctx, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    user_id = integer(data, "user_id", required=True)
    user = ctx.store.get("users", user_id)
    if user is None:
        raise invalid("user_id", f"user {user_id} does not exist")
    role_id = integer(data, "role_id", required=True)
    role = ctx.store.get("user_roles", role_id)
    if role is None:
        raise invalid("role_id", f"user role {role_id} does not exist")
    if role["role_type"] != "job_admin":
        raise invalid("role_id", f"role {role_id} is a {role['role_type']} role; only job_admin roles can be granted")
    return user_id, user


def create_job_permission(ctx: Ctx, _id: int | None, body: Any) -> Result:
    data = body_object(body, ("user_id", "job_id", "role_id"), ctx.strict)
    user_id, user = _grant_target(ctx, data)
    job_id = integer(data, "job_id", required=True)
    if ctx.store.get("jobs", job_id) is None:
        raise invalid("job_id", f"job {job_id} does not exist")
    if user["site_admin"]:
        return Result(204)
    for other in ctx.store.find("user_job_permissions", "user_id", user_id):
        if other["job_id"] != job_id:
            continue
        if other["role_id"] == data["role_id"]:
            raise invalid("job_id", f"user {user_id} already has role {other['role_id']} on job {job_id} "
                                    f"(id {other['id']})")
        if ctx.options.reject_duplicate_job_permission:
            raise invalid("job_id", f"user {user_id} already has a permission on job {job_id} (id {other['id']})")
    row = {"user_id": user_id, "job_id": job_id, "role_id": data["role_id"], "automated": False}
    return created(ctx.store.insert("user_job_permissions", row, ctx.now))


def _scope(ctx: Ctx, data: dict[str, Any], key: str, external: str, collection: str) -> int | None:
    exclusive(data, key, external)
    value = integer(data, key, nullable=True)
    if value not in (MISSING, None):
        if ctx.store.get(collection, value) is None:
            raise invalid(key, f"{collection[:-1]} {value} does not exist")
        return int(value)
    ext = string(data, external, nullable=True)
    if ext in (MISSING, None):
        return None
    matches = ctx.store.find(collection, "external_id", ext)
    if not matches:
        raise invalid(external, f"no {collection[:-1]} has external_id {ext!r}")
    return int(matches[0]["id"])


def create_future_permission(ctx: Ctx, _id: int | None, body: Any) -> Result:
    keys = ("user_id", "role_id", "department_id", "external_department_id", "office_id", "external_office_id")
    data = body_object(body, keys, ctx.strict)
    user_id, user = _grant_target(ctx, data)
    department_id = _scope(ctx, data, "department_id", "external_department_id", "departments")
    office_id = _scope(ctx, data, "office_id", "external_office_id", "offices")
    if user["site_admin"]:
        return Result(204)
    row = {"user_id": user_id, "role_id": data["role_id"], "department_id": department_id, "office_id": office_id}
    if ctx.options.reject_duplicate_future_permission:
        for other in ctx.store.find("future_job_permissions", "user_id", user_id):
            if all(other[k] == row[k] for k in ("role_id", "department_id", "office_id")):
                raise invalid("role_id", f"the same future job permission already exists (id {other['id']})")
    return created(ctx.store.insert("future_job_permissions", row, ctx.now))


delete_job_permission = delete_row("user_job_permissions", "user job permission")
delete_future_permission = delete_row("future_job_permissions", "future job permission")
