"""Harvest bulk endpoints: send once, then follow the bulk request until it is finished.

Contract (docs/harvest-client.md section 4; the facts with their sources are in docs/api-facts.md):

* A bulk write is sent once and never again. Any 2xx answer carrying a `bulk_action_uuid` means the
  rows were accepted: Greenhouse then runs each row as its own background job, in any order, and
  partial success is normal.
* The bulk request is polled at `/v3/bulk_requests/{uuid}` with a growing, capped interval until it
  is finished: status "completed" or "failed" (any case), or `completed_at` set. Status values are not
  documented [inferred: bulk-status]. Failure rows come from `failure_results_url` (JSON array, JSON lines, or kept
  as text: the format is not documented [inferred: bulk-results-format]).
* When the reply to the bulk write itself is lost, the request is looked for among the client's
  recent bulk requests (the first page of `GET /v3/bulk_requests`, newest first) by endpoint, row count
  and time; found, it is followed like any other. Not found, ambiguous, still unfinished at the
  deadline, or unreadable (403, 404, no answer): `BulkPendingError`, and the rows are not sent again.
  Time: a candidate must be requested no earlier than `LOOKUP_SLACK_SECONDS` before the write was sent
  (any clock skew up to that), and, when the server's clock is known from the HTTP `Date` header of the
  API's answers (RFC 9110 section 6.6.1), no earlier than the send on the server's clock minus
  `DATE_SLACK_SECONDS`: a request made seconds earlier (a previous apply's, same endpoint and row
  count) is then told apart (see `_find_lost`).
  Not found is the subclass `BulkNotAcceptedError`: the lookup, made after the loss, holds no matching
  request, and Greenhouse records a bulk request when it accepts one (the 202 names it) [inferred: bulk-lookup],
  so the rows were not accepted; a caller may send them again as a new request (the executor decides).
* A 2xx without a uuid: rows whose per-row results the body carries (a list of row objects) are read
  as a synchronous outcome [inferred: bulk-sync-results]; otherwise the rows were accepted with an outcome that cannot be
  learnt: `BulkPendingError` again, never a re-send.
"""

from __future__ import annotations

import email.utils
import json
import urllib.parse
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconciler.errors import BulkPendingError, HarvestError, OutcomeUnknownError

from .results import WriteResult

TERMINAL_STATUSES = frozenset({"completed", "failed"})
#: A bulk request found after a lost reply must have been requested no earlier than this many seconds
#: before the write was sent, whatever the clock skew between this machine and Greenhouse; the only time
#: test while no `Date` header has measured that skew [inferred: bulk-lookup].
LOOKUP_SLACK_SECONDS = 300.0
#: With the server's clock known (`clock_offset`), a candidate must be requested no earlier than the send,
#: on that clock, minus this: the `Date` header's estimate is never later than the server's clock (see
#: `clock_offset`), so this covers only `requested_at`'s millisecond truncation and a difference between the
#: clocks of the host that stamps `Date` and the one that stamps `requested_at` [inferred: bulk-lookup].
DATE_SLACK_SECONDS = 2.0
#: Recent bulk requests read after a lost reply (one page, newest first).
LOOKUP_PAGE = 100


class BulkNotAcceptedError(BulkPendingError):
    """The reply to a bulk write was lost and the client's recent bulk requests, read afterwards, hold none
    that matches it (endpoint, row count, time): the rows were not accepted (see the module contract).

    A BulkPendingError, so a caller that never re-sends a bulk stops as it always did.
    """


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


@dataclass(frozen=True)
class Polling:
    """How a bulk request is followed: first interval, growth cap, and the deadline (seconds)."""

    interval: float = 1.0
    max_interval: float = 15.0
    max_wait: float = 600.0


