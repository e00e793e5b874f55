"""Overlapping applies against the in-process sandbox: the re-read before the first create of each type
uses objects that appeared since planning, and the check after the apply reports duplicates with their ids."""

from __future__ import annotations

import io
import json
from collections import Counter
from typing import Any

import pytest

from reconciler.errors import ApplyError, PlanError
from reconciler.executor import Executor, Present
from reconciler.live import read_for_manifest
from reconciler.plan import Plan
from reconciler.planner import build_plan
from tests.builders import manifest
from tests.executor.writers import Meddling
from tests.harness import Rig


def plan_for(rig: Rig, m: Any) -> Plan:
    with rig.reader() as reader:
        return build_plan(m, read_for_manifest(reader, m), api_url="http://127.0.0.1")


def events(journal: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in journal.getvalue().splitlines()]


def names(rig: Rig, collection: str = "departments") -> Counter[str]:
    return Counter(r["name"] for r in rig.sandbox.rows(collection))


def test_a_create_that_appeared_since_planning_is_used_not_sent_again() -> None:
    rig = Rig()
    m = manifest(departments=[{"name": "Tools"}, {"name": "Robotics"}, {"name": "Quality"}])
    plan = plan_for(rig, m)
    assert [c.action for c in plan.changes] == ["create"] * 3
    with rig.client() as other:  # another apply (or a person) makes "Robotics" after the plan was made
        robotics = other.post("/v3/departments", {"name": "Robotics"}).body["id"]
    rig.sandbox.clear_log()
    journal = io.StringIO()
    report = rig.executor(journal=journal).apply(plan)

    assert [(m_, b) for m_, _, b in rig.writes()] == [("POST", {"name": "Tools"}), ("POST", {"name": "Quality"})]
    assert report.present == (Present("department", "Robotics", "department:Robotics", robotics),)
    assert report.changes == 3
    assert names(rig)["Robotics"] == names(rig)["Tools"] == names(rig)["Quality"] == 1
    lines = events(journal)
    assert [(e["event"], e["name"]) for e in lines if e["event"] != "intent"] == [
        ("outcome", "Tools"), ("already_present", "Robotics"), ("outcome", "Quality")]
    present = next(e for e in lines if e["event"] == "already_present")
    assert present["id"] == robotics and present["status"] == "already present"
    # one list before the first create (never a GET per object), one after for the duplicate check
    reads = [r.path for r in rig.sandbox.log if r.method == "GET"]
    assert reads == ["/v3/departments", "/v3/departments"]
    first_post = next(i for i, r in enumerate(rig.sandbox.log) if r.method == "POST" and r.path == "/v3/departments")
    assert [r.path for r in rig.sandbox.log[:first_post] if r.method == "GET"] == ["/v3/departments"]
    assert plan_for(rig, m).changes == ()


def test_a_child_of_a_parent_that_appeared_is_created_under_the_present_parent() -> None:
    rig = Rig()
    m = manifest(departments=[{"name": "Tools", "parent": "Platform"}, {"name": "DX", "parent": "Tools"}])
    plan = plan_for(rig, m)
    with rig.client() as other:
        tools = other.post("/v3/departments", {"name": "Tools", "parent_id": 11}).body["id"]
    rig.sandbox.clear_log()
    rig.executor().apply(plan)
    assert [(m_, b) for m_, _, b in rig.writes()] == [("POST", {"name": "DX", "parent_id": tools})]
    assert names(rig)["Tools"] == 1
    assert plan_for(rig, m).changes == ()


