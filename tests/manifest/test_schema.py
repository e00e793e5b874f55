"""The JSON Schema: generated from the section definitions, committed, and fit for editors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.manifest import json_schema
from reconciler.manifest.sections import section_defs
from reconciler.resources.custom_fields.definition import CUSTOM_FIELD, FIELD_TYPES, VALUE_TYPES
from reconciler.resources.registry import REGISTRY

SECTIONS = REGISTRY.views.sections

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "schemas" / "manifest.schema.json"
REGENERATE = "regenerate it: python -m reconciler schema > schemas/manifest.schema.json"


def test_the_committed_schema_is_up_to_date() -> None:
    generated = json.dumps(json_schema(), indent=2) + "\n"
    assert COMMITTED.read_text(encoding="utf-8") == generated, f"schemas/manifest.schema.json is stale; {REGENERATE}"


@pytest.mark.e2e
def test_the_schema_command_prints_the_committed_schema() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "reconciler", "schema"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == COMMITTED.read_text(encoding="utf-8"), REGENERATE


def test_the_schema_is_valid_draft_2020_12() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def _objects(node: Any, where: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object that declares properties, with where it sits in the schema."""
    if isinstance(node, dict):
        if "properties" in node:
            yield where, node
        for key, value in node.items():
            yield from _objects(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _objects(value, f"{where}/{i}")


def test_every_object_forbids_unknown_keys_and_every_property_has_a_description() -> None:
    objects = list(_objects(json_schema()))
    assert len(objects) >= 12
    for where, obj in objects:
        assert obj.get("additionalProperties") is False, where
        for name, prop in obj["properties"].items():
            assert isinstance(prop.get("description"), str) and len(prop["description"]) > 10, f"{where}/{name}"


def test_the_schema_lists_every_section_and_the_documented_enums() -> None:
    schema = json_schema()
    assert list(schema["properties"]) == ["version", *SECTIONS, "policy"]
    field = schema["$defs"]["custom_field"]["properties"]
    assert field["field_type"]["enum"] == list(FIELD_TYPES)
    assert field["value_type"]["enum"] == list(VALUE_TYPES)
    assert len(FIELD_TYPES) == 12 and len(VALUE_TYPES) == 13
    assert schema["$defs"]["prune"]["properties"]["departments"]["enum"] == ["off", "report", "enforce"]


def test_the_schema_is_built_from_the_section_definitions() -> None:
    defs = json_schema()["$defs"]
    for section, definition in section_defs().items():
        assert list(defs[definition.name]["properties"]) == list(definition.keys()), section
    required = defs["custom_field"]["required"]
    assert required == [p.name for p in CUSTOM_FIELD.props if p.required] == ["name", "field_type", "value_type"]
    assert "Only for job and opening fields." in defs["custom_field"]["properties"]["require_approval"]["description"]


@pytest.mark.parametrize(
    ("instance", "valid"),
    [
        ({"candidate_tags": ["Referral", {"name": "Alumni", "previously": "Boomerang"}]}, True),
        ({"candidate_tags": [""]}, False),
        ({"candidate_tags": [{"nmae": "x"}]}, False),
        ({"version": 1, "departments": [{"name": "Sales", "parent": None}]}, True),
        ({"version": 2}, False),
        ({"users": [{"email": "jane@acme.example", "job_permissions": [{"job": 400, "role": "Standard"}]}]}, True),
        ({"users": [{"email": "jane"}]}, False),
        ({"policy": {"limits": {"max_deletes": 0, "max_change_percent": 100}}}, True),
        ({"policy": {"limits": {"max_change_percent": 101}}}, False),
    ],
)
def test_the_schema_alone_accepts_and_rejects_like_the_loader(instance: dict[str, Any], valid: bool) -> None:
    errors = list(jsonschema.Draft202012Validator(json.loads(COMMITTED.read_text())).iter_errors(instance))
    assert (not errors) == valid, [e.message for e in errors]
