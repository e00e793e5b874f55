"""Bulk endpoints and `/v3/bulk_requests` (reference 1.10).

Every bulk call answers 202 `{"bulk_action_uuid": ...}` and records a bulk request. Its rows are
later applied one by one through the single endpoint's handler, independently (a failing row does
not stop the others). To keep tests deterministic the "background" work happens on polls: the
first `options.bulk_polls_before_completion` calls to `GET /v3/bulk_requests/{uuid}` answer
"in_progress", the next one applies every row and answers "completed" (0 = applied at submission).
Results are served as JSON arrays of `{"index", "data", "status", "id", "message", "errors"}`
at `/_sandbox/bulk_results/{uuid}/success.json` and `.../failure.json` (format `[inferred]`).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from reconciler.sandbox import ops_fields, ops_org, ops_users
from reconciler.sandbox.context import Ctx, Handler, Result
from reconciler.sandbox.errors import ApiError, invalid, not_found
from reconciler.sandbox.timeutil import iso
from reconciler.sandbox.validate import body_object

# (method, path) -> (row shape, handler). Shapes: "create" = the row is a create body; "update" =
# an object with "id" plus the fields to change; "ids" = the row is a bare id.
BULK_ROUTES: dict[tuple[str, str], tuple[str, Handler]] = {
    ("PATCH", "/v3/departments/bulk"): ("update", ops_org.update_department),
    ("PATCH", "/v3/offices/bulk"): ("update", ops_org.update_office),
    ("POST", "/v3/custom_field_options/bulk"): ("create", ops_fields.create_option),
    ("PATCH", "/v3/custom_field_options/bulk"): ("update", ops_fields.update_option),
    ("DELETE", "/v3/custom_field_options/bulk"): ("ids", ops_fields.archive_option),
    ("POST", "/v3/users/bulk"): ("create", ops_users.create_user),
    ("PATCH", "/v3/users/bulk"): ("update", ops_users.update_user),
    ("POST", "/v3/users/activate/bulk"): ("ids", ops_users.activate_user),
    ("POST", "/v3/users/deactivate/bulk"): ("ids", ops_users.deactivate_user),
    ("POST", "/v3/users/revoke_permissions/bulk"): ("ids", ops_users.revoke_permissions),
}


def submit(ctx: Ctx, method: str, path: str, body: Any, client_id: str) -> Result:
    """Validate the envelope, record the request, answer 202 (rows are checked when applied)."""
    data = body_object(body, ("data", "callback_url"), ctx.strict)
    rows = data.get("data")
    if not isinstance(rows, list) or not rows:
        raise invalid("data", "must be a non-empty array")
    if len(rows) > ctx.options.bulk_max_rows:
        raise invalid("data", f"accepts at most {ctx.options.bulk_max_rows} rows per request")
    callback = data.get("callback_url")
    if callback is not None and not isinstance(callback, str):
        raise invalid("callback_url", "must be a string")
    action_uuid = str(uuid.uuid4())
    stamp = iso(ctx.now)
    record = ctx.store.insert("bulk_requests", {
        "bulk_action_uuid": action_uuid, "api_endpoint": f"{method} {path}", "status": "in_progress",
        "record_count": len(rows), "success_count": 0, "failure_count": 0, "callback_url": callback,
        "callback_response": None, "requested_at": stamp, "requested_by_user_id": ctx.user_id,
        "completed_at": None, "expires_at": iso(ctx.now + ctx.options.bulk_expiry_seconds),
    }, ctx.now)
    ctx.store.bulk[action_uuid] = {
        "client_id": client_id, "method": method, "path": path, "rows": copy.deepcopy(rows), "polls": 0,
        "user_id": ctx.user_id, "expires": ctx.now + ctx.options.bulk_expiry_seconds,
        "success": [], "failure": [], "record_id": record["id"],
    }
    if ctx.options.bulk_polls_before_completion <= 0:
        _complete(ctx, action_uuid)
    return Result(202, {"bulk_action_uuid": action_uuid}, record["id"])


def _complete(ctx: Ctx, action_uuid: str) -> None:
    job = ctx.store.bulk[action_uuid]
    shape, handler = BULK_ROUTES[(job["method"], job["path"])]
    row_ctx = Ctx(ctx.store, ctx.options, ctx.now, job["user_id"])
    for index, row in enumerate(job["rows"]):
        try:
            result = _apply(row_ctx, shape, handler, row)
        except ApiError as e:
            job["failure"].append({"index": index, "data": row, "status": e.status, "id": None,
                                   "message": e.message, "errors": e.errors})
        else:
            job["success"].append({"index": index, "data": row, "status": result.status, "id": result.row_id,
                                   "message": None, "errors": []})
    ctx.store.update("bulk_requests", job["record_id"], {
        "status": "completed", "success_count": len(job["success"]), "failure_count": len(job["failure"]),
        "completed_at": iso(ctx.now),
    }, ctx.now)


def _apply(ctx: Ctx, shape: str, handler: Handler, row: Any) -> Result:
    if shape == "create":
        return handler(ctx, None, row)
    if shape == "ids":
        if isinstance(row, bool) or not isinstance(row, int):
            raise invalid("data", "each row must be an id")
        return handler(ctx, row, None)
    if not isinstance(row, dict) or isinstance(row.get("id"), bool) or not isinstance(row.get("id"), int):
        raise invalid("id", "each row must be an object with an integer id")
    rest = {k: v for k, v in row.items() if k != "id"}
    return handler(ctx, row["id"], rest)


def purge(ctx: Ctx) -> None:
    """Bulk records and their results disappear at `expires_at` `[seed]`."""
    for action_uuid in [u for u, job in ctx.store.bulk.items() if job["expires"] <= ctx.now]:
        job = ctx.store.bulk.pop(action_uuid)
        if ctx.store.get("bulk_requests", job["record_id"]) is not None:
            ctx.store.delete("bulk_requests", job["record_id"])


def visible_to(ctx: Ctx, client_id: str) -> Any:
    """List predicate: a client sees only its own bulk requests `[seed]`."""
    owners = {job["record_id"]: job["client_id"] for job in ctx.store.bulk.values()}
    return lambda row: owners.get(row["id"]) == client_id


def poll(ctx: Ctx, action_uuid: str, client_id: str, base_url: str) -> dict[str, Any]:
    """`GET /v3/bulk_requests/{uuid}`: advance the request, then describe it with result URLs."""
    purge(ctx)
    job = ctx.store.bulk.get(action_uuid)
    if job is None or job["client_id"] != client_id:
        raise not_found(f"bulk request {action_uuid}")
    record = ctx.store.rows["bulk_requests"][job["record_id"]]
    if record["status"] != "completed":
        job["polls"] += 1
        if job["polls"] > ctx.options.bulk_polls_before_completion:
            _complete(ctx, action_uuid)
    detail = dict(record)
    done = record["status"] == "completed"
    ttl = ctx.options.results_url_ttl_seconds
    base = f"{base_url}/_sandbox/bulk_results/{action_uuid}"
    detail.update(
        success_results_url=f"{base}/success.json" if done else None,
        failure_results_url=f"{base}/failure.json" if done else None,
        results_urls_expire_at=iso(ctx.now + ttl) if done else None,
        results_urls_expire_in=ttl if done else None,
    )
    return detail


def results(ctx: Ctx, action_uuid: str, kind: str) -> list[dict[str, Any]] | None:
    job = ctx.store.bulk.get(action_uuid)
    if job is None or kind not in ("success", "failure"):
        return None
    return list(job[kind])
