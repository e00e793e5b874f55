"""Departments, offices, candidate tags, and the rules every write shares (reference 1.4, 1.9,
2.1, 2.2, 2.6): JSON-only bodies, error shape, 404 for unknown ids and missing routes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox, SandboxOptions
from tests.sandbox.conftest import ClientFactory, error_fields
from tests.support import FakeClock


def test_create_department_returns_201_and_the_object(api: httpx.Client, sb: Sandbox, clock: FakeClock) -> None:
    answer = api.post("/v3/departments", json={"name": "Security", "external_id": "SEC", "parent_id": 10})
    assert answer.status_code == 201
    body = answer.json()
    assert body == {"id": 41, "name": "Security", "parent_id": 10, "external_id": "SEC",
                    "created_at": "2027-01-15T08:00:00.000Z", "updated_at": "2027-01-15T08:00:00.000Z"}
    assert sb.rows("departments")[-1] == body


def test_create_department_by_external_parent_id_resolves_it(api: httpx.Client) -> None:
    body = api.post("/v3/departments", json={"name": "Inside Sales", "external_parent_id": "SALES"}).json()
    assert body["parent_id"] == 20
    assert "external_parent_id" not in body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": 5}, "name"),
        ({"name": "X", "parent_id": 999}, "parent_id"),
        ({"name": "X", "external_parent_id": "NOPE"}, "external_parent_id"),
        ({"name": "X", "parent_id": 10, "external_parent_id": "ENG"}, "external_parent_id"),
        ({"name": "X", "external_id": "ENG"}, "external_id"),
        ({"name": "X", "colour": "red"}, "colour"),
    ],
)
def test_create_department_validation_is_422_naming_the_field(api: httpx.Client, sb: Sandbox,
                                                               body: dict[str, Any], field: str) -> None:
    answer = api.post("/v3/departments", json=body)
    assert answer.status_code == 422
    assert error_fields(answer) == [field]
    assert len(sb.rows("departments")) == 9


def test_patch_department_changes_only_what_is_sent(api: httpx.Client, clock: FakeClock) -> None:
    clock.advance(5)
    answer = api.patch("/v3/departments/12", json={"name": "Infra"})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["name"], body["parent_id"], body["external_id"]) == ("Infra", 11, "ENG-INFRA")
    assert body["updated_at"] == "2027-01-15T08:00:05.000Z"
    assert body["created_at"] == "2026-01-15T10:00:00.000Z"


def test_patch_department_reparent_to_top_level_and_by_external_id(api: httpx.Client) -> None:
    assert api.patch("/v3/departments/12", json={"parent_id": None}).json()["parent_id"] is None
    assert api.patch("/v3/departments/12", json={"external_parent_id": "PPL"}).json()["parent_id"] == 30


def test_patch_department_refuses_cycles(api: httpx.Client) -> None:
    for parent in (10, 12):  # itself, and its own grandchild
        answer = api.patch("/v3/departments/10", json={"parent_id": parent})
        assert answer.status_code == 422
        assert error_fields(answer) == ["parent_id"]


def test_unknown_ids_in_the_path_are_404(api: httpx.Client) -> None:
    for method, path in (("PATCH", "/v3/departments/999"), ("PATCH", "/v3/offices/999"),
                         ("DELETE", "/v3/candidate_tags/999"), ("PATCH", "/v3/users/999"),
                         ("POST", "/v3/users/999/activate"), ("DELETE", "/v3/custom_field_offices/999")):
        answer = api.request(method, path, json={"name": "x"} if method == "PATCH" else None)
        assert answer.status_code == 404, path
        assert set(answer.json()) == {"message", "errors"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/v3/departments/10"), ("DELETE", "/v3/offices/100"), ("DELETE", "/v3/users/1002"),
     ("PATCH", "/v3/candidate_tags/300"), ("PATCH", "/v3/user_job_permissions/500"),
     ("POST", "/v3/user_roles"), ("PATCH", "/v3/jobs/400"), ("POST", "/v3/departments/bulk"), ("PUT", "/v3/departments/10")],
)
def test_routes_that_do_not_exist_are_404_with_error_body(api: httpx.Client, sb: Sandbox, method: str,
                                                          path: str) -> None:
    before = sb.rows("departments"), sb.rows("users"), sb.rows("offices")
    answer = api.request(method, path)
    assert answer.status_code == 404
    assert set(answer.json()) == {"message", "errors"}
    assert (sb.rows("departments"), sb.rows("users"), sb.rows("offices")) == before


def test_non_json_write_is_415_and_malformed_json_400(api: httpx.Client, sb: Sandbox) -> None:
    form = api.post("/v3/candidate_tags", data={"name": "x"})
    assert form.status_code == 415
    text = api.post("/v3/candidate_tags", content=b'{"name": "x"}', headers={"Content-Type": "text/plain"})
    assert text.status_code == 415
    broken = api.post("/v3/candidate_tags", content=b'{"name": ', headers={"Content-Type": "application/json"})
    assert broken.status_code == 400
    assert set(broken.json()) == {"message", "errors"}
    assert len(sb.rows("candidate_tags")) == 6


def test_json_with_charset_is_accepted(api: httpx.Client) -> None:
    answer = api.post("/v3/candidate_tags", content=b'{"name": "utf"}',
                      headers={"Content-Type": "application/json; charset=utf-8"})
    assert answer.status_code == 201


def test_non_object_or_empty_body_is_422(api: httpx.Client) -> None:
    assert api.post("/v3/candidate_tags", json=["x"]).status_code == 422
    assert api.post("/v3/candidate_tags").status_code == 422


def test_unknown_body_keys_can_be_allowed_by_option(seed: dict[str, Any], clock: FakeClock,
                                                    make_client: ClientFactory) -> None:
    sb = Sandbox(seed, clock=clock.time, options=SandboxOptions(reject_unknown_body_keys=False))
    answer = make_client(sandbox=sb).post("/v3/departments", json={"name": "X", "colour": "red"})
    assert answer.status_code == 201
    assert "colour" not in answer.json()


def test_offices_create_and_patch_with_location_and_contact(api: httpx.Client) -> None:
    created = api.post("/v3/offices", json={"name": "Paris", "location": "Paris, FR", "external_parent_id": "EU",
                                            "external_id": "PAR", "primary_in_house_contact_user_id": 1007})
    assert created.status_code == 201
    body = created.json()
    assert (body["id"], body["parent_id"], body["location"], body["primary_in_house_contact_user_id"]) == (
        121, 110, "Paris, FR", 1007)
    patched = api.patch("/v3/offices/121", json={"location": None, "primary_in_house_contact_user_id": None})
    assert patched.status_code == 200
    assert (patched.json()["location"], patched.json()["primary_in_house_contact_user_id"]) == (None, None)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/v3/offices", {"name": "London"}, "name"),
        ("PATCH", "/v3/offices/112", {"name": "London"}, "name"),
        ("POST", "/v3/offices", {"name": "X", "primary_in_house_contact_user_id": 4242}, "primary_in_house_contact_user_id"),
        ("POST", "/v3/offices", {"name": "X", "parent_id": 100, "external_parent_id": "EU"}, "external_parent_id"),
        ("PATCH", "/v3/offices/100", {"parent_id": 101}, "parent_id"),
    ],
)
def test_office_validation(api: httpx.Client, method: str, path: str, body: dict[str, Any], field: str) -> None:
    answer = api.request(method, path, json=body)
    assert answer.status_code == 422
    assert error_fields(answer) == [field]


def test_renaming_an_office_to_its_own_name_is_fine(api: httpx.Client) -> None:
    assert api.patch("/v3/offices/111", json={"name": "London"}).status_code == 200


def test_candidate_tags_create_and_duplicates_are_case_sensitive(api: httpx.Client, sb: Sandbox) -> None:
    duplicate = api.post("/v3/candidate_tags", json={"name": "Referral"})
    assert duplicate.status_code == 422
    assert error_fields(duplicate) == ["name"]
    other_case = api.post("/v3/candidate_tags", json={"name": "referral"})
    assert other_case.status_code == 201
    assert other_case.json()["name"] == "referral"
    assert api.post("/v3/candidate_tags", json={"name": " "}).status_code == 422


def test_candidate_tag_delete_is_204_and_permanent(api: httpx.Client, sb: Sandbox) -> None:
    answer = api.delete("/v3/candidate_tags/304")
    assert answer.status_code == 204
    assert answer.content == b""
    assert 304 not in [r["id"] for r in sb.rows("candidate_tags")]
    assert api.delete("/v3/candidate_tags/304").status_code == 404


def test_new_ids_are_never_reused(api: httpx.Client) -> None:
    first = api.post("/v3/candidate_tags", json={"name": "a"}).json()["id"]
    assert api.delete(f"/v3/candidate_tags/{first}").status_code == 204
    second = api.post("/v3/candidate_tags", json={"name": "b"}).json()["id"]
    assert (first, second) == (306, 307)


def test_writes_are_logged_with_parsed_bodies(api: httpx.Client, sb: Sandbox) -> None:
    sb.clear_log()
    api.get("/v3/departments", params={"per_page": 2})
    api.post("/v3/candidate_tags", json={"name": "logged"})
    api.patch("/v3/departments/12", json={"name": "Infra"})
    assert [(r.method, r.path, r.status, r.body) for r in sb.writes()] == [
        ("POST", "/v3/candidate_tags", 201, {"name": "logged"}),
        ("PATCH", "/v3/departments/12", 200, {"name": "Infra"}),
    ]
    assert sb.log[0].query == {"per_page": "2"}
    assert sb.log[0].body is None