def run(
    method: str,
    path: str,
    data: Sequence[Any],
    *,
    send: Callable[[], WriteResult],
    poll: Callable[[str], Any],
    recent: Callable[[], Any],
    fetch: Callable[[str], str],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    polling: Polling,
    server_offset: Callable[[], float | None],
    known: Collection[str] = (),
) -> BulkOutcome:
    """Send the bulk write once and return its finished outcome (see the module contract).

    `known` holds uuids this process already followed: a lost reply is never matched to one of them.
    `server_offset` answers the server's clock minus `clock`, as measured from the latest answer of the
    API (`clock_offset`), or None when no answer carried a usable `Date` header; it is asked after the
    lookup, whose own answer is then the latest measurement.
    """
    sent_at = clock()
    try:
        accepted = send()
    except OutcomeUnknownError as lost:
        uuid = _find_lost(method, path, len(data), sent_at, recent, server_offset, known, str(lost))
    else:
        found = _uuid(accepted.body)
        if found is None:
            return _synchronous(method, path, accepted)
        uuid = found
    return _follow(method, path, uuid, poll=poll, fetch=fetch, clock=clock, sleep=sleep, polling=polling)


def _follow(method: str, path: str, uuid: str, *, poll: Callable[[str], Any], fetch: Callable[[str], str],
            clock: Callable[[], float], sleep: Callable[[float], None], polling: Polling) -> BulkOutcome:
    started = clock()
    interval = polling.interval
    status = ""
    while True:
        try:
            record = _record(poll(uuid))
        except HarvestError as exc:
            raise BulkPendingError(method, path, uuid, f"its status cannot be read: {exc}") from None
        status = str(record.get("status") or "")
        if status.lower() in TERMINAL_STATUSES or record.get("completed_at"):
            return _outcome(uuid, status, record, fetch)
        left = polling.max_wait - (clock() - started)
        if left <= 0:
            raise BulkPendingError(
                method, path, uuid,
                f"not finished after {polling.max_wait:g} s, last status {status or 'unknown'!r}; its rows were "
                "accepted and are not sent again",
            )
        sleep(min(interval, left))
        interval = min(interval * 1.5, polling.max_interval)


def _find_lost(method: str, path: str, rows: int, sent_at: float, recent: Callable[[], Any],
               server_offset: Callable[[], float | None], known: Collection[str], cause: str) -> str:
    """The uuid of the bulk request whose reply was lost, from the client's recent bulk requests.

    A candidate names the same endpoint and row count, is not in `known`, and was requested (by its
    `requested_at`, else `created_at`; a record with neither may be it) no earlier than `sent_at -
    LOOKUP_SLACK_SECONDS`: the window for any clock skew, used alone when the server's clock is unknown.
    With the offset known, only candidates requested no earlier than `sent_at + offset -
    DATE_SLACK_SECONDS` can be this write; the others were requested before it was sent. Exactly one
    such candidate is followed; several are ambiguous. None: when the window holds no candidate either,
    the rows were not accepted (`BulkNotAcceptedError`); when it holds only earlier ones, the write is
    left pending and not sent again, so that a wrong offset (a `Date` from another clock) can never make
    the rows be sent twice: it can only stop the apply.
    """
    try:
        listed = recent()
    except HarvestError as exc:
        raise BulkPendingError(method, path, None,
                               f"the reply was lost ({cause}) and recent bulk requests cannot be read: {exc}") from None
    offset = server_offset()
    window: list[tuple[str, float | None]] = []  # (uuid, requested at): the candidates under any skew
    for r in listed if isinstance(listed, list) else []:
        if isinstance(r, dict) and r.get("bulk_action_uuid") and str(r["bulk_action_uuid"]) not in known \
                and _same_request(r, method, path, rows):
            created = _timestamp(r.get("requested_at") or r.get("created_at"))
            if created is None or created >= sent_at - LOOKUP_SLACK_SECONDS:
                window.append((str(r["bulk_action_uuid"]), created))
    not_before = None if offset is None else sent_at + offset - DATE_SLACK_SECONDS
    candidates = sorted({u for u, created in window if not_before is None or created is None or created >= not_before})
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        detail = (f"the reply to {rows} row(s) was lost ({cause}) and {len(candidates)} recent bulk requests "
                  f"match it ({', '.join(candidates)}); its rows are not sent again")
        raise BulkPendingError(method, path, None, detail)
    if window:  # only with an offset: without one, every request in the window is a candidate
        earlier = sorted({u for u, _ in window})
        detail = (f"the reply to {rows} row(s) was lost ({cause}) and no matching bulk request was requested "
                  f"after it was sent (the server's clock, from its Date header, is {offset or 0.0:+.1f} s from this "
                  f"machine's), but {len(earlier)} earlier one(s) within {LOOKUP_SLACK_SECONDS:g} s match it "
                  f"({', '.join(earlier)}); its rows may or may not be applied and are not sent again")
        raise BulkPendingError(method, path, None, detail)
    detail = (f"the reply to {rows} row(s) was lost ({cause}) and no matching bulk request was found; "
              "its rows may or may not be applied and are not sent again")
    # Absence is shown only by a readable list (a list, not some other shape).
    raise (BulkNotAcceptedError if isinstance(listed, list) else BulkPendingError)(method, path, None, detail)


def _same_request(record: Mapping[str, Any], method: str, path: str, rows: int) -> bool:
    """Endpoint and row count agree. `api_endpoint`'s exact form is not documented [inferred: bulk-lookup]:
    it matches when it names the path (and, when it names a method, the same method)."""
    endpoint = str(record.get("api_endpoint") or "")
    if path not in endpoint and path.removeprefix("/v3") not in endpoint:
        return False
    named = endpoint.split(" ", 1)[0].upper() if " " in endpoint else ""
    if named in ("GET", "POST", "PATCH", "PUT", "DELETE") and named != method:
        return False
    count = record.get("record_count")
    return not (isinstance(count, int) and not isinstance(count, bool) and count != rows)


def clock_offset(dates: Sequence[str], received_at: float) -> float | None:
    """The server's clock minus this machine's, from the `Date` header values of one answer received at
    `received_at` (this machine's clock); None unless there is exactly one value and it parses.

    `Date` is the time the server generated the answer, truncated to the second (RFC 9110 section 6.6.1,
    https://www.rfc-editor.org/rfc/rfc9110#section-6.6.1), and the answer arrived after it was generated:
    so the result is never later than the true offset (by up to 1 s plus the answer's travel time). An
    estimate on that side only widens the lookup's time window; it never excludes the write's own request.
    All three HTTP-date forms are read (IMF-fixdate, RFC 850, asctime); a date without a zone is GMT, as
    every HTTP-date is.
    """
    if len(dates) != 1:
        return None
    try:
        when = email.utils.parsedate_to_datetime(dates[0].strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.timestamp() - received_at
    except (OverflowError, OSError, ValueError):
        return None


def _timestamp(value: Any) -> float | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return when.timestamp()


def _synchronous(method: str, path: str, accepted: WriteResult) -> BulkOutcome:
    """A 2xx without a uuid: per-row results in the body are the outcome; without them it is unknown."""
    body = accepted.body
    rows = body.get("data") if isinstance(body, dict) else body
    if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
        failures = tuple(r for r in rows if _row_failed(r))
        return BulkOutcome(uuid="", status=f"answered {accepted.status}", record_count=len(rows),
                           success_count=len(rows) - len(failures), failure_count=len(failures), failures=failures)
    raise BulkPendingError(method, path, None,
                           f"it answered {accepted.status} without a bulk_action_uuid or per-row results; the rows "
                           "were accepted but their outcome is unknown, and they are not sent again")


def _row_failed(row: Mapping[str, Any]) -> bool:
    status = row.get("status")
    return bool(row.get("errors")) or row.get("success") is False or (
        isinstance(status, int) and not isinstance(status, bool) and status >= 400)


def _uuid(body: Any) -> str | None:
    if isinstance(body, dict):
        value = body.get("bulk_action_uuid")
        if value is None and isinstance(body.get("data"), dict):
            value = body["data"].get("bulk_action_uuid")
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
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


def size_rejected(status: int, message: str) -> bool:
    """Whether an error answer to a bulk write refuses it for its size (nothing was accepted) [inferred: bulk-size-refusal]:
    413, or a 422 whose text speaks of a maximum, a limit or too many rows."""
    if status == 413:
        return True
    text = message.lower()
    return status == 422 and any(w in text for w in ("at most", "maximum", "too many", "too large", "exceed",
                                                    "limit", " cap"))
