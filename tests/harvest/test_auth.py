"""OAuth client credentials: how the token is minted (with or without `sub`), reused, renewed, re-minted
after a 401, and how a refused token request is reported (RFC 6749 error codes -> the setting to check)."""

from __future__ import annotations

import base64
import random
import threading
from urllib.parse import parse_qs

import httpx
import pytest

from reconciler.errors import AuthError, UsageError
from reconciler.harvest import HarvestClient, HarvestReader, Settings
from reconciler.harvest.auth import MAX_REMINTS, REMINT_BASE, REMINT_CAP, ClientCredentialsAuth, TokenError
from reconciler.sandbox import Sandbox, SandboxOptions
from tests.harness import seed as harness_seed
from tests.harvest.fake_api import CLIENT_ID, SECRET, FakeApi, json_response, settings
from tests.support import FakeClock


def reader(api: FakeApi, clock: FakeClock | None = None, **kw: object) -> HarvestReader:
    clock = clock or FakeClock()
    return HarvestReader(settings(), transport=api.transport(), clock=clock.time, sleep=clock.sleep, **kw)  # type: ignore[arg-type]


def test_token_request_uses_basic_client_credentials_and_the_sub_form() -> None:
    api = FakeApi()
    reader(api).get("/v3/departments")
    (token,) = api.token_requests()
    assert token.method == "POST"
    assert token.headers["Authorization"] == "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert token.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token.content.decode()) == {"grant_type": ["client_credentials"], "sub": ["1001"]}
    (call,) = api.api_requests()
    assert call.headers["Authorization"] == "Bearer tok-1-secretish"


def test_one_token_serves_many_requests() -> None:
    api = FakeApi()
    r = reader(api)
    for _ in range(5):
        r.get("/v3/offices")
    assert (r.token_count, r.request_count) == (1, 5)


@pytest.mark.parametrize(
    ("token_extra", "lifetime"),
    [
        ({"expires_in": 600}, 600),
        ({"expires_in": "600"}, 600),
        ({"expires_at": "2027-01-15T08:10:00.000Z"}, 600),  # FakeClock starts at 2027-01-15T08:00:00Z
        ({"expires_at": "2027-01-15T09:10:00+01:00"}, 600),
        ({"expires_at": "2027-01-15T08:10:00.000Z", "expires_in": 9999}, 600),  # expires_at wins
        ({}, 3600),  # neither: assumed 1 hour [inferred]
    ],
)
def test_token_is_renewed_sixty_seconds_before_it_expires(token_extra: dict[str, object], lifetime: int) -> None:
    clock = FakeClock(start=1_800_000_000.0)
    api = FakeApi(token_extra=token_extra)
    r = reader(api, clock)
    r.get("/v3/departments")
    clock.advance(lifetime - 61)
    r.get("/v3/departments")
    assert r.token_count == 1
    clock.advance(2)  # now 59 s before expiry: inside the renewal margin
    r.get("/v3/departments")
    assert r.token_count == 2
    assert api.api_requests()[-1].headers["Authorization"] == "Bearer tok-2-secretish"


def test_a_401_drops_the_token_mints_a_new_one_and_retries_once() -> None:
    api = FakeApi()
    r = reader(api)
    r.get("/v3/departments")
    api.revoke()  # someone minted a newer token elsewhere
    assert r.get("/v3/departments") == []
    assert r.token_count == 2
    assert [q.headers["Authorization"] for q in api.api_requests()] == [
        "Bearer tok-1-secretish", "Bearer tok-1-secretish", "Bearer tok-2-secretish"]


def test_a_write_rejected_with_401_is_resent_once_with_a_fresh_token() -> None:
    api = FakeApi()
    api.script("POST", "/v3/candidate_tags", json_response(201, {"id": 7, "name": "Referral"}))
    client = HarvestClient(settings(), transport=api.transport())
    client.get("/v3/candidate_tags")
    api.revoke()
    result = client.post("/v3/candidate_tags", {"name": "Referral"})
    assert (result.status, result.body) == (201, {"id": 7, "name": "Referral"})
    posts = api.api_requests("POST")
    assert len(posts) == 2 and posts[0].content == posts[1].content == b'{"name":"Referral"}'


