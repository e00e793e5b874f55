"""Bulk endpoints and `/v3/bulk_requests` (reference 1.10).

Every bulk call answers 202 `{"bulk_action_uuid": ...}` and records a bulk request; nothing else
happens during the call. Greenhouse then "dispatches each row in the `data` array to the matching
single-resource endpoint in its own Sidekiq job" `[seed]`, so the rows run later, independently
(a failing row does not stop the others) and in no guaranteed order. The sandbox emulates that
background work on its injected clock, so tests with a fake clock stay deterministic:

* At submission the rows get a seeded shuffled application order (`options.bulk_shuffle`, one RNG
  per sandbox seeded with `options.bulk_seed`; submission order when shuffling is off).
* With D = `options.bulk_processing_seconds` and n rows, the request turns `in_progress` at
  `submitted + D/(n+1)` and the k-th row in application order runs at `submitted + D*(k+2)/(n+1)`,
  so the last row, and `completed`, land exactly D after submission. Until the first of these
  instants the request is `pending`. A read in between sees a partly applied bulk, as it could live.
* `catch_up(store, options, now)` performs every step that is due by `now`, across all requests in
  time order, with each row's timestamps at its own due instant. The sandbox calls it before (and
  after) handling any request, so a client that never polls still sees the rows on its next read.

Results are served as JSON arrays of `{"index", "data", "status", "id", "message", "errors"}`
at `/_sandbox/bulk_results/{uuid}/success.json` and `.../failure.json` (format `[inferred]`), in
application order.
"""

from __future__ import annotations

import copy
import random
import sys
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from reconciler.sandbox import ops_fields, ops_jobs, ops_org, ops_users
from reconciler.sandbox.context import Ctx, Handler, Result
from reconciler.sandbox.errors import ApiError, invalid, not_found
from reconciler.sandbox.options import SandboxOptions
from reconciler.sandbox.store import Store
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
    ("POST", "/v3/jobs/bulk"): ("create", ops_jobs.create_job),
}

_START = -1
"""The step index of the pending -> in_progress transition (row steps are 0..n-1)."""


def submit(ctx: Ctx, method: str, path: str, body: Any, client_id: str, rng: random.Random) -> Result:
    """Validate the envelope, record the request and its schedule, answer 202.

    A refused envelope (no rows, over `bulk_max_rows`, bad `callback_url`) records nothing. Rows
    themselves are validated only when they run, by the single endpoint's handler.
    """
    data = body_object(body, ("data", "callback_url"), ctx.strict)
    rows = data.get("data")
    if not isinstance(rows, list) or not rows:
        raise invalid("data", "must be a non-empty array")
    if len(rows) > ctx.options.bulk_max_rows:
        raise invalid("data", f"accepts at most {ctx.options.bulk_max_rows} rows per request")
    callback = data.get("callback_url")
    if callback is not None and not isinstance(callback, str):
        raise invalid("callback_url", "must be a string")
    order = list(range(len(rows)))
    if ctx.options.bulk_shuffle:
        rng.shuffle(order)
    delay = max(0.0, float(ctx.options.bulk_processing_seconds))
    slots = len(rows) + 1
    due = [ctx.now + delay * (k + 2) / slots for k in range(len(rows))]
    due[-1] = ctx.now + delay  # exactly D after submission, whatever the rounding
    action_uuid = str(uuid.uuid4())
    stamp = iso(ctx.now)
    record = ctx.store.insert("bulk_requests", {
        "bulk_action_uuid": action_uuid, "api_endpoint": f"{method} {path}", "status": "pending",
        "record_count": len(rows), "success_count": 0, "failure_count": 0, "callback_url": callback,
        "callback_response": None, "requested_at": stamp, "requested_by_user_id": ctx.user_id,
        "completed_at": None, "expires_at": iso(ctx.now + ctx.options.bulk_expiry_seconds),
    }, ctx.now)
    ctx.store.bulk[action_uuid] = {
        "client_id": client_id, "method": method, "path": path, "rows": copy.deepcopy(rows),
        "user_id": ctx.user_id, "expires": ctx.now + ctx.options.bulk_expiry_seconds,
        "success": [], "failure": [], "record_id": record["id"],
        "order": order, "start_at": ctx.now + delay / slots, "due": due,
        "started": False, "applied": 0,
    }
    return Result(202, {"bulk_action_uuid": action_uuid}, record["id"])


