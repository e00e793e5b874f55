"""Retry and throttle policy: which failures may be repeated, and how long to wait first.

The one rule that matters most: a write is repeated only when it certainly never reached the
server. A connection that could not be opened (`ConnectError`, `ConnectTimeout`, `PoolTimeout`) sent
nothing; a timeout or dropped connection after the request left (`ReadTimeout`, `WriteError`,
`RemoteProtocolError`, ...) or a 5xx answer may hide a committed write, so it is reported as an
unknown outcome and the caller re-reads. A 429 and a 401 are safe for writes too: the server
refused before processing.
"""

from __future__ import annotations

import email.utils
import random
import threading
from collections.abc import Callable

import httpx

from .responses import header_float

BACKOFF_BASE = 0.5
"""First back-off step in seconds; doubled per attempt."""
BACKOFF_CAP = 30.0
"""Longest single back-off sleep in seconds."""
RESET_WAIT_CAP = 60.0
"""Longest wait derived from X-RateLimit-Reset ([inferred: reset-wait-cap]: the window is 30 s, so a reset further away
than this means the clocks disagree; waiting longer would only stall)."""
EPOCH_THRESHOLD = 1_000_000_000.0
"""X-RateLimit-Reset values below this are read as seconds-from-now rather than epoch seconds ([inferred: reset-delta]
tolerance; the documented form is epoch seconds)."""

RETRYABLE_GET_STATUSES = frozenset({500, 502, 503, 504})

NOTHING_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)


def nothing_was_sent(exc: Exception) -> bool:
    """True when the exception proves the request never reached the server (safe to repeat a write)."""
    return isinstance(exc, NOTHING_SENT)


def describe(exc: Exception) -> str:
    """A short, secret-free cause for an httpx exception: its class and message."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Backoff:
    """Capped exponential back-off with equal jitter: attempt n sleeps in [d/2, d], d = min(cap, base*2^n)."""

    def __init__(self, rng: random.Random | None = None, base: float = BACKOFF_BASE,
                 cap: float = BACKOFF_CAP) -> None:
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self.base = base
        self.cap = cap

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap, self.base * 2.0 ** min(attempt, 32))
        with self._lock:
            return ceiling / 2 + self._rng.uniform(0.0, ceiling / 2)


def retry_after(response: httpx.Response, now: float) -> float | None:
    """Seconds to wait from `Retry-After` (delta-seconds or an HTTP date), or None when absent/unreadable."""
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now)


def reset_wait(response: httpx.Response, now: float) -> float | None:
    """Seconds until `X-RateLimit-Reset` (epoch seconds, compared with `now`), capped; None if absent or past."""
    reset = header_float(response, "x-ratelimit-reset")
    if reset is None:
        return None
    wait = reset if reset < EPOCH_THRESHOLD else reset - now
    if wait <= 0:
        return None
    return min(wait, RESET_WAIT_CAP)


class RateLimitGate:
    """Remembers the last rate-limit headers and says how long the next request must wait.

    When a response said `X-RateLimit-Remaining: 0`, the window is spent: the next request first
    sleeps until `X-RateLimit-Reset` instead of provoking a 429. Shared by all threads of a client.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._resume_at: float | None = None

    def observe(self, response: httpx.Response) -> None:
        remaining = header_float(response, "x-ratelimit-remaining")
        if remaining is None:
            return
        now = self._clock()
        with self._lock:
            if remaining > 0:
                self._resume_at = None
                return
            wait = reset_wait(response, now)
            self._resume_at = now + wait if wait is not None else None

    def clear(self) -> None:
        """Forget the spent window (after a 429 was waited out: its Retry-After is the newer word)."""
        with self._lock:
            self._resume_at = None

    def wait_needed(self) -> float:
        """Seconds to sleep before the next request (0 when the window is not known to be spent)."""
        now = self._clock()
        with self._lock:
            if self._resume_at is None:
                return 0.0
            wait = self._resume_at - now
            if wait <= 0:
                self._resume_at = None
                return 0.0
            return wait