def test_a_401_that_persists_gives_up_after_max_remints_with_a_clear_error() -> None:
    clock = FakeClock()
    api = FakeApi()
    api.script("GET", "/v3/users", *[json_response(401, {"message": "token expired"}) for _ in range(MAX_REMINTS + 1)],
               json_response(200, []))
    r = HarvestReader(settings(), transport=api.transport(), clock=clock.time, sleep=clock.sleep, rng=random.Random(3))
    with pytest.raises(AuthError) as info:
        r.get("/v3/users")
    text = str(info.value)
    assert text.startswith("GET /v3/users -> 401: token expired (refused 6 time(s) in a row, with a newly minted token")
    assert "give each concurrent job its own credential" in text
    assert "secretish" not in text
    # Bounded: the first token, then MAX_REMINTS new ones, each followed by one more try; never a loop.
    assert (r.request_count, r.token_count) == (MAX_REMINTS + 1, MAX_REMINTS + 1)
    # Before each re-mint a jittered pause within its growing bound (full jitter: [0, min(cap, base * 2^n)]).
    assert len(clock.sleeps) == MAX_REMINTS
    for n, pause in enumerate(clock.sleeps):
        assert 0.0 <= pause <= min(REMINT_CAP, REMINT_BASE * 2**n)


def test_a_token_revoked_again_and_again_is_re_minted_until_one_survives() -> None:
    """Another process with the same credential keeps minting: the request is repeated with a new token
    each time, and succeeds as soon as a token lives long enough to be used."""
    clock = FakeClock()
    api = FakeApi()
    rivals = iter(range(3))

    def rival_mints_first(request: httpx.Request) -> httpx.Response:
        if request.url.path != "/token" and next(rivals, None) is not None:
            api.revoke()  # the rival's mint lands between ours and our request
        return api.handle(request)

    r = HarvestReader(settings(), transport=httpx.MockTransport(rival_mints_first), clock=clock.time,
                      sleep=clock.sleep, rng=random.Random(5))
    assert r.get("/v3/departments") == []
    assert (r.request_count, r.token_count) == (4, 4)
    assert len(clock.sleeps) == 3


def test_max_remints_zero_means_a_401_is_final() -> None:
    api = FakeApi()
    api.script("GET", "/v3/users", json_response(401, {"message": "nope"}))
    clock = FakeClock()
    auth = ClientCredentialsAuth(settings(), clock=clock.time, sleep=clock.sleep, max_remints=0)
    r = HarvestReader(settings(), transport=api.transport(), clock=clock.time, sleep=clock.sleep, auth=auth)
    with pytest.raises(AuthError, match="refused 1 time"):
        r.get("/v3/users")
    assert (r.request_count, r.token_count) == (1, 1)
    with pytest.raises(UsageError):
        ClientCredentialsAuth(settings(), max_remints=-1)


def test_a_reader_and_a_client_sharing_one_auth_mint_one_token() -> None:
    api = FakeApi()
    auth = ClientCredentialsAuth(settings())
    with HarvestReader(settings(), transport=api.transport(), auth=auth) as reader:
        reader.get("/v3/departments")
    api.script("POST", "/v3/candidate_tags", json_response(201, {"id": 1}))
    with HarvestClient(settings(), transport=api.transport(), auth=auth) as client:
        client.get("/v3/departments")
        client.post("/v3/candidate_tags", {"name": "x"})
    assert len(api.token_requests()) == 1 and auth.minted == 1
    assert {q.headers["Authorization"] for q in api.api_requests()} == {"Bearer tok-1-secretish"}
    # Without sharing, the second client mints its own (which revokes the first one's).
    HarvestClient(settings(), transport=api.transport()).get("/v3/departments")
    assert len(api.token_requests()) == 2


