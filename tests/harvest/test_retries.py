"""Throttling, GET retries, and the rule that a write with an unknown outcome is never repeated."""

from __future__ import annotations

import random

import httpx
import pytest

from reconciler.errors import ApiError, OutcomeUnknownError, TransportError, UsageError
from reconciler.harvest import HarvestClient, HarvestReader
from tests.harvest.fake_api import FakeApi, json_response, settings
from tests.support import FakeClock

NOW = 1_800_000_000.0


def client(api: FakeApi, clock: FakeClock, **kw: object) -> HarvestClient:
    return HarvestClient(settings(), transport=api.transport(), clock=clock.time, sleep=clock.sleep,
                         rng=random.Random(7), **kw)  # type: ignore[arg-type]


def limited(remaining: int, reset: float, status: int = 200, body: object = (), **extra: str) -> httpx.Response:
    headers = {"X-RateLimit-Limit": "75", "X-RateLimit-Remaining": str(remaining),
               "X-RateLimit-Reset": str(int(reset)), **extra}
    return json_response(status, list(body) if isinstance(body, tuple) else body, headers)


# -- throttling ----------------------------------------------------------------------------------


def test_a_spent_window_is_waited_out_before_the_next_request() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/departments", limited(0, NOW + 12))
    c = client(api, clock)
    c.get("/v3/departments")
    assert clock.sleeps == []
    c.get("/v3/departments")
    assert clock.sleeps == [12.0]
    assert [r.url.path for r in api.api_requests()] == ["/v3/departments"] * 2


def test_remaining_requests_mean_no_wait() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/departments", limited(1, NOW + 12))
    c = client(api, clock)
    c.get("/v3/departments")
    c.get("/v3/departments")
    assert clock.sleeps == []


def test_a_reset_already_past_means_no_wait() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/departments", limited(0, NOW + 5))
    c = client(api, clock)
    c.get("/v3/departments")
    clock.advance(6)
    c.get("/v3/departments")
    assert clock.sleeps == []


def test_429_honours_retry_after() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/offices", limited(0, NOW + 20, 429, {"message": "Too Many Requests"}, **{"Retry-After": "4"}))
    assert client(api, clock).get("/v3/offices") == []
    assert clock.sleeps == [4.0]
    assert len(api.api_requests("GET", "/v3/offices")) == 2


def test_429_without_retry_after_waits_until_the_reset() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/offices", limited(0, NOW + 9, 429, {"message": "slow"}))
    assert client(api, clock).get("/v3/offices") == []
    assert clock.sleeps == [9.0]


def test_429_without_any_hint_backs_off_exponentially() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/offices", *[json_response(429) for _ in range(4)])
    assert client(api, clock).get("/v3/offices") == []
    assert len(clock.sleeps) == 4
    for attempt, slept in enumerate(clock.sleeps):
        ceiling = 0.5 * 2**attempt
        assert ceiling / 2 <= slept <= ceiling


def test_429_is_retried_for_writes_too() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("POST", "/v3/candidate_tags", json_response(429, None, {"Retry-After": "2"}),
               json_response(201, {"id": 5, "name": "Referral"}))
    result = client(api, clock).post("/v3/candidate_tags", {"name": "Referral"})
    assert result.status == 201
    assert len(api.api_requests("POST")) == 2 and clock.sleeps == [2.0]


def test_429_beyond_max_retries_is_an_api_error() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/offices", *[json_response(429, {"message": "rate limit exceeded"},
                                                     {"Retry-After": "1"}) for _ in range(4)])
    with pytest.raises(ApiError) as info:
        client(api, clock, max_retries=2).get("/v3/offices")
    assert str(info.value) == "GET /v3/offices -> 429: rate limit exceeded"
    assert len(api.api_requests()) == 3


# -- GET retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_gets_are_retried_on_server_errors(status: int) -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/departments", json_response(status), json_response(status),
               json_response(200, [{"id": 1}]))
    assert client(api, clock).list_all("/v3/departments") == [{"id": 1}]
    assert len(api.api_requests()) == 3 and len(clock.sleeps) == 2


def test_backoff_is_capped() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/departments", *[json_response(503) for _ in range(9)])
    c = client(api, clock, max_retries=9)
    assert c.get("/v3/departments") == []
    assert len(clock.sleeps) == 9 and max(clock.sleeps) <= 30.0 and clock.sleeps[-1] >= 15.0


def test_server_errors_beyond_max_retries_are_an_api_error() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/departments", *[json_response(503, {"message": "maintenance"}) for _ in range(7)])
    with pytest.raises(ApiError) as info:
        client(api, clock).get("/v3/departments")
    assert str(info.value) == "GET /v3/departments -> 503: maintenance"
    assert len(api.api_requests()) == 7  # 1 + max_retries (6)


def test_a_501_is_not_retried() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/departments", json_response(501, {"message": "not implemented"}))
    with pytest.raises(ApiError):
        client(api, clock).get("/v3/departments")
    assert len(api.api_requests()) == 1


@pytest.mark.parametrize("exc", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"),
                                 httpx.RemoteProtocolError("dropped"), httpx.ReadError("reset")])
