"""`apply --only TYPE` through the real sandbox server and the real CLI: only those writes are sent, the
rest is named as pending, a kept change that needs a dropped one is refused, saved plans are filtered and
still checked for staleness."""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Server, cli, start_server

pytestmark = pytest.mark.e2e

PENDING = ("8 change(s) of other types stay pending and are not applied: 1 custom_field, 1 custom_field_department, "
           "1 custom_field_option, 2 department, 1 user, 2 user_job_permission; run plan again to see them")


@pytest.fixture
def server() -> Iterator[Server]:
    srv = start_server()
    try:
        yield srv
    finally:
        srv.stop()


def test_apply_only_sends_only_the_writes_of_those_types(server: Server) -> None:
    run = cli("apply", "examples/", "--only", "candidate_tag", "--only", "office", "--yes", env=server.env())
    assert run.code == 0, run.stderr
    assert f"Warning: --only candidate_tag, office: {PENDING}" in run.stderr
    assert server.writes() == [("PATCH", "/v3/offices/112"), ("POST", "/v3/candidate_tags")]
    assert "Apply complete: 2 change(s), 2 write request(s)." in run.stderr
    assert "Plan: 1 to create, 1 to update, 0 to delete" in run.stdout  # only the kept changes are shown
    server.clear()
    again = cli("plan", "examples/", "--format", "json", env=server.env())
    left = {c["type"] for c in json.loads(again.stdout)["changes"]}
    assert left == {"department", "user", "custom_field", "custom_field_option", "custom_field_department",
                    "user_job_permission"}  # the rest is still pending


def test_apply_only_filters_a_saved_plan(server: Server, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert cli("plan", "examples/", "--out", str(saved), env=server.env()).code == 0
    server.clear()
    run = cli("apply", "--plan", str(saved), "--only", "department", "--yes", env=server.env())
    assert run.code == 0, run.stderr
    assert server.writes() == [("POST", "/v3/departments"), ("PATCH", "/v3/departments/22")]
    assert "stay pending and are not applied: 1 candidate_tag, 1 custom_field" in run.stderr


def _rename_department_out_of_band(server: Server, department_id: int, name: str) -> None:
    form = b"grant_type=client_credentials&sub=1001"
    token_request = urllib.request.Request(f"{server.url}/token", data=form, method="POST", headers={
        "Authorization": "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=",  # demo-client:demo-secret
        "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(token_request, timeout=10) as answer:  # noqa: S310 - loopback sandbox
        token = json.loads(answer.read())["access_token"]
    patch = urllib.request.Request(f"{server.url}/v3/departments/{department_id}", method="PATCH",
                                   data=json.dumps({"name": name}).encode(),
                                   headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(patch, timeout=10):  # noqa: S310 - loopback sandbox
        pass


def test_a_filtered_saved_plan_is_still_refused_when_what_it_keeps_changed(server: Server, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert cli("plan", "examples/", "--out", str(saved), env=server.env()).code == 0
    _rename_department_out_of_band(server, 22, "Sales (renamed by hand)")
    server.clear()
    run = cli("apply", "--plan", str(saved), "--only", "department", "--yes", env=server.env())
    assert run.code == 1
    assert "the saved plan is stale" in run.stderr
    assert "departments id 22 (Sales (renamed by hand)) changed" in run.stderr
    assert server.writes() == []


def _manifests_with_a_new_hire_in_a_new_department(tmp_path: Path) -> Path:
    org = tmp_path / "org"
    shutil.copytree(ROOT / "examples", org, ignore=shutil.ignore_patterns("*.json"))
    users = org / "users.yaml"
    text = users.read_text()
    assert "departments: [Sales EMEA]" in text
    users.write_text(text.replace("departments: [Sales EMEA]", "departments: [Developer Experience]"))
    return org


REFUSAL = re.compile(
    r"^Error: apply --only user: the change user:\S+ \((create|update) user \S+@acme\.example\) depends on "
    r"department:ENG-DX \(create department Developer Experience\), which --only leaves out; add --only "
    r"department, or apply without --only$", re.M)


def test_a_kept_change_that_needs_a_dropped_create_is_refused(server: Server, tmp_path: Path) -> None:
    org = _manifests_with_a_new_hire_in_a_new_department(tmp_path)
    run = cli("apply", str(org), "--only", "user", "--yes", env=server.env())
    assert run.code == 1
    assert REFUSAL.search(run.stderr), run.stderr
    assert server.writes() == []
    saved = tmp_path / "plan.json"
    assert cli("plan", str(org), "--out", str(saved), env=server.env()).code == 0
    run = cli("apply", "--plan", str(saved), "--only", "user", "--yes", env=server.env())
    assert run.code == 1
    assert REFUSAL.search(run.stderr), run.stderr
    assert server.writes() == []
    run = cli("apply", "--plan", str(saved), "--only", "user", "--only", "department", "--yes", env=server.env())
    assert run.code == 0, run.stderr
    writes = server.writes()
    assert writes[0] == ("POST", "/v3/departments")
    assert ("POST", "/v3/users") in writes
    assert {m for m, p in writes if not p.startswith(("/v3/departments", "/v3/users"))} == set()
