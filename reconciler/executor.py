"""Carry out a Plan: exactly its writes, in its order. The executor decides nothing the plan did not.

* `{"$ref": key}` values and "{$ref:key}" path segments are replaced by the id that change `key` created.
* Consecutive single-write changes that name the same bulk endpoint are sent as one bulk request when
  there are at least `bulk_min` of them (one POST and a few polls beat N writes); the outcome is polled
  from /v3/bulk_requests and per-row failures are reported. A bulk request whose outcome is unknown is
  settled row by row; rows that did not happen are then sent singly.
* A write whose answer was lost (OutcomeUnknownError) is settled by re-reading with the write's `Settle`
  probe: committed -> carry on (taking the created id from the re-read row); not committed -> send it again.
  Never a blind retry, so never a duplicate.
* The first failure stops the apply: ApplyError says what was applied, what failed, and what was not tried.
* `journal` (a text file) gets one JSON line per write: time, type, name, method, path, status, id.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from reconciler.errors import ApiError, ApplyError, HarvestError, OutcomeUnknownError
from reconciler.plan import Change, Plan, Settle, Write

#: How many times a write with an unknown outcome is sent (each time settled by re-reading) before giving up.
MAX_SETTLE_ATTEMPTS = 5
#: Back-off before re-sending a write found not committed: 1 s, 2 s, 4 s, ... capped, so a struggling
#: server is not hammered.
RESEND_BACKOFF_CAP = 30.0


class Writer(Protocol):
    """What the executor needs from the Harvest client."""

    def post(self, path: str, json: Any = None) -> Any: ...

    def patch(self, path: str, json: Any) -> Any: ...

    def delete(self, path: str, json: Any = None) -> Any: ...

    def bulk(self, method: str, path: str, data: Sequence[Any]) -> Any: ...

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class ApplyReport:
    changes: int
    writes: int
    settled: int


Progress = Callable[[int, int, Change], None]


class Executor:
    def __init__(
        self,
        client: Writer,
        *,
        journal: TextIO | None = None,
        progress: Progress | None = None,
        bulk_min: int = 3,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.sleep = sleep
        self.journal = journal
        self.progress = progress
        self.bulk_min = bulk_min
        self.clock = clock
        self.ids: dict[str, Any] = {}
        self.writes = 0
        self.settled = 0

    # -- the walk --------------------------------------------------------------------------------
    def apply(self, plan: Plan) -> ApplyReport:
        changes = list(plan.changes)
        total = len(changes)
        done = 0
        for group in self._groups(changes):
            try:
                if len(group) >= self.bulk_min:
                    self._bulk(group)
                else:
                    for change in group:
                        self._change(change)
                        done += 1
                        self._tick(done, total, change)
                    continue
            except (HarvestError, ApplyError) as e:
                failed = group[0] if len(group) >= self.bulk_min else changes[done]
                what = f"bulk of {len(group)} {failed.type} changes" if len(group) >= self.bulk_min else \
                    f"{failed.action} {failed.type} {failed.name}"
                attempted = len(group) if len(group) >= self.bulk_min else 1
                raise ApplyError(
                    f"applied {done} of {total} changes; failed: {what}: {e}; "
                    f"{total - done - attempted} not attempted; run plan again to see the remaining work"
                ) from None
            done += len(group)
            self._tick(done, total, group[-1])
        return ApplyReport(done, self.writes, self.settled)

    def _tick(self, done: int, total: int, change: Change) -> None:
        if self.progress is not None:
            self.progress(done, total, change)

    def _groups(self, changes: list[Change]) -> list[list[Change]]:
        """Runs of consecutive single-write changes that share a bulk endpoint; every other change alone."""
        groups: list[list[Change]] = []
        for change in changes:
            bulk = change.writes[0].bulk if len(change.writes) == 1 else None
            last = groups[-1] if groups else None
            if bulk and last and len(last[0].writes) == 1 and last[0].writes[0].bulk == bulk:
                last.append(change)
            else:
                groups.append([change])
        out: list[list[Change]] = []
        for g in groups:
            out.extend([g] if len(g) >= self.bulk_min else [[c] for c in g])
        return out

    # -- one change ------------------------------------------------------------------------------
    def _change(self, change: Change) -> None:
        for write in change.writes:
            self._write(change, write)

    def _write(self, change: Change, write: Write) -> None:
        path = self._resolve_path(write.path)
        body = self._resolve(write.body)
        for attempt in range(1, MAX_SETTLE_ATTEMPTS + 1):
            try:
                result = self._send(write.method, path, body)
            except OutcomeUnknownError as e:
                committed, row = self._settle(write, e)
                if committed:
                    self.settled += 1
                    row_id = row.get("id") if row else change.id
                    if write.method == "POST" and row_id is not None and change.action in ("create", "replace"):
                        self.ids.setdefault(change.key, row_id)
                    self._record(change, write.method, path, "settled", row_id)
                    return
                if attempt == MAX_SETTLE_ATTEMPTS:
                    raise
                self.sleep(min(RESEND_BACKOFF_CAP, 2.0 ** (attempt - 1)))
                continue
            status = getattr(result, "status", None)
            body_out = getattr(result, "body", None)
            new_id = body_out.get("id") if isinstance(body_out, Mapping) else None
            if write.method == "POST" and new_id is not None and change.action in ("create", "replace"):
                self.ids.setdefault(change.key, new_id)
            self._record(change, write.method, path, status, new_id if new_id is not None else change.id)
            return

    def _settle(self, write: Write, error: OutcomeUnknownError) -> tuple[bool, dict[str, Any] | None]:
        """Re-read to learn whether `write` was committed: (committed, the matching row if one was found)."""
        if write.settle is None:
            raise error
        probe: Settle = write.settle
        rows = self.client.list_all(probe.path, self._resolve(dict(probe.params)))
        match = self._resolve(dict(probe.match))
        found = next((r for r in rows if _matches(r, match)), None)
        if probe.committed_if == "absent":
            return found is None, None
        return found is not None, found

    def _send(self, method: str, path: str, body: Any) -> Any:
        self.writes += 1
        if method == "POST":
            return self.client.post(path, body)
        if method == "PATCH":
            return self.client.patch(path, body)
        if method == "DELETE":
            return self.client.delete(path, body)
        raise ApplyError(f"unsupported method {method}")

    # -- bulk ------------------------------------------------------------------------------------
    def _bulk(self, group: list[Change]) -> None:
        first = group[0].writes[0]
        assert first.bulk is not None
        method, path = first.bulk.split(" ", 1)
        data = [self._resolve(c.writes[0].bulk_item if c.writes[0].bulk_item is not None else c.writes[0].body)
                for c in group]
        self.writes += 1
        try:
            outcome = self.client.bulk(method, path, data)
        except OutcomeUnknownError:
            self._settle_bulk(group)
            return
        failures = list(getattr(outcome, "failures", ()) or ())
        failure_count = int(getattr(outcome, "failure_count", len(failures)) or 0)
        for c in group:
            self._record(c, f"{method} (bulk)", path, getattr(outcome, "status", "completed"), c.id,
                         bulk=getattr(outcome, "uuid", None))
        if failure_count:
            detail = "; ".join(_failure_text(f) for f in failures[:5]) or "no details returned"
            raise ApplyError(f"{method} {path}: {failure_count} of {len(group)} rows failed: {detail}")

    def _settle_bulk(self, group: list[Change]) -> None:
        """A bulk request whose answer (or result) was lost: settle each row by re-reading; send the rest singly."""
        for change in group:
            write = change.writes[0]
            committed, row = self._settle(write, OutcomeUnknownError(write.method, write.path, "bulk outcome unknown"))
            if committed:
                self.settled += 1
                row_id = row.get("id") if row else change.id
                if write.method == "POST" and row_id is not None and change.action == "create":
                    self.ids.setdefault(change.key, row_id)
                self._record(change, write.method, self._resolve_path(write.path), "settled", row_id)
            else:
                self._change(change)

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


def _failure_text(row: Any) -> str:
    if isinstance(row, Mapping):
        msg = row.get("message") or row.get("error") or row
        where = row.get("index")
        return f"row {where}: {msg}" if where is not None else str(msg)
    return str(row)


def apply_plan(plan: Plan, client: Writer, **kwargs: Any) -> ApplyReport:
    return Executor(client, **kwargs).apply(plan)


__all__ = ["ApiError", "ApplyReport", "Executor", "apply_plan"]
