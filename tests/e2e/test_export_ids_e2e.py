"""e2e: export of organisations that names cannot describe, through the real sandbox server and the real CLI.

Each case of issue 10's list: `export` exits 0 and prints each note once; `validate` accepts its files;
`plan` against the same organisation says there is nothing to change; nothing was written to the sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import SEED, Run, Server, cli, start_server

pytestmark = pytest.mark.e2e

STAMP = {"created_at": "2026-01-15T10:00:00.000Z", "updated_at": "2026-01-15T10:00:00.000Z"}
NO_CHANGES = "No changes."


def department(row_id: int, name: str, parent_id: int | None, external_id: str | None = None) -> dict[str, Any]:
    return {"id": row_id, "name": name, "parent_id": parent_id, "external_id": external_id, **STAMP}


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Callable[[Callable[[dict[str, Any]], None]], Server]]:
    """Start the sandbox on the demo seed changed by `change` (one server per test)."""
    servers: list[Server] = []

    def start(change: Callable[[dict[str, Any]], None]) -> Server:
        data = json.loads(SEED.read_text())
        change(data)
        path = tmp_path / "seed.json"
        path.write_text(json.dumps(data))
        servers.append(start_server("--seed", str(path)))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def export(server: Server, out: Path, *only: str) -> Run:
    args = [a for section in only for a in ("--only", section)]
    return cli("export", "--out", str(out), *args, env=server.env())


def notes(run: Run) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.startswith("Note: ")]


def assert_validates_and_plans_to_nothing(server: Server, out: Path) -> Run:
    validated = cli("validate", str(out), env=server.env())
    assert validated.code == 0, validated.stderr
    planned = cli("plan", str(out), "--detailed-exitcode", env=server.env())
    assert planned.code == 0, planned.stdout + planned.stderr
    assert NO_CHANGES in planned.stdout
    assert server.writes() == []
    return planned


def test_two_live_departments_named_sales_export_with_ids_one_note_and_plan_to_nothing(seeded: Any,
                                                                                   tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["departments"] += [department(90, "Sales", 10), department(91, "Sales", 11), department(92, "Pipeline", 90)]
        data["users"][1]["department_ids"] = [90, 91]  # jane: in both

    server = seeded(change)
    out = tmp_path / "org"
    run = export(server, out)
    assert run.code == 0, run.stderr
    assert notes(run) == [
        'Note: departments with ids 90, 91 are named "Sales" and have no external_id of their own: they are exported '
        "with `id:` and referred to by that id (their Harvest ids), which ties the manifests to this organisation; "
        'give them external_ids in Greenhouse to make them portable (docs/manifest.md, "The id identity")']
    items = yaml.safe_load((out / "departments.yaml").read_text())["departments"]
    sales = [d for d in items if d["name"] == "Sales"]
    # the demo's top-level Sales keeps its external id; the two new ones only their ids tell apart
    assert sorted(sales, key=lambda d: d.get("id", 0)) == [
        {"name": "Sales", "external_id": "SALES", "parent": None},
        {"name": "Sales", "id": 90, "parent": "ENG"}, {"name": "Sales", "id": 91, "parent": "ENG-PLAT"}]
    assert {"name": "Pipeline", "parent": 90} in items
    users = {u["email"]: u for u in yaml.safe_load((out / "users.yaml").read_text())["users"]}
    assert users["jane@acme.example"]["departments"] == [90, 91]
    assert_validates_and_plans_to_nothing(server, out)


def test_a_department_named_like_another_ones_external_id_is_referred_to_by_id(seeded: Any, tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["departments"] += [department(92, "ENG", None), department(93, "Tooling", 92)]

    server = seeded(change)
    out = tmp_path / "org"
    run = export(server, out, "department")
    assert run.code == 0, run.stderr
    assert notes(run) == [
        'Note: references to department "ENG" (id 92) are written as its Harvest id: its name and external_id are '
        "each also another department's name or external_id"]
    items = {d["name"]: d for d in yaml.safe_load((out / "departments.yaml").read_text())["departments"]}
    assert items["Tooling"]["parent"] == 92  # not "ENG", which is also Engineering's external_id
    assert items["Platform"]["parent"] == "Engineering"  # Engineering's external_id "ENG" is ambiguous, its name is not
    assert items["ENG"] == {"name": "ENG", "parent": None}  # its own identity: its name (unique among names)
    assert_validates_and_plans_to_nothing(server, out)


def test_users_whose_emails_differ_only_by_case_are_left_out_with_one_note(seeded: Any, tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        raj = next(u for u in data["users"] if u["id"] == 1003)
        data["users"].append({**raj, "id": 1099, "primary_email": "RAJ@acme.example", "emails": ["RAJ@acme.example"],
                              "employee_id": "E-1099"})
        data["user_emails"].append({"id": 899, "user_id": 1099, "email": "RAJ@acme.example", "verified": True,
                                    "verification_token_sent_at": None, **STAMP})

    server = seeded(change)
    out = tmp_path / "org"
    run = export(server, out, "user")
    assert run.code == 0, run.stderr
    assert notes(run) == [
        "Note: users raj@acme.example (id 1003), RAJ@acme.example (id 1099) have primary emails that differ only by "
        "case; Greenhouse compares emails case-insensitively, so no manifest entry can name one of them: they are "
        "left out (unmanaged); merge them or change one address in Greenhouse"]
    emails = [u["email"].lower() for u in yaml.safe_load((out / "users.yaml").read_text())["users"]]
    assert "raj@acme.example" not in emails and len(emails) == len(set(emails))
    planned = assert_validates_and_plans_to_nothing(server, out)
    assert "raj@acme.example" in planned.stdout and "RAJ@acme.example" in planned.stdout  # listed as unmanaged


def test_an_id_that_matches_no_live_department_is_a_plan_error_naming_the_line(server: Server, tmp_path: Path) -> None:
    (tmp_path / "departments.yaml").write_text("departments:\n  - name: Sales\n    id: 4012\n")
    assert cli("validate", str(tmp_path), env=server.env()).code == 0
    run = cli("plan", str(tmp_path), env=server.env())
    assert run.code == 1
    assert (f"{tmp_path / 'departments.yaml'}:3:5: $.departments[0].id: id 4012 matches no live department: a Harvest id names an "
            "object of one organisation") in run.stderr
    assert "Traceback" not in run.stderr
    assert server.writes() == []


def test_two_entries_with_one_id_are_a_validation_error(server: Server, tmp_path: Path) -> None:
    (tmp_path / "departments.yaml").write_text("departments:\n  - name: Sales\n    id: 10\n"
                                               "  - name: Sales 2\n    id: 10\n")
    run = cli("validate", str(tmp_path), env=server.env())
    assert run.code == 1
    assert (f"{tmp_path / 'departments.yaml'}:5:5: $.departments[1].id: duplicate department id 10 (first at "
            f"{tmp_path / 'departments.yaml'}:3:5)") in run.stderr
