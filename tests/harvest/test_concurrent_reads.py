"""Concurrent reads in process: one reader, one token and one rate-limit gate for several threads; reads
started early and planned on as they arrive, with the plan, the reads and the reported errors exactly as
a sequential read gives them. Counts are asserted, never times."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks import orgs
from reconciler import render
from reconciler.errors import ApiError, ManifestError, UsageError
from reconciler.harvest import HarvestReader
from reconciler.live import LiveOrg, PlanReading, early_collections, for_plan, read_for_manifest
from reconciler.live.pending import Pending, Reading, ReadStopped, done, workers_from_env
from reconciler.live.reads import is_filtered, read_live, requests, sections_to_plan
from reconciler.manifest import load
from reconciler.manifest.loader import load_early
from reconciler.planner import build_plan
from reconciler.resources.registry import REGISTRY
from reconciler.sandbox import Sandbox
from tests.harness import SETTINGS, Rig, seed

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def reader_for(rig: Rig) -> HarvestReader:
    return HarvestReader(SETTINGS, transport=rig.sandbox.transport(), clock=rig.clock.time, sleep=rig.clock.sleep)


def sequential_plan_json(rig: Rig, where: Path = EXAMPLES) -> str:
    """The plan as the sequential two-stage read made it before reads were concurrent (the reference)."""
    manifest = load([where])
    needed = for_plan(manifest)
    with reader_for(rig) as reader:
        first = read_live(reader, requests([c for c in needed if not is_filtered(c)]))
        second = [c for c in needed if is_filtered(c)]
        ids: set[int] = set()
        for section in sections_to_plan(manifest):
            family = REGISTRY.family(section)
            if family.read_filter is not None and {c.name for c in family.collections}.intersection(second):
                ids.update(family.read_filter(manifest.entries.get(section, ()), first))
        more = read_live(reader, requests(second, filter_ids=ids))
    live = LiveOrg(rows={**first.rows, **more.rows}, reads={**first.reads, **more.reads})
    return render.to_json(build_plan(manifest, live, api_url=SETTINGS.api_url, fingerprints=True))


def requests_made(sandbox: Sandbox) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    return sorted((r.method, r.path, tuple(sorted(r.query.items()))) for r in sandbox.log)


# -- the gate, with threads, against the sandbox's rate limiter -------------------------------------


class Slowed(httpx.BaseTransport):
    """The sandbox, each request held a few real milliseconds first, so that requests really overlap."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        time.sleep(0.005)
        return self.inner.handle_request(request)


def test_threads_sharing_one_reader_never_overshoot_the_window() -> None:
    """Eight threads, 48 GETs, 5 requests per window: waits are needed, and no request is refused.

    (With a gate that only waits once an answer says 0 are left, several threads pass while the last
    requests of a window are in flight, and the server refuses some: 429s.)"""
    rig = Rig(rate_limit=(5, 30.0))
    reader = HarvestReader(SETTINGS, transport=Slowed(rig.sandbox.transport()), clock=rig.clock.time,
                           sleep=rig.clock.sleep)
    start = threading.Barrier(8, timeout=10)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            for _ in range(6):
                reader.get("/v3/departments")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    api = [r for r in rig.sandbox.log if r.path != "/token"]
    assert [r.status for r in api].count(429) == 0
    assert len(api) == 48 and reader.request_count == 48 and reader.token_count == 1
    assert rig.clock.sleeps  # the limit was reached: some thread waited for a reset
    assert reader._gate.peak_in_flight <= 5


# -- reading a manifest concurrently -----------------------------------------------------------------


