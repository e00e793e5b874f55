"""OAuth client credentials at /token (JWT-shaped tokens, RFC 6749 errors, service users, revocation
scopes) and bearer checks on /v3 (reference 1.2, 1.3)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox, SandboxOptions
from tests.sandbox.conftest import ADMIN, BASIC, ClientFactory, error_fields, token
from tests.support import FakeClock

SERVICE = 1006  # "Harvest Integration", demo-client's service user (a site admin) in the demo seed


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


def segments(access_token: str) -> list[str]:
    parts = access_token.split(".")
    assert len(parts) == 3 and all(parts), access_token
    return parts


def decode(segment: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return data


def test_tokens_are_jwt_shaped_and_carry_sub_client_and_expiry(sb: Sandbox) -> None:
    header, payload, signature = segments(token(plain(sb), sub=ADMIN).json()["access_token"])
    assert decode(header) == {"alg": "HS256", "typ": "JWT"}
    claims = decode(payload)
    assert set(claims) == {"sub", "client_id", "iat", "exp", "jti"}
    assert (claims["sub"], claims["client_id"]) == ("1001", "demo-client")
    assert claims["exp"] - claims["iat"] == 3600
    assert len(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))) == 32  # HMAC-SHA256


def test_a_token_without_sub_names_the_clients_service_user(sb: Sandbox) -> None:
    _, payload, _ = segments(token(plain(sb), sub=None).json()["access_token"])
    assert decode(payload)["sub"] == str(SERVICE)


def test_a_forged_token_with_a_valid_looking_payload_is_401(sb: Sandbox) -> None:
    header, payload, signature = segments(token(plain(sb)).json()["access_token"])
    claims = decode(payload)
    claims["sub"] = "1004"
    forged = ".".join([header, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("="), signature])
    client = plain(sb)
    assert client.get("/v3/departments", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def oauth_error(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error", "error_description"}, body
    assert body["error_description"]
    error: str = body["error"]
    return error


def form_post(client: httpx.Client, data: dict[str, str], secret: str = "demo-secret") -> httpx.Response:
    return client.post("/token", auth=("demo-client", secret), data=data)


def test_wrong_secret_unknown_client_and_missing_basic_are_401_invalid_client(sb: Sandbox) -> None:
    client = plain(sb)
    wrong = token(client, secret="nope")
    assert (wrong.status_code, oauth_error(wrong)) == (401, "invalid_client")
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    other = client.post("/token", auth=("who", "demo-secret"), data={"grant_type": "client_credentials"})
    assert (other.status_code, oauth_error(other)) == (401, "invalid_client")
    bare = client.post("/token", data={"grant_type": "client_credentials", "sub": "1001"})
    assert (bare.status_code, oauth_error(bare)) == (401, "invalid_client")
    garbled = client.post("/token", headers={"Authorization": "Basic %%%"}, data={"grant_type": "client_credentials"})
    assert (garbled.status_code, oauth_error(garbled)) == (401, "invalid_client")
    assert "demo-secret" not in wrong.text + other.text


def test_wrong_grant_type_is_400_unsupported_grant_type(sb: Sandbox) -> None:
    answer = form_post(plain(sb), {"grant_type": "password"})
    assert (answer.status_code, oauth_error(answer)) == (400, "unsupported_grant_type")


def test_unknown_or_deactivated_sub_is_400_invalid_grant(sb: Sandbox) -> None:
    client = plain(sb)
    unknown = token(client, sub=424242)
    assert (unknown.status_code, oauth_error(unknown)) == (400, "invalid_grant")
    gone = token(client, sub=1005)  # Old Timer is deactivated
    assert (gone.status_code, oauth_error(gone)) == (400, "invalid_grant")


@pytest.mark.parametrize(
    "data",
    [
        {},  # no grant_type
        {"grant_type": "client_credentials", "sub": "jane"},  # not a user id
        {"grant_type": "client_credentials", "sub": "-1"},
    ],
)
def test_a_malformed_form_is_400_invalid_request(sb: Sandbox, data: dict[str, str]) -> None:
    answer = form_post(plain(sb), data)
    assert (answer.status_code, oauth_error(answer)) == (400, "invalid_request")


def test_a_repeated_parameter_is_400_invalid_request(sb: Sandbox) -> None:
    answer = plain(sb).post("/token", auth=("demo-client", "demo-secret"),
                            content=b"grant_type=client_credentials&sub=1001&sub=1004",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (answer.status_code, oauth_error(answer)) == (400, "invalid_request")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"grant_type": "client_credentials"}', "application/json"),
        (b"grant_type=client_credentials", "text/plain"),
        (b"\xff\xfe=\x00", "application/x-www-form-urlencoded"),
        (b"client_credentials", "application/x-www-form-urlencoded"),
    ],
)
def test_a_body_that_is_not_a_form_is_400_invalid_request(sb: Sandbox, content: bytes, content_type: str) -> None:
    answer = plain(sb).post("/token", auth=("demo-client", "demo-secret"), content=content,
                            headers={"Content-Type": content_type})
    assert (answer.status_code, oauth_error(answer)) == (400, "invalid_request")


def test_token_errors_are_not_cached_and_not_v3_error_bodies(sb: Sandbox) -> None:
    answer = token(plain(sb), sub=424242)
    assert answer.headers["Cache-Control"] == "no-store"
    assert "message" not in answer.json()


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


def test_per_client_revocation_ignores_the_sub(make_client: ClientFactory) -> None:
    as_admin = make_client(sub=ADMIN)
    make_client(sub=None)  # the service user's token, same client
    assert as_admin.get("/v3/departments").status_code == 401


def test_per_subject_revocation_keeps_other_subjects_tokens(seed: dict, clock: FakeClock,
                                                            make_client: ClientFactory) -> None:
    sb = Sandbox(seed, clock=clock.time, options=SandboxOptions(token_revocation="per-subject"))
    as_admin = make_client(sub=ADMIN, sandbox=sb)
    as_service = make_client(sub=None, sandbox=sb)
    as_cto = make_client(sub=1004, sandbox=sb)
    assert [c.get("/v3/departments").status_code for c in (as_admin, as_service, as_cto)] == [200, 200, 200]
    again_admin = make_client(sub=ADMIN, sandbox=sb)
    answer = as_admin.get("/v3/departments")
    assert answer.status_code == 401 and "revoked" in answer.json()["message"]
    assert [c.get("/v3/departments").status_code for c in (again_admin, as_service, as_cto)] == [200, 200, 200]
    explicit_service = make_client(sub=SERVICE, sandbox=sb)  # the service user named explicitly: same subject
    assert as_service.get("/v3/departments").status_code == 401
    assert explicit_service.get("/v3/departments").status_code == 200


def test_an_unknown_revocation_scope_is_refused() -> None:
    with pytest.raises(ValueError, match="token_revocation"):
        SandboxOptions(token_revocation="per-moon")


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


def test_token_without_sub_acts_as_the_clients_site_admin_service_user(make_client: ClientFactory,
                                                                       sb: Sandbox) -> None:
    isu = make_client(sub=None)
    assert [row["id"] for row in isu.get("/v3/departments").json()] == [40, 30, 22, 21, 20, 13, 12, 11, 10]
    created = isu.post("/v3/candidate_tags", json={"name": "From the service user"})
    assert created.status_code == 201
    bulk = isu.post("/v3/users/deactivate/bulk", json={"data": [1003]})
    assert bulk.status_code == 202
    (record,) = isu.get("/v3/bulk_requests").json()
    assert record["requested_by_user_id"] == SERVICE  # the service user is the recorded actor


def test_the_service_user_is_hidden_unless_service_accounts_are_shown(make_client: ClientFactory) -> None:
    isu = make_client(sub=None)
    assert SERVICE not in [u["id"] for u in isu.get("/v3/users").json()]
    shown = isu.get("/v3/users", params={"show_service_accounts": "true", "ids": str(SERVICE)}).json()
    assert [(u["primary_email"], u["site_admin"]) for u in shown] == [("", True)]


def with_service_user(seed: dict[str, Any], spec: Any) -> dict[str, Any]:
    seed["clients"][0]["service_user"] = spec
    return seed


def test_a_non_admin_service_user_sees_empty_lists_and_cannot_write(seed: dict, clock: FakeClock,
                                                                     make_client: ClientFactory) -> None:
    sb = Sandbox(with_service_user(seed, {"id": SERVICE, "site_admin": False}), clock=clock.time)
    isu = make_client(sub=None, sandbox=sb)
    assert isu.get("/v3/departments").json() == []
    assert isu.patch("/v3/departments/10", json={"name": "X"}).status_code == 403
    assert make_client(sub=ADMIN, sandbox=sb).get("/v3/departments").json() != []


def test_a_client_seeded_without_service_user_gets_a_new_site_admin_one(seed: dict, clock: FakeClock) -> None:
    seed["clients"].append({"client_id": "second", "client_secret": "s2"})
    sb = Sandbox(seed, clock=clock.time)
    created = [u for u in sb.rows("users") if u["id"] not in {u["id"] for u in seed["users"]}]
    assert [(u["id"], u["primary_email"], u["site_admin"], u["deactivated"]) for u in created] == [
        (1008, "", True, False)]
    client = plain(sb)
    minted = client.post("/token", auth=("second", "s2"), data={"grant_type": "client_credentials"}).json()
    assert decode(segments(minted["access_token"])[1])["sub"] == "1008"
    client.headers["Authorization"] = f"Bearer {minted['access_token']}"
    assert client.get("/v3/departments").json() != []


def test_an_object_service_user_without_id_takes_the_next_user_id(seed: dict, clock: FakeClock) -> None:
    sb = Sandbox(with_service_user(seed, {"site_admin": False, "first_name": "CI", "last_name": "Bot"}),
                 clock=clock.time)
    (row,) = [u for u in sb.rows("users") if u["id"] == 1008]
    assert (row["name"], row["primary_email"], row["site_admin"]) == ("CI Bot", "", False)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (1001, "not a service account"),
        (4242, "no seeded user"),
        ("1006", "user id or an object"),
        ({"id": 1006, "site_admin": "yes"}, "site_admin"),
        ({"id": 1006, "admin": True}, "unknown field"),
        ({"id": 0}, "positive integer"),
    ],
)
def test_a_bad_service_user_seed_is_a_value_error_naming_it(seed: dict, spec: Any, message: str) -> None:
    with pytest.raises(ValueError, match=r"clients\[0\]\.service_user") as info:
        Sandbox(with_service_user(seed, spec))
    assert message in str(info.value)


def test_a_deactivated_service_user_gets_invalid_grant(make_client: ClientFactory, sb: Sandbox) -> None:
    admin = make_client(sub=ADMIN)
    assert admin.post(f"/v3/users/{SERVICE}/deactivate").status_code == 204
    answer = token(plain(sb), sub=None)
    assert (answer.status_code, oauth_error(answer)) == (400, "invalid_grant")


def test_the_service_user_survives_a_state_round_trip(seed: dict, clock: FakeClock, tmp_path: Path) -> None:
    seed["clients"].append({"client_id": "second", "client_secret": "s2"})
    state = tmp_path / "state.json"
    Sandbox(seed, clock=clock.time, state_path=state).save()
    restarted = Sandbox(None, clock=clock.time, state_path=state)
    assert len([u for u in restarted.rows("users") if u["primary_email"] == ""]) == 2  # no third one created
    client = plain(restarted)
    minted = client.post("/token", auth=("second", "s2"), data={"grant_type": "client_credentials"}).json()
    assert decode(segments(minted["access_token"])[1])["sub"] == "1008"


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