def test_a_shared_auth_must_be_for_the_same_settings() -> None:
    auth = ClientCredentialsAuth(settings())
    other = settings(api_url="http://127.0.0.2")
    with pytest.raises(UsageError, match="other Harvest settings"):
        HarvestReader(other, transport=FakeApi().transport(), auth=auth)


def test_token_endpoint_refusal_is_an_auth_error_with_status_and_message_but_no_secret() -> None:
    api = FakeApi()
    api.script_token(json_response(401, {"error": "invalid_client",
                                         "error_description": f"client secret {SECRET} is not valid"}))
    with pytest.raises(AuthError) as info:
        reader(api).get("/v3/departments")
    text = str(info.value) + repr(info.value)
    assert "POST /token -> 401" in text and "is not valid" in text
    assert SECRET not in text
    assert api.api_requests() == []


@pytest.mark.parametrize("body", [{"token_type": "Bearer"}, "not json", None])
def test_a_token_response_without_access_token_is_an_auth_error(body: object) -> None:
    api = FakeApi()
    response = httpx.Response(200, text=body) if isinstance(body, str) else json_response(200, body)
    api.script_token(response)
    with pytest.raises(AuthError, match="access_token"):
        reader(api).get("/v3/departments")


def test_a_rate_limited_token_request_is_retried_after_retry_after() -> None:
    clock = FakeClock()
    api = FakeApi()
    api.script_token(json_response(429, {"message": "slow down"}, {"Retry-After": "7"}))
    assert reader(api, clock).get("/v3/departments") == []
    assert clock.sleeps == [7.0]
    assert len(api.token_requests()) == 2


def test_a_token_request_that_never_connects_is_retried_even_before_a_write() -> None:
    clock = FakeClock()
    api = FakeApi()
    api.script_token(httpx.ReadError("connection reset"))
    api.script("POST", "/v3/candidate_tags", json_response(201, {"id": 1}))
    client = HarvestClient(settings(), transport=api.transport(), clock=clock.time, sleep=clock.sleep)
    assert client.post("/v3/candidate_tags", {"name": "x"}).status == 201
    assert len(api.api_requests("POST")) == 1 and len(api.token_requests()) == 2


def test_threads_share_one_token() -> None:
    api = FakeApi()
    start = threading.Barrier(8, timeout=5)

    def slow_token(request: httpx.Request) -> httpx.Response:
        # Hold the token answer back so the other threads pile up wanting a token meanwhile.
        threading.Event().wait(0.05)
        return api._token(request)

    api.script_token(slow_token)
    r = reader(api)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            for _ in range(5):
                r.get("/v3/departments")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert r.token_count == 1 and r.request_count == 40


