"""The shipped workflows, run step by step (tests/ci/runner.py) against the real sandbox and a GitHub stand-in.

The `run:` scripts are the workflow files' own, with their flags: the workflow's sandbox step starts the
real sandbox server (as in this repository's own CI, `GREENHOUSE_SANDBOX_SEED`), the CLI runs in
subprocesses, and `github ...` talks to tests/ci/standin.py over HTTP. So a workflow and its tests cannot
drift apart: changing a command in a workflow changes what these tests run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.github import parse
from tests.ci.runner import Context, JobResult, base_environment, run_job, shim
from tests.ci.standin import BOT, TOKEN, StandIn
from tests.e2e.conftest import cli, start_server

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "sandbox-seed.json"
MERGE_SHA = "a1" * 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Rig:
    """A GitHub stand-in, a folder per job, and the repository variables and secrets of this repository's CI."""

    def __init__(self, tmp: Path, standin: StandIn) -> None:
        self.tmp = tmp
        self.standin = standin
        self.bin = shim(tmp / "bin")
        self.manifests = ROOT / "examples"
        self.jobs = 0
        self.sandboxes: list[int] = []
        # One API URL for every job, as the repository variable is one: a saved plan records the URL it was
        # made against, and apply refuses a plan of another. Each job starts its own sandbox on it.
        self.port = free_port()

    def vars(self, port: int) -> dict[str, str]:
        return {"GREENHOUSE_MANIFESTS": "org", "GREENHOUSE_SANDBOX_SEED": str(SEED),
                "GREENHOUSE_API_URL": f"http://127.0.0.1:{port}", "GREENHOUSE_TOKEN_URL": f"http://127.0.0.1:{port}/token",
                "GREENHOUSE_READ_USER_ID": "1001", "GREENHOUSE_WRITE_USER_ID": "1001",
                "GREENHOUSE_RECONCILER_SPEC": "."}

    def run(self, workflow: str, job: str, *, run_id: int, event: dict[str, Any], sha: str = "b2" * 20,
            ref_name: str = "feature", secrets: dict[str, str] | None = None,
            edit: Any = None) -> tuple[JobResult, str]:
        self.stop()  # the previous job's sandbox ended with its job
        self.jobs += 1
        workdir = self.tmp / f"job{self.jobs}"
        workdir.mkdir()
        port = self.port
        url = f"http://127.0.0.1:{port}"
        github = {"token": TOKEN, "repository": self.standin.state.repository, "sha": sha, "ref_name": ref_name,
                  "run_id": str(run_id), "event": event}
        ctx = Context(vars=self.vars(port), github=github,
                      secrets=secrets if secrets is not None else {
                          "GREENHOUSE_READ_CLIENT_ID": "demo-client", "GREENHOUSE_READ_CLIENT_SECRET": "demo-secret",
                          "GREENHOUSE_WRITE_CLIENT_ID": "demo-client", "GREENHOUSE_WRITE_CLIENT_SECRET": "demo-secret"})
        env = {**base_environment(self.bin), "GITHUB_SHA": sha, "GITHUB_RUN_ID": str(run_id),
               "GITHUB_REPOSITORY": self.standin.state.repository, "GITHUB_API_URL": self.standin.url,
               "GITHUB_SERVER_URL": "https://github.example", "GITHUB_REF_NAME": ref_name}

        def checkout(step: dict[str, Any], step_env: dict[str, str]) -> None:
            assert step["with"] == {"persist-credentials": "false"}
            shutil.copytree(self.manifests, workdir / "org", ignore=shutil.ignore_patterns("*.json"))
            if edit is not None:
                edit(workdir / "org")

        def setup_python(step: dict[str, Any], step_env: dict[str, str]) -> None:
            assert step["with"]["python-version"]

        def upload(step: dict[str, Any], step_env: dict[str, str]) -> None:
            path = workdir / step["with"]["path"]
            if not path.exists():
                if step["with"].get("if-no-files-found") == "error":
                    raise FileNotFoundError(f"no file {path.name} to upload")
                return
            self.standin.add_artifact(run_id, step["with"]["name"], {path.name: path.read_bytes()})

        def install(step: dict[str, Any], step_env: dict[str, str]) -> None:
            # Replaced (the tool is installed here): its script ends with the pip install of the variable's spec.
            assert step["run"].rstrip().endswith('python -m pip install --disable-pip-version-check "$SPEC"')
            assert step_env["SPEC"] == "."

        result = run_job(workflow, job, ctx, workdir, base_env=env, event=event, replace={"install": install},
                         uses={"actions/checkout": checkout, "actions/setup-python": setup_python,
                               "actions/upload-artifact": upload})
        for step in result.steps:  # neither the job token nor a client secret is ever in a log
            for secret in (TOKEN, *[v for k, v in ctx.secrets.items() if k.endswith("_SECRET")]):
                assert secret not in step.stdout + step.stderr, (step.name, "leaks a secret")
        pid_file = workdir / "sandbox.pid"
        if pid_file.exists():
            self.sandboxes.append(int(pid_file.read_text()))
        return result, url

    def sandbox_writes(self, url: str) -> list[tuple[str, str]]:
        with urllib.request.urlopen(f"{url}/_sandbox/requests", timeout=10) as resp:  # noqa: S310 - loopback
            requests = json.loads(resp.read())
        return [(r["method"], r["path"]) for r in requests if r["method"] != "GET" and r["path"] != "/token"]

    def stop(self) -> None:
        for pid in self.sandboxes:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # started by the workflow's step, so not this process's child
        if self.sandboxes:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # until the port is free again
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", self.port)) != 0:
                        break
                time.sleep(0.05)
        self.sandboxes = []


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    standin = StandIn()
    rig = Rig(tmp_path, standin)
    try:
        yield rig
    finally:
        rig.stop()
        standin.stop()


