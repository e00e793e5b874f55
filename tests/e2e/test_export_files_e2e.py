"""e2e: what export writes beside the manifests (issue 9 item 6), through the real sandbox and the real CLI.

Every manifest starts with the yaml-language-server modeline pointing to `manifest.schema.json`, which export
writes beside them (the same schema `greenhouse-reconciler schema` prints); a starter `policy.yaml` is written
into a folder without one and never replaces an existing one; the folder validates (the schema file is not a
manifest) and plans to zero changes with the starter policy in it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import Server, cli

pytestmark = pytest.mark.e2e

MODELINE = "# yaml-language-server: $schema=manifest.schema.json"
MANIFESTS = ["candidate-tags.yaml", "custom-fields.yaml", "departments.yaml", "offices.yaml", "users.yaml"]


def test_export_writes_the_schema_beside_manifests_that_point_to_it(server: Server, tmp_path: Path) -> None:
    out = tmp_path / "org"
    run = cli("export", "--out", str(out), env=server.env())
    assert run.code == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted([*MANIFESTS, "manifest.schema.json", "policy.yaml"])
    for name in [*MANIFESTS, "policy.yaml"]:
        assert (out / name).read_text().splitlines()[0] == MODELINE, name
    printed = cli("schema", env=server.env())
    assert json.loads((out / "manifest.schema.json").read_text()) == json.loads(printed.stdout)
    validated = cli("validate", str(out), env=server.env())
    assert validated.code == 0, validated.stderr
    planned = cli("plan", str(out), "--detailed-exitcode", env=server.env())
    assert planned.code == 0, planned.stdout + planned.stderr
    assert "No changes." in planned.stdout
    assert server.writes() == []


def test_the_starter_policy_spells_out_the_defaults_and_validates_on_its_own(server: Server, tmp_path: Path) -> None:
    run = cli("export", "--out", str(tmp_path), env=server.env())
    assert run.code == 0, run.stderr
    assert f"Wrote {tmp_path / 'policy.yaml'} (a starter: edit it; export never replaces it)" in run.stderr
    policy = yaml.safe_load((tmp_path / "policy.yaml").read_text())["policy"]
    assert policy == {
        "prune": {s: "report" for s in ("departments", "offices", "custom_fields", "candidate_tags", "users")},
        "limits": {"max_deletes": 10, "max_change_percent": 30},
    }
    assert "#   candidate_tags: []" in (tmp_path / "policy.yaml").read_text()  # protect: commented examples
    alone = cli("validate", str(tmp_path / "policy.yaml"), env=server.env())
    assert alone.code == 0, alone.stderr


def test_a_second_export_keeps_an_edited_policy_and_replaces_the_manifests(server: Server, tmp_path: Path) -> None:
    assert cli("export", "--out", str(tmp_path), env=server.env()).code == 0
    edited = (tmp_path / "policy.yaml").read_text().replace("max_deletes: 10", "max_deletes: 3") + "# ours\n"
    (tmp_path / "policy.yaml").write_text(edited)
    (tmp_path / "departments.yaml").write_text("departments: []\n")
    run = cli("export", "--out", str(tmp_path), env=server.env())
    assert run.code == 0, run.stderr
    assert f"Kept {tmp_path / 'policy.yaml'} (a starter is written only where none exists)" in run.stderr
    assert (tmp_path / "policy.yaml").read_text() == edited
    assert (tmp_path / "departments.yaml").read_text().startswith(MODELINE)
    assert cli("validate", str(tmp_path), env=server.env()).code == 0
