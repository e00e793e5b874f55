"""Run one generated organisation through the real sandbox server and the real CLI, and measure.

Contract:
* Everything the product does runs as the CLI in a subprocess (`validate`, `plan`, `plan --out`,
  `apply --plan --yes`), against `sandbox serve` in another subprocess, with the settings dev.py's demo
  uses. The product's code is never imported here, so a refactor of its internals cannot break this.
* Request counts come from the sandbox's own request log (`GET /_sandbox/requests`, cleared before each
  step); CPU time and peak RSS from `os.wait4` of the CLI subprocess; wall times from
  `time.perf_counter` around the subprocess.
* The bare fetch loop replays, with plain httpx in this process, the first request of every list the
  plan read (same paths, same parameters) and follows the `Link: rel="next"` headers, against the same
  server in the same run.
* The plan's wall time is split where the sandbox log (polled every 25 ms while it runs) first and last
  grew: before the reads (start-up and manifest loading), the reads, and after them (the planning step:
  planning, rendering and exit; the CLI reports no timings of its own).
* The rate-limited plan runs against a fresh server with `--rate-limit 75/30`, started at a window
  boundary (the sandbox aligns windows to the clock), so the window floor is exact:
  `(ceil(requests / 75) - 1) * 30` seconds.
* `measure` raises `BenchmarkError` when a step fails (non-zero exit, a plan that writes, an apply that
  does not converge), with the step's stderr.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from benchmarks import orgs

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work"
RATE_LIMIT = (75, 30.0)
"""The rate limit of the rate-limited run: requests per window, window seconds."""
SERVER_OPTIONS = ("bulk_processing_seconds=0",)
"""Bulk requests complete before their 202, so apply's wall time is not the sandbox's simulated delay."""


class BenchmarkError(RuntimeError):
    """A step of the benchmark failed; the message names the step and carries its stderr."""


def cli_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m reconciler`."""
    script = Path(sys.executable).parent / "greenhouse-reconciler"
    return [str(script)] if script.exists() else [sys.executable, "-m", "reconciler"]


@dataclass(frozen=True)
class Proc:
    """One finished subprocess: exit code, wall seconds, CPU seconds and peak RSS (MB, 10^6 bytes), output."""

    args: tuple[str, ...]
    code: int
    started: float
    """`time.perf_counter()` when the subprocess was started."""
    wall: float
    user: float
    sys: float
    max_rss_mb: float
    stdout: str
    stderr: str

    @property
    def cpu(self) -> float:
        return self.user + self.sys

    def figures(self) -> dict[str, float]:
        return {
            "wall_s": round(self.wall, 3),
            "cpu_s": round(self.cpu, 3),
            "cpu_share": round(self.cpu / self.wall, 3) if self.wall else 0.0,
            "peak_rss_mb": round(self.max_rss_mb, 1),
        }