def pr_event(number: int = 12) -> dict[str, Any]:
    return {"pull_request": {"number": number, "head": {"repo": {"full_name": "acme/people-config"}}}}


def push_event() -> dict[str, Any]:
    return {"repository": {"default_branch": "main"}}


def bot_comments(rig: Rig, pr: int) -> list[dict[str, Any]]:
    return [c for c in rig.standin.comments_on(pr) if c["user"]["login"] == BOT]


def describe(result: JobResult) -> str:
    return "\n".join(f"{s.name}: {s.outcome}\n{s.stdout[-2000:]}\n{s.stderr[-2000:]}" for s in result.steps)


def test_pull_request_plan_then_merge_applies_exactly_the_reviewed_plan(rig: Rig) -> None:
    first, _ = rig.run("greenhouse-plan.yml", "plan", run_id=501, event=pr_event())
    assert first.succeeded, describe(first)
    assert [c["id"] for c in bot_comments(rig, 12)] and len(bot_comments(rig, 12)) == 1
    second, _ = rig.run("greenhouse-plan.yml", "plan", run_id=502, event=pr_event())
    assert second.succeeded, describe(second)
    comments = bot_comments(rig, 12)
    assert len(comments) == 1  # updated, never a second one
    assert [w for w in rig.standin.writes() if w[1].endswith("/comments") or "/comments/" in w[1]] == [
        ("POST", "/repos/acme/people-config/issues/12/comments"),
        ("PATCH", f"/repos/acme/people-config/issues/comments/{comments[0]['id']}")]
    record = parse(comments[0]["body"])
    assert record is not None and record.run_id == 502 and record.artifact == "greenhouse-plan"
    assert "### greenhouse-reconciler plan" in comments[0]["body"]
    artifact = [a for a in rig.standin.state.artifacts if a["run_id"] == 502]
    assert [a["name"] for a in artifact] == ["greenhouse-plan"]

    rig.standin.add_merged_pull(12, MERGE_SHA)
    applied, sandbox = rig.run("greenhouse-apply.yml", "apply", run_id=600, event=push_event(), sha=MERGE_SHA,
                               ref_name="main")
    assert applied.succeeded, describe(applied)
    assert "Wrote the plan reviewed in pull request #12 (run 502" in applied.step("Find the reviewed plan").stdout
    plan = json.loads((rig.tmp / f"job{rig.jobs}" / "plan.json").read_text())
    assert plan["manifest_digest"] == record.manifest_digest
    writes = rig.sandbox_writes(sandbox)
    assert len(writes) >= len(plan["changes"]) > 0  # the reviewed plan's writes reached the sandbox
    assert applied.step("Say on the pull request that the apply failed").outcome == "skipped"


def test_a_merge_whose_manifests_differ_from_the_reviewed_plan_is_refused_and_nothing_is_written(rig: Rig) -> None:
    planned, _ = rig.run("greenhouse-plan.yml", "plan", run_id=701, event=pr_event())
    assert planned.succeeded, describe(planned)
    rig.standin.add_merged_pull(12, MERGE_SHA)

    def base_moved(org: Path) -> None:  # another merge changed a manifest after this pull request's plan
        path = sorted(org.glob("*.yaml"))[0]
        path.write_text(path.read_text() + "\n# edited on the default branch\n")

    applied, sandbox = rig.run("greenhouse-apply.yml", "apply", run_id=702, event=push_event(), sha=MERGE_SHA,
                               ref_name="main", edit=base_moved)
    assert not applied.succeeded
    assert applied.step("Find the reviewed plan").outcome == "failure"
    assert "not the ones the plan reviewed in pull request #12" in applied.step("Find the reviewed plan").stderr
    assert applied.step("Apply the reviewed plan").outcome == "skipped"
    assert rig.sandbox_writes(sandbox) == []
    assert "did not apply this merge" in bot_comments(rig, 12)[-1]["body"]


