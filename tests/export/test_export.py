"""export: live -> manifests that validate and plan to zero changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reconciler.export import collections_for, export_documents
from reconciler.live import LiveOrg, by_id, read_for_manifest, read_live, requests
from reconciler.manifest import load
from reconciler.plan import Plan
from reconciler.planner import build_plan
from tests.harness import ROOT, Rig, seed

SECTIONS = ["departments", "offices", "custom_fields", "candidate_tags", "users"]


def export_to(rig: Rig, directory: Path, sections: list[str] = SECTIONS) -> list[str]:
    with rig.reader() as reader:
        live = read_live(reader, requests(collections_for(sections)))
    result = export_documents(live, sections)
    for name, text in result.documents.items():
        (directory / name).write_text(text)
    for name, text in result.starters.items():
        if not (directory / name).exists():
            (directory / name).write_text(text)
    return result.notes


def plan_dir(rig: Rig, directory: Path) -> Plan:
    manifest = load([str(directory)])
    with rig.reader() as reader:
        return build_plan(manifest, read_for_manifest(reader, manifest))


def test_the_seeded_org_exports_to_manifests_that_plan_to_zero_changes(tmp_path: Path) -> None:
    rig = Rig()
    assert export_to(rig, tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["candidate-tags.yaml", "custom-fields.yaml",
                                                          "departments.yaml", "manifest.schema.json", "offices.yaml",
                                                          "policy.yaml", "users.yaml"]
    plan = plan_dir(rig, tmp_path)
    assert plan.changes == () and plan.unmanaged == ()
    assert sum(plan.unchanged.values()) > 50


def test_export_after_applying_the_examples_still_plans_to_zero(tmp_path: Path) -> None:
    rig = Rig()
    manifest = load([str(ROOT / "examples")])
    with rig.reader() as reader:
        rig.executor().apply(build_plan(manifest, read_for_manifest(reader, manifest)))
    export_to(rig, tmp_path)
    assert plan_dir(rig, tmp_path).changes == ()


def test_export_writes_keys_options_in_order_scoping_and_stable_references(tmp_path: Path) -> None:
    export_to(Rig(), tmp_path, ["custom_fields", "users"])
    fields = {f["key"]: f for f in yaml.safe_load((tmp_path / "custom-fields.yaml").read_text())["custom_fields"]}
    assert "legacy_score" not in fields  # inactive fields are not exported
    cost = fields["cost_center"]
    assert cost["options"] == [{"name": "100 - Platform", "external_id": "100"}, {"name": "200 Sales", "external_id": "200"},
                               {"name": "300 - People", "external_id": "300"}]
    assert cost["departments"] == ["ENG", "SALES"] and cost["offices"] == ["SF"]
    assert "require_approval" in cost and "trigger_new_version" not in cost
    assert set(fields["badge_number"]) <= {"name", "key", "field_type", "value_type", "description", "required"}
    users = {u["email"]: u for u in yaml.safe_load((tmp_path / "users.yaml").read_text())["users"]}
    assert "job_permissions" not in users["admin@acme.example"]  # site admins: implicit
    assert {"job": "REQ-1004", "role": "Hiring Manager"} in users["jane@acme.example"]["job_permissions"]
    assert "" not in users  # the service account is not exported


def test_shared_names_without_external_ids_are_written_with_ids_and_noted_once(tmp_path: Path) -> None:
    rows = {"departments": by_id([{"id": 1, "name": "Ops", "parent_id": None, "external_id": None},
                                  {"id": 2, "name": "Ops", "parent_id": 1, "external_id": None}])}
    result = export_documents(LiveOrg(rows=rows), ["departments"])
    items = yaml.safe_load(result.documents["departments.yaml"])["departments"]
    assert items == [{"name": "Ops", "id": 1, "parent": None}, {"name": "Ops", "id": 2, "parent": 1}]
    assert len(result.notes) == 1 and result.notes[0].startswith('departments with ids 1, 2 are named "Ops"')


def test_a_grant_on_a_confidential_job_round_trips_by_job_id(tmp_path: Path) -> None:
    data = seed()
    data["user_job_permissions"].append({"id": 599, "user_id": 1003, "job_id": 407, "role_id": 2, "automated": False,
                                         "created_at": "2026-01-15T10:00:00.000Z", "updated_at": "2026-01-15T10:00:00.000Z"})
    rig = Rig(data)
    export_to(rig, tmp_path, ["users"])
    users = {u["email"]: u for u in yaml.safe_load((tmp_path / "users.yaml").read_text())["users"]}
    assert {"job": 407, "role": "Standard"} in users["raj@acme.example"]["job_permissions"]
    assert plan_dir(rig, tmp_path).changes == ()


def seed_with_an_automated_grant() -> dict[str, Any]:
    """The demo org after Greenhouse applied jane's future permission 600 (Standard, department 11) to a new job."""
    data = seed()
    stamp = {"created_at": "2026-02-01T10:00:00.000Z", "updated_at": "2026-02-01T10:00:00.000Z"}
    template = next(j for j in data["jobs"] if j["id"] == 400)
    data["jobs"].append({**template, "id": 409, "name": "Platform Intern", "requisition_id": "REQ-1009", **stamp})
    data["user_job_permissions"].append({"id": 599, "user_id": 1002, "job_id": 409, "role_id": 2, "automated": True,
                                         **stamp})
    return data


def test_export_leaves_automated_grants_out_and_the_export_plans_to_zero_with_them_present(tmp_path: Path) -> None:
    rig = Rig(seed_with_an_automated_grant())
    export_to(rig, tmp_path, ["users"])
    users = {u["email"]: u for u in yaml.safe_load((tmp_path / "users.yaml").read_text())["users"]}
    jobs = [g["job"] for g in users["jane@acme.example"]["job_permissions"]]
    assert "REQ-1009" not in jobs and jobs  # her hand-made grants are exported, the automated one is not
    plan = plan_dir(rig, tmp_path)
    assert plan.changes == ()
    assert [(g.type, g.id) for g in plan.greenhouse_managed] == [("user_job_permission", 599)]