def run_process(args: Sequence[str], env: Mapping[str, str], *, timeout: float | None = None) -> Proc:
    """Run `args` to completion; resource usage from `os.wait4` (this child only). Killed after `timeout`."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(args), cwd=ROOT, env=dict(env), stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        timer = threading.Timer(timeout, proc.kill) if timeout else None
        if timer is not None:
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            if timer is not None:
                timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Proc(
            tuple(args),
            proc.returncode,
            start,
            wall,
            usage.ru_utime,
            usage.ru_stime,
            usage.ru_maxrss * 1024 / 1e6,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


class Server:
    """`greenhouse-reconciler sandbox serve` in a subprocess, on a free loopback port (a context manager)."""

    def __init__(
        self,
        seed: Path,
        state: Path,
        *,
        rate_limit: str | None = None,
        options: Sequence[str] = SERVER_OPTIONS,
    ) -> None:
        self.seed, self.state, self.rate_limit, self.options = seed, state, rate_limit, tuple(options)
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, wait: float = 300.0) -> None:
        """Start from the seed (any earlier state file is removed); return once it listens."""
        self.state.unlink(missing_ok=True)
        log = self.state.with_suffix(".stderr")
        args = [
            *cli_command(),
            "sandbox",
            "serve",
            "--port",
            "0",
            "--seed",
            str(self.seed),
            "--state",
            str(self.state),
        ]
        if self.rate_limit:
            args += ["--rate-limit", self.rate_limit]
        for option in self.options:
            args += ["--option", option]
        with open(log, "wb") as err:
            self._proc = subprocess.Popen(
                args, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
            )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            text = log.read_text(encoding="utf-8", errors="replace")
            if "listening on " in text:
                self.url = text.split("listening on ", 1)[1].split()[0]
                return
            if self._proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise BenchmarkError(
            f"the sandbox did not start: {log.read_text(encoding='utf-8', errors='replace')}"
        )

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def admin(self, method: str, path: str) -> Any:
        request = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - the loopback sandbox
            body = response.read()
        return json.loads(body) if body else None

    def log(self) -> list[dict[str, Any]]:
        """The sandbox's request log since the last `clear` (token requests included)."""
        return list(self.admin("GET", "/_sandbox/requests"))

    def clear(self) -> None:
        self.admin("DELETE", "/_sandbox/requests")

    def env(self) -> dict[str, str]:
        """The CLI's environment, as dev.py's demo sets it."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("GREENHOUSE_")}
        env.update(
            GREENHOUSE_API_URL=self.url,
            GREENHOUSE_TOKEN_URL=f"{self.url}/token",
            GREENHOUSE_CLIENT_ID=orgs.CLIENT_ID,
            GREENHOUSE_CLIENT_SECRET=orgs.CLIENT_SECRET,
            GREENHOUSE_USER_ID=str(orgs.ADMIN_ID),
            NO_COLOR="1",
        )
        return env


class LogWatcher:
    """While a step runs, polls the sandbox's request log (every `interval` s, in a thread) and records when
    the first request and the last new one were seen (`time.perf_counter()`; each up to `interval` late)."""

    def __init__(self, server: Server, interval: float = 0.025) -> None:
        self._server, self._interval = server, interval
        self.first: float | None = None
        self.last: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-watcher", daemon=True)

    def __enter__(self) -> LogWatcher:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        seen = 0
        while not self._stop.wait(self._interval):
            count = len(self._server.log())
            now = time.perf_counter()
            if count > seen:
                self.first = now if self.first is None else self.first
                self.last, seen = now, count


@dataclass(frozen=True)
class Phases:
    """A plan's wall time split at the first and the last request the sandbox logged."""

    before_reads: float
    """Start to the first request: interpreter start, imports, manifest loading, settings."""
    reads: float
    """First to last request."""
    after_reads: float
    """Last request to exit: planning, rendering, interpreter exit (the planning step)."""

    @classmethod
    def of(cls, proc: Proc, watcher: LogWatcher) -> Phases:
        if watcher.first is None or watcher.last is None:
            raise BenchmarkError("the plan's requests were not seen in the sandbox log")
        end = proc.started + proc.wall
        return cls(watcher.first - proc.started, watcher.last - watcher.first, end - watcher.last)

    def to_json(self) -> dict[str, float]:
        return {
            "before_reads_s": round(self.before_reads, 3),
            "reads_s": round(self.reads, 3),
            "after_reads_s": round(self.after_reads, 3),
        }


# -- request logs -------------------------------------------------------------------------------------------


def collection_of(path: str) -> str:
    """`/v3/custom_field_options` -> `custom_field_options`."""
    return path.split("/")[2]


def is_write(entry: Mapping[str, Any]) -> bool:
    return entry["method"] != "GET" and entry["path"] != "/token"


@dataclass(frozen=True)
class Reads:
    """The requests of a read-only step, from the sandbox log."""

    total: int
    token: int
    by_collection: dict[str, int]
    first_pages: tuple[tuple[str, dict[str, str]], ...]
    writes: int
    throttled: int

    @classmethod
    def of(cls, log: Sequence[Mapping[str, Any]]) -> Reads:
        pages: dict[str, int] = {}
        firsts: list[tuple[str, dict[str, str]]] = []
        for e in log:
            if e["method"] == "GET" and e["path"].startswith("/v3/") and e["status"] != 429:
                pages[collection_of(e["path"])] = pages.get(collection_of(e["path"]), 0) + 1
                if "cursor" not in e["query"]:
                    firsts.append((e["path"], dict(e["query"])))
        return cls(
            total=sum(1 for e in log if e["status"] != 429),
            token=sum(1 for e in log if e["path"] == "/token"),
            by_collection=pages,
            first_pages=tuple(firsts),
            writes=sum(1 for e in log if is_write(e)),
            throttled=sum(1 for e in log if e["status"] == 429),
        )


