"""What every write handler receives and returns.

Handlers are plain functions `(ctx, row_id_or_None, body) -> Result` that either succeed or raise
`ApiError`; the single endpoints and every bulk row call the very same function, so per-row
validation in bulk is identical to the single endpoint (reference 1.10).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.errors import not_found
from reconciler.sandbox.options import SandboxOptions
from reconciler.sandbox.store import Store


@dataclass(frozen=True)
class Ctx:
    """The state to act on, the defaults in force, the request time and the acting user."""

    store: Store
    options: SandboxOptions
    now: float
    user_id: int | None

    @property
    def strict(self) -> bool:
        return self.options.reject_unknown_body_keys


@dataclass(frozen=True)
class Result:
    """A successful answer: status and JSON body (None = empty body, e.g. 204)."""

    status: int
    body: Any = None
    row_id: int | None = None


Handler = Callable[[Ctx, "int | None", Any], Result]


def existing(ctx: Ctx, collection: str, row_id: int | None, label: str) -> dict[str, Any]:
    """The row addressed by the path, or a 404."""
    row = ctx.store.get(collection, row_id)
    if row is None:
        raise not_found(f"{label} {row_id}")
    return row


def created(row: dict[str, Any]) -> Result:
    return Result(201, row, row["id"])


def updated(row: dict[str, Any]) -> Result:
    return Result(200, row, row["id"])


def delete_row(collection: str, label: str) -> Handler:
    """A DELETE handler that removes a join row permanently (204)."""

    def handler(ctx: Ctx, row_id: int | None, _body: Any) -> Result:
        existing(ctx, collection, row_id, label)
        assert row_id is not None
        ctx.store.delete(collection, row_id)
        return Result(204, None, row_id)

    return handler
