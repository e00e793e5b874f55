"""The executor against the in-process sandbox: exact writes, references, bulk, settling, stopping, journal."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from reconciler.errors import ApplyError
from reconciler.executor import Executor
from reconciler.live import read_for_manifest
from reconciler.plan import Plan
from reconciler.planner import build_plan
from tests.builders import manifest
from tests.executor.writers import Meddling
from tests.harness import Rig


def plan_for(rig: Rig, m: Any) -> Plan:
    with rig.reader() as reader:
        return build_plan(m, read_for_manifest(reader, m), api_url="http://127.0.0.1")


def planned_writes(plan: Plan) -> list[tuple[str, str]]:
    return [(w.method, w.path) for c in plan.changes for w in c.writes]


def test_apply_sends_exactly_the_planned_writes_and_converges() -> None:
    rig = Rig()
    m = manifest(candidate_tags=["Referral", "2026-grad"],
                 departments=[{"name": "Developer Experience", "external_id": "ENG-DX", "parent": "Platform"},
                              {"name": "Sales North America", "previously": ["Sales NA"]}])
    plan = plan_for(rig, m)
    assert planned_writes(plan) == [("POST", "/v3/departments"), ("PATCH", "/v3/departments/22"),
                                    ("POST", "/v3/candidate_tags")]
    rig.sandbox.clear_log()
    rig.executor().apply(plan)
    assert [(m_, p) for m_, p, _ in rig.writes()] == planned_writes(plan)
    assert plan_for(rig, m).changes == ()


def test_a_child_created_under_a_new_parent_gets_the_parents_new_id() -> None:
    rig = Rig()
    m = manifest(departments=[{"name": "Tools", "parent": "Platform"}, {"name": "DX", "parent": "Tools"}])
    rig.executor().apply(plan_for(rig, m))
    rows = {d["name"]: d for d in rig.sandbox.rows("departments")}
    assert rows["DX"]["parent_id"] == rows["Tools"]["id"]
    assert rows["Tools"]["parent_id"] == 11


def test_several_option_archives_become_one_bulk_request_and_are_polled() -> None:
    rig = Rig()
    m = manifest(custom_fields=[{"name": "Seniority", "key": "seniority", "field_type": "job",
                                  "value_type": "single_select", "options": ["Junior"]}])
    plan = plan_for(rig, m)
    assert [c.action for c in plan.changes] == ["delete", "delete", "delete"]
    rig.sandbox.clear_log()
    rig.executor().apply(plan)
    assert [(m_, p) for m_, p, _ in rig.writes()] == [("DELETE", "/v3/custom_field_options/bulk")]
    assert rig.writes()[0][2] == {"data": [2012, 2013, 2014]}
    assert any(r.path.startswith("/v3/bulk_requests/") for r in rig.sandbox.log)
    assert plan_for(rig, m).changes == ()


def test_two_bulkable_changes_are_sent_singly_because_bulk_would_cost_more() -> None:
    rig = Rig()
    m = manifest(custom_fields=[{"name": "Seniority", "key": "seniority", "field_type": "job",
                                  "value_type": "single_select", "options": ["Junior", "Mid"]}])
    plan = plan_for(rig, m)
    rig.sandbox.clear_log()
    rig.executor().apply(plan)
    assert [(m_, p) for m_, p, _ in rig.writes()] == [("DELETE", "/v3/custom_field_options/2013"),
                                                      ("DELETE", "/v3/custom_field_options/2014")]


def test_a_write_whose_reply_was_lost_is_settled_by_rereading_not_repeated() -> None:
    rig = Rig()
    plan = plan_for(rig, manifest(candidate_tags=["Referral", "Fresh"]))
    rig.sandbox.add_fault("drop_after", method="POST", path="/v3/candidate_tags")
    journal = io.StringIO()
    rig.executor(journal=journal).apply(plan)
    assert [t["name"] for t in rig.sandbox.rows("candidate_tags")].count("Fresh") == 1
    assert [m for m, _, _ in rig.writes()] == ["POST"]
    events = [json.loads(line) for line in journal.getvalue().splitlines()]
    assert [(e["event"], e.get("status")) for e in events] == [("intent", None), ("outcome", "settled")]


def test_a_write_dropped_before_processing_is_found_missing_and_sent_again_once() -> None:
    rig = Rig()
    plan = plan_for(rig, manifest(candidate_tags=["Referral", "Fresh"]))
    rig.sandbox.add_fault("drop_before", method="POST", path="/v3/candidate_tags")
    rig.executor().apply(plan)
    assert [t["name"] for t in rig.sandbox.rows("candidate_tags")].count("Fresh") == 1
    assert [m for m, _, _ in rig.writes()] == ["POST", "POST"]


def test_the_first_failure_stops_the_apply_and_says_what_was_and_was_not_done() -> None:
    rig = Rig()
    plan = plan_for(rig, manifest(candidate_tags=["A-new", "B-new", "C-new"]))
    other = rig.client()

    def in_the_ui(method: str, path: str, body: Any) -> None:  # someone adds B-new after the executor's re-read
        if body == {"name": "B-new"}:
            other.post("/v3/candidate_tags", {"name": "B-new"})

    rig.sandbox.clear_log()
    with pytest.raises(ApplyError) as e:
        Executor(Meddling(rig.client(), in_the_ui), clock=rig.clock.time, sleep=rig.clock.sleep).apply(plan)
    text = str(e.value)
    assert "applied 1 of 3 changes" in text
    assert "failed: create candidate_tag B-new: POST /v3/candidate_tags -> 422" in text
    assert "1 not attempted" in text
    # A-new; B-new from the UI; the executor's B-new, refused (a 401, when the UI's token revoked the
    # executor's, is answered before anything is done and resent: not counted)
    assert [r.status for r in rig.sandbox.writes() if r.status != 401] == [201, 201, 422]


def test_the_journal_has_one_json_line_per_write_without_secrets() -> None:
    rig = Rig()
    plan = plan_for(rig, manifest(candidate_tags=["X1", "X2"]))
    journal = io.StringIO()
    rig.executor(journal=journal).apply(plan)
    events = [json.loads(line) for line in journal.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["intent", "outcome", "intent", "outcome"]
    lines = [e for e in events if e["event"] == "outcome"]
    assert [(x["type"], x["name"], x["method"], x["path"], x["status"]) for x in lines] == [
        ("candidate_tag", "X1", "POST", "/v3/candidate_tags", 201),
        ("candidate_tag", "X2", "POST", "/v3/candidate_tags", 201)]
    assert all(isinstance(x["id"], int) and x["time"] for x in lines)
    assert "demo-secret" not in journal.getvalue()


def test_planning_reads_each_collection_with_one_list_and_never_writes() -> None:
    rig = Rig()
    m = manifest(departments=[{"name": "Engineering"}], candidate_tags=["Referral"],
                 users=[{"email": "jane@acme.example", "job_permissions": [{"job": "REQ-1001", "role": "Standard"}]}])
    plan_for(rig, m)
    gets = [(r.path, tuple(sorted(r.query))) for r in rig.sandbox.log if r.path != "/token"]
    assert all(r.method == "GET" for r in rig.sandbox.log if r.path != "/token")
    paths = [p for p, _ in gets]
    # users: default + deactivated=true; permissions filtered to the one managed user
    assert sorted(paths) == sorted(["/v3/departments", "/v3/offices", "/v3/candidate_tags", "/v3/users", "/v3/users",
                                    "/v3/user_roles", "/v3/jobs", "/v3/user_job_permissions"])
    ujp = next(r for r in rig.sandbox.log if r.path == "/v3/user_job_permissions")
    assert ujp.query["user_ids"] == "1002"


def test_the_plan_path_has_no_way_to_write() -> None:
    rig = Rig()
    reader = rig.reader()
    assert not any(hasattr(reader, verb) for verb in ("post", "patch", "delete", "bulk"))


def test_per_row_bulk_failures_are_reported_and_stop_the_apply() -> None:
    rig = Rig()
    m = manifest(custom_fields=[{"name": "Seniority", "key": "seniority", "field_type": "job", "value_type": "single_select",
                                  "options": ["Junior", "Mid", "Senior", "Staff", "Principal", "Distinguished", "Fellow"]}])
    plan = plan_for(rig, m)
    assert [c.action for c in plan.changes] == ["create", "create", "create"]
    other = rig.client()

    def in_the_ui(method: str, path: str, body: Any) -> None:  # "Fellow" appears after the executor's re-read
        if path.endswith("/bulk"):
            other.post("/v3/custom_field_options", {"custom_field_id": 201, "name": "Fellow"})

    with pytest.raises(ApplyError) as e:
        Executor(Meddling(rig.client(), in_the_ui), clock=rig.clock.time, sleep=rig.clock.sleep).apply(plan)
    text = str(e.value)
    assert "failed: bulk request of 3 custom_field_option changes" in text
    assert "POST /v3/custom_field_options/bulk: 1 of 3 rows failed: custom_field_option \"Seniority / Fellow\": " in text
    assert "applied 2 of 3 changes" in text  # the other two rows of the bulk request succeeded


def test_users_are_read_with_service_accounts_so_none_is_missed() -> None:
    rig = Rig()
    plan_for(rig, manifest(users=[{"email": "jane@acme.example"}]))
    reads = [r.query for r in rig.sandbox.log if r.path == "/v3/users"]
    assert reads == [{"show_service_accounts": "true", "per_page": "500"},
                     {"deactivated": "true", "show_service_accounts": "true", "per_page": "500"}]


def reader_as(rig: Rig, sub: str) -> Any:
    from reconciler.harvest import HarvestReader, Settings
    from tests.harness import SETTINGS

    settings = Settings(SETTINGS.client_id, SETTINGS.client_secret, sub, SETTINGS.api_url, SETTINGS.token_url)
    return HarvestReader(settings, transport=rig.sandbox.transport(), clock=rig.clock.time, sleep=rig.clock.sleep)


def test_planning_refuses_when_the_acting_user_is_not_a_site_admin() -> None:
    from reconciler.errors import UsageError

    rig = Rig()
    with pytest.raises(UsageError, match="GREENHOUSE_USER_ID 1002 was not returned by the API: .* unless the token acts as a Site Admin"):
        read_for_manifest(reader_as(rig, "1002"), manifest(candidate_tags=["Referral"]), acting_user_id="1002")


def test_an_unknown_acting_user_is_refused_by_the_token_endpoint() -> None:
    from reconciler.errors import AuthError

    with pytest.raises(AuthError, match=r"POST /token -> 400: .*\(invalid_grant\); check GREENHOUSE_USER_ID"):
        read_for_manifest(reader_as(Rig(), "9999"), manifest(candidate_tags=["Referral"]), acting_user_id="9999")


def test_the_site_admin_check_costs_one_filtered_request_when_users_are_not_read() -> None:
    rig = Rig()
    with rig.reader() as reader:
        read_for_manifest(reader, manifest(candidate_tags=["Referral"]), acting_user_id="1001")
    assert [(r.path, r.query.get("ids")) for r in rig.sandbox.log if r.path != "/token"] == [
        ("/v3/candidate_tags", None), ("/v3/users", "1001")]


def test_a_write_found_uncommitted_is_resent_only_after_a_growing_pause() -> None:
    rig = Rig()
    plan = plan_for(rig, manifest(candidate_tags=["Referral", "Fresh"]))
    rig.sandbox.add_fault("500", method="POST", path="/v3/candidate_tags", count=3)
    rig.executor().apply(plan)
    assert [m for m, _, _ in rig.writes()] == ["POST"] * 4
    assert [s for s in rig.clock.sleeps if s in (1.0, 2.0, 4.0)] == [1.0, 2.0, 4.0]
    assert [t["name"] for t in rig.sandbox.rows("candidate_tags")].count("Fresh") == 1


def test_a_write_that_keeps_failing_stops_the_apply_after_five_attempts() -> None:
    rig = Rig()
    plan = plan_for(rig, manifest(candidate_tags=["Referral", "Fresh"]))
    rig.sandbox.add_fault("500", method="POST", path="/v3/candidate_tags", count=10)
    with pytest.raises(ApplyError, match="applied 0 of 1 changes; failed: create candidate_tag Fresh: "
                                         r"POST /v3/candidate_tags -> outcome unknown \(server answered 500"):
        rig.executor().apply(plan)
    assert len(rig.writes()) == 5


def test_an_office_contact_created_in_the_same_apply_converges() -> None:
    rig = Rig()
    m = manifest(offices=[{"name": "Berlin", "primary_contact": "nia@acme.example"}, {"name": "Oslo", "primary_contact": "nia@acme.example"}],
                 users=[{"email": "nia@acme.example", "first_name": "Nia", "last_name": "Hire"}])
    rig.executor().apply(plan_for(rig, m))
    nia = next(u for u in rig.sandbox.rows("users") if u["primary_email"] == "nia@acme.example")
    contacts = {o["name"]: o["primary_in_house_contact_user_id"] for o in rig.sandbox.rows("offices")}
    assert contacts["Berlin"] == contacts["Oslo"] == nia["id"]
    assert plan_for(rig, m).changes == ()


def test_swapping_a_parent_and_its_child_applies_without_a_refused_cycle() -> None:
    rig = Rig()
    m = manifest(departments=[{"name": "Engineering", "parent": "Platform"}, {"name": "Platform", "parent": None}])
    rig.executor().apply(plan_for(rig, m))
    rows = {d["name"]: d for d in rig.sandbox.rows("departments")}
    assert rows["Engineering"]["parent_id"] == rows["Platform"]["id"] and rows["Platform"]["parent_id"] is None
    assert plan_for(rig, m).changes == ()
