"""Renderings of the plans issue 10 is about: unreachable warnings never sit beside "matches the manifests",
protected objects are listed as protected, and names that hide a difference (Unicode form, spaces, controls)
show it, in text and Markdown. The golden files are the reviewed form (UPDATE_GOLDEN=1 rewrites them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler import render
from reconciler.plan import Plan, Unmanaged
from reconciler.planner import build_plan
from tests.builders import live, manifest, office

GOLDEN = Path(__file__).parent / "golden"
TAGS = [{"id": 300, "name": "Referral"}, {"id": 302, "name": "Do Not Contact"}, {"id": 303, "name": "Caf\u00e9"}]


def mistakes_plan() -> Plan:
    """Near-duplicate creates (case, spaces, NFC), a protected tag under enforce, an unreachable warning."""
    m = manifest(candidate_tags=["referral", "Cafe\u0301", "Tab\there"], offices=[{"name": "London HQ",
                 "previously": ["London", "Londres"]}], prune={"candidate_tags": "enforce"},
                 protect={"candidate_tags": ["Do Not Contact"]})
    return build_plan(m, live(candidate_tags=TAGS, offices=[office(111, "London HQ"), office(112, "London")]))


@pytest.mark.parametrize(("name", "rendering"), [
    ("mistakes-plan.txt", render.to_text),
    ("mistakes-plan.md", render.to_markdown),
])
def test_the_mistakes_plan_renders_exactly_as_the_golden_file(name: str, rendering: object) -> None:
    assert callable(rendering)
    text = rendering(mistakes_plan())
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_the_mistakes_plan_shows_every_hidden_difference() -> None:
    plan = mistakes_plan()
    text, markdown = render.to_text(plan), render.to_markdown(plan)
    assert '+ create "Cafe\\u0301"' in text and '+ create "Tab\\there"' in text
    assert "Cafe⟨U+0301⟩" in markdown and "Tab␉here" in markdown
    assert "Protected (live, in no manifest; kept by policy.protect" in text
    assert "1 protected live object(s), kept by policy.protect" in markdown
    assert "Warning (not reachable, drift)" in text and "**not reachable (drift):**" in markdown


def test_no_changes_with_an_unreachable_warning_never_says_the_organisation_matches() -> None:
    plan = Plan(changes=(), warnings=("a.yaml:1:1: cannot become b", "note"), unreachable=("a.yaml:1:1: cannot become b",))
    assert plan.drifted and not plan.has_changes
    for text in (render.to_text(plan), render.to_markdown(plan)):
        assert "matches the manifests" not in text
        assert "No changes can be planned, but 1 warning(s) say part of the manifests cannot be reached" in text
    assert "Warning: note" in render.to_text(plan)
    quiet = Plan(changes=(), warnings=("note",))
    assert not quiet.drifted
    assert "No changes. The live organisation matches the manifests." in render.to_text(quiet)


def test_unmanaged_and_protected_objects_are_listed_apart() -> None:
    plan = Plan(changes=(), unmanaged=(Unmanaged("candidate_tag", "Old", 1), Unmanaged("candidate_tag", "Keep", 2, True)))
    text = render.to_text(plan)
    assert "Unmanaged (live, in no manifest; left alone under prune: report): 1\n  ? candidate_tag Old (id 1)" in text
    assert "kept by policy.protect from a delete the plan would make): 1\n  ? candidate_tag Keep (id 2)" in text
    restored = Plan.from_json(plan.to_json())
    assert [u.protected for u in restored.unmanaged] == [False, True]
