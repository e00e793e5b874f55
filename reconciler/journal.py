"""The apply journal: one JSON object per line, appended and flushed as each event happens.

Every write request is recorded twice, so that a run killed at any moment leaves no committed write
unrecorded:

* `{"event": "intent", ...}` is written and flushed *before* the request is sent;
* `{"event": "outcome", ...}` after its answer (or its settlement by re-reading) is known.

An intent without an outcome is a write whose fate this run never learnt (the process was killed while
it was in flight): the next `plan` shows whether it was committed. Outcome lines keep the fields the
journal always had (`time`, `type`, `name`, `action`, `method`, `path`, `status`, `id`, and
`bulk_action_uuid` for bulk rows), so a reader that only looks at those keeps working once it skips the
other events. Besides writes, the journal records `already_present` (a planned create found already
made, typically by an overlapping apply: nothing was sent) and `interrupted` (the run stopped on
SIGINT/SIGTERM). docs/reliability.md describes every field.

Lines are flushed to the operating system one by one (a killed process loses nothing it wrote); they
are not fsync'ed, so a machine crash may lose the last lines. Nothing secret is ever written: no
request bodies, no headers, no tokens.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TextIO

from reconciler.plan import Change

#: Values of the `event` field.
EVENTS = ("intent", "outcome", "already_present", "interrupted")


class Journal:
    """Appends journal events to `stream` (any text file object; None: a journal that records nothing)."""

    def __init__(self, stream: TextIO | None, clock: Callable[[], float] = time.time) -> None:
        self.stream = stream
        self.clock = clock
        self.writes = 0

    def next_write(self) -> int:
        """A new write number: the `write` field that pairs an intent with its outcome (bulk rows share one)."""
        self.writes += 1
        return self.writes

    def intent(self, write: int, change: Change, method: str, path: str) -> None:
        """Record that request `write` for `change` is about to be sent."""
        self._emit({"event": "intent", "write": write, **_about(change), "method": method, "path": path})

    def outcome(self, write: int, change: Change, method: str, path: str, status: Any, obj_id: Any, *,
                bulk: str | None = None, error: str | None = None) -> None:
        """Record how request `write` ended: an HTTP status, "settled", "not committed", "unknown", "pending"."""
        line: dict[str, Any] = {"event": "outcome", "write": write, **_about(change), "method": method,
                                "path": path, "status": status, "id": obj_id}
        if bulk:
            line["bulk_action_uuid"] = bulk
        if error:
            line["error"] = error
        self._emit(line)

    def already_present(self, change: Change, method: str, path: str, obj_id: Any) -> None:
        """Record that `change`'s create was not sent: a matching object (id `obj_id`) appeared since planning."""
        self._emit({"event": "already_present", **_about(change), "method": method, "path": path,
                    "status": "already present", "id": obj_id})

    def interrupted(self, signal_name: str, applied: int, total: int, next_key: str) -> None:
        """Record that the apply stopped on a signal after `applied` of `total` changes, before `next_key`."""
        self._emit({"event": "interrupted", "signal": signal_name, "applied": applied, "total": total,
                    "next": next_key})

    def _emit(self, line: dict[str, Any]) -> None:
        if self.stream is None:
            return
        line["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock()))
        self.stream.write(json.dumps(line, sort_keys=True, default=str) + "\n")
        self.stream.flush()


def _about(change: Change) -> dict[str, Any]:
    return {"type": change.type, "name": change.name, "action": change.action, "key": change.key}


__all__ = ["EVENTS", "Journal"]
