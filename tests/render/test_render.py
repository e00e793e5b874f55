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

def test_markdown_rendering_flags_destructive_changes_for_a_pull_request() -> None:
    md = render.to_markdown(pruning(keep=10))
    assert "**2 destructive change(s)**" in md
    assert "| `-` | delete **DESTRUCTIVE** | tag-10 |" in md

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
