"""The chaos suite: `apply` of a ~500-change plan across all ten resource types, through injected faults.

For each seed, the real sandbox server (a subprocess, `sandbox serve --faults ...`) injects 10% 429s
(with a short `Retry-After`), 5% 500/503s, 2% connections dropped before processing and 2% dropped after
committing, latency on 10% of the requests, and runs bulk requests asynchronously with their rows in a
seeded shuffled order; the fault generator's seed and the bulk-order seed are the run's seed. The real
CLI (a subprocess) then runs `apply --yes --journal FILE` from the manifests, at most three times
(a run may stop with exit 1 on a fault it cannot settle; the next one plans again from the live state).
After EVERY run: no identity is held by two live objects, and the run's journal matches the server's
request log write for write (tests/chaos/checks.py). After the last run, on a fault-free server loaded
with the same state, `plan --detailed-exitcode` exits 0 and the state equals the desired model compared
directly (tests/chaos/org.py).

Seeds: 1..5 by default (CI, `python3 dev.py test`); `CHAOS_SEEDS=N` runs 1..N (`python3 dev.py chaos`
runs 50); `CHAOS_SEED=K` (or `K,L,...`) runs those seeds alone (to reproduce a failure). Seeds run concurrently, `CHAOS_WORKERS`
at a time (default 5): each has its own server, and the runs mostly wait on back-offs. `CHAOS_REPORT=FILE`
appends one JSON line of figures per seed (docs/reliability.md, "Chaos suite").

Reproducible: the CLI reads with one worker (GREENHOUSE_READ_WORKERS=1) and writes one request at a time,
and the faults are drawn per request (`draws=request`, docs/sandbox.md), so a seed gives the same faults
to the same writes and reads on every run. Only the polls of a bulk request (how many depends on the
clock; their paths carry a random uuid) get varying faults, which the client retries: they change timing,
not outcomes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.chaos import checks, org
from tests.e2e.conftest import ROOT, Run, Server

pytestmark = pytest.mark.e2e

FAULTS = ("rate429=0.1,rate500=0.025,rate503=0.025,drop_before=0.02,drop_after=0.02,latency=0.1:20ms,"
          "retry_after=0.05,draws=request")
BULK = ("bulk_shuffle=true", "bulk_processing_seconds=0.5")
MAX_APPLIES = 3
#: The first apply's plan (the seed org against the desired model; tests/chaos/org.py lists it by type).
FIRST_PLAN = "Plan: 343 to create, 104 to update, 45 to delete, 0 to replace. 126 unchanged, 1 unmanaged."


def _seeds() -> list[int]:
    chosen = os.environ.get("CHAOS_SEED", "").strip()
    if chosen:
        return [int(seed) for seed in chosen.split(",")]
    return list(range(1, int(os.environ.get("CHAOS_SEEDS", "5")) + 1))


SEEDS = _seeds()
_REPORT_LOCK = threading.Lock()


@dataclass
class SeedResult:
    """What one seed's runs did (figures for the report) and every problem found."""

    seed: int
    codes: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    write_faults: int = 0
    requests: int = 0
    writes: int = 0
    committed: int = 0
    duplicates: int = 0
    first_plan: str = ""
    stops: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _serve(*args: str) -> Server:
    process = subprocess.Popen([sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0", *args],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    line = process.stderr.readline()
    if "listening on" not in line:
        process.kill()
        raise RuntimeError(f"sandbox did not start: {line}{process.stderr.read()}")
    return Server(line.strip().rsplit(" ", 1)[-1], process)


def _cli(*args: str, env: dict[str, str]) -> Run:
    proc = subprocess.run([sys.executable, "-m", "reconciler", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def run_seed(seed: int, workdir: Path, seed_file: Path, manifest: Path) -> SeedResult:
    """Up to three applies through the faulty server, checking after each; then the fault-free plan."""
    result = SeedResult(seed)
    started = time.monotonic()
    state = workdir / "state.json"
    options = [arg for item in (*BULK, f"bulk_seed={seed}") for arg in ("--option", item)]
    server = _serve("--seed", str(seed_file), "--state", str(state), "--faults", f"seed={seed},{FAULTS}", *options)
    try:
        env = server.env(GREENHOUSE_LOCK_DIR=str(workdir / "locks"), GREENHOUSE_READ_WORKERS="1")
        for number in range(1, MAX_APPLIES + 1):
            server.clear()
            journal = workdir / f"journal-{number}.jsonl"
            run = _cli("apply", str(manifest), "--yes", "--allow-destructive", "--journal", str(journal), env=env)
            result.codes.append(run.code)
            if number == 1:
                result.first_plan = next((ln for ln in run.stdout.splitlines() if ln.startswith("Plan: ")), "")
            if run.code not in (0, 1) or "Traceback" in run.stderr:
                result.problems.append(f"apply {number} exited {run.code}: {run.stderr[-2000:]}")
            if run.code != 0:
                result.stops.append(next((ln for ln in run.stderr.splitlines() if ln.startswith("Error")), run.stderr[-300:]))
            log = server.requests()
            repeated = checks.duplicates(server.state())
            result.duplicates += len(repeated)
            result.problems += [f"after apply {number}: {p}" for p in repeated]
            result.problems += [f"apply {number}: {p}" for p in checks.journal_matches_log(_events(journal), log)]
            result.faults += checks.fault_counts(log)
            sent = [r for r in log if r["method"] != "GET" and r["path"] != "/token"]
            result.requests += len(log)
            result.writes += len(sent)
            result.committed += sum(checks.committed(r) for r in sent)
            result.write_faults += sum(1 for r in sent if r["fault"])
            if run.code == 0:
                break
        if result.codes[-1] != 0:
            result.problems.append(f"no apply of {MAX_APPLIES} finished: {result.stops}")
    finally:
        server.stop()
    quiet = _serve("--state", str(state))  # the same organisation, no faults
    try:
        plan = _cli("plan", str(manifest), "--detailed-exitcode", env=quiet.env())
        if plan.code != 0:
            result.problems.append(f"a fault-free plan after {len(result.codes)} applies exits {plan.code}: "
                                   f"{plan.stdout[-3000:]}{plan.stderr[-1000:]}")
        final = quiet.state()
        result.problems += [f"end state: {p}" for p in checks.desired_state(final, org.desired())]
        repeated = checks.duplicates(final)
        result.duplicates += len(repeated)
        result.problems += [f"end state: {p}" for p in repeated]
    finally:
        quiet.stop()
    result.seconds = time.monotonic() - started
    _report(result)
    return result


def _report(result: SeedResult) -> None:
    target = os.environ.get("CHAOS_REPORT")
    if not target:
        return
    line = {"seed": result.seed, "applies": len(result.codes), "codes": result.codes, "faults": dict(result.faults),
            "write_faults": result.write_faults, "requests": result.requests, "writes": result.writes,
            "committed": result.committed, "duplicates": result.duplicates, "problems": len(result.problems),
            "stops": result.stops,
            "seconds": round(result.seconds, 1)}
    with _REPORT_LOCK, open(target, "a", encoding="utf-8") as out:
        out.write(json.dumps(line, sort_keys=True) + "\n")


@pytest.fixture(scope="module")
def chaos_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, Future[SeedResult]]]:
    """Every selected seed, started at once on a thread pool (each seed's runs are subprocesses)."""
    module = sys.modules[__name__]
    wanted = sorted({item.callspec.params["seed"] for item in request.session.items
                     if getattr(item, "module", None) is module and hasattr(item, "callspec")})
    shared = tmp_path_factory.mktemp("chaos")
    seed_file, manifest = shared / "seed.json", shared / "org.yaml"
    seed_file.write_text(json.dumps(org.seed()))
    manifest.write_text(org.manifest(org.desired()))
    pool = ThreadPoolExecutor(max_workers=int(os.environ.get("CHAOS_WORKERS", "5")), thread_name_prefix="chaos")
    try:
        yield {seed: pool.submit(run_seed, seed, tmp_path_factory.mktemp(f"seed{seed}"), seed_file, manifest)
               for seed in wanted}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
def test_apply_converges_through_faults_without_duplicates_and_journals_every_committed_write(
    seed: int, chaos_runs: dict[int, Future[SeedResult]]
) -> None:
    result = chaos_runs[seed].result()
    again = f"reproduce: CHAOS_SEED={seed} .venv/bin/pytest tests/chaos"
    problems = "\n  ".join(result.problems[:40])
    assert result.problems == [], f"chaos seed {seed} ({again}), apply exit codes {result.codes}:\n  {problems}"
    assert result.first_plan == FIRST_PLAN, f"chaos seed {seed}: the first apply planned {result.first_plan!r}"
    assert 1 <= len(result.codes) <= MAX_APPLIES and result.codes[-1] == 0, f"chaos seed {seed}: {result.codes}"
    assert result.write_faults > 0, f"chaos seed {seed}: no write was faulted ({again})"
