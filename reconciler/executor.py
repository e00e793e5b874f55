"""Carry out a Plan: exactly its requests, in its order. The executor decides nothing the plan did not.

* `{"$ref": key}` values and "{$ref:key}" path segments are replaced by the id that change `key` created.
  A create whose answer carried no usable id is not a failure: when a later write needs the id, the
  create's settle probe re-reads the collection and takes the id of the matching row; only when the
  probe finds nothing is it an error.
* `Plan.bulk_requests` are sent as planned, one request each, where their first change stands. A bulk
  request refused for its size (413, or a 422 naming a maximum: nothing was accepted) is split in half
  and both halves are sent. An accepted bulk request is followed to its end by the client; its rows are
  never sent again, not even when its reply was lost or it is still pending at the deadline
  (BulkPendingError: the apply stops and says to plan again later), unless the client's lookup shows
  that a request whose reply was lost was not accepted (BulkNotAcceptedError: none of the recent bulk
  requests matches it): then it is sent again after a back-off, as a single write found not committed
  is, at most MAX_SETTLE_ATTEMPTS times in all. Failed rows are reported by name.
* A single write whose answer was lost (OutcomeUnknownError) is settled by re-reading with the write's
  `Settle` probe: committed -> carry on (taking the created id from the re-read row); not committed ->
  send it again after a back-off. Never a blind retry, so never a duplicate.
* A change with `fallback == "delete_first"` (a role change on one job) sends its create first; only if
  the API refuses it as a duplicate (a 422 whose text says "already"), it sends its delete, then the
  create again.
* Overlapping applies (docs/reliability.md): right before the first create of each resource type, the
  creates of that type still to come are grouped by their settle probe's list path and the collection
  is re-read ONCE per group (one paginated list, never a GET per object). A create whose probe matches
  a row that appeared since planning is not sent: the row's id is used (later `$ref`s get it) and it is
  reported as "already present" (`ApplyReport.present`, the journal). After the last change, the
  objects the apply created or found are re-read the same way; more live rows matching one create's
  probe than the apply meant to have is a duplicate, and the apply fails (ApplyError) naming the ids
  and the remedy.
* Interruption: with a `StopSignal`, SIGINT/SIGTERM never abandon a request in flight. The signal is
  noted; the change in flight is finished (a write whose answer was lost is settled first); a
  back-off pause before a re-send is cut short (nothing is in flight then). The apply then stops with
  ApplyInterrupted: "applied N of M; interrupted before <key> ...", exit code 128 + the signal.
* Every re-read above checks its rows as planning's reads do (`reconciler/live/rows.py`, `CheckedReader`):
  a row that does not fit (no integer id, a name that is not a string, ...) is a LiveDataError naming
  the request, the row and the field; inside a change it stops the apply as any failure does (a write
  whose probe answered such a row is journalled `unknown`); in the duplicate check after the last change
  it is raised as it is. Never a KeyError, never a create sent again because a misread row did not
  match it.
* The first failure stops the apply: ApplyError says what was applied, what failed, and what was not tried.
* `journal` (a text file) gets an `intent` line before every request and an `outcome` line after it
  (`reconciler/journal.py`), so no committed write is missing from it, whenever the run ends.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any, Protocol, TextIO

from reconciler.errors import ApiError, ApplyError, BulkPendingError, HarvestError, OutcomeUnknownError
from reconciler.harvest.bulk import BulkNotAcceptedError, BulkOutcome, Polling, size_rejected
from reconciler.harvest.results import WriteResult
from reconciler.journal import Journal
from reconciler.live.reads import MAX_IDS
from reconciler.live.rows import CheckedReader
from reconciler.plan import Change, Plan, Settle, Write

#: How many times a write with an unknown outcome is sent (each time settled by re-reading) before giving up.
MAX_SETTLE_ATTEMPTS = 5
#: Back-off before re-sending a write found not committed: 1 s, 2 s, 4 s, ... capped, so a struggling
#: server is not hammered.
RESEND_BACKOFF_CAP = 30.0
#: How many failed bulk rows are named in the error message.
SHOWN_FAILURES = 5
#: How many duplicated objects are named in the error message.
SHOWN_DUPLICATES = 10
#: The signals a StopSignal catches.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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
class Present:
    """A planned create that was not sent: live object `id` matching its probe appeared since planning."""

    type: str
    name: str
    key: str
    id: Any


@dataclass(frozen=True)
class ApplyReport:
    changes: int
    writes: int
    settled: int
    #: Creates found already made (by an overlapping apply, or by hand) and used instead, in plan order.
    present: tuple[Present, ...] = ()


Progress = Callable[[int, int, Change], None]


class ApplyInterrupted(ApplyError):
    """The apply stopped on SIGINT/SIGTERM between writes; nothing was left in flight unrecorded.

    `exit_code` is the shell's convention for death by that signal: 130 for SIGINT, 143 for SIGTERM.
    """

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + signum


class Signalled(BaseException):
    """Raised by a StopSignal's handler when a signal arrives before `defer()` (no write can be in
    flight then: planning, the lock wait, the prompt). A BaseException, like KeyboardInterrupt, so that
    no `except Exception` on the way swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class StopSignal:
    """SIGINT/SIGTERM turned into a request to stop, which the executor honours between writes.

    `installed()` sets the handlers (main thread only; restored on exit). Until `defer()` the handler
    raises Signalled at once (nothing can be in flight: planning, the lock wait, the prompt); after it,
    it only records the signal, and `wait` (the executor's sleep) returns early, so a back-off pause
    never delays the stop. The first signal's number is kept.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signum: int | None = None
        self._deferred = False

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self, signum: int) -> None:
        if self.signum is None:
            self.signum = signum
        self._event.set()

    def wait(self, seconds: float) -> None:
        """Sleep `seconds`, or less when a stop is requested meanwhile."""
        self._event.wait(max(0.0, seconds))

    def defer(self) -> None:
        """From now on (writes may be in flight), a signal is only recorded; the executor stops between writes."""
        self._deferred = True

    @contextmanager
    def installed(self) -> Iterator[StopSignal]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
        for s in STOP_SIGNALS:
            signal.signal(s, self._handle)
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler if handler is not None else signal.SIG_DFL)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.request(signum)
        if not self._deferred:
            raise Signalled(signum)


def signal_name(signum: int | None) -> str:
    try:
        return signal.Signals(signum).name if signum is not None else "a signal"
    except ValueError:
        return f"signal {signum}"


class _RowsFailed(ApplyError):
    """Some rows of a finished bulk request failed; `applied` rows of it succeeded."""

    def __init__(self, message: str, applied: int) -> None:
        super().__init__(message)
        self.applied = applied


class _Stopped(Exception):
    """A stop was requested during a back-off pause: the write was found not committed, nothing is in flight."""


class _Unknown(Exception):
    """A probe refers to an object whose id is not known (yet)."""


#: One re-read: list `path` with `params`; each (change, resolved match) of the creates it covers.
_ProbeGroup = tuple[str, dict[str, Any], list[tuple[Change, dict[str, Any]]]]


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
        stop: StopSignal | None = None,
    ) -> None:
        self.client = client
        #: Every re-read (settle probes, the re-read before the first create, the duplicate check) goes
        #: through the row check planning's reads have: a malformed row is a LiveDataError naming the
        #: request, the row and the field, never a KeyError or a row misread as "no match".
        self._rows = CheckedReader(client)
        self.sleep = sleep
        self.journal = Journal(journal, clock)
        self.progress = progress
        self.polling = polling
        self.clock = clock
        self.stop = stop
        self.ids: dict[str, Any] = {}
        #: Creates that succeeded without an id in their answer: found by their probe when needed.
        self.unresolved: dict[str, Write] = {}
        #: Creates found already made by the re-read before the first create of their type: key -> live id.
        self.present: dict[str, Any] = {}
        self.reported: list[Present] = []
        self._reread_types: set[str] = set()
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
            if self.stop is not None and self.stop.requested:
                raise self._interrupted(done, total, change, during=False)
            writes_before = self.writes
            try:
                self._reread_before_create(changes, done, group)
                if request is not None:
                    self._bulk(request.endpoint, group)
                else:
                    self._change(change)
            except _Stopped:
                raise self._interrupted(done, total, change, during=self.writes > writes_before) from None
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
        self._check_duplicates(changes, total)
        return ApplyReport(done, self.writes, self.settled, tuple(self.reported))

    def _tick(self, done: int, total: int, change: Change) -> None:
        if self.progress is not None:
            self.progress(done, total, change)

    def _interrupted(self, done: int, total: int, change: Change, *, during: bool) -> ApplyInterrupted:
        signum = self.stop.signum if self.stop is not None and self.stop.signum is not None else signal.SIGINT
        name = signal_name(signum)
        self.journal.interrupted(name, done, total, change.key)
        where = ("during" if during else "before")
        partly = "; some of its writes were sent (the journal lists each)" if during else ""
        return ApplyInterrupted(
            f"applied {done} of {total}; interrupted {where} {change.key} ({change.action} {change.type} "
            f"{change.name}) by {name}{partly}; no write was left in flight; run plan again to see the "
            "remaining work",
            int(signum),
        )

    # -- one change ------------------------------------------------------------------------------
    def _change(self, change: Change) -> None:
        writes = change.writes
        if change.key in self.present:
            first = writes[0]
            self._already_present(change, first.method, self._resolve_path(first.path))
            writes = writes[1:]  # the rest (e.g. a new user's PATCH) still makes the object as planned
        if change.fallback == "delete_first" and len(writes) == 2:
            create, delete = writes
            try:
                self._write(change, create)
            except ApiError as e:
                if e.status != 422 or "already" not in str(e).lower():
                    raise
                self._write(change, delete)
                self._write(change, create)
                return
            self._write(change, delete)
            return
        for write in writes:
            self._write(change, write)

    def _already_present(self, change: Change, method: str, path: str) -> None:
        live_id = self.present[change.key]
        self.journal.already_present(change, method, path, live_id)
        self.reported.append(Present(change.type, change.name, change.key, live_id))

    def _write(self, change: Change, write: Write) -> None:
        path = self._resolve_path(write.path)
        body = self._resolve(write.body)
        creates = write.method == "POST" and change.action in ("create", "replace")
        for attempt in range(1, MAX_SETTLE_ATTEMPTS + 1):
            number = self.journal.next_write()
            self.journal.intent(number, change, write.method, path)
            try:
                result = self._send(write.method, path, body)
            except OutcomeUnknownError as e:
                try:
                    committed, row = self._settle(write, e)
                except HarvestError as unsettled:  # no probe (`e` itself), or the re-read failed
                    self.journal.outcome(number, change, write.method, path, "unknown", change.id,
                                         error=str(unsettled))
                    raise
                if committed:
                    self.settled += 1
                    row_id = row.get("id") if row else change.id
                    if creates and row_id is not None:
                        self.ids.setdefault(change.key, row_id)
                    self.journal.outcome(number, change, write.method, path, "settled", row_id)
                    return
                self.journal.outcome(number, change, write.method, path, "not committed", None, error=str(e))
                if attempt == MAX_SETTLE_ATTEMPTS:
                    raise
                self._pause(min(RESEND_BACKOFF_CAP, 2.0 ** (attempt - 1)))
                continue
            except HarvestError as e:
                status = e.status if isinstance(e, ApiError) else "failed"
                self.journal.outcome(number, change, write.method, path, status, None, error=str(e))
                raise
            new_id = result.body_id()
            if creates:
                if _usable_id(new_id):
                    self.ids.setdefault(change.key, new_id)
                else:
                    new_id = None
                    self.unresolved.setdefault(change.key, write)
            self.journal.outcome(number, change, write.method, path, result.status,
                                 new_id if new_id is not None else change.id)
            return

    def _pause(self, seconds: float) -> None:
        """The back-off before a re-send; a stop requested meanwhile ends the change here (nothing in flight)."""
        self.sleep(seconds)
        if self.stop is not None and self.stop.requested:
            raise _Stopped()

    def _probe(self, probe: Settle) -> tuple[bool, dict[str, Any] | None]:
        """Re-read with `probe`: (committed, the matching row when one was found)."""
        rows = self._rows.list_all(probe.path, self._resolve(dict(probe.params)))
        match = self._resolve(dict(probe.match))
        found = next((r for r in rows if _matches(r, match, probe.casefold)), None)
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

    # -- overlapping applies: the re-read before the first create, the duplicate check after ----------
    def _reread_before_create(self, changes: Sequence[Change], start: int, group: Sequence[Change]) -> None:
        """Before the first create of a type, find which of that type's creates already exist (see the
        module docstring): one list per probe group, each row used by at most one create."""
        for change in group:
            if change.type in self._reread_types or _presence_probe(change) is None:
                continue
            self._reread_types.add(change.type)
            pending = [c for c in changes[start:] if c.type == change.type and _presence_probe(c) is not None]
            for path, params, items in self._probe_groups(pending):
                rows = self._rows.list_all(path, params)
                claimed: set[str] = set()
                for create, match in items:
                    found = sorted((r for r in rows if _usable_id(r.get("id")) and str(r["id"]) not in claimed
                                    and _matches(r, match, _casefold(create))), key=lambda r: int(r["id"]))
                    if found:
                        claimed.add(str(found[0]["id"]))
                        self.present[create.key] = found[0]["id"]
                        self.ids[create.key] = found[0]["id"]

    def _check_duplicates(self, changes: Sequence[Change], total: int) -> None:
        """After the apply: re-read what it created or found; ApplyError if any of it now exists twice."""
        made = [c for c in changes if _presence_probe(c) is not None and (c.key in self.ids or c.key in self.unresolved)]
        problems: list[str] = []
        for path, params, items in self._probe_groups(made):
            rows = self._rows.list_all(path, params)
            identities: dict[str, list[Change]] = {}
            matches: dict[str, dict[str, Any]] = {}
            for create, match in items:
                identity = json.dumps(match, sort_keys=True, default=str)
                identities.setdefault(identity, []).append(create)
                matches[identity] = match
            for identity, members in identities.items():
                found = sorted({int(r["id"]) for r in rows if _usable_id(r.get("id"))
                                and _matches(r, matches[identity], _casefold(members[0]))})
                if len(found) > len(members):
                    first = members[0]
                    problems.append(f"{first.type} {first.name!r} matches {len(found)} live objects "
                                    f"(ids {', '.join(map(str, found))})")
        if not problems:
            return
        shown = "; ".join(problems[:SHOWN_DUPLICATES])
        more = f"; and {len(problems) - SHOWN_DUPLICATES} more" if len(problems) > SHOWN_DUPLICATES else ""
        raise ApplyError(
            f"applied {total} of {total} changes, but {len(problems)} object(s) this apply created or found now "
            f"exist more than once (most likely another apply created them at the same time): {shown}{more}. "
            "Merge or rename the duplicates in Greenhouse (keep one of each), then run plan again"
        )

    def _probe_groups(self, creates: Sequence[Change]) -> list[_ProbeGroup]:
        """The creates' presence probes, resolved, grouped by list path with their parameters merged.

        Probe parameters are filters, so a merged read is a superset of each probe's: equal values are
        kept, differing id lists are joined (up to MAX_IDS ids), any other difference drops the filter
        (the whole collection is read). Creates whose probe names an object with no known id yet are left
        out (they are created as planned).
        """
        by_path: dict[str, list[tuple[Change, dict[str, Any], dict[str, Any]]]] = {}
        for change in creates:
            probe = _presence_probe(change)
            assert probe is not None
            try:
                params = self._known(dict(probe.params))
                match = self._known(dict(probe.match))
                path = self._known_path(probe.path)
            except _Unknown:
                continue
            by_path.setdefault(path, []).append((change, params, match))
        return [(path, _merge_params([p for _, p, _ in items]), [(c, m) for c, _, m in items])
                for path, items in by_path.items()]

    def _known(self, value: Any) -> Any:
        """`value` with its `$ref`s replaced by known ids; _Unknown when one is not known (never a probe)."""
        if isinstance(value, Mapping):
            if set(value) == {"$ref"}:
                key = str(value["$ref"])
                if key not in self.ids:
                    raise _Unknown(key)
                return self.ids[key]
            return {k: self._known(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._known(v) for v in value]
        return value

    def _known_path(self, path: str) -> str:
        while "{$ref:" in path:
            start = path.index("{$ref:")
            end = path.index("}", start)
            path = path[:start] + str(self._known({"$ref": path[start + 6 : end]})) + path[end + 1 :]
        return path

    # -- bulk ------------------------------------------------------------------------------------
    def _bulk(self, endpoint: str, group: Sequence[Change]) -> None:
        method, path = endpoint.split(" ", 1)
        sending: list[Change] = []
        for c in group:
            if c.key in self.present:
                self._already_present(c, f"{method} (bulk)", path)
            else:
                sending.append(c)
        if not sending:
            return
        rows = [self._resolve(c.writes[0].bulk_item if c.writes[0].bulk_item is not None else c.writes[0].body)
                for c in sending]
        self._send_bulk(method, path, sending, rows)

    def _send_bulk(self, method: str, path: str, group: list[Change], rows: list[Any]) -> None:
        label = f"{method} (bulk)"
        for attempt in range(1, MAX_SETTLE_ATTEMPTS + 1):
            number = self.journal.next_write()
            for c in group:
                self.journal.intent(number, c, label, path)
            self.writes += 1
            try:
                outcome = self.client.bulk(method, path, rows, polling=self.polling)
            except BulkNotAcceptedError as e:  # the reply was lost, and no recorded bulk request matches it
                for c in group:
                    self.journal.outcome(number, c, label, path, "not committed", None, error=str(e))
                if attempt == MAX_SETTLE_ATTEMPTS:
                    raise
                self._pause(min(RESEND_BACKOFF_CAP, 2.0 ** (attempt - 1)))
                continue
            except BulkPendingError as e:
                for c in group:
                    self.journal.outcome(number, c, label, path, "pending", c.id, bulk=e.uuid, error=str(e))
                raise
            except ApiError as e:
                for c in group:
                    self.journal.outcome(number, c, label, path, e.status, c.id, error=str(e))
                if len(rows) < 2 or not size_rejected(e.status, str(e)):
                    raise
                half = len(rows) // 2
                self._send_bulk(method, path, group[:half], rows[:half])
                self._send_bulk(method, path, group[half:], rows[half:])
                return
            except HarvestError as e:
                for c in group:
                    self.journal.outcome(number, c, label, path, "unknown", c.id, error=str(e))
                raise
            break
        for c in group:
            self.journal.outcome(number, c, label, path, outcome.status or "completed", c.id, bulk=outcome.uuid or None)
        if outcome.failure_count or outcome.failures:
            count = max(outcome.failure_count, len(outcome.failures))
            shown = "; ".join(_failure_text(f, group, rows) for f in outcome.failures[:SHOWN_FAILURES])
            more = f"; and {count - SHOWN_FAILURES} more" if count > SHOWN_FAILURES else ""
            raise _RowsFailed(
                f"{method} {path}: {count} of {len(group)} rows failed: {shown or 'no details returned'}{more}",
                applied=max(0, len(group) - count),
            )

    # -- references ------------------------------------------------------------------------------
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


def _presence_probe(change: Change) -> Settle | None:
    """The probe that tells whether a planned create already exists: its first write's settle probe, when
    that write is a POST committed by a row being present. None for every other change."""
    if change.action != "create" or not change.writes:
        return None
    first = change.writes[0]
    if first.method != "POST" or first.settle is None or first.settle.committed_if != "present":
        return None
    return first.settle


def _casefold(change: Change) -> tuple[str, ...]:
    probe = _presence_probe(change)
    return probe.casefold if probe is not None else ()


def _merge_params(params: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One list request's filters covering each of `params` (see Executor._probe_groups)."""
    if not params:
        return {}
    keys = set(params[0]).intersection(*params[1:])
    merged: dict[str, Any] = {}
    for key in sorted(keys):
        values = [p[key] for p in params]
        if all(v == values[0] for v in values):
            merged[key] = values[0]
        elif all(isinstance(v, list) for v in values):
            joined = list(dict.fromkeys(x for v in values for x in v))
            if len(joined) <= MAX_IDS:
                merged[key] = joined
    return merged


def _usable_id(value: Any) -> bool:
    """An id later writes can use: a positive integer (or its digits), never a bool, empty or nested value."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value > 0
    return isinstance(value, str) and value.isascii() and value.isdigit()


def _matches(row: Mapping[str, Any], match: Mapping[str, Any], casefold: Collection[str] = ()) -> bool:
    """Whether `row` has every value of `match` (lists as sets; `casefold` keys case-insensitively)."""
    for key, want in match.items():
        have = row.get(key)
        if isinstance(want, list) and isinstance(have, list):
            if sorted(map(str, want)) != sorted(map(str, have)):
                return False
        elif isinstance(want, str) and isinstance(have, str) and key in casefold:
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


__all__ = ["ApiError", "ApplyInterrupted", "ApplyReport", "Executor", "Present", "Signalled", "StopSignal"]