def test_a_revoked_token_is_replaced_once_for_all_threads() -> None:
    api = FakeApi()
    all_rejected = threading.Barrier(6, timeout=5)

    def handle(request: httpx.Request) -> httpx.Response:
        old = request.headers.get("Authorization") == "Bearer tok-1-secretish" and api.minted == ["tok-1-secretish"]
        if old and request.url.path == "/v3/offices":
            all_rejected.wait()  # all six threads hold a 401 for the old token before any re-mints
            return json_response(401, {"message": "access token was revoked"})
        return api.handle(request)

    r = HarvestReader(settings(), transport=httpx.MockTransport(handle))
    r.get("/v3/departments")
    threads = [threading.Thread(target=r.get, args=("/v3/offices",)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Six 401s for the same old token lead to one new token: the threads that come second reuse
    # it instead of minting again (which would revoke it under the others' feet).
    assert r.token_count == 2
    assert r.request_count == 1 + 6 + 6


def test_the_token_is_never_sent_to_another_host() -> None:
    api = FakeApi()
    r = reader(api)
    r.get("/v3/departments")
    r.get("https://results.s3.example.test/bulk/failures.json?X-Amz-Signature=abc")
    outside = [q for q in api.requests if q.url.host == "results.s3.example.test"]
    assert len(outside) == 1 and "Authorization" not in outside[0].headers
    assert r.request_count == 1  # the results host is not the API


# -- service-user tokens (no sub) and OAuth 2.0 token errors -----------------------------------------


def test_without_user_id_the_token_request_carries_no_sub() -> None:
    api = FakeApi()
    seen: list[dict[str, list[str]]] = []

    def accept_without_sub(request: httpx.Request) -> httpx.Response:
        seen.append(parse_qs(request.content.decode()))
        api.valid = "tok-isu"
        return json_response(200, {"access_token": "tok-isu", "expires_in": 3600})

    api.script_token(accept_without_sub)
    s = settings()
    no_sub = Settings(s.client_id, s.client_secret, None, s.api_url, s.token_url)
    HarvestReader(no_sub, transport=api.transport()).get("/v3/departments")
    assert seen == [{"grant_type": ["client_credentials"]}]


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"error": "invalid_client", "error_description": "client authentication failed"},
         "POST /token -> 401: client authentication failed (invalid_client); "
         "check GREENHOUSE_CLIENT_ID and GREENHOUSE_CLIENT_SECRET"),
        (400, {"error": "invalid_grant", "error_description": "sub is a deactivated user"},
         "POST /token -> 400: sub is a deactivated user (invalid_grant); check GREENHOUSE_USER_ID (1001"),
        (400, {"error": "unsupported_grant_type", "error_description": "only client_credentials"},
         "POST /token -> 400: only client_credentials (unsupported_grant_type); the token endpoint refused the "
         "request itself: check GREENHOUSE_TOKEN_URL"),
        (400, {"error": "invalid_request"},
         "POST /token -> 400: invalid_request; the token endpoint refused the request itself: "
         "check GREENHOUSE_TOKEN_URL"),
        (422, {"message": "sub is not an active user", "errors": [{"field": "sub", "message": "unknown user"}]},
         "POST /token -> 422: sub is not an active user; sub: unknown user"),
        (401, {"message": "bad credentials"},
         "POST /token -> 401: bad credentials; check GREENHOUSE_CLIENT_ID and GREENHOUSE_CLIENT_SECRET "
         "(the Harvest v3 OAuth credential), and that GREENHOUSE_TOKEN_URL is the OAuth token endpoint"),
        (404, {"message": "route POST /v3/token not found"},
         "POST /token -> 404: route POST /v3/token not found; the token endpoint refused the request itself: "
         "check GREENHOUSE_TOKEN_URL"),
        (403, "<html>Forbidden</html>", "POST /token -> 403: <html>Forbidden</html>"),
    ],
)
def test_each_token_error_names_the_setting_to_check(status: int, body: object, expected: str) -> None:
    api = FakeApi()
    response = (httpx.Response(status, text=body) if isinstance(body, str) else json_response(status, body))
    api.script_token(response)
    with pytest.raises(AuthError) as info:
        reader(api).get("/v3/departments")
    assert str(info.value).startswith(expected)
    assert api.api_requests() == []


def test_invalid_grant_without_user_id_points_at_the_service_user_and_the_setting() -> None:
    api = FakeApi()
    api.script_token(json_response(400, {"error": "invalid_grant", "error_description": "service user deactivated"}))
    s = settings()
    no_sub = Settings(s.client_id, s.client_secret, None, s.api_url, s.token_url)
    with pytest.raises(TokenError) as info:
        HarvestReader(no_sub, transport=api.transport()).get("/v3/departments")
    assert info.value.oauth_error == "invalid_grant"
    assert "service user was refused (GREENHOUSE_USER_ID is unset)" in str(info.value)
    assert "set GREENHOUSE_USER_ID to an active Site Admin" in str(info.value)


