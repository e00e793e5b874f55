"""Convergence under chaos and for arbitrary states: apply, then plan is empty, and nothing is duplicated."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.live import read_for_manifest
from reconciler.manifest import load
from reconciler.planner import build_plan
from tests.builders import manifest
from tests.harness import ROOT, Rig, seed

CHAOS = "rate429=0.1,rate500=0.05,rate503=0.05,drop_before=0.05,drop_after=0.08"


def no_duplicates(rig: Rig) -> None:
    for collection, key in (("departments", "name"), ("candidate_tags", "name"), ("custom_fields", "name_key")):
        counts = Counter(r[key] for r in rig.sandbox.rows(collection))
        assert [k for k, n in counts.items() if n > 1] == [], collection
    grants = Counter((r["user_id"], r["job_id"]) for r in rig.sandbox.rows("user_job_permissions"))
    assert max(grants.values()) == 1


@pytest.mark.parametrize("fault_seed", [1, 3, 4, 5, 6, 7])
def test_the_examples_converge_through_429s_5xx_and_lost_replies_without_duplicates(fault_seed: int) -> None:
    rig = Rig(faults=f"seed={fault_seed},{CHAOS}")
    m = load([str(ROOT / "examples")])
    with rig.reader() as reader:
        plan = build_plan(m, read_for_manifest(reader, m))
    rig.executor().apply(plan)
    with rig.reader() as reader:
        assert build_plan(m, read_for_manifest(reader, m)).changes == ()
    no_duplicates(rig)
    assert any(r.fault and r.method != "GET" for r in rig.sandbox.log)  # writes really were faulted


NAMES = st.sampled_from(["Referral", "referral", "Boomerang", "2026-grad", "Silver Medalist", "old-tag", "VIP", "x"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(live_tags=st.sets(NAMES), desired=st.lists(NAMES, unique=True))
def test_candidate_tags_converge_to_exactly_the_desired_set_under_prune_enforce(live_tags: set[str], desired: list[str]) -> None:
    data = seed()
    data["candidate_tags"] = [{"id": 300 + i, "name": n, "created_at": "2026-01-01T00:00:00Z",
                               "updated_at": "2026-01-01T00:00:00Z"} for i, n in enumerate(sorted(live_tags))]
    rig = Rig(data)
    m = manifest(prune={"candidate_tags": "enforce"}, candidate_tags=desired)
    with rig.reader() as reader:
        rig.executor().apply(build_plan(m, read_for_manifest(reader, m)))
    assert sorted(t["name"] for t in rig.sandbox.rows("candidate_tags")) == sorted(desired)
    with rig.reader() as reader:
        assert build_plan(m, read_for_manifest(reader, m)).changes == ()


OPTION_NAMES = st.sampled_from(["Junior", "Mid", "Senior", "Staff", "Principal", "Intern"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(desired=st.lists(OPTION_NAMES, unique=True), archived=st.sets(OPTION_NAMES), shuffle=st.randoms())
def test_options_converge_to_exactly_the_desired_active_list_in_order(
    desired: list[str], archived: set[str], shuffle: object
) -> None:
    data = seed()
    live_names = ["Junior", "Mid", "Senior", "Staff"]
    shuffle.shuffle(live_names)  # type: ignore[attr-defined]
    data["custom_field_options"] = [o for o in data["custom_field_options"] if o["custom_field_id"] != 201] + [
        {"id": 3000 + i, "custom_field_id": 201, "name": n, "sort_order": (i + 1) * 10, "external_id": None,
         "active": n not in archived, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
        for i, n in enumerate(live_names)]
    rig = Rig(data)
    m = manifest(custom_fields=[{"name": "Seniority", "key": "seniority", "field_type": "job",
                                  "value_type": "single_select", "options": desired}])
    with rig.reader() as reader:
        rig.executor().apply(build_plan(m, read_for_manifest(reader, m)))
    active = sorted((o for o in rig.sandbox.rows("custom_field_options") if o["custom_field_id"] == 201 and o["active"]),
                    key=lambda o: o["sort_order"])
    assert [o["name"] for o in active] == desired
    with rig.reader() as reader:
        assert build_plan(m, read_for_manifest(reader, m)).changes == ()