def _schedule(job: dict[str, Any], now: float) -> None:
    """Give a job saved by an older sandbox (no schedule) one that is due now."""
    if "order" not in job:
        count = len(job["rows"])
        job.update(order=list(range(count)), start_at=now, due=[now] * count, started=False, applied=0)


def catch_up(store: Store, options: SandboxOptions, now: float) -> None:
    """Run every background step due by `now` (all requests, in time order), then drop expired
    requests. Cheap when nothing is in flight."""
    steps: list[tuple[float, int, int, str]] = []
    for action_uuid, job in store.bulk.items():
        record = store.get("bulk_requests", job["record_id"])
        if record is None or record["status"] == "completed":
            continue
        _schedule(job, now)
        if not job["started"] and job["start_at"] <= now:
            steps.append((job["start_at"], job["record_id"], _START, action_uuid))
        for k in range(job["applied"], len(job["order"])):
            if job["due"][k] > now:
                break
            steps.append((job["due"][k], job["record_id"], k, action_uuid))
    for at, _record_id, k, action_uuid in sorted(steps):
        job = store.bulk[action_uuid]
        if k == _START:
            job["started"] = True
            store.update("bulk_requests", job["record_id"], {"status": "in_progress"}, at)
        else:
            _run_row(store, options, job, at)
    purge(store, now)


def _run_row(store: Store, options: SandboxOptions, job: dict[str, Any], at: float) -> None:
    """Apply the next row in application order through the single endpoint's handler."""
    index = job["order"][job["applied"]]
    row = job["rows"][index]
    shape, handler = BULK_ROUTES[(job["method"], job["path"])]
    try:
        result = _apply(Ctx(store, options, at, job["user_id"]), shape, handler, row)
    except ApiError as e:
        job["failure"].append({"index": index, "data": row, "status": e.status, "id": None,
                               "message": e.message, "errors": e.errors})
    except Exception:  # a sandbox bug fails this row (and says why on stderr), never every later request
        traceback.print_exc(file=sys.stderr)
        job["failure"].append({"index": index, "data": row, "status": 500, "id": None,
                               "message": "internal sandbox error", "errors": []})
    else:
        job["success"].append({"index": index, "data": row, "status": result.status, "id": result.row_id,
                               "message": None, "errors": []})
    job["applied"] += 1
    job["started"] = True
    done = job["applied"] == len(job["order"])
    store.update("bulk_requests", job["record_id"], {
        "status": "completed" if done else "in_progress",
        "success_count": len(job["success"]), "failure_count": len(job["failure"]),
        "completed_at": iso(at) if done else None,
    }, at)


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


def purge(store: Store, now: float) -> None:
    """Bulk records and their results disappear at `expires_at` `[seed]`."""
    for action_uuid in [u for u, job in store.bulk.items() if job["expires"] <= now]:
        job = store.bulk.pop(action_uuid)
        if store.get("bulk_requests", job["record_id"]) is not None:
            store.delete("bulk_requests", job["record_id"])


def visible_to(ctx: Ctx, client_id: str) -> Callable[[dict[str, Any]], bool]:
    """List predicate: a client sees only its own bulk requests `[seed]`."""
    owners = {job["record_id"]: job["client_id"] for job in ctx.store.bulk.values()}
    return lambda row: owners.get(row["id"]) == client_id


def poll(ctx: Ctx, action_uuid: str, client_id: str, base_url: str) -> dict[str, Any]:
    """`GET /v3/bulk_requests/{uuid}`: the record plus result URLs (null until completed). Polling
    does not advance anything: the sandbox caught up with the clock before handling the request."""
    job = ctx.store.bulk.get(action_uuid)
    if job is None or job["client_id"] != client_id:
        raise not_found(f"bulk request {action_uuid}")
    record = ctx.store.rows["bulk_requests"][job["record_id"]]
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
