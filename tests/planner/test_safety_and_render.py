"""Safety rules (destructive, max_deletes, max_change_percent), renderers, and the plan JSON contract."""

from __future__ import annotations

import json

import pytest

from reconciler import render
from reconciler.errors import SafetyError
from reconciler.plan import Plan
from reconciler.planner import build_plan
from reconciler.safety import check, limit_violations
from tests.builders import field, live, manifest, option

TAGS = [{"id": 300 + i, "name": f"tag-{i}"} for i in range(12)]


def pruning(max_deletes: int = 10, max_change_percent: float = 30.0, keep: int = 0) -> Plan:
    m = manifest(prune={"candidate_tags": "enforce"}, max_deletes=max_deletes, max_change_percent=max_change_percent,
                 candidate_tags=[f"tag-{i}" for i in range(keep)])
    return build_plan(m, live(candidate_tags=TAGS))


def test_destructive_changes_are_refused_without_the_flag() -> None:
    plan = pruning(max_deletes=100, max_change_percent=100, keep=11)
    with pytest.raises(SafetyError, match="1 destructive change.*--allow-destructive"):
        check(plan, allow_destructive=False, force=False)
    check(plan, allow_destructive=True, force=False)


def test_max_deletes_counts_every_removal_and_names_the_numbers_and_flag() -> None:
    plan = pruning(max_deletes=3, max_change_percent=100, keep=8)
    assert limit_violations(plan) == ["4 deletes/archives/deactivations/revokes exceed max_deletes 3 (candidate_tag: 4)"]
    with pytest.raises(SafetyError, match="--force"):
        check(plan, allow_destructive=True, force=False)
    check(plan, allow_destructive=True, force=True)


def test_max_change_percent_applies_per_type_of_ten_or_more_live_objects() -> None:
    plan = pruning(max_deletes=100, max_change_percent=30, keep=8)
    assert limit_violations(plan) == ["candidate_tag: 4 of 12 live objects change (33.3%), over max_change_percent 30"]


def test_small_types_are_exempt_from_the_percentage_limit() -> None:
    m = manifest(custom_fields=[{"name": "C", "key": "c", "field_type": "job", "value_type": "single_select", "options": []}])
    plan = build_plan(m, live(custom_fields=[field(1, "C", "c")], custom_field_options=[option(5, 1, "x", 1)]))
    assert limit_violations(plan) == []


def test_text_rendering_uses_terraform_symbols_and_a_summary_line() -> None:
    text = render.to_text(pruning(keep=10))
    assert "candidate_tag:" in text
    assert "  - delete tag-10 (id 310)  !! DESTRUCTIVE" in text
    assert text.rstrip().endswith("Plan: 0 to create, 0 to update, 2 to delete, 0 to replace. 10 unchanged, 0 unmanaged.")
    assert "\x1b[" not in text
    assert "\x1b[" in render.to_text(pruning(keep=10), color=True)


def test_markdown_rendering_flags_destructive_changes_for_a_pull_request() -> None:
    md = render.to_markdown(pruning(keep=10))
    assert "**2 destructive change(s)**" in md
    assert "| `-` | delete **DESTRUCTIVE** | tag-10 |" in md


def test_an_empty_plan_says_no_changes() -> None:
    plan = build_plan(manifest(candidate_tags=["tag-0"]), live(candidate_tags=TAGS[:1]))
    assert render.to_text(plan).startswith("No changes.")


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
    assert build_plan(m, live(candidate_tags=TAGS)).fingerprints["candidate_tags"].keys() == {str(t["id"]) for t in TAGS}


def test_a_malformed_saved_plan_is_rejected_with_a_readable_reason() -> None:
    with pytest.raises(ValueError, match="unknown action/type 'explode'/None"):
        Plan.from_json({"format_version": 1, "changes": [{"action": "explode"}]})
    with pytest.raises(ValueError, match="lacks the key 'key'"):
        Plan.from_json({"format_version": 1, "changes": [{"action": "create", "type": "department", "name": "x"}]})
