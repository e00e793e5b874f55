"""The request log: one entry per request the sandbox answered (or dropped), in order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the sandbox saw it.

    `path` has no query string; `query` maps each parameter to its value (repeated parameters are
    joined with commas); `status` is the answer's status, 0 when a fault dropped the connection;
    `body` is the parsed JSON body, the form fields of `/token` (secrets removed), or None;
    `fault` names the injected fault that hit the request, if any; `lost_status` is, for a request
    dropped after processing (`drop_after`), the status of the answer that was produced and never sent
    (2xx: the write was committed although the client got no reply), None for every other request;
    `latency` is the delay a latency fault added before the request was handled, in seconds (0.0: none).
    """

    method: str
    path: str
    query: dict[str, str]
    status: int
    body: Any
    fault: str | None = None
    lost_status: int | None = None
    latency: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "status": self.status,
            "body": self.body,
            "fault": self.fault,
            "lost_status": self.lost_status,
            "latency": self.latency,
        }