def test_apply_runs_only_on_the_default_branch(rig: Rig) -> None:
    result, _ = rig.run("greenhouse-apply.yml", "apply", run_id=800, event=push_event(), ref_name="feature")
    assert result.skipped and rig.standin.state.requests == []


def test_a_failed_plan_replaces_the_comment_so_nothing_can_be_applied(rig: Rig) -> None:
    ok, _ = rig.run("greenhouse-plan.yml", "plan", run_id=901, event=pr_event())
    assert ok.succeeded, describe(ok)
    broken, _ = rig.run("greenhouse-plan.yml", "plan", run_id=902, event=pr_event(),
                        secrets={"GREENHOUSE_READ_CLIENT_ID": "demo-client", "GREENHOUSE_READ_CLIENT_SECRET": "not-the-demo-secret-7f3a"})
    assert not broken.succeeded and broken.step("Plan").outcome == "failure"
    assert broken.step("Comment that there is no plan").outcome == "success"
    comments = bot_comments(rig, 12)
    assert len(comments) == 1 and parse(comments[0]["body"]) is None and "No plan" in comments[0]["body"]
    assert "not-the-demo-secret-7f3a" not in comments[0]["body"]


def test_drift_opens_the_issue_closes_it_when_gone_and_an_error_is_never_drift(rig: Rig) -> None:
    drift, _ = rig.run("greenhouse-drift.yml", "drift", run_id=1001, event={})
    assert drift.succeeded, describe(drift)
    open_issues = [i for i in rig.standin.state.issues if i["state"] == "open"]
    assert len(open_issues) == 1 and "### greenhouse-reconciler plan" in open_issues[0]["body"]

    broken, _ = rig.run("greenhouse-drift.yml", "drift", run_id=1002, event={},
                        secrets={"GREENHOUSE_READ_CLIENT_ID": "demo-client", "GREENHOUSE_READ_CLIENT_SECRET": "not-the-demo-secret-7f3a"})
    assert not broken.succeeded
    assert "an error, not drift" in broken.step("Check for drift").stdout
    assert broken.step("Open, update or close the drift issue").outcome == "skipped"
    assert [i["state"] for i in rig.standin.state.issues] == ["open"]

    server = start_server()  # manifests exported from the same seed: no drift
    try:
        exported = rig.tmp / "exported"
        run = cli("export", "--out", str(exported), env=server.env())
        assert run.code == 0, run.stderr
    finally:
        server.stop()
    rig.manifests = exported
    clean, _ = rig.run("greenhouse-drift.yml", "drift", run_id=1003, event={})
    assert clean.succeeded, describe(clean)
    assert [i["state"] for i in rig.standin.state.issues] == ["closed"]


def test_an_invalid_manifest_fails_validate_with_an_annotation_and_no_plan_is_recorded(rig: Rig) -> None:
    def break_it(org: Path) -> None:
        (org / "broken.yaml").write_text("departments:\n  - name: [not, a, name]\n")

    result, _ = rig.run("greenhouse-plan.yml", "plan", run_id=1101, event=pr_event(), edit=break_it)
    assert result.step("Validate").outcome == "failure"
    assert "::error file=org/broken.yaml,line=2" in result.step("Validate").stdout + result.step("Validate").stderr
    assert result.step("Plan").outcome == "skipped"
    comments = bot_comments(rig, 12)
    assert len(comments) == 1 and parse(comments[0]["body"]) is None
    assert rig.standin.state.artifacts == []


def test_the_runner_refuses_what_it_does_not_understand() -> None:
    from tests.ci.runner import Unsupported, condition, evaluate

    ctx = Context(vars={"A": "x"}, secrets={}, github={"event": {"n": 3}})
    assert evaluate("vars.A || 'd'", ctx) == "x" and evaluate("vars.B || 'd'", ctx) == "d"
    assert condition("github.event.n == 3", ctx) and not condition("failure()", ctx)
    for text in ("contains(vars.A, 'x')", "matrix.os", "vars.A = 1"):
        with pytest.raises(Unsupported):
            evaluate(text, ctx)


def test_a_pull_request_from_a_fork_is_not_planned(rig: Rig) -> None:
    fork = {"pull_request": {"number": 13, "head": {"repo": {"full_name": "stranger/people-config"}}}}
    result, _ = rig.run("greenhouse-plan.yml", "plan", run_id=1201, event=fork)
    assert result.skipped and rig.standin.state.requests == []
