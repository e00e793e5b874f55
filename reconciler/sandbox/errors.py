"""The sandbox's internal failure values: an API error answer and a dropped connection.

`ApiError` is how every handler refuses a request; `Sandbox.handle` turns it into the Harvest error
body `{"message": ..., "errors": [{"field": ..., "message": ...}]}` (v1 shape, assumed for v3
`[inferred]`). `DroppedConnection` escapes `handle` on purpose: the transport turns it into
`httpx.RemoteProtocolError` and the server closes the socket without an answer.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A refused request: HTTP status, a message and per-field errors."""

    def __init__(self, status: int, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "errors": self.errors}


def invalid(field: str, message: str) -> ApiError:
    """A 422 validation error about one field."""
    return ApiError(422, f"Validation failed: {field} {message}", [{"field": field, "message": message}])


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found", [])


class DroppedConnection(Exception):
    """The connection is dropped without an answer (a fault). `committed` tells whether the write
    was applied before the drop (drop_after) or not (drop_before)."""

    def __init__(self, committed: bool) -> None:
        super().__init__("connection dropped by sandbox fault injection")
        self.committed = committed
