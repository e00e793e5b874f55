"""A custom field replace through the real sandbox server and the real CLI: the unmanaged settings survive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, cli

pytestmark = pytest.mark.e2e

#: Only identity and types: description, flags, scoping and options of the seeded field are unmanaged.
MANIFEST = ("custom_fields:\n"
            "  - name: Cost Center\n    key: cost_center\n    field_type: job\n    value_type: multi_select\n")


def _field(state: dict[str, Any], key: str) -> dict[str, Any]:
    (row,) = [r for r in state["custom_fields"] if r["name_key"] == key]
    return dict(row)


def test_a_value_type_change_recreates_the_fields_unmanaged_settings_and_then_converges(
    server: Server, tmp_path: Path
) -> None:
    manifest = tmp_path / "fields.yaml"
    manifest.write_text(MANIFEST)
    old = _field(server.state(), "cost_center")
    assert (old["id"], old["description"], old["require_approval"]) == (200, "Finance cost center", True)

    plan = cli("plan", str(manifest), env=server.env())
    assert plan.code == 0, plan.stderr
    assert "-/+ replace Cost Center (id 200)" in plan.stdout
    assert 'value_type: "single_select" -> "multi_select"' in plan.stdout
    assert 'field_type: "job" -> "job"' not in plan.stdout and "name: null" not in plan.stdout
    assert ('carried over from the live field (not in the manifest): description "Finance cost center"; '
            "require_approval true") in plan.stdout
    assert "departments (Engineering, Sales); offices (San Francisco); 3 active option(s)" in plan.stdout
    assert 'key "cost_center" kept' in plan.stdout

    applied = cli("apply", str(manifest), "--yes", "--allow-destructive", env=server.env())
    assert applied.code == 0, applied.stdout + applied.stderr

    state = server.state()
    new = _field(state, "cost_center")
    assert new["id"] != 200 and not [r for r in state["custom_fields"] if r["id"] == 200]
    assert new["value_type"] == "multi_select"
    assert {k: new[k] for k in ("description", "require_approval", "required", "private", "api_only")} == {
        "description": "Finance cost center", "require_approval": True, "required": False, "private": False,
        "api_only": False}
    assert sorted(r["department_id"] for r in state["custom_field_departments"] if r["custom_field_id"] == new["id"]) \
        == [10, 20]
    assert [r["office_id"] for r in state["custom_field_offices"] if r["custom_field_id"] == new["id"]] == [101]
    options = sorted((o["sort_order"], o["name"], o["external_id"], o["active"])
                     for o in state["custom_field_options"] if o["custom_field_id"] == new["id"])
    assert options == [(1, "100 - Platform", "100", True), (2, "200 Sales", "200", True),
                       (3, "300 - People", "300", True)]  # the archived "900 - Legacy" is not re-created

    again = cli("plan", str(manifest), "--format", "json", "--detailed-exitcode", env=server.env())
    assert again.code == 0, again.stdout + again.stderr
    second = json.loads(again.stdout)
    assert (second["changes"], second["warnings"]) == ([], [])
