"""Error text: `METHOD /path -> STATUS: message`, from any body shape, and never a secret."""

from __future__ import annotations

import logging
import random

import httpx
import pytest

from reconciler import __version__
from reconciler.errors import (
    ApiError,
    AuthError,
    HarvestError,
    OutcomeUnknownError,
    TransportError,
    UsageError,
)
from reconciler.harvest import HarvestClient, HarvestReader
from reconciler.harvest.auth import MAX_REMINTS
from tests.harvest.fake_api import SECRET, FakeApi, json_response, settings
from tests.support import FakeClock


def client(api: FakeApi, **kw: object) -> HarvestClient:
    clock = FakeClock()
    return HarvestClient(settings(), transport=api.transport(), clock=clock.time, sleep=clock.sleep,
                         rng=random.Random(1), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (json_response(422, {"message": "name has already been taken"}),
         "PATCH /v3/departments/4412 -> 422: name has already been taken"),
        (json_response(422, {"message": "Validation failed", "errors": [{"field": "name", "message": "has already been taken"}]}),
         "PATCH /v3/departments/4412 -> 422: Validation failed; name: has already been taken"),
        (json_response(422, {"errors": [{"message": "parent_id is invalid"}]}),
         "PATCH /v3/departments/4412 -> 422: (no message); parent_id is invalid"),
        (json_response(422, {"errors": {"name": ["is too long", "is blank"]}}),
         "PATCH /v3/departments/4412 -> 422: (no message); name: is too long; name: is blank"),
        (json_response(409, ["address already belongs to someone"]),
         "PATCH /v3/departments/4412 -> 409: (no message); address already belongs to someone"),
        (httpx.Response(400, text="Bad   request\nbody"), "PATCH /v3/departments/4412 -> 400: Bad request body"),
        (httpx.Response(404), "PATCH /v3/departments/4412 -> 404: Not Found"),
        (httpx.Response(415, content=b"\xff\xfe"), "PATCH /v3/departments/4412 -> 415: \ufffd\ufffd"),
    ],
)
def test_error_statuses_become_api_errors_with_path_and_message(response: httpx.Response, expected: str) -> None:
    api = FakeApi()
    api.script("PATCH", "/v3/departments/4412", response)
    with pytest.raises(ApiError) as info:
        client(api).patch("/v3/departments/4412", {"name": "Platform"})
    assert str(info.value) == expected
    assert info.value.status == response.status_code


def test_error_text_names_the_path_without_host_or_query() -> None:
    api = FakeApi()
    api.script("GET", "/v3/users", json_response(422, {"message": "cursor must be alone"}))
    with pytest.raises(ApiError) as info:
        client(api).get("/v3/users", {"email": "jane@acme.example"})
    assert str(info.value) == "GET /v3/users -> 422: cursor must be alone"


def test_403_is_an_auth_error_and_is_not_retried() -> None:
    api = FakeApi()
    api.script("POST", "/v3/custom_fields", json_response(403, {"message": "missing scope harvest:custom_fields:create"}))
    c = client(api)
    with pytest.raises(AuthError, match="POST /v3/custom_fields -> 403: missing scope"):
        c.post("/v3/custom_fields", {"name": "x"})
    assert c.request_count == 1 and c.token_count == 1


def test_a_long_message_is_shortened() -> None:
    api = FakeApi()
    api.script("GET", "/v3/jobs", httpx.Response(400, text="x" * 5000))
    with pytest.raises(ApiError) as info:
        client(api).get("/v3/jobs")
    assert len(str(info.value)) < 600


