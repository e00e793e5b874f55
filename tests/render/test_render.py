"""Renderers: text (Terraform symbols), Markdown (pull requests), and golden files of the demo plan."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler import render
from reconciler.live import read_for_manifest
from reconciler.manifest import load
from reconciler.plan import Plan
from reconciler.planner import build_plan
from tests.builders import live, manifest
from tests.harness import ROOT, Rig
from tests.render.plans import TAGS, pruning


def test_text_rendering_uses_terraform_symbols_and_a_summary_line() -> None:
    text = render.to_text(pruning(keep=10))
    assert "candidate_tag:" in text
    assert "  - delete tag-10 (id 310)  !! DESTRUCTIVE" in text
    assert text.rstrip().endswith("Plan: 0 to create, 0 to update, 2 to delete, 0 to replace. 10 unchanged, 0 unmanaged.")
    assert "\x1b[" not in text
    assert "\x1b[" in render.to_text(pruning(keep=10), color=True)

def test_text_rendering_shows_names_that_hide_a_difference_quoted_with_escapes() -> None:
    names = [" lead", "trail ", "a  b", "line\nbreak", "\x1b[31mred", "\u202eevil", "nbsp\u00a0x", "plain name"]
    text = render.to_text(build_plan(manifest(candidate_tags=names), live()))
    for shown in ['" lead"', '"trail "', '"a  b"', '"line\\nbreak"', '"\\u001b[31mred"', '"\\u202eevil"',
                  '"nbsp\\u00a0x"']:
        assert f"  + create {shown}\n" in text
    assert "  + create plain name\n" in text
    assert "\x1b" not in text and "\u202e" not in text and "\u00a0" not in text


def test_markdown_rendering_flags_destructive_changes_for_a_pull_request() -> None:
    md = render.to_markdown(pruning(keep=10))
    assert "**2 destructive change(s)**" in md
    assert "| `-` | delete **DESTRUCTIVE** | candidate_tag | tag-10 | 310 |" in md
    assert md.index("<details open><summary>Needs attention: 2 destructive change(s)") < md.index("candidate_tag ·")

def test_an_empty_plan_says_no_changes() -> None:
    plan = build_plan(manifest(candidate_tags=["tag-0"]), live(candidate_tags=TAGS[:1]))
    assert render.to_text(plan).startswith("No changes.")


GOLDEN = Path(__file__).parent / "golden"


def demo_plan(monkeypatch: pytest.MonkeyPatch) -> Plan:
    """The demo: examples/ against the seeded sandbox (in-process), as `plan examples/` makes it."""
    monkeypatch.chdir(ROOT)
    manifest_ = load(["examples"])
    with Rig().reader() as reader:
        return build_plan(manifest_, read_for_manifest(reader, manifest_), api_url="http://127.0.0.1")


@pytest.mark.parametrize(("name", "rendering"), [
    ("demo-plan.txt", lambda p: render.to_text(p)),
    ("demo-plan.color.txt", lambda p: render.to_text(p, color=True)),
    ("demo-plan.md", render.to_markdown),
    ("demo-plan.json", render.to_json),
])
def test_the_demo_plan_renders_exactly_as_the_golden_file(
    name: str, rendering: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Set UPDATE_GOLDEN=1 to rewrite the files after an intended change, then review the diff."""
    assert callable(rendering)
    text = rendering(demo_plan(monkeypatch))
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
