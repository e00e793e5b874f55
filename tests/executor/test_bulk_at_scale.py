"""Bulk requests at the size of a large organisation, against the in-process sandbox (exact request logs).

The sandbox caps bulk requests at 100 rows (a 422 above it), runs rows asynchronously, and can lose
replies; these tests show the plan's bulk requests are what apply sends, and that no row is ever sent twice.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from reconciler.errors import ApplyError
from reconciler.harvest import HarvestClient, Polling
from reconciler.live import read_for_manifest
from reconciler.manifest.model import Manifest
from reconciler.plan import Plan
from reconciler.planner import build_plan
from tests.builders import manifest
from tests.harness import SETTINGS, Rig, seed

STAMP = "2026-01-15T10:00:00.000Z"


def org_with_departments(count: int) -> dict[str, Any]:
    data = seed()
    data["departments"] += [{"id": 5000 + i, "name": f"Team {i:03d}", "parent_id": None, "external_id": f"T{i:03d}",
                             "created_at": STAMP, "updated_at": STAMP} for i in range(count)]
    return data


def renamed(count: int) -> Manifest:
    return manifest(departments=[{"name": f"Squad {i:03d}", "external_id": f"T{i:03d}"} for i in range(count)])


def plan_for(rig: Rig, m: Manifest, **kwargs: Any) -> Plan:
    with rig.reader() as reader:
        return build_plan(m, read_for_manifest(reader, m), api_url="http://127.0.0.1", **kwargs)


def bulk_rows(rig: Rig) -> list[tuple[str, str, int, int]]:
    """(method, path, rows, status) of every write request the sandbox received."""
    return [(r.method, r.path, len(r.body["data"]) if isinstance(r.body, dict) and "data" in r.body else 1, r.status)
            for r in rig.sandbox.writes()]


def test_300_department_renames_apply_in_one_run_as_three_capped_bulk_requests() -> None:
    rig = Rig(org_with_departments(300))
    m = renamed(300)
    plan = plan_for(rig, m)
    assert [(b.endpoint, len(b.changes)) for b in plan.bulk_requests] == [("PATCH /v3/departments/bulk", 100)] * 3
    assert plan.request_count() == 3
    rig.sandbox.clear_log()
    rig.executor().apply(plan)
    assert bulk_rows(rig) == [("PATCH", "/v3/departments/bulk", 100, 202)] * 3
    sent = [row["id"] for r in rig.sandbox.writes() for row in r.body["data"]]
    assert len(sent) == len(set(sent)) == 300  # no row sent twice
    assert plan_for(rig, m).changes == ()


def test_150_new_options_of_one_field_apply_as_two_bulk_requests_of_75() -> None:
    rig = Rig()
    options = ["Junior", "Mid", "Senior", "Staff", *[f"Level {i:03d}" for i in range(150)]]
    m = manifest(custom_fields=[{"name": "Seniority", "key": "seniority", "field_type": "job",
                                  "value_type": "single_select", "options": options}])
    plan = plan_for(rig, m)
    assert [len(b.changes) for b in plan.bulk_requests] == [75, 75]
    rig.sandbox.clear_log()
    rig.executor().apply(plan)
    assert bulk_rows(rig) == [("POST", "/v3/custom_field_options/bulk", 75, 202)] * 2
    names = [o["name"] for o in rig.sandbox.rows("custom_field_options") if o["custom_field_id"] == 201]
    assert len(names) == len(set(names)) == 154
    assert plan_for(rig, m).changes == ()


def test_a_bulk_request_refused_for_its_size_is_split_in_half_and_sent_again() -> None:
    rig = Rig(org_with_departments(200))
    m = renamed(200)
    plan = plan_for(rig, m, bulk_max_rows=500)  # more than the sandbox takes
    assert [len(b.changes) for b in plan.bulk_requests] == [200]
    rig.sandbox.clear_log()
    rig.executor().apply(plan)
    assert bulk_rows(rig) == [("PATCH", "/v3/departments/bulk", 200, 422),
                              ("PATCH", "/v3/departments/bulk", 100, 202), ("PATCH", "/v3/departments/bulk", 100, 202)]
    assert plan_for(rig, m).changes == ()


def test_a_bulk_request_whose_reply_is_lost_after_acceptance_is_found_and_waited_for() -> None:
    rig = Rig(org_with_departments(120))
    m = renamed(120)
    plan = plan_for(rig, m)
    rig.sandbox.add_fault("drop_after", method="PATCH", path="/v3/departments/bulk")
    rig.sandbox.clear_log()
    rig.executor().apply(plan)
    assert [r.path for r in rig.sandbox.writes()] == ["/v3/departments/bulk", "/v3/departments/bulk"]
    sent = [row["id"] for r in rig.sandbox.writes() for row in r.body["data"]]
    assert len(sent) == len(set(sent)) == 120  # the lost one was not re-sent
    assert any(r.path == "/v3/bulk_requests" and r.method == "GET" for r in rig.sandbox.log)
    assert plan_for(rig, m).changes == ()


@pytest.mark.parametrize("fault", ["500", "drop_before"])
def test_a_bulk_request_shown_not_accepted_is_sent_again_after_a_back_off(fault: str) -> None:
    rig = Rig(org_with_departments(120))
    m = renamed(120)
    plan = plan_for(rig, m)
    rig.sandbox.add_fault(fault, method="PATCH", path="/v3/departments/bulk")
    rig.sandbox.clear_log()
    sleeps_before = len(rig.clock.sleeps)
    report = rig.executor().apply(plan)
    # two requests of 60 rows (the plan's), the first sent twice: the first time it was not accepted
    assert [r[:3] for r in bulk_rows(rig)] == [("PATCH", "/v3/departments/bulk", 60)] * 3
    first, again, _ = rig.sandbox.writes()
    assert first.body == again.body
    assert report.writes == 3
    assert 1.0 in rig.clock.sleeps[sleeps_before:]  # the back-off before sending it again
    lookups = [r for r in rig.sandbox.log if r.method == "GET" and r.path == "/v3/bulk_requests"]
    assert len(lookups) == 1  # the lost reply was looked up once, and not found
    assert plan_for(rig, m).changes == ()


def test_a_bulk_request_never_accepted_stops_after_five_attempts() -> None:
    rig = Rig(org_with_departments(5))
    plan = plan_for(rig, renamed(5))
    rig.sandbox.add_fault("500", method="PATCH", path="/v3/departments/bulk", count=5)
    rig.sandbox.clear_log()
    with pytest.raises(ApplyError) as e:
        rig.executor().apply(plan)
    assert [r[:3] for r in bulk_rows(rig)] == [("PATCH", "/v3/departments/bulk", 5)] * 5
    assert "applied 0 of 5 changes" in str(e.value) and "no matching bulk request was found" in str(e.value)


def test_a_bulk_request_still_pending_at_the_deadline_stops_the_apply_and_resends_nothing() -> None:
    from reconciler.sandbox.options import SandboxOptions

    rig = Rig(org_with_departments(5), options=SandboxOptions(bulk_processing_seconds=3600))
    plan = plan_for(rig, renamed(5))
    rig.sandbox.clear_log()
    with pytest.raises(ApplyError) as e:
        rig.executor(polling=Polling(interval=1.0, max_wait=30.0)).apply(plan)
    (bulk,) = rig.sandbox.writes()
    uuid = next(r.path.rsplit("/", 1)[1] for r in rig.sandbox.log if r.path.startswith("/v3/bulk_requests/"))
    assert f"applied 0 of 5 changes; bulk request {uuid} still pending; run plan again later" in str(e.value)
    assert bulk.path == "/v3/departments/bulk"


class NoIdOnCreate(httpx.BaseTransport):
    """Answers every successful POST to a collection without the new object's id (as an API might)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method != "POST" or response.status_code != 201:
            return response
        response.read()
        body = json.loads(response.content)
        body.pop("id", None)
        return httpx.Response(201, json=body, headers={"Content-Type": "application/json"})