def provoke_every_error(api: FakeApi) -> list[HarvestError]:
    """One of each error kind, with server messages that echo the secret and the token."""
    token = "tok-1-secretish"
    echo = f"secret={SECRET} token={token}"
    api.script("GET", "/v3/a", json_response(422, {"message": echo, "errors": [{"field": echo, "message": echo}]}))
    api.script("GET", "/v3/b", json_response(403, {"message": echo}))
    api.script("GET", "/v3/c", *[httpx.ConnectError(echo) for _ in range(2)])
    api.script("POST", "/v3/d", httpx.ReadTimeout(echo))
    api.script("POST", "/v3/e", json_response(500, {"message": echo}))
    api.script("GET", "/v3/f", *[json_response(503, {"message": echo}) for _ in range(2)])
    api.script("GET", "/v3/g", *[json_response(401, {"message": echo}) for _ in range(MAX_REMINTS + 1)])
    c = client(api, max_retries=1)
    caught: list[HarvestError] = []
    for call in (lambda: c.get("/v3/a"), lambda: c.get("/v3/b"), lambda: c.get("/v3/c"),
                 lambda: c.post("/v3/d", {}), lambda: c.post("/v3/e", {}), lambda: c.get("/v3/f"),
                 lambda: c.get("/v3/g")):
        with pytest.raises(HarvestError) as info:
            call()
        caught.append(info.value)
    api.revoke()  # the next call gets a 401, and the re-mint is refused
    api.script_token(json_response(401, {"error": "invalid_client", "error_description": echo}))
    with pytest.raises(HarvestError) as info:
        c.get("/v3/h")
    caught.append(info.value)
    return caught


def test_no_error_text_or_repr_contains_the_secret_or_a_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    api = FakeApi()
    caught = provoke_every_error(api)
    kinds = {type(e) for e in caught}
    assert {ApiError, AuthError, TransportError, OutcomeUnknownError} <= {k for e in caught for k in type(e).__mro__}
    assert len(kinds) >= 4
    assert str(caught[-1]).startswith("POST /token -> 401: secret=*** token=***")
    tokens = api.minted
    assert tokens, "the scenario must have minted tokens"
    for exc in caught:
        for text in (str(exc), repr(exc), str(exc.__cause__ or ""), repr(exc.__cause__ or "")):
            assert SECRET not in text
            for token in tokens:
                assert token not in text
    for token in tokens:
        assert token not in caplog.text
    assert SECRET not in caplog.text


def test_client_reprs_hold_no_secret() -> None:
    api = FakeApi()
    c = client(api)
    c.get("/v3/departments")
    for obj in (c, c._auth, c._settings):
        assert SECRET not in repr(obj)
        assert "tok-1-secretish" not in repr(obj)


def test_requests_carry_the_product_user_agent() -> None:
    api = FakeApi()
    client(api).get("/v3/departments")
    assert {r.headers["User-Agent"] for r in api.requests} == {f"greenhouse-reconciler/{__version__}"}


def test_a_reader_has_no_write_methods_and_its_transport_refuses_writes() -> None:
    api = FakeApi()
    reader = HarvestReader(settings(), transport=api.transport())
    assert not any(hasattr(reader, m) for m in ("post", "patch", "delete", "bulk"))
    reader.get("/v3/departments")
    with pytest.raises(UsageError, match="read-only"):
        reader._http.post("http://127.0.0.1/v3/candidate_tags", json={"name": "x"})
    with pytest.raises(UsageError, match="read-only"):
        reader._exchange("DELETE", httpx.URL("http://127.0.0.1/v3/candidate_tags/1"))
    assert api.api_requests("POST") == [] and api.api_requests("DELETE") == []


def test_on_request_hook_sees_every_api_exchange_but_not_the_token() -> None:
    api = FakeApi()
    api.script("GET", "/v3/offices", json_response(503), json_response(200, []))
    seen: list[tuple[str, str, int]] = []
    c = client(api, on_request=lambda m, p, s: seen.append((m, p, s)))
    c.get("/v3/offices")
    c.post("/v3/candidate_tags", {"name": "x"})
    assert seen == [("GET", "/v3/offices", 503), ("GET", "/v3/offices", 200), ("POST", "/v3/candidate_tags", 200)]
    assert (c.request_count, c.token_count) == (3, 1)


def test_close_and_context_manager() -> None:
    api = FakeApi()
    with client(api) as c:
        c.get("/v3/departments")
    with pytest.raises(RuntimeError):
        c.get("/v3/departments")
