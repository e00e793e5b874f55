"""The real CLI against the real sandbox server: plans that would cut the tool's own access, or that hold two
grants resolving to one job or one future-job scope, are refused (exit 1, at the manifest line) before any write.

Each scenario runs `plan` and `apply --yes`; both must fail with the message and leave the sandbox's request log
without a single write. The demo credential acts as user 1001 (Ada, a site admin; examples/sandbox-seed.json);
1004 is the other active site admin; 1006 is the credential's service user (no email: not counted as a person).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import Server, cli

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Scenario:
    manifest: str
    #: Fragments of stderr; "{m}" is the manifest's path.
    expected: tuple[str, ...]
    acting_user: bool = True


SCENARIOS = {
    "deactivates-the-acting-user": Scenario(
        "users:\n  - email: admin@acme.example\n    active: false\n",
        ("{m}:3:5: $.users[0].active: this plan deactivates admin@acme.example, the user this tool acts as "
         "(GREENHOUSE_USER_ID 1001)",)),
    "revokes-the-acting-users-site-admin-role": Scenario(
        "users:\n  - email: admin@acme.example\n    site_admin: false\n",
        ("{m}:3:5: $.users[0].site_admin: this plan revokes the site admin role of admin@acme.example, the user "
         "this tool acts as (GREENHOUSE_USER_ID 1001)",)),
    "leaves-no-active-site-admin-service-user-token": Scenario(
        "users:\n  - email: admin@acme.example\n    active: false\n  - email: cto@acme.example\n"
        "    site_admin: false\n",
        tuple(f"{{m}}:{line}:5: $.users[{i}].{key}: this plan leaves the organisation with no active site admin "
              "(it deactivates or revokes all 2 of them: admin@acme.example at {m}:3:5, cto@acme.example at {m}:5:5)"
              for i, key, line in ((0, "active", 3), (1, "site_admin", 5))),
        acting_user=False),
    "two-job-permissions-on-one-job": Scenario(
        "users:\n  - email: jane@acme.example\n    job_permissions:\n"
        "      - {job: REQ-1004, role: Standard}\n      - {job: 403, role: Private}\n",
        ('{m}:5:9: $.users[0].job_permissions[1]: job "403" is the same job as "REQ-1004" at {m}:4:9 '
         '(REQ-1004, id 403; roles "Private" and "Standard")',)),
    "two-future-job-permissions-with-one-scope": Scenario(
        "users:\n  - email: jane@acme.example\n    future_job_permissions:\n"
        "      - {role: Standard, department: Sales}\n      - {role: Standard, department: SALES}\n",
        ("{m}:5:9: $.users[0].future_job_permissions[1]: the same future job permission as at {m}:4:9 "
         "(Standard on future jobs in Sales)",)),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_plan_and_apply_refuse_with_the_line_and_write_nothing(server: Server, tmp_path: Path, name: str) -> None:
    scenario = SCENARIOS[name]
    path = tmp_path / "org.yaml"
    path.write_text(scenario.manifest)
    env = server.env()
    if not scenario.acting_user:
        del env["GREENHOUSE_USER_ID"]
    server.clear()
    for command in (("plan", str(path)), ("apply", str(path), "--yes")):
        run = cli(*command, env=env)
        assert run.code == 1, run.stdout + run.stderr
        assert "Traceback" not in run.stderr
        for fragment in scenario.expected:
            assert fragment.replace("{m}", str(path)) in run.stderr, run.stderr
    assert server.writes() == []
    assert any(r["method"] == "GET" for r in server.requests())  # it did read the organisation


def test_after_a_refused_self_deactivation_the_tool_still_has_its_access(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(SCENARIOS["deactivates-the-acting-user"].manifest)
    assert cli("apply", str(path), "--yes", env=server.env()).code == 1
    again = cli("plan", "examples/", "--detailed-exitcode", env=server.env())
    assert again.code == 2, again.stderr  # the demo's changes are pending, read as the acting user
    admins = {u["id"]: u["deactivated"] for u in server.state()["users"] if u["site_admin"]}
    assert admins[1001] is False and admins[1004] is False


def test_deactivating_the_other_site_admin_is_still_planned(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text("users:\n  - email: cto@acme.example\n    active: false\n")
    run = cli("plan", str(path), env=server.env())
    assert run.code == 0, run.stderr
    assert "cto@acme.example" in run.stdout
