"""Overlapping applies and interruption, through the real sandbox server and the real CLI in subprocesses.

Every scenario runs 40 new departments (department names are not unique in Greenhouse and departments
cannot be deleted through the API, so a duplicate would be permanent) and checks the sandbox's end
state and request log. Sandbox latency faults (docs/sandbox.md, `--faults`) hold a request at a chosen
point so that the runs really overlap; the tests wait for events in the request log, never for a time.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Run, Server, cli, start_server

pytestmark = pytest.mark.e2e

NAMES = [f"Overlap {i:02d}" for i in range(1, 41)]


@pytest.fixture
def manifest(tmp_path: Path) -> str:
    path = tmp_path / "org.yaml"
    path.write_text("version: 1\ndepartments:\n" + "".join(f"  - name: {n}\n" for n in NAMES))
    return str(path)


@pytest.fixture
def servers() -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(*args: str) -> Server:
        started.append(start_server(*args))
        return started[-1]

    try:
        yield start
    finally:
        for srv in started:
            srv.stop()


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start the CLI without waiting; any run a failed test left behind is killed at teardown."""
    running: list[subprocess.Popen[str]] = []

    def start(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
        running.append(subprocess.Popen([sys.executable, "-m", "reconciler", *args], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        return running[-1]

    try:
        yield start
    finally:
        for proc in running:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


def finish(proc: subprocess.Popen[str]) -> Run:
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return Run(proc.returncode, out, err)


def wait_until(what: str, condition: Callable[[], bool], deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def department_posts(srv: Server) -> list[dict[str, Any]]:
    return [r for r in srv.requests() if r["method"] == "POST" and r["path"] == "/v3/departments"]


def overlap_departments(srv: Server) -> dict[int, str]:
    return {d["id"]: d["name"] for d in srv.state()["departments"] if d["name"].startswith("Overlap ")}


def assert_one_department_per_name(srv: Server) -> None:
    counts = Counter(overlap_departments(srv).values())
    assert sorted(counts) == NAMES
    assert [n for n, k in counts.items() if k != 1] == []


def journal_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_second_apply_is_refused_naming_the_holder_and_a_third_waits_its_turn(
    servers: Callable[..., Server], spawn: Callable[..., subprocess.Popen[str]], manifest: str, tmp_path: Path
) -> None:
    # The first apply's last create is held 5 s by the sandbox, so it still holds the lock when the
    # others, started once its first write is logged, reach theirs.
    srv = servers("--faults", "latency:5s@POST /v3/departments#40")
    env = srv.env(GREENHOUSE_LOCK_DIR=str(tmp_path / "locks"))
    first = spawn("apply", manifest, "--yes", env=env)
    wait_until("the first apply's first write", lambda: bool(department_posts(srv)))
    refused = spawn("apply", manifest, "--yes", env=env)
    patient = spawn("apply", manifest, "--yes", "--lock-timeout", "60", env=env)
    refused_run, patient_run, first_run = finish(refused), finish(patient), finish(first)

    assert first_run.code == 0, first_run.stderr
    assert refused_run.code == 1
    assert f"Error: another apply against {srv.url} is running on this host: pid {first.pid} on " in refused_run.stderr
    assert "--lock-timeout SECONDS" in refused_run.stderr and "Traceback" not in refused_run.stderr
    assert "Read the live organisation" not in refused_run.stderr  # refused before reading anything
    assert patient_run.code == 0, patient_run.stderr
    assert f"Waiting up to 60 s for another apply against {srv.url} (pid {first.pid} on " in patient_run.stderr
    assert "Nothing to apply." in patient_run.stderr  # it planned after the first one had finished
    assert len(department_posts(srv)) == 40
    assert_one_department_per_name(srv)


def test_without_the_lock_the_reread_before_the_first_create_finds_what_the_other_apply_made(
    servers: Callable[..., Server], spawn: Callable[..., subprocess.Popen[str]], manifest: str, tmp_path: Path
) -> None:
    # Two hosts (--no-lock). The first apply's second create is held 2.5 s: the second apply, started
    # once the first create is logged, plans while the first is mid-way (its plan has creates to make).
    # The second's identity check (GET /v3/users #2; the first sends only one) is held 5 s, so the
    # first has finished when the second re-reads the departments before its first create.
    # single_active_token is off only so that the two processes' tokens do not revoke each other
    # (their recovery is covered in docs/harvest-client.md section 2 and its tests).
    srv = servers("--faults", "latency:2500ms@POST /v3/departments#2,latency:5s@GET /v3/users#2",
                  "--option", "single_active_token=false")
    env = srv.env()
    first_journal, second_journal = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first = spawn("apply", manifest, "--yes", "--no-lock", "--journal", str(first_journal), env=env)
    wait_until("the first apply's first write", lambda: bool(department_posts(srv)))
    second = spawn("apply", manifest, "--yes", "--no-lock", "--journal", str(second_journal), env=env)
    first_run, second_run = finish(first), finish(second)

    assert first_run.code == 0, first_run.stderr
    assert second_run.code == 0, second_run.stderr
    planned = re.search(r"Plan: (\d+) to create", second_run.stdout)
    assert planned is not None, second_run.stdout
    creates = int(planned.group(1))
    assert 1 <= creates <= 39  # the race was real: its plan was made while the first apply was creating
    assert f"{creates} planned create(s) already present" in second_run.stderr
    assert second_run.stderr.count("  already present: department Overlap ") == creates
    events = journal_events(second_journal)
    assert [e["event"] for e in events] == ["already_present"] * creates  # nothing was sent
    ids = overlap_departments(srv)
    assert all(ids[e["id"]] == e["name"] for e in events)
    assert len(department_posts(srv)) == 40
    assert_one_department_per_name(srv)


@pytest.mark.parametrize(("signum", "code"), [pytest.param(signal.SIGINT, 130, id="SIGINT"),
                                              pytest.param(signal.SIGTERM, 143, id="SIGTERM")])
def test_an_interrupted_apply_finishes_the_write_in_flight_journals_it_and_a_second_apply_converges(
    servers: Callable[..., Server], spawn: Callable[..., subprocess.Popen[str]], manifest: str, tmp_path: Path,
    signum: int, code: int,
) -> None:
    # The first ten creates take 200 ms each: the signal lands while one of them is in flight.
    srv = servers("--faults", "latency:200msx10@POST /v3/departments")
    env = srv.env(GREENHOUSE_LOCK_DIR=str(tmp_path / "locks"))
    journal = tmp_path / "journal.jsonl"
    run = spawn("apply", manifest, "--yes", "--journal", str(journal), env=env)
    wait_until("three committed creates", lambda: len(department_posts(srv)) >= 3)
    run.send_signal(signum)
    result = finish(run)

    assert result.code == code, result.stderr
    name = signal.Signals(signum).name
    stopped = re.search(r"Interrupted: applied (\d+) of 40; interrupted before department:(Overlap \d\d) "
                        rf"\(create department Overlap \d\d\) by {name}; no write was left in flight", result.stderr)
    assert stopped is not None, result.stderr
    applied, next_name = int(stopped.group(1)), stopped.group(2)
    assert "Traceback" not in result.stderr

    posts = department_posts(srv)
    assert [p["status"] for p in posts] == [201] * len(posts)  # every request sent was answered
    events = journal_events(journal)
    intents = [e for e in events if e["event"] == "intent"]
    outcomes = [e for e in events if e["event"] == "outcome"]
    assert len(intents) == len(outcomes) == len(posts) == applied
    assert {e["id"]: e["name"] for e in outcomes} == overlap_departments(srv)  # each committed write, with its id
    assert all(e["status"] == 201 for e in outcomes)
    assert events[-1]["event"] == "interrupted" and events[-1]["signal"] == name
    assert events[-1]["next"] == f"department:{next_name}" and events[-1]["applied"] == applied
    assert NAMES.index(next_name) == applied

    again = cli("apply", manifest, "--yes", "--journal", str(journal), env=env)
    assert again.code == 0, again.stderr
    assert f"Plan: {40 - applied} to create" in again.stdout
    assert_one_department_per_name(srv)
    assert cli("plan", manifest, "--detailed-exitcode", env=env).code == 0


@pytest.mark.parametrize("command", ["apply", "plan"])
@pytest.mark.parametrize("case", ["missing directory", "a directory", "a file as its directory"])
def test_an_unusable_journal_or_plan_file_is_refused_before_any_request(
    server: Server, manifest: str, tmp_path: Path, command: str, case: str
) -> None:
    option, what = ("--journal", "journal") if command == "apply" else ("--out", "plan")
    if case == "missing directory":
        target, why = tmp_path / "missing" / "out.json", f"the directory {tmp_path / 'missing'} does not exist"
    elif case == "a directory":
        target, why = tmp_path, "it is a directory"
    else:  # (a permission refusal cannot be tested as root, who may write anywhere; CI runs as root)
        plain = tmp_path / "plain"
        plain.write_text("not a directory\n")
        target, why = plain / "out.json", f"{plain} is not a directory"
    server.clear()
    args = [command, manifest, option, str(target)] + (["--yes"] if command == "apply" else [])
    run = cli(*args, env=server.env())
    assert run.code == 1
    assert run.stderr == f"Error: cannot write the {what} to {target}: {why}\n"
    assert server.requests() == []
