"""List endpoints: ordering, per_page, Link/cursor pagination, common and per-resource filters
(reference 1.4, 1.6, 1.7 and the "List filters" rows of section 2)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox, SandboxOptions
from tests.sandbox.conftest import ClientFactory, error_fields, ids
from tests.support import FakeClock


def walk(client: httpx.Client, path: str, params: dict[str, Any]) -> tuple[list[int], int]:
    """Follow Link rel=next to the end; returns all ids and the number of requests."""
    answer = client.get(path, params=params)
    seen, calls = ids(answer), 1
    while "next" in answer.links:
        answer = client.get(answer.links["next"]["url"])
        seen += ids(answer)
        calls += 1
    return seen, calls


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v3/departments", [40, 30, 22, 21, 20, 13, 12, 11, 10]),
        ("/v3/offices", [120, 112, 111, 110, 102, 101, 100]),
        ("/v3/candidate_tags", [305, 304, 303, 302, 301, 300]),
        ("/v3/user_roles", [5, 4, 3, 2, 1]),
        ("/v3/custom_field_departments", [701, 700]),
        ("/v3/custom_field_offices", [710]),
        ("/v3/future_job_permissions", [602, 601, 600]),
        ("/v3/user_job_permissions", [504, 503, 502, 501, 500]),
    ],
)
def test_lists_are_bare_arrays_ordered_by_id_descending(api: httpx.Client, path: str, expected: list[int]) -> None:
    answer = api.get(path)
    assert isinstance(answer.json(), list)
    assert ids(answer) == expected
    assert "link" not in answer.headers


def test_list_rows_carry_the_v3_field_set(api: httpx.Client) -> None:
    department = api.get("/v3/departments", params={"ids": "11"}).json()[0]
    assert department == {"id": 11, "name": "Platform", "parent_id": 10, "external_id": "ENG-PLAT",
                          "created_at": "2026-01-15T10:00:00.000Z", "updated_at": "2026-01-15T10:00:00.000Z"}


def many_tags(seed: dict[str, Any], count: int) -> dict[str, Any]:
    seed["candidate_tags"] = [{"id": i, "name": f"tag-{i}"} for i in range(1, count + 1)]
    return seed


def test_per_page_defaults_to_100_and_link_appears_only_when_more_rows_exist(
    seed: dict[str, Any], clock: FakeClock, make_client: ClientFactory
) -> None:
    sb = Sandbox(many_tags(seed, 250), clock=clock.time)
    client = make_client(sandbox=sb)
    first = client.get("/v3/candidate_tags")
    assert ids(first) == list(range(250, 150, -1))
    assert first.links["next"]["url"].startswith("http://127.0.0.1/v3/candidate_tags?cursor=")
    seen, calls = walk(client, "/v3/candidate_tags", {})
    assert seen == list(range(250, 0, -1))
    assert calls == 3
    exact, exact_calls = walk(client, "/v3/candidate_tags", {"per_page": 125})
    assert exact == list(range(250, 0, -1))
    assert exact_calls == 2  # no empty third page


def test_per_page_500_is_allowed(seed: dict[str, Any], clock: FakeClock, make_client: ClientFactory) -> None:
    sb = Sandbox(many_tags(seed, 600), clock=clock.time)
    answer = make_client(sandbox=sb).get("/v3/candidate_tags", params={"per_page": 500})
    assert len(ids(answer)) == 500


@pytest.mark.parametrize("value", ["0", "501", "-1", "ten", ""])
def test_per_page_out_of_bounds_or_not_an_integer_is_422(api: httpx.Client, value: str) -> None:
    answer = api.get("/v3/departments", params={"per_page": value})
    assert answer.status_code == 422
    assert error_fields(answer) == ["per_page"]


def test_link_url_uses_the_request_host_and_scheme(sb: Sandbox) -> None:
    client = httpx.Client(transport=sb.transport(), base_url="https://sandbox.example:8443")
    client.headers["Authorization"] = "Bearer " + client.post(
        "/token", auth=("demo-client", "demo-secret"), data={"grant_type": "client_credentials", "sub": "1001"}
    ).json()["access_token"]
    answer = client.get("/v3/departments", params={"per_page": 2})
    assert answer.links["next"]["url"].startswith("https://sandbox.example:8443/v3/departments?cursor=")


def test_cursor_keeps_filters_and_page_size(api: httpx.Client) -> None:
    seen, calls = walk(api, "/v3/departments", {"parent_id": 10, "per_page": 1})
    assert seen == [13, 11]
    assert calls == 2


def test_cursor_is_opaque_url_safe_base64(api: httpx.Client) -> None:
    link = api.get("/v3/departments", params={"per_page": 2}).links["next"]["url"]
    cursor = link.split("cursor=")[1]
    assert cursor.replace("-", "").replace("_", "").isalnum()


def test_cursor_combined_with_any_other_parameter_is_422(api: httpx.Client) -> None:
    link = api.get("/v3/departments", params={"per_page": 2}).links["next"]["url"]
    for extra in ("&per_page=2", "&parent_id=10", "&ids=10"):
        answer = api.get(link + extra)
        assert answer.status_code == 422, extra


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", "eyJ4IjoxfQ"])
def test_malformed_cursor_is_422(api: httpx.Client, cursor: str) -> None:
    answer = api.get("/v3/departments", params={"cursor": cursor})
    assert answer.status_code == 422
    assert error_fields(answer) == ["cursor"]


def test_cursor_of_another_collection_is_422(api: httpx.Client) -> None:
    link = api.get("/v3/departments", params={"per_page": 2}).links["next"]["url"]
    answer = api.get("/v3/offices", params={"cursor": link.split("cursor=")[1]})
    assert answer.status_code == 422


def test_ids_filter_unknown_ids_and_the_limit_of_50(api: httpx.Client) -> None:
    assert ids(api.get("/v3/departments", params={"ids": "10,12,999"})) == [12, 10]
    assert api.get("/v3/departments", params={"ids": "999"}).json() == []
    assert api.get("/v3/departments", params={"ids": ",".join(str(i) for i in range(1, 51))}).status_code == 200
    too_many = api.get("/v3/departments", params={"ids": ",".join(str(i) for i in range(1, 52))})
    assert too_many.status_code == 422
    assert error_fields(too_many) == ["ids"]
    assert api.get("/v3/departments", params={"ids": "10,x"}).status_code == 422
    assert api.get("/v3/departments", params={"ids": "10,,11"}).status_code == 422


def test_star_ids_filters_are_limited_to_50(api: httpx.Client) -> None:
    many = ",".join(str(i) for i in range(1, 52))
    for path, name in (("/v3/users", "office_ids"), ("/v3/custom_field_options", "custom_field_ids"),
                       ("/v3/user_job_permissions", "job_ids")):
        assert api.get(path, params={name: many}).status_code == 422, path


def test_repeated_id_parameters_are_combined(api: httpx.Client) -> None:
    assert ids(api.get("/v3/departments", params=[("ids", "10"), ("ids", "11")])) == [11, 10]
    assert api.get("/v3/departments", params=[("parent_id", "10"), ("parent_id", "11")]).status_code == 422


def test_date_filters_pipe_and_bracket_forms(api: httpx.Client, clock: FakeClock) -> None:
    clock.advance(10)
    new_id = api.post("/v3/candidate_tags", json={"name": "fresh"}).json()["id"]
    seeded = "2026-01-15T10:00:00.000Z"
    assert ids(api.get("/v3/candidate_tags", params={"created_at": f"gt|{seeded}"})) == [new_id]
    assert ids(api.get("/v3/candidate_tags", params={"created_at[gt]": seeded})) == [new_id]
    assert new_id not in ids(api.get("/v3/candidate_tags", params={"created_at": f"lte|{seeded}"}))
    assert len(ids(api.get("/v3/candidate_tags", params={"updated_at[lte]": seeded}))) == 6
    both = api.get("/v3/candidate_tags", params={"created_at": f"gte|{seeded}|lt|2026-01-15T10:00:00.001Z"})
    assert len(ids(both)) == 6
    bracket_range = api.get("/v3/candidate_tags", params={"created_at[gte]": seeded, "created_at[lte]": seeded})
    assert len(ids(bracket_range)) == 6


@pytest.mark.parametrize("value", ["2024-01-01", "eq|2024-01-01T00:00:00Z", "gte|yesterday", "gte"])
def test_malformed_date_filters_are_422(api: httpx.Client, value: str) -> None:
    assert api.get("/v3/candidate_tags", params={"created_at": value}).status_code == 422


def test_sparse_fieldsets(api: httpx.Client) -> None:
    rows = api.get("/v3/departments", params={"fields": "id,name", "ids": "10"}).json()
    assert rows == [{"id": 10, "name": "Engineering"}]
    assert api.get("/v3/departments", params={"fields": "id,nope"}).status_code == 422
    too_many = ",".join(["id"] * 51)
    assert api.get("/v3/departments", params={"fields": too_many}).status_code == 422


def test_unknown_query_parameter_is_422_unless_configured(
    api: httpx.Client, seed: dict[str, Any], clock: FakeClock, make_client: ClientFactory
) -> None:
    answer = api.get("/v3/departments", params={"name": "Engineering"})
    assert answer.status_code == 422
    assert error_fields(answer) == ["name"]
    lenient = Sandbox(seed, clock=clock.time, options=SandboxOptions(reject_unknown_query_params=False))
    assert len(ids(make_client(sandbox=lenient).get("/v3/departments", params={"name": "x"}))) == 9


FILTER_CASES: list[tuple[str, dict[str, str], list[int]]] = [
    ("/v3/departments", {"parent_id": "10"}, [13, 11]),
    ("/v3/departments", {"external_id": "ENG-INFRA"}, [12]),
    ("/v3/offices", {"parent_id": "110"}, [112, 111]),
    ("/v3/offices", {"external_id": "NYC"}, [102]),
    ("/v3/custom_fields", {}, [208, 207, 206, 205, 204, 203, 202, 201, 200]),
    ("/v3/custom_fields", {"field_type": "offer"}, [203, 202]),
    ("/v3/custom_fields", {"active": "false"}, [208]),
    ("/v3/custom_fields", {"name": "Seniority"}, [201]),
    ("/v3/custom_fields", {"name_key": "badge_number"}, [207]),
    ("/v3/custom_field_options", {"custom_field_ids": "200"}, [2004, 2003, 2002, 2001]),
    ("/v3/custom_field_options", {"custom_field_ids": "200", "active": "true"}, [2003, 2002, 2001]),
    ("/v3/custom_field_options", {"custom_field_key": "employment_type"}, [2023, 2022, 2021]),
    ("/v3/custom_field_options", {"active": "false"}, [2004]),
    ("/v3/custom_field_departments", {"custom_field_ids": "200", "department_ids": "20"}, [701]),
    ("/v3/custom_field_offices", {"office_ids": "101"}, [710]),
    ("/v3/custom_field_offices", {"custom_field_ids": "201"}, []),
    ("/v3/users", {}, [1007, 1005, 1004, 1003, 1002, 1001]),
    ("/v3/users", {"show_service_accounts": "true"}, [1007, 1006, 1005, 1004, 1003, 1002, 1001]),
    ("/v3/users", {"office_ids": "101,111"}, [1007, 1004, 1002]),
    ("/v3/users", {"department_ids": "20"}, [1003]),
    ("/v3/users", {"employee_ids": "E-1002,E-1007"}, [1007, 1002]),
    ("/v3/users", {"deactivated": "true"}, [1005]),
    ("/v3/users", {"primary_email": "cto@acme.example"}, [1004]),
    ("/v3/users", {"agency_ids": "5"}, []),
    ("/v3/users", {"external_office_id": "SF"}, [1004, 1002]),
    ("/v3/user_emails", {"user_ids": "1002"}, [802, 801]),
    ("/v3/user_emails", {"email": "jane.doe@acme.example"}, [802]),
    ("/v3/user_emails", {"verified": "false"}, []),
    ("/v3/user_job_permissions", {"user_ids": "1002"}, [501, 500]),
    ("/v3/user_job_permissions", {"job_ids": "401"}, [502]),
    ("/v3/user_job_permissions", {"role_ids": "3"}, [504]),
    ("/v3/future_job_permissions", {"user_ids": "1003"}, [601]),
    ("/v3/future_job_permissions", {"role_ids": "2", "department_ids": "11"}, [600]),
    ("/v3/future_job_permissions", {"office_ids": "102"}, [601]),
    ("/v3/future_job_permissions", {"external_department_id": "SALES"}, [601]),
    ("/v3/jobs", {}, [406, 405, 404, 403, 402, 401, 400]),
    ("/v3/jobs", {"requisition_id": "REQ-2000"}, [405, 404]),
    ("/v3/jobs", {"department_id": "21"}, [405, 404]),
    ("/v3/jobs", {"office_id": "120"}, [403]),
    ("/v3/jobs", {"status": "draft"}, [406, 405]),
    ("/v3/jobs", {"confidential": "true"}, []),
]


@pytest.mark.parametrize(("path", "params", "expected"), FILTER_CASES)
def test_per_resource_filters(api: httpx.Client, path: str, params: dict[str, str], expected: list[int]) -> None:
    assert ids(api.get(path, params=params)) == expected


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v3/custom_fields", {"field_type": "widget"}),
        ("/v3/custom_fields", {"active": "yes"}),
        ("/v3/jobs", {"status": "open,draft"}),
        ("/v3/departments", {"parent_id": "ten"}),
        ("/v3/users", {"deactivated": "1"}),
    ],
)
def test_bad_filter_values_are_422(api: httpx.Client, path: str, params: dict[str, str]) -> None:
    assert api.get(path, params=params).status_code == 422


def test_confidential_jobs_can_be_shown_by_option(seed: dict[str, Any], clock: FakeClock,
                                                  make_client: ClientFactory) -> None:
    sb = Sandbox(seed, clock=clock.time, options=SandboxOptions(hide_confidential_jobs=False))
    assert ids(make_client(sandbox=sb).get("/v3/jobs", params={"confidential": "true"})) == [407]


def test_inactive_custom_fields_can_be_excluded_by_default(seed: dict[str, Any], clock: FakeClock,
                                                          make_client: ClientFactory) -> None:
    sb = Sandbox(seed, clock=clock.time, options=SandboxOptions(custom_fields_include_inactive=False))
    client = make_client(sandbox=sb)
    assert 208 not in ids(client.get("/v3/custom_fields"))
    assert ids(client.get("/v3/custom_fields", params={"active": "false"})) == [208]


def test_site_admin_rows_never_appear_in_user_job_permissions(seed: dict[str, Any], clock: FakeClock,
                                                               make_client: ClientFactory) -> None:
    seed["user_job_permissions"].append({"id": 505, "user_id": 1004, "job_id": 400, "role_id": 2})
    sb = Sandbox(seed, clock=clock.time)
    assert 505 not in ids(make_client(sandbox=sb).get("/v3/user_job_permissions"))
    assert [r["id"] for r in sb.rows("user_job_permissions")][-1] == 505


def test_unknown_list_route_is_404_with_error_body(api: httpx.Client) -> None:
    answer = api.get("/v3/widgets")
    assert answer.status_code == 404
    assert set(answer.json()) == {"message", "errors"}
    assert api.get("/v3/departments/10").status_code == 404  # no per-id GET in v3


def with_values(seed: dict[str, Any]) -> dict[str, Any]:
    """Custom-field values and interviewer tags on some jobs and users (the demo seed has none)."""
    jobs = {j["id"]: j for j in seed["jobs"]}
    jobs[400]["custom_fields"] = {"cost_center": {"name": "Cost Center", "type": "single_select",
                                                  "value": "100 - Platform"}}
    jobs[401]["custom_fields"] = {"cost_center": {"name": "Cost Center", "type": "single_select", "value": 2001}}
    jobs[402]["custom_fields"] = {"cost_center": {"name": "Cost Center", "type": "single_select",
                                                  "value": {"id": 2002, "name": "200 Sales"}}}
    jobs[403]["custom_fields"] = {"seniority": {"name": "Seniority", "type": "single_select", "value": "Senior"}}
    users = {u["id"]: u for u in seed["users"]}
    users[1002]["interviewer_tags"] = [{"id": 1, "name": "Python"}, {"id": 2, "name": "Systems"}]
    users[1003]["interviewer_tags"] = [{"id": 3, "name": "Sales"}]
    users[1002]["custom_fields"] = {"languages": {"name": "Languages", "type": "multi_select",
                                                  "value": ["German", "French"]}}
    users[1007]["custom_fields"] = {"languages": {"name": "Languages", "type": "multi_select", "value": [2061]}}
    return seed


DOCUMENTED_FILTER_CASES: list[tuple[str, dict[str, str], list[int]]] = [
    ("/v3/jobs", {"custom_field_option_id": "2001"}, [401, 400]),  # by option id or by option name
    ("/v3/jobs", {"custom_field_option_id": "2002"}, [402]),  # an {id, name} value
    ("/v3/jobs", {"custom_field_option_id": "2013"}, [403]),
    ("/v3/jobs", {"custom_field_option_id": "2003"}, []),
    ("/v3/jobs", {"custom_field_option_id": "999999"}, []),  # unknown option: nothing matches [inferred]
    ("/v3/jobs", {"custom_field_option_id": "2001", "status": "open"}, [401, 400]),
    ("/v3/users", {"custom_field_option_id": "2062"}, [1002]),  # multi-select: any value counts
    ("/v3/users", {"custom_field_option_id": "2061"}, [1007]),
    ("/v3/users", {"interviewer_tag_ids": "2"}, [1002]),
    ("/v3/users", {"interviewer_tag_ids": "1,3"}, [1003, 1002]),
    ("/v3/users", {"interviewer_tag_ids": "9"}, []),
]


@pytest.mark.parametrize(("path", "params", "expected"), DOCUMENTED_FILTER_CASES)
def test_documented_filters_custom_field_option_and_interviewer_tags(
    seed: dict[str, Any], clock: FakeClock, make_client: ClientFactory, path: str, params: dict[str, str],
    expected: list[int],
) -> None:
    client = make_client(sandbox=Sandbox(with_values(seed), clock=clock.time))
    assert ids(client.get(path, params=params)) == expected


def test_repeated_interviewer_tag_ids_are_combined(seed: dict[str, Any], clock: FakeClock,
                                                   make_client: ClientFactory) -> None:
    client = make_client(sandbox=Sandbox(with_values(seed), clock=clock.time))
    assert ids(client.get("/v3/users", params=[("interviewer_tag_ids", "1"), ("interviewer_tag_ids", "3")])) == [
        1003, 1002]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v3/jobs", {"custom_field_option_id": "x"}),
        ("/v3/users", {"custom_field_option_id": "2001,2002"}),  # one integer
        ("/v3/users", {"interviewer_tag_ids": "1,,2"}),
        ("/v3/users", {"interviewer_tag_ids": ",".join(str(i) for i in range(1, 52))}),
    ],
)
def test_bad_values_of_the_added_filters_are_422(api: httpx.Client, path: str, params: dict[str, str]) -> None:
    answer = api.get(path, params=params)
    assert answer.status_code == 422
    assert error_fields(answer) == list(params)


INDEX_FILTERS = {
    # Every filter the reference names for the emulated list endpoints (harvest-v3-api.md section 2, [spec]).
    "/v3/departments": {"parent_id": "10", "external_id": "ENG"},
    "/v3/offices": {"parent_id": "110", "external_id": "SF"},
    "/v3/custom_fields": {"field_type": "job", "active": "true", "name": "Seniority", "name_key": "seniority"},
    "/v3/custom_field_options": {"custom_field_ids": "200", "custom_field_key": "cost_center", "active": "true"},
    "/v3/custom_field_departments": {"custom_field_ids": "200", "department_ids": "20"},
    "/v3/custom_field_offices": {"custom_field_ids": "200", "office_ids": "101"},
    "/v3/users": {"agency_ids": "1", "office_ids": "101", "department_ids": "20", "linked_candidate_ids": "1",
                  "interviewer_tag_ids": "1", "employee_ids": "E-1002", "custom_field_option_id": "2001",
                  "deactivated": "false", "primary_email": "jane@acme.example", "external_office_id": "SF",
                  "external_department_id": "ENG", "show_service_accounts": "true"},
    "/v3/user_emails": {"user_ids": "1002", "email": "jane@acme.example", "verified": "true",
                        "verification_token_sent_at": "gte|2020-01-01T00:00:00Z"},
    "/v3/user_job_permissions": {"job_ids": "400", "user_ids": "1002", "role_ids": "2"},
    "/v3/future_job_permissions": {"user_ids": "1002", "role_ids": "2", "department_ids": "11", "office_ids": "101",
                                   "external_department_id": "ENG", "external_office_id": "SF"},
    "/v3/jobs": {"opened_at": "gte|2020-01-01T00:00:00Z", "closed_at": "lte|2030-01-01T00:00:00Z",
                 "requisition_id": "REQ-1", "department_id": "10", "office_id": "101",
                 "custom_field_option_id": "2001", "confidential": "false", "status": "open"},
}


@pytest.mark.parametrize(("path", "name", "value"),
                         [(p, n, v) for p, filters in INDEX_FILTERS.items() for n, v in filters.items()])
def test_every_documented_filter_is_accepted(api: httpx.Client, path: str, name: str, value: str) -> None:
    answer = api.get(path, params={name: value})
    assert answer.status_code == 200, answer.text
    assert isinstance(answer.json(), list)
