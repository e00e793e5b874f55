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
import logging
import random
import socket
import ssl
import threading
from collections.abc import Callable

import httpx

from reconciler.console import LONG_WAIT, NOTICE
from reconciler.console import seconds as console_seconds

from .responses import header_float

log = logging.getLogger(__name__)

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


def log_wait(seconds: float, reason: str, what: str) -> None:
    """Say a wait: "Waiting 15 s: rate limit (429 with Retry-After) on GET /v3/users". At NOTICE (shown
    unless -q) when it lasts `console.LONG_WAIT` seconds or more, else at INFO (-v)."""
    level = NOTICE if seconds >= LONG_WAIT else logging.INFO
    if log.isEnabledFor(level):
        log.log(level, "Waiting %s: %s%s", console_seconds(seconds), reason, f" on {what}" if what else "")


def nothing_was_sent(exc: Exception) -> bool:
    """True when the exception proves the request never reached the server (safe to repeat a write)."""
    return isinstance(exc, NOTHING_SENT)


def unfixable(exc: BaseException) -> str | None:
    """Why retrying `exc` cannot help, or None when it may: a refused connection, a host name that does
    not resolve (DNS), a TLS handshake or certificate failure. Read from the OSError httpx chains under
    its `ConnectError` (`raise ... from`). A TLS connection closed mid-handshake (EOF) is not in the list:
    a dropped connection may be transient. Timeouts, resets and dropped connections are retried."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            parts = (getattr(current, "reason", None), getattr(current, "verify_message", None))
            detail = ": ".join(str(x) for x in parts if x) or str(current)
            return f"TLS certificate not accepted ({detail}; a CA bundle can be named by SSL_CERT_FILE)"
        if isinstance(current, ssl.SSLError) and not isinstance(current, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
            return f"TLS handshake failed: {getattr(current, 'reason', None) or current}"
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, socket.gaierror):
            return f"DNS: the host name does not resolve: {current.strerror or current}"
        current = current.__cause__ or current.__context__
    return None


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

    def spread(self, attempt: int) -> float:
        """Full jitter: a random time in [0, d], d = min(cap, base*2^attempt).

        For contention between processes (re-minting a revoked token): the waits of the contenders
        spread over the whole interval, so one of them usually gets a stretch of time to itself.
        """
        ceiling = min(self.cap, self.base * 2.0 ** min(attempt, 32))
        with self._lock:
            return self._rng.uniform(0.0, ceiling)


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


PROBE_IN_FLIGHT = 1
"""Requests let out at once while the window's budget is unknown (before the first answer with rate-limit
headers, after a 429 was waited out, after a window ended when its limit was never stated): the first
answer tells the rest how much is left."""
GATE_POLL = 1.0
"""A thread waiting for an in-flight request's answer re-checks the gate at least this often (seconds).
A safety net only: every answer and every failed request wakes the waiting threads at once."""


class RateLimitGate:
    """The client's one throttle: it decides when the next API request may go out, from the rate-limit headers.

    Harvest limits requests per credential in a fixed window and states the budget on every answer
    (`X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` [2nd]). Several threads share one
    gate (the concurrent reads of a plan; the reader and the writing client of one `apply`), so:

    - a request is let out only while fewer requests are in flight than the window has left
      (`acquire` counts it in flight; its answer, or its failure, takes it out again: `release`,
      `release_unanswered`). The server counts a request when it arrives, so an answer's
      `X-RateLimit-Remaining` may or may not include the requests still in flight: counting them
      against it again is the conservative reading, and the gate never lets out more than is left;
    - answers arrive in any order, so within one window (the same `X-RateLimit-Reset`) the smallest
      `Remaining` wins, and an answer from a window that is already over is ignored;
    - when the window is spent and nothing is in flight, the next request sleeps until the reset
      (capped, see `RESET_WAIT_CAP`); then the new window's budget is the stated limit;
    - while the budget is unknown, `PROBE_IN_FLIGHT` request goes out at a time; a server that sends no
      rate-limit headers at all is not throttled.

    Thread-safe. `sent` and `peak_in_flight` are counts for tests and diagnostics.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._held = threading.local()
        self._in_flight = 0
        self._limit: int | None = None
        self._remaining: int | None = None
        self._reset_at: float | None = None
        #: The `X-RateLimit-Reset` value (epoch seconds) of the window `_remaining` describes.
        self._mark: float | None = None
        #: The newest window known to be over: answers stamped with it or an older one are stale.
        self._past_mark: float | None = None
        self._seen_headers = False
        self._headerless = False
        self.sent = 0
        self.peak_in_flight = 0

    @property
    def in_flight(self) -> int:
        with self._cond:
            return self._in_flight

    def acquire(self, sleep: Callable[[float], None], what: str = "") -> float:
        """Wait until one more API request may go out, then count it in flight; returns the seconds slept.

        Waiting for an in-flight request's answer blocks on the gate itself; waiting for a window's reset
        uses `sleep` (the client's injected sleep), outside the lock, and is logged (`what` names the
        request, "GET /v3/users"): at INFO, and at NOTICE (shown without -v) from `console.LONG_WAIT` s.
        """
        slept = 0.0
        while True:
            with self._cond:
                now = self._clock()
                self._roll(now)
                budget = self._budget()
                if budget is None or self._in_flight < budget:
                    self._in_flight += 1
                    self._held.count = self._holding() + 1
                    self.sent += 1
                    self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
                    return slept
                if self._in_flight > 0:
                    self._cond.wait(GATE_POLL)
                    continue
                wait = self._reset_at - now if self._reset_at is not None else 0.0
            if wait > 0:
                log_wait(wait, "rate limit (the window is spent; until X-RateLimit-Reset)", what)
                sleep(wait)
                slept += wait

    def release(self, response: httpx.Response | None) -> None:
        """One request of this thread was answered (`response`, whose headers are read) or failed (None)."""
        with self._cond:
            held = self._holding()
            if held > 0:
                self._held.count = held - 1
                self._in_flight -= 1
            if response is not None:
                self._observe(response)
            self._cond.notify_all()

    def release_unanswered(self) -> None:
        """Take every request this thread still holds out of flight (it failed before any answer)."""
        with self._cond:
            held = self._holding()
            if held:
                self._held.count = 0
                self._in_flight -= held
                self._cond.notify_all()

    def clear(self) -> None:
        """Forget the window (after a 429 was waited out: its Retry-After is the newer word).

        The budget is unknown again until the next answer, so one request probes it.
        """
        with self._cond:
            self._forget_window()
            self._remaining = None
            self._cond.notify_all()

    # -- internals (called with the lock held) -----------------------------------------------------

    def _holding(self) -> int:
        count: int = getattr(self._held, "count", 0)
        return count

    def _budget(self) -> int | None:
        if self._headerless and not self._seen_headers:
            return None
        if self._remaining is None or (self._remaining <= 0 and self._reset_at is None):
            return PROBE_IN_FLIGHT
        return self._remaining

    def _roll(self, now: float) -> None:
        if self._reset_at is not None and now >= self._reset_at:
            self._forget_window()
            self._remaining = self._limit

    def _forget_window(self) -> None:
        if self._mark is not None and (self._past_mark is None or self._mark > self._past_mark):
            self._past_mark = self._mark
        self._mark = None
        self._reset_at = None

    def _observe(self, response: httpx.Response) -> None:
        remaining = header_float(response, "x-ratelimit-remaining")
        if remaining is None:
            if not self._seen_headers:
                self._headerless = True
            return
        self._seen_headers = True
        limit = header_float(response, "x-ratelimit-limit")
        if limit is not None and limit >= 1:
            self._limit = int(limit)
        left = max(0, int(remaining))
        now = self._clock()
        raw = header_float(response, "x-ratelimit-reset")
        if raw is None or raw < EPOCH_THRESHOLD:
            # No window stamp to order answers by (absent, or the seconds-from-now tolerance): newest wins.
            self._remaining = left
            self._mark = None
            self._reset_at = None if raw is None else now + min(max(raw, 0.0), RESET_WAIT_CAP)
            return
        if self._past_mark is not None and raw <= self._past_mark:
            return
        if self._mark is None or raw > self._mark:
            self._mark = raw
            self._remaining = left
            self._reset_at = now + min(max(raw - now, 0.0), RESET_WAIT_CAP)
        elif raw == self._mark:
            self._remaining = left if self._remaining is None else min(self._remaining, left)
