"""What the client logs (-v: each exchange, every retry and wait; long waits at NOTICE) and how it fails on
connection errors retrying cannot fix (refused, DNS, TLS: at once, naming the host and the setting)."""

from __future__ import annotations

import logging
import random
import socket
import ssl

import httpx
import pytest

from reconciler.console import NOTICE
from reconciler.errors import ApiError, TransportError
from reconciler.harvest import HarvestClient, HarvestReader
from reconciler.harvest.policy import unfixable
from tests.harvest.fake_api import SECRET, FakeApi, json_response, settings
from tests.support import FakeClock

NOW = 1_800_000_000.0


def reader(api: FakeApi, clock: FakeClock, **kw: object) -> HarvestReader:
    return HarvestReader(settings(**kw), transport=api.transport(), clock=clock.time,  # type: ignore[arg-type]
                         sleep=clock.sleep, rng=random.Random(3))


def messages(caplog: pytest.LogCaptureFixture, level: int | None = None) -> list[str]:
    return [r.getMessage() for r in caplog.records if level is None or r.levelno == level]


def test_each_exchange_is_logged_at_info_with_method_path_status_and_duration(caplog: pytest.LogCaptureFixture
                                                                              ) -> None:
    caplog.set_level(logging.INFO, logger="reconciler")
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/departments", json_response(200, [{"id": 1}]))
    reader(api, clock).list_all("/v3/departments", {"ids": [1]})
    lines = messages(caplog, logging.INFO)
    assert lines[0].startswith("POST /token -> 200 (")
    assert lines[1].startswith("GET /v3/departments -> 200 (") and lines[1].endswith(" s)")
    assert "ids=" not in lines[1] and "per_page" not in lines[1]  # the path only, never the query
    text = "\n".join(messages(caplog))
    assert SECRET not in text and api.minted[0] not in text and "Bearer" not in text


def test_a_429_wait_says_its_reason_and_length_and_is_a_notice_when_long(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="reconciler")
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/users", json_response(429, {"message": "slow down"}, {"Retry-After": "15"}),
               json_response(429, {"message": "slow down"}, {"Retry-After": "1"}), json_response(200, []))
    reader(api, clock).get("/v3/users")
    assert clock.sleeps == [15.0, 1.0]
    assert messages(caplog, NOTICE) == [
        "Waiting 15 s: rate limit (429 with Retry-After) on GET /v3/users (retry 1 of at most 6)"]
    assert "Waiting 1 s: rate limit (429 with Retry-After) on GET /v3/users (retry 2 of at most 6)" in messages(
        caplog, logging.INFO)


def test_back_off_waits_and_window_waits_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="reconciler")
    clock = FakeClock(NOW)
    api = FakeApi()
    headers = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW + 20))}
    api.script("GET", "/v3/offices", json_response(503), json_response(200, [], headers), json_response(200, []))
    r = reader(api, clock)
    r.get("/v3/offices")
    r.get("/v3/offices")
    text = messages(caplog)
    assert any(m.startswith("Waiting ") and "the server answered 503; back-off on GET /v3/offices (retry 1 of" in m
               for m in text)
    assert ("Waiting 20 s: rate limit (the window is spent; until X-RateLimit-Reset) on GET /v3/offices"
            in messages(caplog, NOTICE))


def _failure(cause: BaseException, text: str) -> httpx.ConnectError:
    exc = httpx.ConnectError(text)
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(("cause", "reason"), [
    (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
    (socket.gaierror(-2, "Name or service not known"), "DNS: the host name does not resolve: Name or service not known"),
    (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), "TLS handshake failed: "),
])
def test_unfixable_connection_failures_fail_at_once_naming_the_host(cause: BaseException, reason: str) -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/departments", *[_failure(cause, str(cause)) for _ in range(3)])
    r = reader(api, clock)
    with pytest.raises(TransportError) as info:
        r.get("/v3/departments")
    assert str(info.value).startswith(f"GET http://127.0.0.1/v3/departments: cannot connect to 127.0.0.1:80 ({reason}")
    assert str(info.value).endswith("; check GREENHOUSE_API_URL; not retried, as retrying cannot fix this "
                                    "(1 attempt(s))")
    assert len(api.api_requests()) == 1 and clock.sleeps == []
    with pytest.raises(TransportError, match="cannot connect to 127.0.0.1:80"):
        r.get("/v3/offices")  # known unreachable: nothing more is sent
    assert len(api.api_requests()) == 1


