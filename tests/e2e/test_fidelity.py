"""Documented Harvest v3 behaviour at scale, through the real sandbox server and the real CLI.

The server runs bulk rows asynchronously and in a seeded shuffled order, makes automated grants, and can
be told to keep a bulk request pending; the CLI must converge, leave Greenhouse's own grants alone, and
never send a row twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import SEED, Server, cli, start_server

pytestmark = pytest.mark.e2e


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def serve(*args: str, seed: Path | None = None) -> Iterator[Server]:
    srv = start_server(*args) if seed is None else start_server(*args, "--seed", str(seed))
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def shuffled() -> Iterator[Server]:
    with serve("--option", "bulk_shuffle=true", "--option", "bulk_seed=7") as srv:
        yield srv


def writes(server: Server) -> list[dict[str, Any]]:
    return [r for r in server.requests() if r["method"] != "GET" and r["path"] != "/token"]


SWAPS = """
departments:
  - {name: Platform, external_id: ENG-PLAT, parent: null}
  - {name: Engineering, external_id: ENG, parent: ENG-PLAT}
  - {name: Sales (EMEA), previously: [Sales EMEA]}
  - {name: Sales (NA), previously: [Sales NA]}
  - {name: Money, external_id: FIN}
custom_fields:
  - name: Cost Center
    key: cost_center
    field_type: job
    value_type: single_select
    options:
      - {name: "200 Sales", external_id: "100"}
      - {name: "100 - Platform", external_id: "200"}
      - {name: "300 - People", external_id: "300"}
"""


def test_with_shuffled_asynchronous_bulks_a_parent_child_swap_and_an_option_name_swap_converge(
        shuffled: Server, tmp_path: Path) -> None:
    manifest = write(tmp_path / "org", "org.yaml", SWAPS)
    env = shuffled.env()
    first = cli("apply", str(manifest), "--yes", env=env)
    assert first.code == 0, first.stderr
    assert "(renaming" in first.stdout  # the option swap goes through a temporary name, shown in the plan
    sent = writes(shuffled)
    assert [w["path"] for w in sent].count("/v3/departments/bulk") == 1  # the three plain renames
    assert not any(w["path"] == "/v3/custom_field_options/bulk" for w in sent)  # order-dependent: single
    state = shuffled.state()
    departments = {d["external_id"] or d["name"]: d for d in state["departments"]}
    assert departments["ENG-PLAT"]["parent_id"] is None
    assert departments["ENG"]["parent_id"] == departments["ENG-PLAT"]["id"]
    options = {o["external_id"]: o["name"] for o in state["custom_field_options"] if o["custom_field_id"] == 200}
    assert (options["100"], options["200"]) == ("200 Sales", "100 - Platform")
    again = cli("plan", str(manifest), "--detailed-exitcode", env=env)
    assert again.code == 0, again.stdout + again.stderr


def automated_seed(tmp_path: Path) -> Path:
    data = json.loads(SEED.read_text())
    data["jobs"].append({**data["jobs"][0], "id": 480, "name": "Staff Platform Engineer", "requisition_id": "REQ-1480"})
    data["user_job_permissions"].append({"id": 580, "user_id": 1002, "job_id": 480, "role_id": 2, "automated": True,
                                         "created_at": "2026-02-01T00:00:00.000Z",
                                         "updated_at": "2026-02-01T00:00:00.000Z"})
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


JANE = """
users:
  - email: jane@acme.example
    job_permissions:
      - {job: REQ-1001, role: Standard}
      - {job: REQ-1004, role: Hiring Manager}
      - {job: REQ-1002, role: Private}
"""


def test_an_automated_grant_survives_apply_is_not_exported_and_is_not_drift(tmp_path: Path) -> None:
    with serve(seed=automated_seed(tmp_path)) as srv:
        manifest = write(tmp_path / "org", "users.yaml", JANE)
        env = srv.env()
        plan = cli("plan", str(manifest), "--format", "json", env=env)
        assert plan.code == 0, plan.stderr
        body = json.loads(plan.stdout)
        assert [(g["type"], g["id"]) for g in body["greenhouse_managed"]] == [("user_job_permission", 580)]
        assert "Greenhouse-managed" in cli("plan", str(manifest), env=env).stdout
        applied = cli("apply", str(manifest), "--yes", env=env)
        assert applied.code == 0, applied.stderr
        assert [(w["method"], w["path"]) for w in writes(srv)] == [("POST", "/v3/user_job_permissions")]
        assert any(r["id"] == 580 for r in srv.state()["user_job_permissions"])
        assert cli("plan", str(manifest), "--detailed-exitcode", env=env).code == 0
        exported = cli("export", "--out", str(tmp_path / "export"), env=env)
        assert exported.code == 0, exported.stderr
        users = (tmp_path / "export" / "users.yaml").read_text()
        assert "REQ-1480" not in users and "REQ-1002" in users
        assert cli("plan", str(tmp_path / "export"), "--detailed-exitcode", env=env).code == 0


ROLE_CHANGE = """
users:
  - email: jane@acme.example
    job_permissions:
      - {job: REQ-1001, role: Private}
      - {job: REQ-1004, role: Hiring Manager}
"""


def test_a_role_change_on_one_job_creates_the_new_grant_before_deleting_the_old(tmp_path: Path) -> None:
    with serve("--option", "reject_duplicate_job_permission=false") as srv:
        manifest = write(tmp_path / "org", "users.yaml", ROLE_CHANGE)
        applied = cli("apply", str(manifest), "--yes", env=srv.env())
        assert applied.code == 0, applied.stderr
        assert [(w["method"], w["path"], w["status"]) for w in writes(srv)] == [
            ("POST", "/v3/user_job_permissions", 201), ("DELETE", "/v3/user_job_permissions/500", 204)]


def test_where_greenhouse_keeps_one_grant_per_job_the_role_change_falls_back_to_delete_first(tmp_path: Path) -> None:
    with serve("--option", "reject_duplicate_job_permission=true") as srv:
        manifest = write(tmp_path / "org", "users.yaml", ROLE_CHANGE)
        applied = cli("apply", str(manifest), "--yes", env=srv.env())
        assert applied.code == 0, applied.stderr
        assert [(w["method"], w["path"], w["status"]) for w in writes(srv)] == [
            ("POST", "/v3/user_job_permissions", 422), ("DELETE", "/v3/user_job_permissions/500", 204),
            ("POST", "/v3/user_job_permissions", 201)]
        assert cli("plan", str(manifest), "--detailed-exitcode", env=srv.env()).code == 0


def test_a_bulk_request_still_pending_at_the_deadline_stops_apply_with_exit_1_and_resends_nothing(
        tmp_path: Path) -> None:
    with serve("--option", "bulk_processing_seconds=3600") as srv:
        manifest = write(tmp_path / "org", "departments.yaml", """
departments:
  - {name: Sales (EMEA), previously: [Sales EMEA]}
  - {name: Sales (NA), previously: [Sales NA]}
  - {name: Money, external_id: FIN}
""")
        applied = cli("apply", str(manifest), "--yes", env=srv.env(GREENHOUSE_BULK_WAIT="1"))
        assert applied.code == 1
        assert "still pending; run plan again later" in applied.stderr
        assert "Traceback" not in applied.stderr
        assert [(w["method"], w["path"]) for w in writes(srv)] == [("PATCH", "/v3/departments/bulk")]
