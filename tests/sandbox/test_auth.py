"""OAuth client credentials at /token and bearer checks on /v3 (reference 1.2, 1.3)."""

from __future__ import annotations

import httpx

from reconciler.sandbox import Sandbox, SandboxOptions
from tests.sandbox.conftest import ADMIN, BASIC, ClientFactory, error_fields, token
from tests.support import FakeClock


def plain(sb: Sandbox) -> httpx.Client:
    return httpx.Client(transport=sb.transport(), base_url="http://127.0.0.1")


def test_token_answers_bearer_with_expiry_in_both_forms(sb: Sandbox) -> None:
    answer = token(plain(sb))
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_at", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["expires_at"] == "2027-01-15T09:00:00.000Z"  # FakeClock start (08:00) + 1 h


def test_each_token_is_random(sb: Sandbox) -> None:
    client = plain(sb)
    assert token(client).json()["access_token"] != token(client).json()["access_token"]


def test_wrong_secret_unknown_client_and_missing_basic_are_401_with_error_body(sb: Sandbox) -> None:
    client = plain(sb)
    assert token(client, secret="nope").status_code == 401
    assert error_fields(token(client, secret="nope")) == ["Authorization"]
    other = client.post("/token", auth=("who", "demo-secret"), data={"grant_type": "client_credentials"})
    assert other.status_code == 401
    bare = client.post("/token", data={"grant_type": "client_credentials", "sub": "1001"})
    assert bare.status_code == 401


def test_wrong_grant_type_is_401(sb: Sandbox) -> None:
    answer = plain(sb).post("/token", auth=("demo-client", "demo-secret"), data={"grant_type": "password"})
    assert answer.status_code == 401
    assert error_fields(answer) == ["grant_type"]


def test_unknown_non_numeric_or_deactivated_sub_is_422(sb: Sandbox) -> None:
    client = plain(sb)
    assert token(client, sub=424242).status_code == 422
    bad = client.post("/token", auth=("demo-client", "demo-secret"), data={"grant_type": "client_credentials", "sub": "x"})
    assert bad.status_code == 422
    assert token(client, sub=1005).status_code == 422  # Old Timer is deactivated


def test_token_endpoint_wants_a_form_body(sb: Sandbox) -> None:
    answer = plain(sb).post("/token", auth=("demo-client", "demo-secret"), json={"grant_type": "client_credentials"})
    assert answer.status_code == 415


def test_v3_without_with_garbage_or_basic_authorization_is_401(sb: Sandbox) -> None:
    client = plain(sb)
    assert client.get("/v3/departments").status_code == 401
    assert client.get("/v3/departments", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/v3/departments", auth=("demo-client", "demo-secret")).status_code == 401
    assert client.post("/v3/candidate_tags", json={"name": "x"}).status_code == 401
    assert sb.rows("candidate_tags")[-1]["name"] == "Silver Medalist"


def test_token_expires_after_its_ttl(sb: Sandbox, clock: FakeClock, make_client: ClientFactory) -> None:
    client = make_client()
    clock.advance(3599)
    assert client.get("/v3/departments").status_code == 200
    clock.advance(1)
    answer = client.get("/v3/departments")
    assert answer.status_code == 401
    assert "expired" in answer.json()["message"]


def test_ttl_is_configurable(seed: dict, clock: FakeClock, make_client: ClientFactory) -> None:
    sb = Sandbox(seed, clock=clock.time, options=SandboxOptions(token_ttl_seconds=60))
    client = make_client(sandbox=sb)
    clock.advance(60)
    assert client.get("/v3/departments").status_code == 401


def test_minting_a_new_token_revokes_the_previous_one_of_the_client(make_client: ClientFactory) -> None:
    first = make_client()
    assert first.get("/v3/departments").status_code == 200
    second = make_client()
    answer = first.get("/v3/departments")
    assert answer.status_code == 401
    assert "revoked" in answer.json()["message"]
    assert second.get("/v3/departments").status_code == 200


def test_revocation_can_be_switched_off(seed: dict, clock: FakeClock, make_client: ClientFactory) -> None:
    sb = Sandbox(seed, clock=clock.time, options=SandboxOptions(single_active_token=False))
    first = make_client(sandbox=sb)
    make_client(sandbox=sb)
    assert first.get("/v3/departments").status_code == 200


def test_non_site_admin_lists_are_empty_and_writes_403(make_client: ClientFactory, sb: Sandbox) -> None:
    jane = make_client(sub=BASIC)
    for path in ("/v3/departments", "/v3/users", "/v3/custom_fields", "/v3/user_roles"):
        answer = jane.get(path)
        assert answer.status_code == 200
        assert answer.json() == []
    tags_before = sb.rows("candidate_tags")
    refused = jane.post("/v3/candidate_tags", json={"name": "Nope"})
    assert refused.status_code == 403
    assert error_fields(refused) == ["sub"]
    assert sb.rows("candidate_tags") == tags_before


def test_token_without_sub_acts_as_non_admin_service_user(make_client: ClientFactory) -> None:
    isu = make_client(sub=None)
    assert isu.get("/v3/departments").json() == []
    assert isu.patch("/v3/departments/10", json={"name": "X"}).status_code == 403


def test_site_admin_status_is_checked_on_each_request_not_at_minting(make_client: ClientFactory) -> None:
    admin = make_client(sub=ADMIN)
    assert admin.get("/v3/departments").json() != []
    assert admin.post("/v3/users/1001/revoke_permissions").status_code == 204
    answer = admin.get("/v3/departments")
    assert answer.status_code == 200
    assert answer.json() == []


def test_secrets_never_reach_the_log_or_reprs(sb: Sandbox, make_client: ClientFactory) -> None:
    client = make_client()
    client.post(
        "/token",
        auth=("demo-client", "demo-secret"),
        data={"grant_type": "client_credentials", "sub": "1001", "client_secret": "demo-secret"},
    )
    text = repr(sb.log) + repr(sb) + repr(sb.writes())
    assert "demo-secret" not in text
    bearer = client.headers["Authorization"].split()[1]
    assert bearer not in text
    token_entries = [r for r in sb.log if r.path == "/token"]
    assert token_entries[-1].body == {"grant_type": "client_credentials", "sub": "1001", "client_secret": "[redacted]"}