def early_plan_json(rig: Rig, where: Path, workers: int, *, wait_for_early: bool = False) -> tuple[str, int]:
    """The plan as `plan` makes it now: reads started from the parsed files, concurrent, planned as they come.
    Returns the plan JSON and the number of API requests sent before `finish` (the checked manifest)."""
    with reader_for(rig) as reader, PlanReading(reader, workers=workers, acting_user_id="1001") as reading:
        manifest = load_early([where], reading.parsed)
        if wait_for_early and reading._early is not None:
            reading._early.result(timeout=30)
            for future in reading._reading.started().values():
                future.exception(timeout=30)
        before_finish = len(rig.sandbox.log)
        live = reading.finish(manifest)
        plan = build_plan(manifest, live, api_url=SETTINGS.api_url, fingerprints=True)
        reading.settle()
    assert reader.token_count == 1
    return render.to_json(plan), before_finish


def test_concurrent_early_reads_give_the_sequential_plan_byte_for_byte() -> None:
    before = Rig()
    reference = sequential_plan_json(before)
    for workers in (1, 4):
        rig = Rig()
        got, _ = early_plan_json(rig, EXAMPLES, workers)
        assert got == reference
        # The same list requests (the guard reuses the users list; nothing is read twice).
        assert requests_made(rig.sandbox) == requests_made(before.sandbox)


def test_stage_two_starts_before_the_checks_end_when_its_reads_are_certain(tmp_path: Path) -> None:
    """The small benchmark organisation names more managed users with grants than one filter takes: the
    grant lists are read whole, whatever the other files say, so they start before the manifest is checked."""
    org = orgs.generate(orgs.SCALES["small"])
    seed_file, manifests = orgs.write(org, tmp_path)
    data = json.loads(seed_file.read_text())
    before = Rig(data)
    reference = sequential_plan_json(before, manifests)
    second = [(r.path, r.query) for r in before.sandbox.log if r.path in STAGE_TWO]
    assert second and all("user_ids" not in q for _p, q in second)  # read whole: more than 50 managed users
    rig = Rig(json.loads(seed_file.read_text()))
    got, before_finish = early_plan_json(rig, manifests, 4, wait_for_early=True)
    assert got == reference
    assert requests_made(rig.sandbox) == requests_made(before.sandbox)
    early = [r.path for r in rig.sandbox.log[:before_finish]]
    assert set(STAGE_TWO) <= set(early)  # read before the checked manifest was there


STAGE_TWO = ("/v3/user_job_permissions", "/v3/future_job_permissions")


def test_second_stage_reads_start_only_after_the_users_are_in() -> None:
    rig = Rig()
    with reader_for(rig) as reader:
        read_for_manifest(reader, load([EXAMPLES]), acting_user_id="1001", workers=4)
    paths = [r.path for r in rig.sandbox.log]
    last_users = max(i for i, p in enumerate(paths) if p == "/v3/users")
    stage_two = [i for i, p in enumerate(paths) if p in ("/v3/user_job_permissions", "/v3/future_job_permissions")]
    assert len(stage_two) == 2 and min(stage_two) > last_users


def test_the_head_start_reads_exactly_what_the_checked_manifest_needs() -> None:
    seen: dict[str, list[Any]] = {}

    def collect(_file: str, sections: Mapping[str, Sequence[Any]]) -> None:
        for name, items in sections.items():
            seen.setdefault(name, []).extend(items)

    manifest = load_early([EXAMPLES], collect)
    for only in ((), ("department",), ("user_job_permission",), ("office",)):
        expected = [c for c in for_plan(manifest, only) if not is_filtered(c)]
        assert early_collections(seen, only) == expected


