"""Timestamps in the Harvest format (ISO 8601, UTC, milliseconds, `Z`) and their parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


def iso(epoch: float) -> str:
    """`2026-01-15T10:00:00.000Z` for an epoch time."""
    dt = datetime.fromtimestamp(epoch, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


@lru_cache(maxsize=65536)
def parse(text: str) -> datetime:
    """Parse an ISO 8601 date-time (or date); naive values are taken as UTC. Raises ValueError."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt
