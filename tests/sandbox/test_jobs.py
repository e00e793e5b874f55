"""POST /v3/jobs (reference 2.11) and the automated user_job_permissions that future job permissions
grant on every new job (reference 2.10); the duplicate-grant rules of POST /v3/user_job_permissions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox, SandboxOptions
from tests.sandbox.conftest import BASIC, ClientFactory, error_fields
from tests.support import FakeClock

TEMPLATE = 406  # "Template: Engineer", department 10, no offices


def new_job(api: httpx.Client, **body: Any) -> dict[str, Any]:
    answer = api.post("/v3/jobs", json={"template_job_id": TEMPLATE, "number_of_openings": 1, **body})
    assert answer.status_code == 201, answer.text
    job: dict[str, Any] = answer.json()
    return job


def grants_on(sb: Sandbox, job_id: int) -> list[tuple[int, int, bool]]:
    return sorted((g["user_id"], g["role_id"], g["automated"]) for g in sb.rows("user_job_permissions")
                  if g["job_id"] == job_id)


def test_create_job_by_ids(api: httpx.Client) -> None:
    job = new_job(api, number_of_openings=2, job_name="Backend Engineer", requisition_id="REQ-3000",
                  department_id=11, office_ids=[101, 120])
    assert {k: job[k] for k in ("name", "requisition_id", "status", "department_id", "office_ids", "copied_from_id",
                                "is_template", "confidential")} == {
        "name": "Backend Engineer", "requisition_id": "REQ-3000", "status": "draft", "department_id": 11,
        "office_ids": [101, 120], "copied_from_id": TEMPLATE, "is_template": False, "confidential": False}
    assert job["id"] == 408
    assert job["id"] in [j["id"] for j in api.get("/v3/jobs").json()]


def test_create_job_by_external_ids(api: httpx.Client) -> None:
    job = new_job(api, name="Platform SRE", external_department_id="ENG-PLAT", external_office_ids=["SF", "LDN"])
    assert (job["name"], job["department_id"], job["office_ids"]) == ("Platform SRE", 11, [101, 111])
    assert "external_department_id" not in job


def test_department_and_offices_default_to_the_templates(api: httpx.Client) -> None:
    job = new_job(api)
    assert (job["name"], job["department_id"], job["office_ids"]) == ("Copy of Template: Engineer", 10, [])
    assert new_job(api, department_id=None)["department_id"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"number_of_openings": 1}, "template_job_id"),
        ({"template_job_id": TEMPLATE}, "number_of_openings"),
        ({"template_job_id": TEMPLATE, "number_of_openings": 0}, "number_of_openings"),
        ({"template_job_id": TEMPLATE, "number_of_openings": "2"}, "number_of_openings"),
        ({"template_job_id": 9999, "number_of_openings": 1}, "template_job_id"),
        ({"template_job_id": TEMPLATE, "number_of_openings": 1, "department_id": 11,
          "external_department_id": "ENG-PLAT"}, "external_department_id"),
        ({"template_job_id": TEMPLATE, "number_of_openings": 1, "office_ids": [101],
          "external_office_ids": ["SF"]}, "external_office_ids"),
        ({"template_job_id": TEMPLATE, "number_of_openings": 1, "department_id": 999}, "department_id"),
        ({"template_job_id": TEMPLATE, "number_of_openings": 1, "external_department_id": "NOPE"},
         "external_department_id"),
        ({"template_job_id": TEMPLATE, "number_of_openings": 1, "office_ids": [101, 999]}, "office_ids"),
        ({"template_job_id": TEMPLATE, "number_of_openings": 1, "external_office_ids": ["SF", "NOPE"]},
         "external_office_ids"),
        ({"template_job_id": TEMPLATE, "number_of_openings": 1, "office_ids": "101"}, "office_ids"),
        ({"template_job_id": TEMPLATE, "number_of_openings": 1, "job_name": "A", "name": "B"}, "name"),
        ({"template_job_id": TEMPLATE, "number_of_openings": 1, "opening_ids": ["o-1", "o-2"]}, "opening_ids"),
        ({"template_job_id": TEMPLATE, "number_of_openings": 1, "confidential": True}, "confidential"),
        ({"template_job_id": TEMPLATE, "number_of_openings": 1, "status": "open"}, "status"),
    ],
)
def test_create_job_validation(api: httpx.Client, sb: Sandbox, body: dict[str, Any], field: str) -> None:
    before = sb.rows("jobs"), sb.rows("user_job_permissions")
    answer = api.post("/v3/jobs", json=body)
    assert answer.status_code == 422, answer.text
    assert error_fields(answer) == [field]
    assert (sb.rows("jobs"), sb.rows("user_job_permissions")) == before


def test_confidential_is_refused_even_when_unknown_keys_are_tolerated(
    seed: dict[str, Any], clock: FakeClock, make_client: ClientFactory
) -> None:
    sb = Sandbox(seed, clock=clock.time, options=SandboxOptions(reject_unknown_body_keys=False))
    answer = make_client(sandbox=sb).post("/v3/jobs", json={"template_job_id": TEMPLATE, "number_of_openings": 1,
                                                            "confidential": True})
    assert answer.status_code == 422
    assert error_fields(answer) == ["confidential"]


def test_creating_a_job_needs_a_site_admin(make_client: ClientFactory, sb: Sandbox) -> None:
    jane = make_client(sub=BASIC)
    assert jane.post("/v3/jobs", json={"template_job_id": TEMPLATE, "number_of_openings": 1}).status_code == 403
    assert len(sb.rows("jobs")) == 8


# Seeded future job permissions: 600 = user 1002 in department 11; 601 = user 1003 in department 20 and
# office 102; 602 = user 1007 everywhere. Added below: user 1005 (deactivated) everywhere.
@pytest.mark.parametrize(
    ("department", "offices", "users"),
    [
        (11, [101], [1002, 1007]),  # 600 by department, 602 everywhere
        (20, [102], [1003, 1007]),  # 601 needs both department 20 and office 102
        (20, [101, 102], [1003, 1007]),  # a multi-office job matches any of its offices
        (20, [101], [1007]),  # 601: right department, wrong office
        (12, [], [1007]),  # 600 is scoped to department 11 only
        (None, [], [1007]),
    ],
)
def test_new_jobs_get_automated_grants_from_matching_future_permissions(
    seed: dict[str, Any], clock: FakeClock, make_client: ClientFactory, department: int | None, offices: list[int],
    users: list[int]
) -> None:
    seed["future_job_permissions"].append({"id": 603, "user_id": 1005, "role_id": 3, "department_id": None,
                                           "office_id": None})
    sb = Sandbox(seed, clock=clock.time)
    api = make_client(sandbox=sb)
    job = new_job(api, department_id=department, office_ids=offices)
    assert grants_on(sb, job["id"]) == [(user, 2, True) for user in users]
    listed = api.get("/v3/user_job_permissions", params={"job_ids": str(job["id"])}).json()
    assert sorted(g["user_id"] for g in listed) == users
    assert {g["automated"] for g in listed} == {True}


def test_external_id_forms_scope_the_grants_the_same_way(api: httpx.Client, sb: Sandbox) -> None:
    job = new_job(api, external_department_id="SALES", external_office_ids=["NYC"])
    assert grants_on(sb, job["id"]) == [(1003, 2, True), (1007, 2, True)]


def test_deleting_a_future_permission_keeps_the_grants_it_made(api: httpx.Client, sb: Sandbox) -> None:
    first = new_job(api, department_id=11)
    assert api.delete("/v3/future_job_permissions/600").status_code == 204
    assert grants_on(sb, first["id"]) == [(1002, 2, True), (1007, 2, True)]
    second = new_job(api, department_id=11)
    assert grants_on(sb, second["id"]) == [(1007, 2, True)]


def test_grants_made_by_hand_are_not_automated_and_seeds_may_hold_automated_rows(
    seed: dict[str, Any], clock: FakeClock, make_client: ClientFactory
) -> None:
    seed["user_job_permissions"].append({"id": 510, "user_id": 1003, "job_id": 404, "role_id": 2, "automated": True})
    sb = Sandbox(seed, clock=clock.time)
    api = make_client(sandbox=sb)
    made = api.post("/v3/user_job_permissions", json={"user_id": 1003, "job_id": 402, "role_id": 5})
    assert made.status_code == 201
    assert made.json()["automated"] is False
    listed = {g["id"]: g["automated"] for g in api.get("/v3/user_job_permissions", params={"user_ids": "1003"}).json()}
    assert listed == {made.json()["id"]: False, 510: True, 502: False}


@pytest.mark.parametrize("reject", [True, False])
def test_two_future_permissions_of_one_user_on_one_new_job(
    seed: dict[str, Any], clock: FakeClock, make_client: ClientFactory, reject: bool
) -> None:
    seed["future_job_permissions"] += [
        {"id": 610, "user_id": 1002, "role_id": 2, "department_id": None, "office_id": 101},  # same role as 600
        {"id": 611, "user_id": 1002, "role_id": 5, "department_id": None, "office_id": None},  # another role
    ]
    sb = Sandbox(seed, clock=clock.time, options=SandboxOptions(reject_duplicate_job_permission=reject))
    job = new_job(make_client(sandbox=sb), department_id=11, office_ids=[101])
    mine = [(role, automated) for user, role, automated in grants_on(sb, job["id"]) if user == 1002]
    assert mine == ([(2, True)] if reject else [(2, True), (5, True)])


@pytest.mark.parametrize("reject", [True, False])
def test_the_very_same_grant_twice_is_always_422_saying_already(
    seed: dict[str, Any], clock: FakeClock, make_client: ClientFactory, reject: bool
) -> None:
    sb = Sandbox(seed, clock=clock.time, options=SandboxOptions(reject_duplicate_job_permission=reject))
    api = make_client(sandbox=sb)
    before = sb.rows("user_job_permissions")
    answer = api.post("/v3/user_job_permissions", json={"user_id": 1002, "job_id": 400, "role_id": 2})  # = row 500
    assert answer.status_code == 422
    assert "already" in answer.json()["message"]
    automated = new_job(api, department_id=11)  # 1002 gets role 2 automatically
    again = api.post("/v3/user_job_permissions", json={"user_id": 1002, "job_id": automated["id"], "role_id": 2})
    assert again.status_code == 422
    assert "already" in again.json()["message"]
    assert len(sb.rows("user_job_permissions")) == len(before) + 2  # only the two automated grants


@pytest.mark.parametrize(("reject", "status"), [(True, 422), (False, 201)])
def test_another_role_on_the_same_user_and_job_follows_the_option(
    seed: dict[str, Any], clock: FakeClock, make_client: ClientFactory, reject: bool, status: int
) -> None:
    sb = Sandbox(seed, clock=clock.time, options=SandboxOptions(reject_duplicate_job_permission=reject))
    answer = make_client(sandbox=sb).post("/v3/user_job_permissions", json={"user_id": 1002, "job_id": 400,
                                                                            "role_id": 3})
    assert answer.status_code == status
    if reject:
        assert "already" in answer.json()["message"]
    roles = sorted(g["role_id"] for g in sb.rows("user_job_permissions") if (g["user_id"], g["job_id"]) == (1002, 400))
    assert roles == ([2] if reject else [2, 3])