def test_load_early_is_load_with_calls_added(tmp_path: Path) -> None:
    calls: list[str] = []
    assert load_early([EXAMPLES], lambda f, _s: calls.append(f)) == load([EXAMPLES])
    assert len(calls) == len(load([EXAMPLES]).files) - 1  # policy.yaml names no section
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.yaml").write_text("departments:\n  - name: [unclosed\n")
    (bad / "b.yaml").write_text("offices:\n  - name: Berlin\n    nonsense: 1\n")
    (bad / "c.yaml").write_text("candidate_tags:\n  - Referral\n")
    with pytest.raises(ManifestError) as expected:
        load([bad])
    calls.clear()
    with pytest.raises(ManifestError) as got:
        load_early([bad], lambda f, _s: calls.append(f))
    assert str(got.value) == str(expected.value)
    assert calls == []  # the first file already failed: nothing is started for a manifest that cannot plan


# -- failures: which one is reported, and that the rest stops ------------------------------------------


def test_a_failed_read_is_reported_and_stops_the_reads_not_yet_begun() -> None:
    rig = Rig()
    rig.sandbox.add_fault("500", path="/v3/departments", count=20)
    with reader_for(rig) as reader, PlanReading(reader, workers=1, acting_user_id="1001") as reading:
        reading.prefetch(["departments", "offices", "candidate_tags"])
        live = reading.finish(load([EXAMPLES]))
        with pytest.raises((ApiError, ReadStopped)):
            build_plan(load([EXAMPLES]), live)
        with pytest.raises(ApiError, match="GET /v3/departments -> 500"):
            reading.settle()
    read = {r.path for r in rig.sandbox.log}
    assert "/v3/offices" not in read and "/v3/users" not in read  # never started after the failure
    assert len([r for r in rig.sandbox.log if r.path == "/v3/departments"]) == 7  # 1 + max_retries


def test_the_identity_guard_runs_before_the_plan_is_shown_and_before_stage_two() -> None:
    data = seed()
    for user in data["users"]:
        if user["id"] == 1001:
            user["site_admin"] = False
    rig = Rig(data)
    manifest = load([EXAMPLES])
    with reader_for(rig) as reader, PlanReading(reader, workers=4, acting_user_id="1001") as reading:
        reading.finish(manifest)
        with pytest.raises(UsageError, match="GREENHOUSE_USER_ID 1001 was not returned by the API"):
            reading.settle()
    assert not {r.path for r in rig.sandbox.log} & {"/v3/user_job_permissions", "/v3/future_job_permissions"}


def test_stopping_ends_reads_under_way_and_every_future_says_so() -> None:
    class Slow:
        """A reader whose list yields one row, then waits until the test lets it go on."""

        def __init__(self) -> None:
            self.go = threading.Event()
            self.first = threading.Event()

        def list(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
            yield {"id": 1, "name": "One"}
            self.first.set()
            self.go.wait(10)
            yield {"id": 2, "name": "Two"}

        def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
            return list(self.list(path, params))

    slow = Slow()
    reading = Reading(slow, workers=1)
    under_way = reading.start("departments", (("/v3/departments", {}),))
    queued = reading.start("offices", (("/v3/offices", {}),))
    assert reading.start("departments", (("/v3/departments", {}),)) is under_way  # once per collection ...
    assert reading.start("offices", ()) is not queued  # ... unless asked for other requests
    slow.first.wait(10)
    reading.stop()
    slow.go.set()
    reading.close()
    for future in (under_way, queued, reading.started()["offices"]):
        assert isinstance(future.exception(), ReadStopped)
    assert isinstance(reading.start("jobs", ()).exception(), ReadStopped)


def test_pending_knows_its_keys_without_waiting() -> None:
    from concurrent.futures import Future

    later: Future[int] = Future()
    pending = Pending({"a": done(1), "b": later})
    assert "b" in pending and list(pending) == ["a", "b"] and len(pending) == 2
    assert pending["a"] == 1 and pending.get("zzz") is None
    later.set_exception(ReadStopped("stopped"))
    with pytest.raises(ReadStopped):
        pending.get("b")


@pytest.mark.parametrize(("value", "expected"), [("", 4), ("1", 1), ("16", 16)])
def test_read_workers_setting(value: str, expected: int) -> None:
    assert workers_from_env({"GREENHOUSE_READ_WORKERS": value}) == expected


@pytest.mark.parametrize("value", ["0", "17", "four", "-2", "2.5"])
def test_read_workers_setting_refuses_nonsense(value: str) -> None:
    with pytest.raises(UsageError, match="GREENHOUSE_READ_WORKERS must be a whole number from 1 to 16"):
        workers_from_env({"GREENHOUSE_READ_WORKERS": value})
