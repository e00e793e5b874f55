"""Decide, at plan time, which changes go as which bulk request.

Contract:
* Only changes with exactly one write whose `bulk` names an endpoint are candidates; the planner marks a
  write bulk-able only when its row is order-independent (rows of one bulk request run as independent
  background jobs on Greenhouse's side, in any order).
* A bulk request holds a run of *consecutive* candidates of one endpoint (the plan's order is the
  execution order, and a bulk request is sent where its first change stands). A run shorter than
  `min_rows` is sent as single writes: one request plus polling is not cheaper than two writes.
* A run longer than `max_rows` is split into `ceil(n / max_rows)` requests of nearly equal size (so no
  request is a tiny tail). The real cap is unpublished ("up to the bulk-endpoint cap"); the default of
  100 is [inferred: bulk-cap] and configurable (`GREENHOUSE_BULK_MAX_ROWS`, `--bulk-max-rows`); `max_rows <= 1`
  turns bulk requests off.
* A create whose key a later write references (`{"$ref": key}`) is never a bulk row: a bulk request's
  answer carries no per-row ids, and the later write needs the new id.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from reconciler.plan import BulkRequest, Change

DEFAULT_MAX_ROWS = 100
DEFAULT_MIN_ROWS = 3


def batch(changes: Sequence[Change], *, max_rows: int = DEFAULT_MAX_ROWS,
          min_rows: int = DEFAULT_MIN_ROWS) -> tuple[BulkRequest, ...]:
    """The bulk requests for `changes` (in execution order), following the module contract."""
    if max_rows <= 1:
        return ()
    referenced = referenced_keys(changes)
    requests: list[BulkRequest] = []
    run: list[Change] = []
    endpoint: str | None = None

    def flush() -> None:
        if endpoint is not None and len(run) >= max(min_rows, 2):
            requests.extend(_split(endpoint, run, max_rows))
        run.clear()

    for change in changes:
        candidate = _endpoint(change, referenced)
        if candidate is None or candidate != endpoint:
            flush()
            endpoint = candidate
        if candidate is not None:
            run.append(change)
    flush()
    return tuple(requests)


def _endpoint(change: Change, referenced: set[str]) -> str | None:
    if len(change.writes) != 1 or change.writes[0].bulk is None:
        return None
    if change.writes[0].method == "POST" and change.key in referenced:
        return None
    return change.writes[0].bulk


def _split(endpoint: str, run: list[Change], max_rows: int) -> list[BulkRequest]:
    parts = math.ceil(len(run) / max_rows)
    size, extra = divmod(len(run), parts)
    out: list[BulkRequest] = []
    start = 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(BulkRequest(endpoint, tuple(c.key for c in run[start:end])))
        start = end
    return out


def referenced_keys(changes: Sequence[Change]) -> set[str]:
    """Change keys that some write's path or body refers to with a $ref."""
    return {key for change in changes for write in change.writes for key in write.references()}
