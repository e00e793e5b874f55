"""The real CLI against the real sandbox server: plan, apply, convergence, safety refusals, saved plans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import Server, cli

pytestmark = pytest.mark.e2e

EXPECTED_DEMO_WRITES = [
    ("POST", "/v3/departments"), ("PATCH", "/v3/departments/22"), ("PATCH", "/v3/offices/112"),
    ("POST", "/v3/users"), ("PATCH", "/v3/users/1008"), ("POST", "/v3/custom_fields"),
    ("POST", "/v3/custom_field_options"), ("POST", "/v3/custom_field_departments"), ("POST", "/v3/candidate_tags"),
    ("POST", "/v3/user_job_permissions"), ("DELETE", "/v3/user_job_permissions/501"), ("POST", "/v3/user_job_permissions"),
]
#: Jane's role change creates the new grant first; the sandbox keeps one grant per (user, job) by default, so
#: it answers 422 "already" and the executor falls back to delete-first: POST (422), DELETE, POST.
EXPECTED_DEMO_REQUESTS = [*EXPECTED_DEMO_WRITES[:11], ("POST", "/v3/user_job_permissions"), EXPECTED_DEMO_WRITES[11]]


def test_plan_shows_the_examples_changes_apply_makes_exactly_them_and_then_nothing_is_pending(server: Server) -> None:
    plan = cli("plan", "examples/", "--format", "json", env=server.env())
    assert plan.code == 0, plan.stderr
    data = json.loads(plan.stdout)
    assert data["summary"] == {"create": 7, "update": 3, "delete": 0, "replace": 0, "unchanged": 56, "unmanaged": 2}
    assert all(r["method"] == "GET" for r in server.requests() if r["path"] != "/token")
    planned = [(w["method"], w["path"].replace("{$ref:user:new.hire@acme.example}", "1008"))
               for c in data["changes"] for w in c["writes"]]

    server.clear()
    applied = cli("apply", "examples/", "--yes", env=server.env())
    assert applied.code == 0, applied.stderr
    assert planned == EXPECTED_DEMO_WRITES
    assert server.writes() == EXPECTED_DEMO_REQUESTS

    again = cli("plan", "examples/", "--detailed-exitcode", env=server.env())
    assert again.code == 0, again.stdout + again.stderr
    assert "No changes." in again.stdout
    server.clear()
    assert cli("apply", "examples/", "--yes", env=server.env()).code == 0
    assert server.writes() == []


def test_detailed_exitcode_is_2_when_changes_are_pending(server: Server) -> None:
    run = cli("plan", "examples/", "--detailed-exitcode", env=server.env())
    assert run.code == 2
    assert "Plan: 7 to create, 3 to update, 0 to delete, 0 to replace. 56 unchanged, 2 unmanaged." in run.stdout


def test_markdown_format_renders_a_pull_request_comment(server: Server) -> None:
    run = cli("plan", "examples/", "--format", "markdown", env=server.env())
    assert run.code == 0
    assert run.stdout.startswith("### greenhouse-reconciler plan")


def write_manifest(tmp_path: Path, text: str) -> str:
    path = tmp_path / "org.yaml"
    path.write_text(text)
    return str(path)


def test_a_destructive_plan_is_refused_without_the_flag_and_writes_nothing(server: Server, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, "candidate_tags:\n  - Referral\n  - name: Legacy Tag\n    previously: [old-tag]\n")
    server.clear()
    run = cli("apply", manifest, "--yes", env=server.env())
    assert run.code == 1
    assert "destructive" in run.stderr and "--allow-destructive" in run.stderr
    assert server.writes() == []
    ok = cli("apply", manifest, "--yes", "--allow-destructive", env=server.env())
    assert ok.code == 0, ok.stderr
    assert server.writes() == [("POST", "/v3/candidate_tags"), ("DELETE", "/v3/candidate_tags/304")]


def test_a_plan_over_the_limits_is_refused_without_force_and_writes_nothing(server: Server, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, "policy:\n  limits:\n    max_deletes: 1\n"
                                        "custom_fields:\n  - name: Seniority\n    key: seniority\n    field_type: job\n"
                                        "    value_type: single_select\n    options: [Junior]\n")
    server.clear()
    run = cli("apply", manifest, "--yes", env=server.env())
    assert run.code == 1
    assert "3 deletes/archives/deactivations/revokes exceed max_deletes 1 (custom_field_option: 3)" in run.stderr
    assert "--force" in run.stderr
    assert server.writes() == []
    assert cli("apply", manifest, "--yes", "--force", env=server.env()).code == 0
    assert server.writes() == [("DELETE", "/v3/custom_field_options/bulk")]


def test_apply_without_a_terminal_and_without_yes_refuses(server: Server) -> None:
    run = cli("apply", "examples/", env=server.env(), stdin="")
    assert run.code == 1
    assert "--yes" in run.stderr
    assert server.writes() == []


def test_a_saved_plan_is_applied_exactly_and_a_stale_one_is_refused(server: Server, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert cli("plan", "examples/", "--out", str(saved), env=server.env()).code == 0
    text = saved.read_text()
    assert "demo-secret" not in text and "fingerprints" in text
    # someone renames in the UI, after the plan was reviewed, an unrelated department and the parent of
    # the department the plan creates: only the second is something the plan depends on
    renames = "departments:\n  - name: People Ops\n    previously: [People]\n" \
              "  - name: Platform Eng\n    previously: [Platform]\n"
    assert cli("apply", str(write_manifest(tmp_path, renames)), "--yes", env=server.env()).code == 0
    stale = cli("apply", "--plan", str(saved), "--yes", env=server.env())
    assert stale.code == 1
    assert "departments id 11 (Platform Eng) changed" in stale.stderr
    assert "departments id 30" not in stale.stderr
    undo = "departments:\n  - name: Platform\n    previously: [Platform Eng]\n"
    assert cli("apply", str(write_manifest(tmp_path, undo)), "--yes", env=server.env()).code == 0

    fresh = tmp_path / "fresh.json"
    assert cli("plan", "examples/", "--out", str(fresh), env=server.env()).code == 0
    saved_writes = [(w["method"], w["path"].replace("{$ref:user:new.hire@acme.example}", "1008"))
                    for c in json.loads(fresh.read_text())["changes"] for w in c["writes"]]
    assert ("PATCH", "/v3/departments/30") in saved_writes  # "People Ops" goes back to "People"
    server.clear()
    assert cli("apply", "--plan", str(fresh), "--yes", env=server.env()).code == 0
    fallback = saved_writes.index(("DELETE", "/v3/user_job_permissions/501")) + 1  # the role change's retry
    assert server.writes() == [*saved_writes[:fallback], ("POST", "/v3/user_job_permissions"), *saved_writes[fallback:]]


def test_the_journal_records_every_write(server: Server, tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    assert cli("apply", "examples/", "--yes", "--journal", str(journal), env=server.env()).code == 0
    lines = [x for x in map(json.loads, journal.read_text().splitlines()) if x["event"] == "outcome"]
    assert [(x["method"], x["path"]) for x in lines] == EXPECTED_DEMO_REQUESTS
    assert "demo-secret" not in journal.read_text()


def test_missing_credentials_are_a_clear_error(server: Server) -> None:
    env = server.env()
    del env["GREENHOUSE_CLIENT_SECRET"]
    run = cli("plan", "examples/", env=env)
    assert run.code == 1
    assert "GREENHOUSE_CLIENT_SECRET" in run.stderr and "Traceback" not in run.stderr


def test_wrong_credentials_name_the_failure_without_the_secret(server: Server) -> None:
    run = cli("plan", "examples/", env=server.env(GREENHOUSE_CLIENT_SECRET="wrong-secret-value"))
    assert run.code == 1
    assert "401" in run.stderr and "wrong-secret-value" not in run.stderr + run.stdout and "Traceback" not in run.stderr


def test_an_unresolvable_reference_is_reported_with_file_and_line(server: Server, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, "departments:\n  - name: Tools\n    parent: Enginering\n")
    run = cli("plan", manifest, env=server.env())
    assert run.code == 1
    assert f'{manifest}:3:5: $.departments[0].parent: unknown department "Enginering" (did you mean "Engineering"?)' in run.stderr


def test_a_usage_error_exits_64_never_2(server: Server) -> None:
    run = cli("plan", "examples/", "--format", "yaml", env=server.env())
    assert run.code == 64
    bad_type = cli("plan", "examples/", "--only", "departments", env=server.env())
    assert bad_type.code == 64
    assert "'departments' is not one of 'department'" in bad_type.stderr
    assert cli("apply", "examples/", "--plan", "plan.json", env=server.env()).code == 64


def test_export_writes_manifests_that_validate_and_plan_to_zero(server: Server, tmp_path: Path) -> None:
    out = tmp_path / "org"
    run = cli("export", "--out", str(out), env=server.env())
    assert run.code == 0, run.stderr
    assert cli("validate", str(out), env=server.env()).code == 0
    plan = cli("plan", str(out), "--detailed-exitcode", env=server.env())
    assert plan.code == 0, plan.stdout + plan.stderr
    only = cli("export", "--out", str(tmp_path / "tags"), "--only", "candidate_tag", env=server.env())
    assert only.code == 0
    assert sorted(p.name for p in (tmp_path / "tags").iterdir()) == [
        "candidate-tags.yaml", "manifest.schema.json", "policy.yaml"]