def test_a_token_error_never_echoes_the_secret_even_in_its_error_code() -> None:
    api = FakeApi()
    api.script_token(json_response(401, {"error": SECRET, "error_description": f"secret {SECRET} rejected"}))
    with pytest.raises(AuthError) as info:
        reader(api).get("/v3/departments")
    text = str(info.value) + repr(info.value) + repr(info.value.args)
    assert SECRET not in text
    assert "GREENHOUSE_CLIENT_SECRET" in text


# -- the same against the sandbox's token endpoint -----------------------------------------------------


def sandbox_reader(sb: Sandbox, clock: FakeClock, *, user_id: str | None = "1001",
                   secret: str = "demo-secret") -> HarvestReader:
    s = Settings("demo-client", secret, user_id, "http://127.0.0.1", "http://127.0.0.1/token")
    return HarvestReader(s, transport=sb.transport(), clock=clock.time, sleep=clock.sleep)


@pytest.mark.parametrize(
    ("user_id", "secret", "code", "hint"),
    [
        ("1001", "wrong-secret-Zq9", "invalid_client", "check GREENHOUSE_CLIENT_ID and GREENHOUSE_CLIENT_SECRET"),
        ("9999", "demo-secret", "invalid_grant", "check GREENHOUSE_USER_ID (9999"),
        ("1005", "demo-secret", "invalid_grant", "or unset it to act as the credential's service user"),
    ],
)
def test_sandbox_token_errors_become_clear_auth_errors(user_id: str, secret: str, code: str, hint: str) -> None:
    clock = FakeClock()
    sb = Sandbox(harness_seed(), clock=clock.time)
    with pytest.raises(TokenError) as info:
        sandbox_reader(sb, clock, user_id=user_id, secret=secret).get("/v3/departments")
    assert info.value.oauth_error == code
    assert hint in str(info.value)
    assert secret not in str(info.value) + repr(info.value)


def test_a_reader_without_user_id_reads_as_the_service_user() -> None:
    clock = FakeClock()
    sb = Sandbox(harness_seed(), clock=clock.time)
    rows = sandbox_reader(sb, clock, user_id=None).list_all("/v3/departments")
    assert len(rows) == len(sb.rows("departments"))
    assert [r.body for r in sb.log if r.path == "/token"] == [{"grant_type": "client_credentials"}]


@pytest.mark.parametrize(("scope", "tokens"), [("per-client", (3, 3)), ("per-subject", (1, 1))])
def test_revocation_scope_with_two_one_token_clients(scope: str, tokens: tuple[int, int]) -> None:
    """Two processes share one credential, one acting as a Site Admin (sub), one as the service user.
    Per client, each mint knocks out the other's token and each recovers through the 401 path;
    per subject, they never meet."""
    clock = FakeClock()
    sb = Sandbox(harness_seed(), clock=clock.time, options=SandboxOptions(token_revocation=scope))
    as_admin = sandbox_reader(sb, clock, user_id="1001")
    as_service = sandbox_reader(sb, clock, user_id=None)
    for _ in range(3):
        assert as_admin.list_all("/v3/offices")
        assert as_service.list_all("/v3/offices")
    assert (as_admin.token_count, as_service.token_count) == tokens
    assert len([r for r in sb.log if r.status == 401]) == (0 if scope == "per-subject" else 4)


def test_per_client_revocation_between_two_clients_with_the_same_sub() -> None:
    clock = FakeClock()
    sb = Sandbox(harness_seed(), clock=clock.time, options=SandboxOptions(token_revocation="per-subject"))
    first, second = sandbox_reader(sb, clock), sandbox_reader(sb, clock)
    first.list_all("/v3/offices")
    second.list_all("/v3/offices")
    first.list_all("/v3/offices")  # same client and same sub: revoked even per subject, re-minted once
    assert (first.token_count, second.token_count) == (2, 1)