def test_creates_answered_without_an_id_still_converge_through_their_settle_probe() -> None:
    rig = Rig()
    m = manifest(departments=[{"name": "Tools", "parent": "Platform"}, {"name": "DX", "parent": "Tools"}],
                 users=[{"email": "nia@acme.example", "first_name": "Nia", "last_name": "Hire", "departments": ["DX"]}])
    plan = plan_for(rig, m)
    client = HarvestClient(SETTINGS, transport=NoIdOnCreate(rig.sandbox.transport()), clock=rig.clock.time,
                           sleep=rig.clock.sleep)
    rig.sandbox.clear_log()
    from reconciler.executor import Executor

    Executor(client, clock=rig.clock.time, sleep=rig.clock.sleep).apply(plan)
    rows = {d["name"]: d for d in rig.sandbox.rows("departments")}
    assert rows["DX"]["parent_id"] == rows["Tools"]["id"]
    nia = next(u for u in rig.sandbox.rows("users") if u["primary_email"] == "nia@acme.example")
    assert nia["department_ids"] == [rows["DX"]["id"]]
    assert plan_for(rig, m).changes == ()
    creates = [r.path for r in rig.sandbox.writes() if r.method == "POST"]
    assert creates == ["/v3/departments", "/v3/departments", "/v3/users"]  # each create sent once


def test_a_create_without_an_id_that_its_probe_cannot_find_is_an_error() -> None:
    rig = Rig()
    m = manifest(departments=[{"name": "Tools", "parent": "Platform"}, {"name": "DX", "parent": "Tools"}])
    plan = plan_for(rig, m)

    class Vanishing(NoIdOnCreate):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "GET" and request.url.path == "/v3/departments":
                return httpx.Response(200, json=[])
            return super().handle_request(request)

    client = HarvestClient(SETTINGS, transport=Vanishing(rig.sandbox.transport()), clock=rig.clock.time,
                           sleep=rig.clock.sleep)
    from reconciler.executor import Executor

    with pytest.raises(ApplyError, match='"department:Tools" was created, but its answer carried no id and '
                                         "re-reading /v3/departments did not find it"):
        Executor(client, clock=rig.clock.time, sleep=rig.clock.sleep).apply(plan)
