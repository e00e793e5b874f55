"""Users, user emails and job permissions (reference 2.8, 2.9, 2.10; checklist items 7, 8, 11)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox, SandboxOptions
from tests.sandbox.conftest import ClientFactory, error_fields, ids
from tests.support import FakeClock


def test_create_user_is_basic_active_and_gets_its_email_row(api: httpx.Client, sb: Sandbox) -> None:
    answer = api.post("/v3/users", json={"first_name": "Mo", "last_name": "Ali", "primary_email": "mo@acme.example",
                                         "employee_id": "E-1008", "job_title": "Sourcer", "office_ids": [102],
                                         "department_ids": [20], "send_email_invite": False})
    assert answer.status_code == 201
    user = answer.json()
    assert (user["id"], user["name"], user["site_admin"], user["deactivated"]) == (1008, "Mo Ali", False, False)
    assert (user["emails"], user["office_ids"], user["department_ids"]) == (["mo@acme.example"], [102], [20])
    assert [(e["user_id"], e["email"], e["verified"]) for e in sb.rows("user_emails")][-1] == (1008, "mo@acme.example", True)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"last_name": "A", "primary_email": "a@x.example"}, "first_name"),
        ({"first_name": "A", "primary_email": "a@x.example"}, "last_name"),
        ({"first_name": "A", "last_name": "B"}, "primary_email"),
        ({"first_name": "A", "last_name": "B", "primary_email": "not-an-email"}, "primary_email"),
        ({"first_name": "A", "last_name": "B", "primary_email": "a@x.example", "office_ids": [999]}, "office_ids"),
        ({"first_name": "A", "last_name": "B", "primary_email": "a@x.example", "department_ids": ["x"]}, "department_ids"),
        ({"first_name": "A", "last_name": "B", "primary_email": "a@x.example", "site_admin": True}, "site_admin"),
    ],
)
def test_create_user_validation(api: httpx.Client, body: dict[str, Any], field: str) -> None:
    answer = api.post("/v3/users", json=body)
    assert answer.status_code == 422
    assert error_fields(answer) == [field]


def test_create_user_with_an_email_in_use_is_409_case_insensitively(api: httpx.Client) -> None:
    for email in ("jane.doe@acme.example", "JANE@acme.example"):
        answer = api.post("/v3/users", json={"first_name": "A", "last_name": "B", "primary_email": email})
        assert answer.status_code == 409, email


def test_patch_user_replaces_sets_and_renames(api: httpx.Client) -> None:
    answer = api.patch("/v3/users/1002", json={"first_name": "Janet", "office_ids": [], "department_ids": [10, 20],
                                              "job_title": "Lead Recruiter", "employee_id": None})
    assert answer.status_code == 200
    user = answer.json()
    assert (user["name"], user["office_ids"], user["department_ids"]) == ("Janet Doe", [], [10, 20])
    assert (user["job_title"], user["employee_id"]) == ("Lead Recruiter", None)


@pytest.mark.parametrize("key", ["site_admin", "deactivated"])
def test_patch_user_cannot_change_admin_or_activation(api: httpx.Client, key: str) -> None:
    answer = api.patch("/v3/users/1002", json={key: True})
    assert answer.status_code == 422
    assert error_fields(answer) == [key]


def test_primary_email_moves_only_to_a_verified_address_of_the_same_user(api: httpx.Client, sb: Sandbox) -> None:
    moved = api.patch("/v3/users/1002", json={"primary_email": "jane.doe@acme.example"})
    assert moved.status_code == 200
    assert moved.json()["primary_email"] == "jane.doe@acme.example"
    assert moved.json()["emails"] == ["jane.doe@acme.example", "jane@acme.example"]
    assert api.patch("/v3/users/1002", json={"primary_email": "raj@acme.example"}).status_code == 422
    added = api.post("/v3/user_emails", json={"user_id": 1003, "email": "raj.p@acme.example"})
    assert added.status_code == 201
    unverified = api.patch("/v3/users/1003", json={"primary_email": "raj.p@acme.example"})
    assert unverified.status_code == 422
    assert error_fields(unverified) == ["primary_email"]


def test_user_emails_409_200_and_201(api: httpx.Client) -> None:
    taken = api.post("/v3/user_emails", json={"user_id": 1003, "email": "jane@acme.example"})
    assert taken.status_code == 409
    assert set(taken.json()) == {"message", "errors"}
    created = api.post("/v3/user_emails", json={"user_id": 1003, "email": "raj2@acme.example"})
    assert created.status_code == 201
    assert (created.json()["verified"], created.json()["verification_token_sent_at"]) == (False, None)
    resent = api.post("/v3/user_emails", json={"user_id": 1003, "email": "raj2@acme.example", "send_verification": True})
    assert resent.status_code == 200
    assert resent.json()["id"] == created.json()["id"]
    assert resent.json()["verification_token_sent_at"] is not None
    again = api.post("/v3/user_emails", json={"user_id": 1003, "email": "raj2@acme.example"})
    assert again.status_code == 409
    assert api.post("/v3/user_emails", json={"user_id": 4242, "email": "x@acme.example"}).status_code == 422


def test_sandbox_verify_endpoint_completes_a_primary_email_change(api: httpx.Client) -> None:
    api.post("/v3/user_emails", json={"user_id": 1003, "email": "raj.p@acme.example", "send_verification": True})
    verified = api.post("/_sandbox/verify_email", json={"email": "raj.p@acme.example"})
    assert verified.status_code == 200
    assert verified.json()["verified"] is True
    assert api.get("/v3/users", params={"ids": "1003"}).json()[0]["emails"] == ["raj@acme.example", "raj.p@acme.example"]
    assert api.patch("/v3/users/1003", json={"primary_email": "raj.p@acme.example"}).status_code == 200
    assert api.post("/_sandbox/verify_email", json={"email": "nobody@acme.example"}).status_code == 404


def test_activate_deactivate_are_idempotent_204(api: httpx.Client, sb: Sandbox) -> None:
    for _ in range(2):
        answer = api.post("/v3/users/1003/deactivate")
        assert answer.status_code == 204
        assert answer.content == b""
    assert [u["deactivated"] for u in sb.rows("users") if u["id"] == 1003] == [True]
    assert [g["id"] for g in sb.rows("user_job_permissions") if g["user_id"] == 1003] == [502]  # kept
    for _ in range(2):
        assert api.post("/v3/users/1005/activate").status_code == 204
    assert [u["deactivated"] for u in sb.rows("users") if u["id"] == 1005] == [False]


def test_revoke_permissions_demotes_and_clears_job_permissions(api: httpx.Client, sb: Sandbox) -> None:
    assert api.post("/v3/users/1002/revoke_permissions").status_code == 204
    assert [g for g in sb.rows("user_job_permissions") if g["user_id"] == 1002] == []
    assert [f["id"] for f in sb.rows("future_job_permissions") if f["user_id"] == 1002] == [600]  # untouched
    assert api.post("/v3/users/1004/revoke_permissions").status_code == 204
    assert api.post("/v3/users/1004/revoke_permissions").status_code == 204
    assert [u["site_admin"] for u in sb.rows("users") if u["id"] == 1004] == [False]


def test_job_permission_create_and_delete(api: httpx.Client) -> None:
    answer = api.post("/v3/user_job_permissions", json={"user_id": 1003, "job_id": 402, "role_id": 5})
    assert answer.status_code == 201
    row = answer.json()
    assert (row["id"], row["user_id"], row["job_id"], row["role_id"], row["automated"]) == (505, 1003, 402, 5, False)
    assert 505 in ids(api.get("/v3/user_job_permissions", params={"user_ids": "1003"}))
    assert api.delete("/v3/user_job_permissions/505").status_code == 204
    assert api.delete("/v3/user_job_permissions/505").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_id": 1003, "job_id": 402, "role_id": 1}, "role_id"),  # site_admin role
        ({"user_id": 1003, "job_id": 402, "role_id": 4}, "role_id"),  # deprecated_interviewer
        ({"user_id": 1003, "job_id": 402, "role_id": 99}, "role_id"),
        ({"user_id": 9999, "job_id": 402, "role_id": 2}, "user_id"),
        ({"user_id": 1003, "job_id": 9999, "role_id": 2}, "job_id"),
        ({"user_id": 1003, "job_id": 401, "role_id": 3}, "job_id"),  # duplicate (user, job)
        ({"user_id": 1003, "role_id": 2}, "job_id"),
    ],
)
def test_job_permission_validation(api: httpx.Client, body: dict[str, Any], field: str) -> None:
    answer = api.post("/v3/user_job_permissions", json=body)
    assert answer.status_code == 422
    assert error_fields(answer) == [field]


def test_duplicate_job_permission_can_be_allowed(seed: dict[str, Any], clock: FakeClock,
                                                 make_client: ClientFactory) -> None:
    sb = Sandbox(seed, clock=clock.time, options=SandboxOptions(reject_duplicate_job_permission=False))
    client = make_client(sandbox=sb)
    assert client.post("/v3/user_job_permissions", json={"user_id": 1003, "job_id": 401, "role_id": 3}).status_code == 201


@pytest.mark.parametrize("path", ["/v3/user_job_permissions", "/v3/future_job_permissions"])
def test_grants_to_a_site_admin_are_204_no_ops(api: httpx.Client, sb: Sandbox, path: str) -> None:
    collection = path.split("/")[-1]
    before = sb.rows(collection)
    answer = api.post(path, json={"user_id": 1004, "job_id": 400, "role_id": 2} if "user_job" in path
                      else {"user_id": 1004, "role_id": 2})
    assert answer.status_code == 204
    assert answer.content == b""
    assert sb.rows(collection) == before


def test_future_job_permission_create_by_id_or_external_id(api: httpx.Client) -> None:
    by_id = api.post("/v3/future_job_permissions", json={"user_id": 1003, "role_id": 5, "department_id": 21,
                                                         "office_id": 111})
    assert by_id.status_code == 201
    assert (by_id.json()["department_id"], by_id.json()["office_id"]) == (21, 111)
    by_ext = api.post("/v3/future_job_permissions", json={"user_id": 1007, "role_id": 3,
                                                          "external_department_id": "ENG", "external_office_id": "SF"})
    assert by_ext.status_code == 201
    body = by_ext.json()
    assert (body["department_id"], body["office_id"]) == (10, 101)
    assert "external_department_id" not in body
    everywhere = api.post("/v3/future_job_permissions", json={"user_id": 1003, "role_id": 3})
    assert (everywhere.json()["department_id"], everywhere.json()["office_id"]) == (None, None)
    assert api.delete(f"/v3/future_job_permissions/{body['id']}").status_code == 204


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_id": 1003, "role_id": 2, "department_id": 10, "external_department_id": "ENG"}, "external_department_id"),
        ({"user_id": 1003, "role_id": 2, "office_id": 101, "external_office_id": "SF"}, "external_office_id"),
        ({"user_id": 1003, "role_id": 2, "external_office_id": "NOPE"}, "external_office_id"),
        ({"user_id": 1003, "role_id": 2, "department_id": 999}, "department_id"),
        ({"user_id": 1003, "role_id": 1}, "role_id"),
        ({"user_id": 1003, "role_id": 2, "department_id": 20, "office_id": 102}, "role_id"),  # duplicate of 601
    ],
)
def test_future_job_permission_validation(api: httpx.Client, body: dict[str, Any], field: str) -> None:
    answer = api.post("/v3/future_job_permissions", json=body)
    assert answer.status_code == 422
    assert error_fields(answer) == [field]


def test_read_only_collections_have_no_write_routes(api: httpx.Client) -> None:
    assert api.post("/v3/user_roles", json={"name": "x", "role_type": "job_admin"}).status_code == 404
    assert api.patch("/v3/jobs/400", json={"name": "x"}).status_code == 404
