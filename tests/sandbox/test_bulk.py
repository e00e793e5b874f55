"""Bulk endpoints and /v3/bulk_requests (reference 1.10): 202 + uuid, rows applied in the background
on the sandbox's clock (pending -> in_progress -> completed), in a seeded shuffled order, each through
the single endpoint's validation; result files; the cap; the list's filters and client scoping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox, SandboxOptions
from reconciler.sandbox.timeutil import iso
from tests.sandbox.conftest import BASIC, ClientFactory, error_fields, ids
from tests.support import FakeClock

DELAY = SandboxOptions().bulk_processing_seconds


def submit(api: httpx.Client, method: str, path: str, data: list[Any]) -> str:
    answer = api.request(method, path, json={"data": data})
    assert answer.status_code == 202, answer.text
    assert set(answer.json()) == {"bulk_action_uuid"}
    return str(answer.json()["bulk_action_uuid"])


def finish(api: httpx.Client, clock: FakeClock, uuid: str) -> dict[str, Any]:
    """Let the processing delay pass, then poll once."""
    clock.advance(DELAY)
    record: dict[str, Any] = api.get(f"/v3/bulk_requests/{uuid}").json()
    assert record["status"] == "completed", record
    return record


def option_names(sb: Sandbox, prefix: str) -> list[str]:
    """Names of the options starting with `prefix`, in id order (= the order they were created)."""
    return [o["name"] for o in sb.rows("custom_field_options") if o["name"].startswith(prefix)]


def test_status_goes_pending_in_progress_completed_on_the_clock(api: httpx.Client, sb: Sandbox,
                                                                clock: FakeClock) -> None:
    start = clock.time()
    uuid = submit(api, "POST", "/v3/custom_field_options/bulk", [
        {"custom_field_id": 201, "name": "Principal"},
        {"custom_field_id": 200, "name": "900 - Legacy"},  # archived name: 422 like the single endpoint
        {"custom_field_id": 206, "name": "Dutch", "sort_order": 9},
    ])
    # 3 rows, D = 0.5 s: in_progress at D/4, rows at 2D/4, 3D/4, 4D/4.
    seen = []
    for _ in range(5):
        record = api.get(f"/v3/bulk_requests/{uuid}").json()
        seen.append((record["status"], record["success_count"] + record["failure_count"],
                     len(sb.rows("custom_field_options"))))
        clock.advance(DELAY / 4)
    assert [s[0] for s in seen] == ["pending", "in_progress", "in_progress", "in_progress", "completed"]
    assert [s[1] for s in seen] == [0, 0, 1, 2, 3]
    assert seen[0][2] == 15 and seen[4][2] == 17  # nothing applied at submission; two rows created
    done = api.get(f"/v3/bulk_requests/{uuid}").json()
    assert (done["success_count"], done["failure_count"], done["record_count"]) == (2, 1, 3)
    assert done["completed_at"] == iso(start + DELAY)
    assert done["api_endpoint"] == "POST /v3/custom_field_options/bulk"
    assert done["requested_by_user_id"] == 1001
    assert done["results_urls_expire_in"] == 300
    failures = api.get(done["failure_results_url"]).json()
    assert [(f["index"], f["status"], f["data"]["name"]) for f in failures] == [(1, 422, "900 - Legacy")]
    assert "reactivate" in failures[0]["message"]
    successes = api.get(done["success_results_url"]).json()
    assert sorted((s["index"], s["status"]) for s in successes) == [(0, 201), (2, 201)]


def test_result_urls_are_null_until_completed(api: httpx.Client) -> None:
    uuid = submit(api, "PATCH", "/v3/departments/bulk", [{"id": 13, "name": "Product Eng"}])
    record = api.get(f"/v3/bulk_requests/{uuid}").json()
    assert record["status"] == "pending"
    assert (record["success_results_url"], record["failure_results_url"], record["completed_at"]) == (None, None, None)


def test_rows_are_applied_on_a_later_list_read_without_polling(api: httpx.Client, sb: Sandbox,
                                                               clock: FakeClock) -> None:
    submit(api, "PATCH", "/v3/departments/bulk", [{"id": 12, "name": "Infra"}, {"id": 13, "name": "Product"}])
    names = {d["id"]: d["name"] for d in api.get("/v3/departments").json()}
    assert (names[12], names[13]) == ("Infrastructure", "Product Engineering")  # not yet
    clock.advance(DELAY)
    names = {d["id"]: d["name"] for d in api.get("/v3/departments").json()}
    assert (names[12], names[13]) == ("Infra", "Product")
    assert not [r for r in sb.log if r.path.startswith("/v3/bulk_requests")]


def test_processing_seconds_zero_applies_the_rows_before_the_reply(
    seed: dict[str, Any], clock: FakeClock, make_client: ClientFactory
) -> None:
    sb = Sandbox(seed, clock=clock.time, options=SandboxOptions(bulk_processing_seconds=0))
    client = make_client(sandbox=sb)
    uuid = submit(client, "PATCH", "/v3/offices/bulk", [{"id": 112, "location": "Berlin, DE"}])
    assert [o["location"] for o in sb.store.rows["offices"].values() if o["id"] == 112] == ["Berlin, DE"]
    assert client.get(f"/v3/bulk_requests/{uuid}").json()["status"] == "completed"


def _created_order(seed: dict[str, Any], options: SandboxOptions, make_client: ClientFactory) -> list[str]:
    clock = FakeClock()
    sb = Sandbox(seed, clock=clock.time, options=options)
    client = make_client(sandbox=sb)
    submit(client, "POST", "/v3/custom_field_options/bulk",
           [{"custom_field_id": 206, "name": f"row-{i}"} for i in range(10)])
    clock.advance(options.bulk_processing_seconds)
    client.get("/v3/custom_field_options")
    return option_names(sb, "row-")


SUBMITTED = [f"row-{i}" for i in range(10)]


def test_shuffled_order_is_reproducible_for_a_seed_and_not_submission_order(
    seed: dict[str, Any], make_client: ClientFactory
) -> None:
    first = _created_order(seed, SandboxOptions(bulk_seed=3), make_client)
    again = _created_order(seed, SandboxOptions(bulk_seed=3), make_client)
    assert sorted(first) == sorted(SUBMITTED)
    assert first == again
    assert first != SUBMITTED


def test_one_rng_per_sandbox_gives_successive_bulks_different_orders(
    api: httpx.Client, sb: Sandbox, clock: FakeClock
) -> None:
    orders = []
    for batch in ("a", "b"):
        submit(api, "POST", "/v3/custom_field_options/bulk",
               [{"custom_field_id": 206, "name": f"{batch}-{i}"} for i in range(8)])
        clock.advance(DELAY)
        api.get("/v3/custom_field_options")
        orders.append([int(n.split("-")[1]) for n in option_names(sb, f"{batch}-")])
    assert orders[0] != orders[1]


def test_no_shuffle_keeps_submission_order(seed: dict[str, Any], make_client: ClientFactory) -> None:
    assert _created_order(seed, SandboxOptions(bulk_shuffle=False), make_client) == SUBMITTED


def test_completed_requests_stay_completed(api: httpx.Client, clock: FakeClock) -> None:
    uuid = submit(api, "PATCH", "/v3/departments/bulk", [{"id": 13, "name": "Product Eng"}])
    statuses = []
    for _ in range(4):
        statuses.append(api.get(f"/v3/bulk_requests/{uuid}").json()["status"])
        clock.advance(DELAY)
    assert statuses == ["pending", "completed", "completed", "completed"]


def test_an_in_flight_bulk_survives_a_restart(seed: dict[str, Any], tmp_path: Path,
                                              make_client: ClientFactory) -> None:
    clock = FakeClock()
    state = tmp_path / "state.json"
    before = Sandbox(seed, clock=clock.time, state_path=state)
    submit(make_client(sandbox=before), "PATCH", "/v3/departments/bulk", [{"id": 12, "name": "Infra"}])
    before.save()
    clock.advance(DELAY)
    after = Sandbox(seed, clock=clock.time, state_path=state)
    names = {d["id"]: d["name"] for d in make_client(sandbox=after).get("/v3/departments").json()}
    assert names[12] == "Infra"
    assert [r["status"] for r in after.rows("bulk_requests")] == ["completed"]


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
         ("users", -1, "primary_email", "ab@acme.example")),
        ("PATCH", "/v3/users/bulk", [{"id": 1003, "job_title": "Lead"}, {"id": 1003, "site_admin": True}],
         ("users", 1003, "job_title", "Lead")),
        ("POST", "/v3/users/deactivate/bulk", [1003, 4242], ("users", 1003, "deactivated", True)),
        ("POST", "/v3/users/activate/bulk", [1005, "x"], ("users", 1005, "deactivated", False)),
        ("POST", "/v3/users/revoke_permissions/bulk", [1004, 0], ("users", 1004, "site_admin", False)),
        ("POST", "/v3/jobs/bulk", [{"template_job_id": 406, "number_of_openings": 1, "job_name": "Bulk job"},
                                   {"template_job_id": 406}],
         ("jobs", -1, "name", "Bulk job")),
    ],
)
def test_every_bulk_endpoint_applies_good_rows_and_reports_bad_ones(
    api: httpx.Client, sb: Sandbox, clock: FakeClock, method: str, path: str, data: list[Any],
    check: tuple[str, int, str, Any]
) -> None:
    uuid = submit(api, method, path, data)
    done = finish(api, clock, uuid)
    assert (done["success_count"], done["failure_count"]) == (1, len(data) - 1)
    collection, row_id, field, value = check
    rows = sb.rows(collection)
    target = rows[-1] if row_id == -1 else next(r for r in rows if r["id"] == row_id)
    assert target[field] == value


def test_revoke_bulk_clears_job_permissions_like_the_single_endpoint(api: httpx.Client, sb: Sandbox,
                                                                     clock: FakeClock) -> None:
    finish(api, clock, submit(api, "POST", "/v3/users/revoke_permissions/bulk", [1002, 1003]))
    assert {g["user_id"] for g in sb.rows("user_job_permissions")} == {1005, 1007}


@pytest.mark.parametrize("body", [{}, {"data": []}, {"data": {"id": 1}}, {"data": [1], "extra": True},
                                  {"data": [1], "callback_url": 7}])
def test_bad_bulk_envelope_is_422_and_records_nothing(api: httpx.Client, sb: Sandbox, body: dict[str, Any]) -> None:
    answer = api.post("/v3/users/activate/bulk", json=body)
    assert answer.status_code == 422
    assert sb.rows("bulk_requests") == []


def test_the_row_cap_is_422_naming_it_and_nothing_is_recorded_or_applied(
    api: httpx.Client, sb: Sandbox, clock: FakeClock
) -> None:
    answer = api.post("/v3/users/deactivate/bulk", json={"data": [1003] * 101})
    assert answer.status_code == 422
    assert error_fields(answer) == ["data"]
    assert "at most 100 rows" in answer.json()["message"]
    clock.advance(DELAY)
    assert sb.rows("bulk_requests") == []
    assert sb.store.bulk == {}
    assert [u["deactivated"] for u in sb.rows("users") if u["id"] == 1003] == [False]
    assert api.get("/v3/bulk_requests").json() == []


def test_the_row_cap_is_an_option(seed: dict[str, Any], clock: FakeClock, make_client: ClientFactory) -> None:
    sb = Sandbox(seed, clock=clock.time, options=SandboxOptions(bulk_max_rows=2))
    client = make_client(sandbox=sb)
    refused = client.post("/v3/users/deactivate/bulk", json={"data": [1003, 1007, 1002]})
    assert refused.status_code == 422
    assert "at most 2 rows" in refused.json()["message"]
    assert client.post("/v3/users/deactivate/bulk", json={"data": [1003, 1007]}).status_code == 202
    assert SandboxOptions().bulk_max_rows == 100


def test_bulk_requests_list_shows_endpoint_and_row_count_and_only_own_requests(
    api: httpx.Client, sb: Sandbox, clock: FakeClock
) -> None:
    first = submit(api, "POST", "/v3/users/activate/bulk", [1005])
    second = submit(api, "PATCH", "/v3/departments/bulk", [{"id": 12, "name": "A"}, {"id": 13, "name": "B"}])
    listed = api.get("/v3/bulk_requests").json()
    assert [(r["bulk_action_uuid"], r["api_endpoint"], r["record_count"]) for r in listed] == [
        (second, "PATCH /v3/departments/bulk", 2), (first, "POST /v3/users/activate/bulk", 1)]
    assert "success_results_url" not in listed[0]
    sb.store.clients["other-client"] = "other-secret"
    other = httpx.Client(transport=sb.transport(), base_url="http://127.0.0.1")
    minted = other.post("/token", auth=("other-client", "other-secret"),
                        data={"grant_type": "client_credentials", "sub": "1001"}).json()["access_token"]
    other.headers["Authorization"] = f"Bearer {minted}"
    assert other.get("/v3/bulk_requests").json() == []
    assert other.get(f"/v3/bulk_requests/{first}").status_code == 404
    mine = submit(other, "POST", "/v3/users/activate/bulk", [1005])
    assert [r["bulk_action_uuid"] for r in other.get("/v3/bulk_requests").json()] == [mine]
    assert mine not in [r["bulk_action_uuid"] for r in api.get("/v3/bulk_requests").json()]


def test_bulk_requests_list_filters(api: httpx.Client, clock: FakeClock) -> None:
    first = submit(api, "POST", "/v3/users/activate/bulk", [1005])
    clock.advance(DELAY)
    api.get(f"/v3/bulk_requests/{first}")  # completed at t0 + D
    clock.advance(60)
    second = submit(api, "POST", "/v3/users/deactivate/bulk", [1005])
    third = submit(api, "POST", "/v3/users/activate/bulk", [1005])
    listed = api.get("/v3/bulk_requests").json()
    by_uuid = {r["bulk_action_uuid"]: r["id"] for r in listed}
    assert [r["bulk_action_uuid"] for r in listed] == [third, second, first]

    def uuids(**params: Any) -> list[str]:
        answer = api.get("/v3/bulk_requests", params=params)
        assert answer.status_code == 200, answer.text
        return [r["bulk_action_uuid"] for r in answer.json()]

    assert uuids(active="true") == [third, second]
    assert uuids(active="false") == [first]
    assert uuids(bulk_action_uuid=second) == [second]
    assert uuids(ids=f"{by_uuid[first]},{by_uuid[third]}") == [third, first]
    boundary = iso(clock.time() - 30)
    assert uuids(created_at=f"gte|{boundary}") == [third, second]
    assert uuids(created_at=f"lt|{boundary}") == [first]
    assert uuids(updated_at=f"lt|{boundary}") == [first]
    page = api.get("/v3/bulk_requests", params={"per_page": 2})
    assert [r["bulk_action_uuid"] for r in page.json()] == [third, second]
    rest = api.get(page.links["next"]["url"])
    assert [r["bulk_action_uuid"] for r in rest.json()] == [first]
    assert api.get(page.links["next"]["url"] + "&active=true").status_code == 422
    assert api.get("/v3/bulk_requests", params={"active": "maybe"}).status_code == 422
    assert ids(api.get("/v3/bulk_requests", params={"bulk_action_uuid": "nope"})) == []


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
