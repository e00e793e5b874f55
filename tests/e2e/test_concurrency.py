"""Concurrency through the real sandbox server and the real CLI in subprocesses: several plans sharing one
credential while each mint revokes the others' tokens, one token per process, concurrent reads under a
tight rate limit without a single 429, and manifest errors reported exactly as `validate` reports them
although the reads start before the checks. Request counts come from the sandbox's request log."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Server, cli, start_server

pytestmark = pytest.mark.e2e

PLANS_AT_ONCE = 6


@pytest.fixture
def revoking_server() -> Iterator[Server]:
    """Each mint revokes the client's previous token (whatever its `sub`), and every API request takes
    30 ms more, so that plans started together overlap and revoke each other's tokens mid-read."""
    srv = start_server("--option", "token_revocation=per-client", "--faults", "latency=1:30ms")
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def limited_server() -> Iterator[Server]:
    """5 requests per 2-second window: a plan of examples/ (13 API requests) needs three windows."""
    srv = start_server("--option", "default_rate_limit=5/2")
    try:
        yield srv
    finally:
        srv.stop()


def tokens(server: Server) -> int:
    return sum(1 for r in server.requests() if r["path"] == "/token")


def test_plans_sharing_one_credential_all_finish_with_the_same_plan(revoking_server: Server) -> None:
    env = revoking_server.env()
    procs = [subprocess.Popen([sys.executable, "-m", "reconciler", "plan", "examples/", "--format", "json"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(PLANS_AT_ONCE)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    log = revoking_server.requests()
    revoked = sum(1 for r in log if r["status"] == 401)
    minted = sum(1 for r in log if r["path"] == "/token")
    for code, _out, err in results:
        assert code == 0, f"{err}\n({revoked} answers 401, {minted} tokens)"
        assert "Traceback" not in err and "demo-secret" not in err
    assert len({out for _code, out, _err in results}) == 1
    # The runs overlapped: tokens were revoked under running reads, and every run recovered.
    assert revoked > 0 and minted > PLANS_AT_ONCE
    revoking_server.clear()
    alone = cli("plan", "examples/", "--format", "json", env=env)
    assert alone.code == 0 and alone.stdout == results[0][1]


def test_each_command_mints_one_token(server: Server, tmp_path: Path) -> None:
    env = server.env()
    saved = tmp_path / "plan.json"
    for args in (("plan", "examples/"), ("plan", "examples/", "--out", str(saved)),
                 ("export", "--out", str(tmp_path / "exported")), ("apply", "--plan", str(saved), "--yes"),
                 ("plan", "examples/", "--detailed-exitcode")):
        server.clear()
        run = cli(*args, env=env)
        assert run.code == 0, run.stdout + run.stderr
        assert tokens(server) == 1, args


def test_apply_plans_and_writes_with_one_token(server: Server) -> None:
    run = cli("apply", "examples/", "--yes", env=server.env())
    assert run.code == 0, run.stdout + run.stderr
    log = server.requests()
    assert [r["path"] for r in log].count("/token") == 1
    assert any(r["method"] != "GET" and r["path"] != "/token" for r in log)  # it did write, with that token
    assert not [r for r in log if r["status"] == 401]


def test_a_rate_limited_plan_reads_concurrently_without_a_429(limited_server: Server) -> None:
    env = limited_server.env(GREENHOUSE_READ_WORKERS="4")
    run = cli("plan", "examples/", "--format", "json", env=env)
    assert run.code == 0, run.stderr
    log = limited_server.requests()
    api = [r for r in log if r["path"].startswith("/v3/")]
    assert [r["status"] for r in api].count(429) == 0
    assert len(api) == 13 > 5 * 2  # more than two windows' worth: the client had to wait, twice
    assert "Read the live organisation with 13 API request(s)." in run.stderr
    limited_server.clear()
    sequential = cli("plan", "examples/", "--format", "json", env=limited_server.env(GREENHOUSE_READ_WORKERS="1"))
    assert sequential.code == 0 and sequential.stdout == run.stdout


def test_manifest_errors_are_reported_exactly_as_validate_reports_them(server: Server, tmp_path: Path) -> None:
    bad = tmp_path / "org"
    bad.mkdir()
    for name in ("departments.yaml", "offices.yaml", "users.yaml"):
        (bad / name).write_text((ROOT / "examples" / name).read_text())
    (bad / "zz-broken.yaml").write_text("candidate_tags:\n  - name: Referral\n    colour: red\n")
    validated = cli("validate", str(bad), env=server.env())
    assert validated.code == 1
    planned = cli("plan", str(bad), env=server.env())
    assert (planned.code, planned.stdout, planned.stderr) == (1, "", validated.stderr)
    # Reads may have started before the checks failed: GETs only.
    assert all(r["method"] == "GET" or r["path"] == "/token" for r in server.requests())
    # Settings that cannot be used start nothing early, and the manifest errors still come first.
    env = server.env()
    del env["GREENHOUSE_CLIENT_SECRET"]
    server.clear()
    unset = cli("plan", str(bad), env=env)
    assert (unset.code, unset.stderr) == (1, validated.stderr)
    assert server.requests() == []
    fine = cli("plan", "examples/", env=env)
    assert fine.code == 1 and "GREENHOUSE_CLIENT_SECRET" in fine.stderr


def test_the_identity_guard_still_refuses_before_any_plan_is_shown(server: Server) -> None:
    run = cli("plan", "examples/", "--format", "json", env=server.env(GREENHOUSE_USER_ID="1002"))
    assert (run.code, run.stdout) == (1, "")
    assert "GREENHOUSE_USER_ID 1002" in run.stderr and "Traceback" not in run.stderr
    paths = {r["path"] for r in server.requests()}
    assert not paths & {"/v3/user_job_permissions", "/v3/future_job_permissions"}  # stage two never started