@dataclass(frozen=True)
class Bare:
    wall: float
    pages: int
    rows: int


def bare_fetch(url: str, first_pages: Sequence[tuple[str, Mapping[str, str]]]) -> Bare:
    """Mint a token, GET each first page with its parameters, follow `Link: rel="next"`, parse every page."""
    start = time.perf_counter()
    pages = rows = 0
    with httpx.Client(base_url=url, timeout=120) as client:
        token = client.post(
            "/token",
            data={"grant_type": "client_credentials", "sub": str(orgs.ADMIN_ID)},
            auth=(orgs.CLIENT_ID, orgs.CLIENT_SECRET),
        )
        token.raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}", "Accept": "application/json"}
        for path, query in first_pages:
            response = client.get(path, params=dict(query), headers=headers)
            while True:
                response.raise_for_status()
                rows += len(response.json())
                pages += 1
                following = response.links.get("next")
                if not following:
                    break
                response = client.get(following["url"], headers=headers)
    return Bare(time.perf_counter() - start, pages, rows)


# -- the plan JSON -------------------------------------------------------------------------------------------


def planned_requests(plan: Mapping[str, Any]) -> int:
    """Write requests the plan says apply sends: one per bulk request, one per other write."""
    writes = sum(len(c["writes"]) for c in plan["changes"])
    in_bulk = sum(b["rows"] for b in plan["bulk_requests"])
    return writes - in_bulk + len(plan["bulk_requests"])


def wait_for_window(seconds: float, margin: float = 0.05) -> None:
    """Sleep until just after the next clock-aligned window boundary (`floor(now / seconds) * seconds`)."""
    now = time.time()
    time.sleep(math.floor(now / seconds) * seconds + seconds + margin - now)


def window_floor(requests: int, limit: int = RATE_LIMIT[0], seconds: float = RATE_LIMIT[1]) -> float:
    """Seconds the rate limit alone forces for `requests`, starting at a window boundary."""
    return max(0, math.ceil(requests / limit) - 1) * seconds


# -- one size -------------------------------------------------------------------------------------------


@dataclass
class Measurement:
    """Every figure of one size (see `to_json`)."""

    size: str
    objects: int
    changes_expected: int
    read_floor: int
    bulk_floor: int
    bulk_rows: dict[str, int]
    validate: Proc
    plan: Proc
    plan_out: Proc
    apply: Proc
    phases: Phases
    reads: Reads
    bare: Bare
    plan_changes: int
    plan_summary: dict[str, int]
    planned_requests: int
    writes: int
    writes_by_endpoint: dict[str, int]
    write_errors: int
    apply_reads: int
    converged: bool
    rate_limited: Proc | None = None
    rate_limited_reads: Reads | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "size": self.size,
            "objects": self.objects,
            "changes": {
                "expected": self.changes_expected,
                "planned": self.plan_changes,
                "summary": self.plan_summary,
            },
            "reads": {
                "product": self.reads.total,
                "floor": self.read_floor,
                "ratio": round(self.reads.total / self.read_floor, 4),
                "token": self.reads.token,
                "pages_by_collection": self.reads.by_collection,
            },
            "writes": {
                "product": self.writes,
                "changes": self.plan_changes,
                "bulk_floor": self.bulk_floor,
                "planned": self.planned_requests,
                "ratio_to_floor": round(self.writes / self.bulk_floor, 4),
                "by_endpoint": self.writes_by_endpoint,
                "error_answers": self.write_errors,
                "batchable_rows_by_endpoint": self.bulk_rows,
            },
            "loading": {"validate": self.validate.figures()},
            "plan": self.plan.figures(),
            "bare_fetch": {
                "wall_s": round(self.bare.wall, 3),
                "pages": self.bare.pages,
                "rows": self.bare.rows,
            },
            "plan_vs_bare": round(self.plan.wall / self.bare.wall, 3),
            "plan_phases": self.phases.to_json(),
            "plan_out": self.plan_out.figures(),
            "apply": {**self.apply.figures(), "reads": self.apply_reads},
            "converged": self.converged,
            "notes": self.notes,
        }
        if self.rate_limited is not None and self.rate_limited_reads is not None:
            requests = self.rate_limited_reads.total - self.rate_limited_reads.token
            floor = window_floor(requests)
            out["rate_limited"] = {
                **self.rate_limited.figures(),
                "limit": f"{RATE_LIMIT[0]}/{RATE_LIMIT[1]:g}",
                "api_requests": requests,
                "window_floor_s": floor,
                "ratio": round(self.rate_limited.wall / floor, 3) if floor else None,
                "responses_429": self.rate_limited_reads.throttled,
            }
        return out


