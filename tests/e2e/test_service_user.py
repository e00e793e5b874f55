"""The real CLI against the real sandbox server with GREENHOUSE_USER_ID unset: the token carries no `sub`
and acts as the credential's service user (a Site Admin by default; a non-admin one is refused by the
empty-lists guard before anything is written)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import SEED, Run, Server, cli, start_server

pytestmark = pytest.mark.e2e

GUARD = "every list read from the Harvest API came back empty"


def no_user_env(server: Server) -> dict[str, str]:
    env = server.env()
    del env["GREENHOUSE_USER_ID"]
    return env


def token_forms(server: Server) -> list[Any]:
    return [r["body"] for r in server.requests() if r["path"] == "/token"]


def assert_clean_failure(run: Run) -> None:
    assert run.code == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert "demo-secret" not in run.stdout + run.stderr


@pytest.fixture
def non_admin_server(tmp_path: Path) -> Iterator[Server]:
    """The demo organisation, its credential's service user demoted to a non-admin."""
    data = json.loads(SEED.read_text())
    data["clients"][0]["service_user"] = {"id": 1006, "site_admin": False}
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(data))
    srv = start_server("--seed", str(seed))
    try:
        yield srv
    finally:
        srv.stop()


def test_plan_apply_and_export_work_as_the_service_user(server: Server, tmp_path: Path) -> None:
    env = no_user_env(server)
    plan = cli("plan", "examples/", "--format", "json", env=env)
    assert plan.code == 0, plan.stderr
    assert json.loads(plan.stdout)["summary"]["create"] > 0
    assert token_forms(server) == [{"grant_type": "client_credentials"}]  # no sub

    server.clear()
    applied = cli("apply", "examples/", "--yes", env=env)
    assert applied.code == 0, applied.stderr
    assert server.writes()  # the writes went through as the service user
    assert all(form == {"grant_type": "client_credentials"} for form in token_forms(server))

    again = cli("plan", "examples/", "--detailed-exitcode", env=env)
    assert again.code == 0, again.stdout + again.stderr

    out = tmp_path / "exported"
    exported = cli("export", "--out", str(out), env=env)
    assert exported.code == 0, exported.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "candidate-tags.yaml", "custom-fields.yaml", "departments.yaml", "manifest.schema.json", "offices.yaml",
        "policy.yaml", "users.yaml"]
    server.clear()
    replan = cli("plan", str(out), "--detailed-exitcode", env=env)
    assert replan.code == 0, replan.stdout + replan.stderr
    assert server.writes() == []


def test_a_non_admin_service_user_is_refused_by_plan_apply_and_export(non_admin_server: Server,
                                                                     tmp_path: Path) -> None:
    env = no_user_env(non_admin_server)
    for args in (("plan", "examples/"), ("apply", "examples/", "--yes"), ("export", "--out", str(tmp_path / "x"))):
        run = cli(*args, env=env)
        assert_clean_failure(run)
        assert GUARD in run.stderr, run.stderr
        assert "GREENHOUSE_USER_ID" in run.stderr and "Site Admin" in run.stderr
    assert non_admin_server.writes() == []
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


def test_with_a_site_admin_user_id_the_same_credential_plans(non_admin_server: Server) -> None:
    run = cli("plan", "examples/", "--detailed-exitcode", env=non_admin_server.env(GREENHOUSE_USER_ID="1001"))
    assert run.code == 2, run.stdout + run.stderr  # changes pending: the demo organisation was read
    assert token_forms(non_admin_server)[-1] == {"grant_type": "client_credentials", "sub": "1001"}


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"GREENHOUSE_CLIENT_SECRET": "wrong-secret-Zq9"}, "check GREENHOUSE_CLIENT_ID and GREENHOUSE_CLIENT_SECRET"),
        ({"GREENHOUSE_USER_ID": "424242"}, "check GREENHOUSE_USER_ID (424242"),
        ({"GREENHOUSE_USER_ID": "1005"}, "or unset it to act as the credential's service user"),
    ],
)
def test_token_errors_name_the_setting_to_check(server: Server, extra: dict[str, str], needle: str) -> None:
    run = cli("plan", "examples/", env=server.env(**extra))
    assert_clean_failure(run)
    assert "POST /token -> " in run.stderr and needle in run.stderr
    assert "wrong-secret-Zq9" not in run.stderr