def test_gets_are_retried_on_transport_errors(exc: Exception) -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/departments", exc, json_response(200, [{"id": 1}]))
    assert client(api, clock).get("/v3/departments") == [{"id": 1}]
    assert len(clock.sleeps) == 1


def test_transport_errors_beyond_max_retries_are_a_transport_error() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/departments", *[httpx.ConnectError("connection refused") for _ in range(4)])
    with pytest.raises(TransportError) as info:
        client(api, clock, max_retries=3).get("/v3/departments")
    assert str(info.value) == ("GET http://127.0.0.1/v3/departments -> no answer after 4 attempt(s) "
                               "(ConnectError: connection refused)")


def test_a_reader_with_zero_retries_fails_at_once() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/departments", json_response(503))
    reader = HarvestReader(settings(), transport=api.transport(), clock=clock.time, sleep=clock.sleep, max_retries=0)
    with pytest.raises(ApiError):
        reader.get("/v3/departments")
    assert clock.sleeps == []


# -- writes with an unknown outcome --------------------------------------------------------------


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("timed out"), httpx.WriteTimeout("timed out"),
                                 httpx.RemoteProtocolError("Server disconnected without sending a response."),
                                 httpx.ReadError("connection reset by peer"), httpx.WriteError("broken pipe")])
@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_a_write_whose_answer_is_lost_is_never_repeated(exc: Exception, method: str) -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script(method, "/v3/departments/4412", exc, json_response(200, {"id": 4412}))
    c = client(api, clock)
    with pytest.raises(OutcomeUnknownError) as info:
        getattr(c, method.lower())("/v3/departments/4412", {"name": "Platform"})
    assert len(api.api_requests(method)) == 1
    assert str(info.value).startswith(f"{method} /v3/departments/4412 -> outcome unknown ({type(exc).__name__}")
    assert (info.value.method, info.value.path) == (method, "/v3/departments/4412")
    assert clock.sleeps == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_write_answered_with_a_server_error_is_an_unknown_outcome(status: int) -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("POST", "/v3/custom_fields", json_response(status, {"message": "oops"}), json_response(201, {"id": 1}))
    with pytest.raises(OutcomeUnknownError) as info:
        client(api, clock).post("/v3/custom_fields", {"name": "Cost Center"})
    assert str(info.value) == f"POST /v3/custom_fields -> outcome unknown (server answered {status}: oops)"
    assert len(api.api_requests("POST")) == 1


@pytest.mark.parametrize("exc", [httpx.ConnectError("connection refused"), httpx.ConnectTimeout("timed out"),
                                 httpx.PoolTimeout("no connection free")])
def test_a_write_that_never_left_may_be_retried(exc: Exception) -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("POST", "/v3/candidate_tags", exc, json_response(201, {"id": 9, "name": "Referral"}))
    result = client(api, clock).post("/v3/candidate_tags", {"name": "Referral"})
    assert (result.status, result.body) == (201, {"id": 9, "name": "Referral"})
    assert len(api.api_requests("POST")) == 2 and len(clock.sleeps) == 1


def test_a_write_that_never_connects_ends_as_a_transport_error() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("DELETE", "/v3/candidate_tags/3", *[httpx.ConnectError("refused") for _ in range(3)])
    with pytest.raises(TransportError, match="DELETE http://127.0.0.1/v3/candidate_tags/3 -> no answer after 3"):
        client(api, clock, max_retries=2).delete("/v3/candidate_tags/3")


def test_write_results_carry_status_and_parsed_body() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("PATCH", "/v3/departments/4", json_response(200, {"id": 4, "name": "Eng"}))
    api.script("DELETE", "/v3/candidate_tags/3", httpx.Response(204))
    api.script("POST", "/v3/users/5/deactivate", httpx.Response(200, text="done"))
    c = client(api, clock)
    patched = c.patch("/v3/departments/4", {"name": "Eng"})
    assert (patched.status, patched.body) == (200, {"id": 4, "name": "Eng"})
    sent = api.api_requests("PATCH")[0]
    assert sent.headers["Content-Type"] == "application/json" and sent.content == b'{"name":"Eng"}'
    deleted = c.delete("/v3/candidate_tags/3")
    assert (deleted.status, deleted.body) == (204, None)
    assert api.api_requests("DELETE")[0].content == b""
    assert c.post("/v3/users/5/deactivate").body == "done"


def test_write_bodies_are_compact_utf8_json_and_nan_is_refused_before_anything_is_sent() -> None:
    """The client serialises bodies itself, so the bytes do not depend on the installed httpx."""
    clock = FakeClock(NOW)
    api = FakeApi()
    c = client(api, clock)
    c.post("/v3/candidate_tags", {"name": "Café – Zürich", "ids": [1, 2]})
    assert api.api_requests("POST")[0].content == '{"name":"Café – Zürich","ids":[1,2]}'.encode()
    with pytest.raises(UsageError, match="POST /v3/candidate_tags: the request body is not JSON"):
        c.post("/v3/candidate_tags", {"name": float("nan")})
    assert len(api.api_requests("POST")) == 1
