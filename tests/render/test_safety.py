"""Apply-time safety rules: destructive changes, max_deletes, max_change_percent."""

from __future__ import annotations

import pytest

from reconciler.errors import SafetyError
from reconciler.planner import build_plan
from reconciler.safety import check, limit_violations
from tests.builders import field, live, manifest, option
from tests.render.plans import pruning


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
