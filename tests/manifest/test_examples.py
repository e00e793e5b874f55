"""The examples: valid (through the loader and, independently, through jsonschema alone), editor-ready,
and carrying exactly the demo's intended changes against the seeded sandbox organisation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from reconciler.manifest import Manifest, load

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))
SCHEMA = json.loads((ROOT / "schemas" / "manifest.schema.json").read_text(encoding="utf-8"))


def test_the_examples_are_split_by_section_the_way_a_team_keeps_them() -> None:
    assert [p.name for p in EXAMPLE_FILES] == [
        "candidate-tags.yaml",
        "custom-fields.yaml",
        "departments.yaml",
        "offices.yaml",
        "policy.yaml",
        "users.yaml",
    ]


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.name for p in EXAMPLE_FILES])
def test_each_example_validates_against_the_committed_schema_directly(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(document)]
    assert errors == []


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.name for p in EXAMPLE_FILES])
def test_each_example_points_editors_at_the_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/manifest.schema.json"
    assert (path.parent / first.split("=", 1)[1]).resolve() == ROOT / "schemas" / "manifest.schema.json"


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return load([str(EXAMPLES)])


def _by(manifest: Manifest, section: str, key: str) -> dict[str, Any]:
    return {str(e.data[key]): dict(e.data) for e in manifest.entries[section]}


def test_the_examples_load_and_manage_every_seeded_object(manifest: Manifest) -> None:
    assert manifest.count() == {
        "departments": 10,  # 9 seeded + Developer Experience
        "offices": 7,
        "custom_fields": 9,  # 8 active seeded + Remote Eligible
        "candidate_tags": 6,  # 6 seeded - old-tag + 2026-grad
        "users": 6,  # 1002, 1003, 1004, 1005, 1007 + new.hire
    }
    assert manifest.present == frozenset(manifest.entries)


def test_the_examples_carry_the_demo_changes(manifest: Manifest) -> None:
    departments = _by(manifest, "departments", "name")
    assert departments["Developer Experience"] == {
        "name": "Developer Experience", "external_id": "ENG-DX", "parent": "Platform"
    }  # fmt: skip
    assert departments["Sales North America"]["previously"] == ["Sales NA"]
    assert _by(manifest, "offices", "name")["Berlin"]["location"] == "Berlin, Germany"
    fields = _by(manifest, "custom_fields", "key")
    cost = fields["cost_center"]
    assert cost["departments"] == ["Engineering", "Sales", "Finance"]
    assert cost["options"][-1] == {"name": "400 - Finance", "external_id": "400"}
    assert [o["name"] for o in cost["options"]] == ["100 - Platform", "200 Sales", "300 - People", "400 - Finance"]
    assert fields["remote_eligible"] == {
        "name": "Remote Eligible", "key": "remote_eligible", "field_type": "job", "value_type": "yes_no"
    }  # fmt: skip
    assert "legacy_score" not in fields
    tags = [e.data["name"] for e in manifest.entries["candidate_tags"]]
    assert "2026-grad" in tags and "old-tag" not in tags
    users = _by(manifest, "users", "email")
    assert {"job": "REQ-1003", "role": "Standard"} in users["raj@acme.example"]["job_permissions"]
    assert {"job": "REQ-1004", "role": "Standard"} in users["jane@acme.example"]["job_permissions"]
    assert users["new.hire@acme.example"] == {
        "email": "new.hire@acme.example", "first_name": "Nia", "last_name": "Hire",
        "offices": ["London"], "departments": ["Sales EMEA"],
    }  # fmt: skip


def test_the_example_policy(manifest: Manifest) -> None:
    policy = manifest.policy
    assert policy.protect["candidate_tags"] == ("Do Not Contact",)
    assert policy.protect["users"] == ("cto@acme.example",)
    assert set(policy.prune.values()) == {"report"}
    assert (policy.limits.max_deletes, policy.limits.max_change_percent) == (10, 30.0)


def test_the_examples_never_name_the_ambiguous_requisition() -> None:
    for path in EXAMPLE_FILES:
        assert "REQ-2000" not in yaml.safe_dump(yaml.safe_load(path.read_text(encoding="utf-8"))), path.name
