"""Shared test helpers: a fake clock that the sandbox and the client can both be driven by."""

from __future__ import annotations

import threading


class FakeClock:
    """A manual clock: `time()` returns the fake now; `sleep(s)` advances it instantly and records s.

    Pass `clock.time` to the sandbox and `clock.time` / `clock.sleep` to the client, so rate-limit
    windows, token expiry and back-off run without real waiting, deterministically.
    """

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def time(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds
