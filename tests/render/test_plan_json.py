"""The plan JSON contract: stable keys, round trip, refusal of what is not a plan."""

from __future__ import annotations

import json

import pytest

from reconciler import render
from reconciler.plan import Plan
from reconciler.planner import build_plan
from tests.builders import live, manifest
from tests.render.plans import TAGS, pruning


def test_plan_json_has_the_stable_contract_and_round_trips() -> None:
    plan = pruning(keep=10)
    data = json.loads(render.to_json(plan))
    assert data["format_version"] == 1
    assert data["summary"] == {"create": 0, "update": 0, "delete": 2, "replace": 0, "unchanged": 10, "unmanaged": 0}
    change = data["changes"][0]
    assert {k: change[k] for k in ("action", "type", "name", "id", "destructive")} == {
        "action": "delete", "type": "candidate_tag", "name": "tag-10", "id": 310, "destructive": True}
    assert change["fields"] == {"name": {"before": "tag-10", "after": None}}
    assert "fingerprints" not in data
    saved = plan.dumps(include_fingerprints=True)
    assert Plan.from_json(json.loads(saved)).dumps(include_fingerprints=True) == saved

def test_a_file_that_is_not_a_plan_is_rejected() -> None:
    with pytest.raises(ValueError, match="format_version"):
        Plan.from_json({"format_version": 99})

def test_fingerprints_are_computed_only_when_asked_for() -> None:
    m = manifest(candidate_tags=["tag-0"])
    assert build_plan(m, live(candidate_tags=TAGS), fingerprints=False).fingerprints == {}
    m = manifest(prune={"candidate_tags": "enforce"}, candidate_tags=["tag-0"])
    # only what the plan's decisions depend on: the pruned tags it deletes, not the tag it keeps
    assert build_plan(m, live(candidate_tags=TAGS)).fingerprints["candidate_tags"].keys() == {
        str(t["id"]) for t in TAGS[1:]}

def test_a_malformed_saved_plan_is_rejected_with_a_readable_reason() -> None:
    with pytest.raises(ValueError, match="unknown action/type 'explode'/None"):
        Plan.from_json({"format_version": 1, "changes": [{"action": "explode"}]})
    with pytest.raises(ValueError, match="lacks the key 'key'"):
        Plan.from_json({"format_version": 1, "changes": [{"action": "create", "type": "department", "name": "x"}]})