def test_an_unreachable_token_endpoint_is_named_with_its_setting() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script_token(_failure(ConnectionRefusedError(111, "Connection refused"), "refused"))
    with pytest.raises(TransportError) as info:
        reader(api, clock).get("/v3/departments")
    assert str(info.value) == ("POST http://127.0.0.1/token (the token request for GET /v3/departments): cannot "
                               "connect to 127.0.0.1:80 (connection refused); check GREENHOUSE_TOKEN_URL; not "
                               "retried, as retrying cannot fix this (1 attempt(s))")
    assert len(api.token_requests()) == 1


def test_a_write_that_cannot_connect_fails_at_once_too() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("POST", "/v3/candidate_tags", _failure(ConnectionRefusedError(111, "refused"), "refused"))
    c = HarvestClient(settings(), transport=api.transport(), clock=clock.time, sleep=clock.sleep)
    with pytest.raises(TransportError, match=r"^POST http://127.0.0.1/v3/candidate_tags: cannot connect"):
        c.post("/v3/candidate_tags", {"name": "x"})
    assert len(api.api_requests("POST")) == 1


@pytest.mark.parametrize("cause", [ConnectionResetError(104, "reset"), TimeoutError("timed out"),
                                   ssl.SSLEOFError(8, "EOF occurred in violation of protocol"), None])
def test_transient_connection_failures_are_retried(cause: BaseException | None) -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    exc = httpx.ConnectError("failed") if cause is None else _failure(cause, str(cause))
    api.script("GET", "/v3/departments", exc, json_response(200, [{"id": 1}]))
    assert reader(api, clock).get("/v3/departments") == [{"id": 1}]
    assert len(api.api_requests()) == 2 and len(clock.sleeps) == 1


def test_a_certificate_failure_names_the_ca_setting() -> None:
    err = ssl.SSLCertVerificationError(1, "certificate verify failed")
    err.reason = "CERTIFICATE_VERIFY_FAILED"
    err.verify_message = "self-signed certificate"
    assert unfixable(_failure(err, "x")) == ("TLS certificate not accepted (CERTIFICATE_VERIFY_FAILED: self-signed "
                                             "certificate; a CA bundle can be named by SSL_CERT_FILE)")


def test_an_api_url_ending_in_v3_gets_a_hint_in_the_404() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/v3/v3/departments", json_response(404, {"message": "Not Found"}))
    with pytest.raises(ApiError) as info:
        reader(api, clock, api_url="http://127.0.0.1/v3").get("/v3/departments")
    assert str(info.value) == ("GET /v3/v3/departments -> 404: Not Found (GREENHOUSE_API_URL ends in /v3, but paths "
                               "are /v3/... under it: set it without /v3, e.g. https://harvest.greenhouse.io)")


def test_an_unreachable_third_host_does_not_mark_the_api_unreachable() -> None:
    clock = FakeClock(NOW)
    api = FakeApi()
    api.script("GET", "/results/failures.json", _failure(ConnectionRefusedError(111, "refused"), "refused"))
    r = reader(api, clock)
    with pytest.raises(TransportError) as info:
        r.get("https://files.example/results/failures.json")
    assert str(info.value) == ("GET https://files.example/results/failures.json: cannot connect to files.example:443 "
                               "(connection refused); not retried, as retrying cannot fix this (1 attempt(s))")
    assert r.get("/v3/departments") == []  # the API itself is still reached