def _checked(proc: Proc, step: str, codes: tuple[int, ...] = (0,)) -> Proc:
    if proc.code not in codes:
        raise BenchmarkError(f"{step} exited {proc.code}:\n{proc.stderr[-4000:]}")
    return proc


def _writes_by_endpoint(log: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in log:
        if is_write(e):
            parts = e["path"].split("/")
            shape = "/".join(p if not p.isdigit() else "{id}" for p in parts)
            key = f"{e['method']} {shape}"
            out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items()))


def measure(
    scale: orgs.Scale,
    *,
    rate_limited: bool = True,
    work: Path = WORK,
    seed: int = 1,
    progress: Callable[[str], None] = lambda _: None,
    timeout: float | None = None,
) -> Measurement:
    """Generate `scale`, run every step against the real server and CLI, and return the figures."""
    org = orgs.generate(scale, seed)
    directory = work / scale.name
    seed_file, manifests = orgs.write(org, directory)
    plan_file = directory / "plan.json"
    cli = cli_command()
    with Server(seed_file, directory / "state.json") as server:
        env = server.env()
        progress(f"{scale.name}: validate")
        validate = _checked(run_process([*cli, "validate", str(manifests)], env, timeout=timeout), "validate")
        server.clear()
        progress(f"{scale.name}: plan")
        with LogWatcher(server) as watcher:
            plan = _checked(
                run_process([*cli, "plan", str(manifests), "--format", "json"], env, timeout=timeout), "plan"
            )
        phases = Phases.of(plan, watcher)
        reads = Reads.of(server.log())
        if reads.writes:
            raise BenchmarkError(f"plan sent {reads.writes} write(s)")
        progress(f"{scale.name}: bare fetch loop")
        bare = bare_fetch(server.url, reads.first_pages)
        planned = json.loads(plan.stdout)
        server.clear()
        progress(f"{scale.name}: plan --out")
        plan_out = _checked(
            run_process([*cli, "plan", str(manifests), "--out", str(plan_file)], env, timeout=timeout),
            "plan --out",
        )
        server.clear()
        progress(f"{scale.name}: apply --plan")
        apply = _checked(
            run_process(
                [*cli, "apply", "--plan", str(plan_file), "--yes", "--allow-destructive"],
                env,
                timeout=timeout,
            ),
            "apply",
        )
        applied = server.log()
        progress(f"{scale.name}: plan --detailed-exitcode (convergence)")
        again = _checked(
            run_process([*cli, "plan", str(manifests), "--detailed-exitcode"], env, timeout=timeout),
            "plan after apply",
            codes=(0, 2),
        )
    result = Measurement(
        size=scale.name,
        objects=scale.objects,
        changes_expected=org.changes,
        read_floor=org.read_floor(reads.by_collection),
        bulk_floor=org.bulk_floor(),
        bulk_rows=org.bulk_rows(),
        validate=validate,
        plan=plan,
        plan_out=plan_out,
        apply=apply,
        phases=phases,
        reads=reads,
        bare=bare,
        plan_changes=len(planned["changes"]),
        plan_summary=dict(planned["summary"]),
        planned_requests=planned_requests(planned),
        writes=sum(1 for e in applied if is_write(e)),
        writes_by_endpoint=_writes_by_endpoint(applied),
        write_errors=sum(1 for e in applied if is_write(e) and not 200 <= e["status"] < 300),
        apply_reads=sum(1 for e in applied if not is_write(e)),
        converged=again.code == 0,
    )
    if rate_limited:
        with Server(
            seed_file, directory / "state-rate-limited.json", rate_limit=f"{RATE_LIMIT[0]}/{RATE_LIMIT[1]:g}"
        ) as server:
            progress(f"{scale.name}: rate-limited plan (waiting for a window boundary)")
            wait_for_window(RATE_LIMIT[1])
            result.rate_limited = _checked(
                run_process([*cli, "plan", str(manifests)], server.env(), timeout=timeout),
                "rate-limited plan",
            )
            result.rate_limited_reads = Reads.of(server.log())
    return result
