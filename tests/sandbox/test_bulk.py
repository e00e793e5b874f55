"""Bulk endpoints and /v3/bulk_requests (reference 1.10): 202 + uuid, row-by-row processing with
the single endpoint's validation, deterministic completion on polling, result files."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox, SandboxOptions
from tests.sandbox.conftest import BASIC, ClientFactory, error_fields, ids
from tests.support import FakeClock


def submit(api: httpx.Client, method: str, path: str, data: list[Any]) -> str:
    answer = api.request(method, path, json={"data": data})
    assert answer.status_code == 202, answer.text
    assert set(answer.json()) == {"bulk_action_uuid"}
    return str(answer.json()["bulk_action_uuid"])


def test_rows_are_applied_on_the_second_poll_with_per_row_failures(api: httpx.Client, sb: Sandbox) -> None:
    uuid = submit(api, "POST", "/v3/custom_field_options/bulk", [
        {"custom_field_id": 201, "name": "Principal"},
        {"custom_field_id": 200, "name": "900 - Legacy"},  # archived name: 422 like the single endpoint
        {"custom_field_id": 206, "name": "Dutch", "sort_order": 9},
    ])
    assert len(sb.rows("custom_field_options")) == 15  # nothing applied yet
    first = api.get(f"/v3/bulk_requests/{uuid}").json()
    assert (first["status"], first["record_count"], first["success_count"]) == ("in_progress", 3, 0)
    assert first["success_results_url"] is None
    second = api.get(f"/v3/bulk_requests/{uuid}").json()
    assert (second["status"], second["success_count"], second["failure_count"]) == ("completed", 2, 1)
    assert second["api_endpoint"] == "POST /v3/custom_field_options/bulk"
    assert second["requested_by_user_id"] == 1001
    assert second["results_urls_expire_in"] == 300
    names = [o["name"] for o in sb.rows("custom_field_options")]
    assert names[-2:] == ["Principal", "Dutch"]
    failures = api.get(second["failure_results_url"]).json()
    assert [(f["index"], f["status"], f["data"]["name"]) for f in failures] == [(1, 422, "900 - Legacy")]
    assert "reactivate" in failures[0]["message"]
    successes = api.get(second["success_results_url"]).json()
    assert [(s["index"], s["status"]) for s in successes] == [(0, 201), (2, 201)]


def test_completed_requests_stay_completed(api: httpx.Client) -> None:
    uuid = submit(api, "PATCH", "/v3/departments/bulk", [{"id": 13, "name": "Product Eng"}])
    statuses = [api.get(f"/v3/bulk_requests/{uuid}").json()["status"] for _ in range(4)]
    assert statuses == ["in_progress", "completed", "completed", "completed"]


def test_immediate_completion_option(seed: dict[str, Any], clock: FakeClock, make_client: ClientFactory) -> None:
    sb = Sandbox(seed, clock=clock.time, options=SandboxOptions(bulk_polls_before_completion=0))
    client = make_client(sandbox=sb)
    uuid = submit(client, "PATCH", "/v3/offices/bulk", [{"id": 112, "location": "Berlin, DE"}])
    assert [o["location"] for o in sb.rows("offices") if o["id"] == 112] == ["Berlin, DE"]
    assert client.get(f"/v3/bulk_requests/{uuid}").json()["status"] == "completed"


@pytest.mark.parametrize(
    ("method", "path", "data", "check"),
    [
        ("PATCH", "/v3/departments/bulk", [{"id": 12, "name": "Infra"}, {"id": 999, "name": "x"}, {"name": "no id"}],
         ("departments", 12, "name", "Infra")),
        ("PATCH", "/v3/offices/bulk", [{"id": 120, "location": "Anywhere"}, {"id": 111, "name": "Berlin"}],
         ("offices", 120, "location", "Anywhere")),
        ("PATCH", "/v3/custom_field_options/bulk", [{"id": 2013, "sort_order": 1}, {"id": 2013, "custom_field_id": 1}],
         ("custom_field_options", 2013, "sort_order", 1)),
        ("DELETE", "/v3/custom_field_options/bulk", [2061, 99999], ("custom_field_options", 2061, "active", False)),
        ("POST", "/v3/users/bulk", [{"first_name": "A", "last_name": "B", "primary_email": "ab@acme.example"},
                                    {"first_name": "C", "last_name": "D", "primary_email": "jane@acme.example"}],
         ("users", 1008, "primary_email", "ab@acme.example")),
        ("PATCH", "/v3/users/bulk", [{"id": 1003, "job_title": "Lead"}, {"id": 1003, "site_admin": True}],
         ("users", 1003, "job_title", "Lead")),
        ("POST", "/v3/users/deactivate/bulk", [1003, 4242], ("users", 1003, "deactivated", True)),
        ("POST", "/v3/users/activate/bulk", [1005, "x"], ("users", 1005, "deactivated", False)),
        ("POST", "/v3/users/revoke_permissions/bulk", [1004, 0], ("users", 1004, "site_admin", False)),
    ],
)
def test_every_bulk_endpoint_applies_good_rows_and_reports_bad_ones(
    api: httpx.Client, sb: Sandbox, method: str, path: str, data: list[Any], check: tuple[str, int, str, Any]
) -> None:
    uuid = submit(api, method, path, data)
    api.get(f"/v3/bulk_requests/{uuid}")
    done = api.get(f"/v3/bulk_requests/{uuid}").json()
    assert (done["status"], done["success_count"], done["failure_count"]) == ("completed", 1, len(data) - 1)
    collection, row_id, field, value = check
    assert [r[field] for r in sb.rows(collection) if r["id"] == row_id] == [value]


def test_revoke_bulk_clears_job_permissions_like_the_single_endpoint(api: httpx.Client, sb: Sandbox) -> None:
    uuid = submit(api, "POST", "/v3/users/revoke_permissions/bulk", [1002, 1003])
    api.get(f"/v3/bulk_requests/{uuid}")
    api.get(f"/v3/bulk_requests/{uuid}")
    assert {g["user_id"] for g in sb.rows("user_job_permissions")} == {1005, 1007}


@pytest.mark.parametrize("body", [{}, {"data": []}, {"data": {"id": 1}}, {"data": [1], "extra": True}])
def test_bad_bulk_envelope_is_422_and_records_nothing(api: httpx.Client, sb: Sandbox, body: dict[str, Any]) -> None:
    answer = api.post("/v3/users/activate/bulk", json=body)
    assert answer.status_code == 422
    assert sb.rows("bulk_requests") == []


def test_bulk_cap_is_enforced(api: httpx.Client) -> None:
    answer = api.post("/v3/users/activate/bulk", json={"data": list(range(101))})
    assert answer.status_code == 422
    assert error_fields(answer) == ["data"]


def test_bulk_requests_list_filters_and_client_scoping(api: httpx.Client, sb: Sandbox) -> None:
    first = submit(api, "POST", "/v3/users/activate/bulk", [1005])
    second = submit(api, "POST", "/v3/users/deactivate/bulk", [1005])
    api.get(f"/v3/bulk_requests/{first}")
    api.get(f"/v3/bulk_requests/{first}")
    listed = api.get("/v3/bulk_requests").json()
    assert [r["bulk_action_uuid"] for r in listed] == [second, first]
    assert "success_results_url" not in listed[0]
    assert [r["bulk_action_uuid"] for r in api.get("/v3/bulk_requests", params={"active": "true"}).json()] == [second]
    assert ids(api.get("/v3/bulk_requests", params={"bulk_action_uuid": first})) == [listed[1]["id"]]
    sb.store.clients["other-client"] = "other-secret"
    other = httpx.Client(transport=sb.transport(), base_url="http://127.0.0.1")
    minted = other.post("/token", auth=("other-client", "other-secret"),
                        data={"grant_type": "client_credentials", "sub": "1001"}).json()["access_token"]
    other.headers["Authorization"] = f"Bearer {minted}"
    assert other.get("/v3/bulk_requests").json() == []
    assert other.get(f"/v3/bulk_requests/{first}").status_code == 404


def test_unknown_bulk_uuid_is_404_and_records_expire(api: httpx.Client, clock: FakeClock,
                                                      make_client: ClientFactory) -> None:
    assert api.get("/v3/bulk_requests/00000000-0000-0000-0000-000000000000").status_code == 404
    uuid = submit(api, "POST", "/v3/users/activate/bulk", [1005])
    clock.advance(7 * 24 * 3600 - 1)
    fresh = make_client()
    assert fresh.get(f"/v3/bulk_requests/{uuid}").status_code == 200
    clock.advance(1)
    assert fresh.get(f"/v3/bulk_requests/{uuid}").status_code == 404
    assert fresh.get("/v3/bulk_requests").json() == []


def test_bulk_needs_a_site_admin(make_client: ClientFactory, sb: Sandbox) -> None:
    jane = make_client(sub=BASIC)
    assert jane.patch("/v3/departments/bulk", json={"data": [{"id": 10, "name": "x"}]}).status_code == 403
    assert sb.rows("bulk_requests") == []
