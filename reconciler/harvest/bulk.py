"""Harvest bulk endpoints: send once, then poll the bulk request until it is finished.

Contract: the bulk write itself follows the write rules (never repeated blindly). A bulk call is
accepted with 202 and a `bulk_action_uuid` [seed]; rows are then processed independently in the
background, so partial success is normal [seed]. The outcome carries the counts and the failure
rows; the caller should still re-read live state rather than trust the counts alone.

Status values are not documented [code: a third party guesses building/pending/in_progress/
completed/failed]; this module treats "completed" and "failed" (any case) as finished, and also
any record whose `completed_at` is set. The result-file format is unknown: a JSON array, JSON lines,
or (kept as one `{"text": ...}` row) anything else.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from reconciler.errors import HarvestError, OutcomeUnknownError

TERMINAL_STATUSES = frozenset({"completed", "failed"})


class Accepted(Protocol):
    """What the bulk write returned (a WriteResult)."""

    @property
    def status(self) -> int: ...

    @property
    def body(self) -> Any: ...


@dataclass(frozen=True)
class BulkOutcome:
    """A finished bulk request: its counts and the failure rows as the server gave them."""

    uuid: str
    status: str
    record_count: int
    success_count: int
    failure_count: int
    failures: tuple[Mapping[str, Any], ...]


def status_path(uuid: str) -> str:
    return "/v3/bulk_requests/" + urllib.parse.quote(uuid, safe="")


def run(
    method: str,
    path: str,
    data: list[Any],
    *,
    send: Callable[[], Accepted],
    poll: Callable[[str], Any],
    fetch: Callable[[str], str],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    poll_interval: float,
    max_wait: float,
    max_poll_interval: float,
) -> BulkOutcome:
    accepted = send()
    uuid = _uuid(accepted.body)
    if accepted.status != 202 or uuid is None:
        # The server took the request but did not hand out a bulk request to follow: what it did
        # with the rows cannot be known from here.
        raise OutcomeUnknownError(
            method, path, f"expected 202 with a bulk_action_uuid, got {accepted.status} without one"
            if uuid is None else f"expected 202, got {accepted.status}",
        )
    started = clock()
    interval = poll_interval
    while True:
        record = _record(poll(uuid))
        status = str(record.get("status") or "")
        if status.lower() in TERMINAL_STATUSES or record.get("completed_at"):
            return _outcome(uuid, status, record, fetch)
        left = max_wait - (clock() - started)
        if left <= 0:
            raise OutcomeUnknownError(
                method, path,
                f"bulk request {uuid} not finished after {max_wait:g} s (last status {status or 'unknown'!r}); "
                "re-read before deciding",
            )
        sleep(min(interval, left))
        interval = min(interval * 1.5, max_poll_interval)


def _uuid(body: Any) -> str | None:
    if isinstance(body, dict):
        value = body.get("bulk_action_uuid")
        if value is None and isinstance(body.get("data"), dict):
            value = body["data"].get("bulk_action_uuid")
        if isinstance(value, (str, int)) and str(value):
            return str(value)
    return None


def _record(body: Any) -> Mapping[str, Any]:
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    return body if isinstance(body, dict) else {}


def _count(record: Mapping[str, Any], key: str) -> int:
    value = record.get(key)
    try:
        return int(value) if value is not None and not isinstance(value, bool) else 0
    except (TypeError, ValueError):
        return 0


def _outcome(uuid: str, status: str, record: Mapping[str, Any], fetch: Callable[[str], str]) -> BulkOutcome:
    failure_count = _count(record, "failure_count")
    failures: tuple[Mapping[str, Any], ...] = ()
    url = record.get("failure_results_url")
    if failure_count > 0 and isinstance(url, str) and url:
        try:
            failures = parse_rows(fetch(url))
        except HarvestError as exc:
            # The bulk request is finished either way; losing its counts because the short-lived
            # result file could not be read would hide what happened.
            failures = ({"error": f"could not read failure results: {exc}"},)
    return BulkOutcome(
        uuid=uuid,
        status=status,
        record_count=_count(record, "record_count"),
        success_count=_count(record, "success_count"),
        failure_count=failure_count,
        failures=failures,
    )


def parse_rows(text: str) -> tuple[Mapping[str, Any], ...]:
    """A JSON array, a JSON object (wrapping rows under "data" or being one row), or JSON lines; else the text."""
    stripped = text.strip()
    if not stripped:
        return ()
    whole: Any
    try:
        whole = json.loads(stripped)
    except ValueError:
        whole = _NOT_JSON
    if isinstance(whole, list):
        return tuple(_row(item) for item in whole)
    if isinstance(whole, dict):
        inner = whole.get("data")
        return tuple(_row(item) for item in inner) if isinstance(inner, list) else (whole,)
    if whole is _NOT_JSON:
        rows: list[Mapping[str, Any]] = []
        for line in stripped.splitlines():
            if not line.strip():
                continue
            try:
                rows.append(_row(json.loads(line)))
            except ValueError:
                return ({"text": text},)
        return tuple(rows)
    return ({"text": text},)


_NOT_JSON = object()


def _row(item: Any) -> Mapping[str, Any]:
    return item if isinstance(item, dict) else {"value": item}