def test_bulk_rows_of_creates_already_present_are_left_out_of_the_bulk_request() -> None:
    rig = Rig()
    m = manifest(custom_fields=[{"name": "Seniority", "key": "seniority", "field_type": "job", "value_type": "single_select",
                                  "options": ["Junior", "Mid", "Senior", "Staff", "Principal", "Distinguished", "Fellow"]}])
    plan = plan_for(rig, m)
    assert [c.action for c in plan.changes] == ["create"] * 3 and len(plan.bulk_requests) == 1
    with rig.client() as other:
        other.post("/v3/custom_field_options", {"custom_field_id": 201, "name": "Fellow"})
    rig.sandbox.clear_log()
    report = rig.executor().apply(plan)
    assert [p.name for p in report.present] == ["Seniority / Fellow"]
    [(method, path, body)] = rig.writes()
    assert (method, path) == ("POST", "/v3/custom_field_options/bulk")
    assert sorted(row["name"] for row in body["data"]) == ["Distinguished", "Principal"]
    options = Counter(o["name"] for o in rig.sandbox.rows("custom_field_options") if o["custom_field_id"] == 201)
    assert options["Fellow"] == 1
    # nothing is left to create; the option made elsewhere only has its sort order to be put right
    assert [(c.action, c.name, list(c.fields)) for c in plan_for(rig, m).changes] == [
        ("update", "Seniority / Fellow", ["sort_order"])]


def test_a_duplicate_made_after_the_reread_is_reported_with_its_ids_and_the_remedy() -> None:
    rig = Rig()
    m = manifest(departments=[{"name": "Tools"}])
    plan = plan_for(rig, m)
    other = rig.client()
    made: list[int] = []

    def other_host(method: str, path: str, body: Any) -> None:  # the other apply's create lands meanwhile
        if method == "POST" and not made:
            made.append(other.post("/v3/departments", {"name": "Tools"}).body["id"])

    with pytest.raises(ApplyError) as e:
        Executor(Meddling(rig.client(), other_host), clock=rig.clock.time, sleep=rig.clock.sleep).apply(plan)
    ours = max(d["id"] for d in rig.sandbox.rows("departments") if d["name"] == "Tools")
    text = str(e.value)
    assert text.startswith("applied 1 of 1 changes, but 1 object(s) this apply created or found now exist more than once")
    assert f"department 'Tools' matches 2 live objects (ids {made[0]}, {ours})" in text
    assert "Merge or rename the duplicates in Greenhouse (keep one of each), then run plan again" in text

    with pytest.raises(PlanError) as planned:
        plan_for(rig, m)
    assert (f'name "Tools" matches 2 live departments (ids {made[0]}, {ours}); give an external_id/key to say '
            "which one; if they are duplicates (e.g. made by two overlapping applies), merge or rename them in "
            "Greenhouse, then plan again") in str(planned.value)


def test_two_planned_creates_with_the_same_probe_are_not_taken_for_duplicates() -> None:
    rig = Rig()
    m = manifest(departments=[{"name": "Ops", "external_id": "OPS-1", "parent": "Sales"},
                              {"name": "Ops", "external_id": "OPS-2", "parent": "Finance"}])
    plan = plan_for(rig, m)
    report = rig.executor().apply(plan)
    assert report.present == () and names(rig)["Ops"] == 2


def test_one_object_that_appeared_is_used_by_one_of_two_same_named_creates_only() -> None:
    rig = Rig()
    m = manifest(departments=[{"name": "Ops", "external_id": "OPS-1"}, {"name": "Ops", "external_id": "OPS-2"}])
    plan = plan_for(rig, m)
    with rig.client() as other:
        other.post("/v3/departments", {"name": "Ops"})
    rig.sandbox.clear_log()
    report = rig.executor().apply(plan)
    assert [p.key for p in report.present] == ["department:OPS-1"]
    assert [b for _, _, b in rig.writes()] == [{"name": "Ops", "external_id": "OPS-2"}]
    assert names(rig)["Ops"] == 2


def test_creates_of_several_types_are_each_reread_once_before_their_first_create() -> None:
    rig = Rig()
    m = manifest(departments=[{"name": "Tools"}, {"name": "Quality"}], candidate_tags=["Referral", "Fresh", "Newer"])
    plan = plan_for(rig, m)
    rig.sandbox.clear_log()
    rig.executor().apply(plan)
    sequence = [(r.method, r.path) for r in rig.sandbox.log if r.path != "/token"]
    assert sequence == [
        ("GET", "/v3/departments"), ("POST", "/v3/departments"), ("POST", "/v3/departments"),
        ("GET", "/v3/candidate_tags"), ("POST", "/v3/candidate_tags"), ("POST", "/v3/candidate_tags"),
        ("GET", "/v3/departments"), ("GET", "/v3/candidate_tags"),  # the duplicate check
    ]
