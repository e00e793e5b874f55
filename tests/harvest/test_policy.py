"""The documented [inferred] tolerances of the retry policy, one by one."""

from __future__ import annotations

import random
import threading

import httpx

from reconciler.harvest.policy import Backoff, RateLimitGate, reset_wait, retry_after
from tests.support import FakeClock

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


def limits(remaining: int, reset: float, limit: int = 75) -> httpx.Response:
    return httpx.Response(200, headers={"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining),
                                        "X-RateLimit-Reset": str(int(reset))})


def test_gate_waits_only_after_a_spent_window() -> None:
    clock = FakeClock(NOW)
    gate = RateLimitGate(clock.time)
    assert gate.acquire(clock.sleep) == 0.0
    gate.release(limits(2, NOW + 9))
    assert gate.acquire(clock.sleep) == 0.0
    gate.release(limits(0, NOW + 9))
    assert gate.acquire(clock.sleep) == 9.0  # spent, nothing in flight: sleep until the reset
    assert clock.sleeps == [9.0]
    gate.release(limits(74, NOW + 39))
    assert gate.in_flight == 0


def test_gate_counts_requests_in_flight_against_the_remaining_budget() -> None:
    clock = FakeClock(NOW)
    gate = RateLimitGate(clock.time)
    gate.acquire(clock.sleep)
    gate.release(limits(3, NOW + 30))
    for _ in range(3):  # three may go out at once ...
        assert gate.acquire(clock.sleep) == 0.0
    assert gate.in_flight == 3
    blocked = threading.Event()
    passed = threading.Event()

    def fourth() -> None:
        blocked.set()
        gate.acquire(clock.sleep)
        passed.set()
        gate.release(limits(74, NOW + 60))

    thread = threading.Thread(target=fourth)
    thread.start()
    blocked.wait(5)
    # ... a fourth waits: the answers of the three may not have counted them yet. It is released only when
    # the window's reset comes (the last answer says nothing is left, and nothing is in flight any more).
    for left in (2, 1):
        gate.release(limits(left, NOW + 30))
        assert not passed.wait(0.05)
    gate.release(limits(0, NOW + 30))
    thread.join(5)
    assert passed.is_set()
    assert clock.sleeps == [30.0]
    assert gate.sent == 5 and gate.peak_in_flight == 3


def test_gate_keeps_the_smallest_remaining_of_a_window_and_ignores_answers_from_a_window_that_is_over() -> None:
    clock = FakeClock(NOW)
    gate = RateLimitGate(clock.time)
    gate.acquire(clock.sleep)
    gate.release(limits(5, NOW + 30))
    for _ in range(3):
        gate.acquire(clock.sleep)
    gate.release(limits(2, NOW + 30))
    gate.release(limits(4, NOW + 30))  # arrived late: an older count of the same window
    gate.release(limits(1, NOW + 30))
    assert gate.in_flight == 0
    gate.acquire(clock.sleep)
    gate.release(limits(0, NOW + 30))
    gate.acquire(clock.sleep)  # sleeps to the reset; the new window's budget is the stated limit
    assert clock.sleeps == [30.0]
    gate.release(limits(70, NOW + 60))
    gate.acquire(clock.sleep)
    gate.release(limits(0, NOW + 30))  # from the window that is over: ignored
    assert gate.acquire(clock.sleep) == 0.0


def test_gate_probes_one_request_at_a_time_until_the_budget_is_known() -> None:
    clock = FakeClock(NOW)
    gate = RateLimitGate(clock.time)
    gate.acquire(clock.sleep)
    second = threading.Thread(target=gate.acquire, args=(clock.sleep,))
    second.start()
    second.join(0.05)
    assert second.is_alive()  # unknown budget: one request in flight at a time
    gate.release(limits(10, NOW + 30))
    second.join(5)
    assert not second.is_alive() and gate.in_flight == 1


def test_gate_does_not_throttle_a_server_that_sends_no_rate_limit_headers() -> None:
    clock = FakeClock(NOW)
    gate = RateLimitGate(clock.time)
    gate.acquire(clock.sleep)
    gate.release(httpx.Response(200))
    for _ in range(20):
        gate.acquire(clock.sleep)
    assert gate.in_flight == 20 and clock.sleeps == []


def test_a_failed_request_leaves_the_flight_and_a_429_makes_the_budget_unknown_again() -> None:
    clock = FakeClock(NOW)
    gate = RateLimitGate(clock.time)
    gate.acquire(clock.sleep)
    gate.release(limits(10, NOW + 30))
    gate.acquire(clock.sleep)
    gate.acquire(clock.sleep)
    gate.release_unanswered()  # this thread's two requests failed without an answer
    assert gate.in_flight == 0
    gate.clear()
    gate.acquire(clock.sleep)
    probe = threading.Thread(target=gate.acquire, args=(clock.sleep,))
    probe.start()
    probe.join(0.05)
    assert probe.is_alive()
    gate.release(limits(9, NOW + 30))
    probe.join(5)
    assert not probe.is_alive()


def test_backoff_doubles_within_jitter_bounds_up_to_the_cap() -> None:
    backoff = Backoff(random.Random(42))
    for attempt in range(12):
        ceiling = min(30.0, 0.5 * 2**attempt)
        assert ceiling / 2 <= backoff.delay(attempt) <= ceiling


def test_full_jitter_spreads_over_the_whole_interval() -> None:
    backoff = Backoff(random.Random(42), base=0.25, cap=4.0)
    pauses = [backoff.spread(2) for _ in range(200)]
    assert all(0.0 <= p <= 1.0 for p in pauses)
    assert min(pauses) < 0.25 and max(pauses) > 0.75  # not the [d/2, d] of `delay`
