"""The documented [inferred] tolerances of the retry policy, one by one."""

from __future__ import annotations

import random

import httpx

from reconciler.harvest.policy import Backoff, RateLimitGate, reset_wait, retry_after

NOW = 1_800_000_000.0


def response(**headers: str) -> httpx.Response:
    return httpx.Response(429, headers={k.replace("_", "-"): v for k, v in headers.items()})


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after(response(Retry_After="12"), NOW) == 12.0
    assert retry_after(response(Retry_After="Fri, 15 Jan 2027 08:00:30 GMT"), NOW) == 30.0
    assert retry_after(response(Retry_After="soon"), NOW) is None
    assert retry_after(response(), NOW) is None


def test_reset_is_epoch_seconds_capped_at_sixty() -> None:
    assert reset_wait(response(X_RateLimit_Reset=str(int(NOW + 25))), NOW) == 25.0
    assert reset_wait(response(X_RateLimit_Reset=str(int(NOW + 3600))), NOW) == 60.0
    assert reset_wait(response(X_RateLimit_Reset=str(int(NOW - 5))), NOW) is None


def test_a_small_reset_value_is_read_as_seconds_from_now() -> None:
    assert reset_wait(response(X_RateLimit_Reset="7"), NOW) == 7.0


def test_gate_waits_only_after_a_spent_window() -> None:
    now = [NOW]
    gate = RateLimitGate(lambda: now[0])
    gate.observe(httpx.Response(200, headers={"X-RateLimit-Remaining": "2", "X-RateLimit-Reset": str(int(NOW + 9))}))
    assert gate.wait_needed() == 0.0
    gate.observe(httpx.Response(200, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW + 9))}))
    assert gate.wait_needed() == 9.0
    now[0] += 9
    assert gate.wait_needed() == 0.0


def test_backoff_doubles_within_jitter_bounds_up_to_the_cap() -> None:
    backoff = Backoff(random.Random(42))
    for attempt in range(12):
        ceiling = min(30.0, 0.5 * 2**attempt)
        assert ceiling / 2 <= backoff.delay(attempt) <= ceiling
