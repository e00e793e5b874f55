"""Carry out a Plan: exactly its requests, in its order. The executor decides nothing the plan did not.

* `{"$ref": key}` values and "{$ref:key}" path segments are replaced by the id that change `key` created.
  A create whose answer carried no usable id is not a failure: when a later write needs the id, the
  create's settle probe re-reads the collection and takes the id of the matching row; only when the
  probe finds nothing is it an error.
* `Plan.bulk_requests` are sent as planned, one request each, where their first change stands. A bulk
  request refused for its size (413, or a 422 naming a maximum: nothing was accepted) is split in half
  and both halves are sent. An accepted bulk request is followed to its end by the client; its rows are
  never sent again, not even when its reply was lost or it is still pending at the deadline
  (BulkPendingError: the apply stops and says to plan again later). Failed rows are reported by name.
* A single write whose answer was lost (OutcomeUnknownError) is settled by re-reading with the write's
  `Settle` probe: committed -> carry on (taking the created id from the re-read row); not committed ->
  send it again after a back-off. Never a blind retry, so never a duplicate.
* A change with `fallback == "delete_first"` (a role change on one job) sends its create first; only if
  the API refuses it as a duplicate (a 422 whose text says "already"), it sends its delete, then the
  create again.
* The first failure stops the apply: ApplyError says what was applied, what failed, and what was not tried.
* `journal` (a text file) gets one JSON line per write: time, type, name, method, path, status, id.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from reconciler.errors import ApiError, ApplyError, BulkPendingError, HarvestError, OutcomeUnknownError
from reconciler.harvest.bulk import BulkOutcome, Polling, size_rejected
from reconciler.harvest.results import WriteResult
from reconciler.plan import Change, Plan, Settle, Write

#: How many times a write with an unknown outcome is sent (each time settled by re-reading) before giving up.
MAX_SETTLE_ATTEMPTS = 5
#: Back-off before re-sending a write found not committed: 1 s, 2 s, 4 s, ... capped, so a struggling
#: server is not hammered.
RESEND_BACKOFF_CAP = 30.0
#: How many failed bulk rows are named in the error message.
SHOWN_FAILURES = 5


class Writer(Protocol):
    """What the executor needs from the Harvest client (`reconciler.harvest.HarvestClient` is one).

    Single writes answer a `WriteResult` (2xx only; failures raise the client's errors), bulk writes a
    `BulkOutcome`: typed values, so the executor never guesses at the shape of an answer.
    """

    def post(self, path: str, json: Any = None) -> WriteResult: ...

    def patch(self, path: str, json: Any) -> WriteResult: ...

    def delete(self, path: str, json: Any = None) -> WriteResult: ...

    def bulk(self, method: str, path: str, data: Sequence[Any], *, polling: Polling | None = None) -> BulkOutcome: ...

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class ApplyReport:
    changes: int
    writes: int
    settled: int


Progress = Callable[[int, int, Change], None]


class _RowsFailed(ApplyError):
    """Some rows of a finished bulk request failed; `applied` rows of it succeeded."""

    def __init__(self, message: str, applied: int) -> None:
        super().__init__(message)
        self.applied = applied


class Executor:
    def __init__(
        self,
        client: Writer,
        *,
        journal: TextIO | None = None,
        progress: Progress | None = None,
        polling: Polling | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.sleep = sleep
        self.journal = journal
        self.progress = progress
        self.polling = polling
        self.clock = clock
        self.ids: dict[str, Any] = {}
        #: Creates that succeeded without an id in their answer: found by their probe when needed.
        self.unresolved: dict[str, Write] = {}
        self.writes = 0
        self.settled = 0

    # -- the walk --------------------------------------------------------------------------------
    def apply(self, plan: Plan) -> ApplyReport:
        changes = plan.changes
        bulks = {b.changes[0]: b for b in plan.bulk_requests}
        total = len(changes)
        done = 0
        while done < total:
            change = changes[done]
            request = bulks.get(change.key)
            group = changes[done : done + len(request.changes)] if request else (change,)
            try:
                if request is not None:
                    self._bulk(request.endpoint, group)
                else:
                    self._change(change)
            except BulkPendingError as e:
                raise ApplyError(
                    f"applied {done} of {total} changes; {e}; {total - done - len(group)} not attempted"
                ) from None
            except (HarvestError, ApplyError) as e:
                applied = e.applied if isinstance(e, _RowsFailed) else 0
                what = (f"bulk request of {len(group)} {change.type} changes" if request is not None
                        else f"{change.action} {change.type} {change.name}")
                raise ApplyError(
                    f"applied {done + applied} of {total} changes; failed: {what}: {e}; "
                    f"{total - done - len(group)} not attempted; run plan again to see the remaining work"
                ) from None
            done += len(group)
            self._tick(done, total, group[-1])
        return ApplyReport(done, self.writes, self.settled)

    def _tick(self, done: int, total: int, change: Change) -> None:
        if self.progress is not None:
            self.progress(done, total, change)

    # -- one change ------------------------------------------------------------------------------
    def _change(self, change: Change) -> None:
        if change.fallback == "delete_first" and len(change.writes) == 2:
            create, delete = change.writes
            try:
                self._write(change, create)
            except ApiError as e:
                if e.status != 422 or "already" not in str(e).lower():
                    raise
                self._record(change, create.method, self._resolve_path(create.path), e.status, None)
                self._write(change, delete)
                self._write(change, create)
                return
            self._write(change, delete)
            return
        for write in change.writes:
            self._write(change, write)

    def _write(self, change: Change, write: Write) -> None:
        path = self._resolve_path(write.path)
        body = self._resolve(write.body)
        creates = write.method == "POST" and change.action in ("create", "replace")
        for attempt in range(1, MAX_SETTLE_ATTEMPTS + 1):
            try:
                result = self._send(write.method, path, body)
            except OutcomeUnknownError as e:
                committed, row = self._settle(write, e)
                if committed:
                    self.settled += 1
                    row_id = row.get("id") if row else change.id
                    if creates and row_id is not None:
                        self.ids.setdefault(change.key, row_id)
                    self._record(change, write.method, path, "settled", row_id)
                    return
                if attempt == MAX_SETTLE_ATTEMPTS:
                    raise
                self.sleep(min(RESEND_BACKOFF_CAP, 2.0 ** (attempt - 1)))
                continue
            new_id = result.body_id()
            if creates:
                if _usable_id(new_id):
                    self.ids.setdefault(change.key, new_id)
                else:
                    new_id = None
                    self.unresolved.setdefault(change.key, write)
            self._record(change, write.method, path, result.status, new_id if new_id is not None else change.id)
            return

    def _probe(self, probe: Settle) -> tuple[bool, dict[str, Any] | None]:
        """Re-read with `probe`: (committed, the matching row when one was found)."""
        rows = self.client.list_all(probe.path, self._resolve(dict(probe.params)))
        match = self._resolve(dict(probe.match))
        found = next((r for r in rows if _matches(r, match)), None)
        if probe.committed_if == "absent":
            return found is None, None
        return found is not None, found

    def _settle(self, write: Write, error: OutcomeUnknownError) -> tuple[bool, dict[str, Any] | None]:
        """Re-read to learn whether `write` was committed: (committed, the matching row if one was found)."""
        if write.settle is None:
            raise error
        return self._probe(write.settle)

    def _send(self, method: str, path: str, body: Any) -> WriteResult:
        self.writes += 1
        if method == "POST":
            return self.client.post(path, body)
        if method == "PATCH":
            return self.client.patch(path, body)
        if method == "DELETE":
            return self.client.delete(path, body)
        raise ApplyError(f"unsupported method {method}")

    # -- bulk ------------------------------------------------------------------------------------
    def _bulk(self, endpoint: str, group: Sequence[Change]) -> None:
        method, path = endpoint.split(" ", 1)
        rows = [self._resolve(c.writes[0].bulk_item if c.writes[0].bulk_item is not None else c.writes[0].body)
                for c in group]
        self._send_bulk(method, path, list(group), rows)

    def _send_bulk(self, method: str, path: str, group: list[Change], rows: list[Any]) -> None:
        self.writes += 1
        try:
            outcome = self.client.bulk(method, path, rows, polling=self.polling)
        except ApiError as e:
            if len(rows) < 2 or not size_rejected(e.status, str(e)):
                raise
            half = len(rows) // 2
            self._send_bulk(method, path, group[:half], rows[:half])
            self._send_bulk(method, path, group[half:], rows[half:])
            return
        for c in group:
            self._record(c, f"{method} (bulk)", path, outcome.status or "completed", c.id, bulk=outcome.uuid or None)
        if outcome.failure_count or outcome.failures:
            count = max(outcome.failure_count, len(outcome.failures))
            shown = "; ".join(_failure_text(f, group, rows) for f in outcome.failures[:SHOWN_FAILURES])
            more = f"; and {count - SHOWN_FAILURES} more" if count > SHOWN_FAILURES else ""
            raise _RowsFailed(
                f"{method} {path}: {count} of {len(group)} rows failed: {shown or 'no details returned'}{more}",
                applied=max(0, len(group) - count),
            )

    # -- references and journal -----------------------------------------------------------------------
    def _resolve(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            if set(value) == {"$ref"}:
                return self._id(str(value["$ref"]))
            return {k: self._resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve(v) for v in value]
        return value

    def _resolve_path(self, path: str) -> str:
        while "{$ref:" in path:
            start = path.index("{$ref:")
            end = path.index("}", start)
            path = path[:start] + str(self._id(path[start + 6 : end])) + path[end + 1 :]
        return path

    def _id(self, key: str) -> Any:
        if key not in self.ids and key in self.unresolved:
            write = self.unresolved.pop(key)
            row = self._probe(write.settle)[1] if write.settle is not None else None
            if row is None or not _usable_id(row.get("id")):
                raise ApplyError(f'"{key}" was created, but its answer carried no id and re-reading '
                                 f"{write.settle.path if write.settle else write.path} did not find it")
            self.ids[key] = row["id"]
        if key not in self.ids:
            raise ApplyError(f'"{key}" was to be created earlier in this apply, but no id is known for it')
        return self.ids[key]

    def _record(self, change: Change, method: str, path: str, status: Any, obj_id: Any, bulk: str | None = None) -> None:
        if self.journal is None:
            return
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock())),
            "type": change.type,
            "name": change.name,
            "action": change.action,
            "method": method,
            "path": path,
            "status": status,
            "id": obj_id,
        }
        if bulk:
            line["bulk_action_uuid"] = bulk
        self.journal.write(json.dumps(line, sort_keys=True) + "\n")
        self.journal.flush()


def _usable_id(value: Any) -> bool:
    """An id later writes can use: a positive integer (or its digits), never a bool, empty or nested value."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value > 0
    return isinstance(value, str) and value.isdigit()


def _matches(row: Mapping[str, Any], match: Mapping[str, Any]) -> bool:
    for key, want in match.items():
        have = row.get(key)
        if isinstance(want, list) and isinstance(have, list):
            if sorted(map(str, want)) != sorted(map(str, have)):
                return False
        elif isinstance(want, str) and isinstance(have, str) and key.endswith("email"):
            if want.lower() != have.lower():
                return False
        elif have != want:
            return False
    return True


def _failure_text(row: Mapping[str, Any], group: Sequence[Change], rows: Sequence[Any]) -> str:
    """One failed bulk row, named after its change when the row can be tied to one (index, id or data)."""
    msg = row.get("message") or row.get("error") or row.get("text") or row.get("errors") or json.dumps(row, default=str)
    errors = row.get("errors")
    if isinstance(errors, list) and errors and row.get("message"):
        parts = [f"{e.get('field')}: {e.get('message')}" if isinstance(e, Mapping) else str(e) for e in errors]
        msg = f"{msg} ({'; '.join(parts)})"
    change = _row_change(row, group, rows)
    return f'{change.type} "{change.name}": {msg}' if change is not None else str(msg)


def _row_change(row: Mapping[str, Any], group: Sequence[Change], rows: Sequence[Any]) -> Change | None:
    index = row.get("index")
    if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(group):
        return group[index]
    data = row.get("data")
    if data is not None:
        for change, sent in zip(group, rows, strict=True):
            if sent == data:
                return change
    row_id = row.get("id", data.get("id") if isinstance(data, Mapping) else data)
    if row_id is not None:
        return next((c for c in group if c.id is not None and c.id == row_id), None)
    return None


__all__ = ["ApiError", "ApplyReport", "Executor"]
