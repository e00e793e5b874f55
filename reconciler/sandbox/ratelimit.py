"""Fixed-window rate limiting per API client (reference 1.8: a fixed 30-second window; the limit
is read from `X-RateLimit-Limit`, 75 being only the documentation's example).

Windows are aligned to the clock (`floor(now / seconds) * seconds`), so tests driving a fake
clock know exactly where a window ends.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable


def parse_rate_limit(spec: str | tuple[int, float] | None) -> tuple[int, float] | None:
    """`"75/30"` or `(75, 30.0)` -> `(75, 30.0)`; None -> None. Raises ValueError when malformed."""
    if spec is None:
        return None
    if isinstance(spec, tuple):
        if len(spec) != 2:
            raise ValueError("rate limit must be (requests, seconds)")
        limit, seconds = spec
    else:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*", spec)
        if not match:
            raise ValueError(f"bad rate limit {spec!r}: expected N/SECONDS, e.g. 75/30")
        limit, seconds = int(match.group(1)), float(match.group(2))
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError("rate limit: the number of requests must be a positive integer")
    if not isinstance(seconds, (int, float)) or seconds <= 0:
        raise ValueError("rate limit: the window must be a positive number of seconds")
    return limit, float(seconds)


class RateLimiter:
    """Counts requests per key in clock-aligned windows."""

    def __init__(self, limit: int, seconds: float, clock: Callable[[], float], retry_after_min: int = 1) -> None:
        self.limit = limit
        self.seconds = seconds
        self._clock = clock
        self._retry_after_min = retry_after_min
        self._windows: dict[str, tuple[float, int]] = {}

    def take(self, key: str) -> tuple[bool, dict[str, str]]:
        """Count one request; returns (allowed, headers). A refused request is not counted."""
        now = self._clock()
        start = math.floor(now / self.seconds) * self.seconds
        reset = start + self.seconds
        window, used = self._windows.get(key, (start, 0))
        if window != start:
            used = 0
        allowed = used < self.limit
        if allowed:
            used += 1
        self._windows[key] = (start, used)
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.limit - used),
            "X-RateLimit-Reset": str(math.ceil(reset)),
        }
        if not allowed:
            headers["Retry-After"] = str(max(self._retry_after_min, math.ceil(reset - now)))
        return allowed, headers
