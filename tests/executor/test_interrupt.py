"""Interruption and the journal's intent/outcome lines, against the in-process sandbox.

A stop request (what SIGINT/SIGTERM become through StopSignal) never abandons the write in flight: it
is finished and recorded, and the apply stops before the next change with ApplyInterrupted.
"""

from __future__ import annotations

import io
import json
import os
import signal
from typing import Any

import pytest

from reconciler.errors import ApplyError
from reconciler.executor import ApplyInterrupted, Executor, Signalled, StopSignal
from reconciler.live import read_for_manifest
from reconciler.plan import Plan
from reconciler.planner import build_plan
from tests.builders import manifest
from tests.executor.writers import Meddling
from tests.harness import Rig

TAGS = ["Referral", "T1", "T2", "T3", "T4"]


def plan_for(rig: Rig, m: Any) -> Plan:
    with rig.reader() as reader:
        return build_plan(m, read_for_manifest(reader, m), api_url="http://127.0.0.1")


def events(journal: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in journal.getvalue().splitlines()]


def test_a_stop_during_a_write_lets_it_finish_records_it_and_stops_before_the_next_change() -> None:
    rig = Rig()
    plan = plan_for(rig, manifest(candidate_tags=TAGS))
    stop = StopSignal()

    def signal_arrives(method: str, path: str, body: Any) -> None:
        if body == {"name": "T2"}:  # while T2's create is being sent
            stop.request(signal.SIGTERM)

    journal = io.StringIO()
    rig.sandbox.clear_log()
    executor = Executor(Meddling(rig.client(), signal_arrives), journal=journal, stop=stop,
                        clock=rig.clock.time, sleep=rig.clock.sleep)
    with pytest.raises(ApplyInterrupted) as e:
        executor.apply(plan)
    assert e.value.exit_code == 143
    assert str(e.value).startswith(
        "applied 2 of 4; interrupted before candidate_tag:T3 (create candidate_tag T3) by SIGTERM; "
        "no write was left in flight")
    assert [b for _, _, b in rig.writes()] == [{"name": "T1"}, {"name": "T2"}]
    lines = events(journal)
    assert [(x["event"], x.get("name")) for x in lines] == [
        ("intent", "T1"), ("outcome", "T1"), ("intent", "T2"), ("outcome", "T2"), ("interrupted", None)]
    created = {t["name"]: t["id"] for t in rig.sandbox.rows("candidate_tags")}
    assert [(x["status"], x["id"]) for x in lines if x["event"] == "outcome"] == [(201, created["T1"]), (201, created["T2"])]
    assert lines[-1] | {"time": None} == {"event": "interrupted", "signal": "SIGTERM", "applied": 2, "total": 4,
                                          "next": "candidate_tag:T3", "time": None}


def test_a_stop_during_a_back_off_pause_sends_nothing_more() -> None:
    rig = Rig()
    plan = plan_for(rig, manifest(candidate_tags=["Referral", "Fresh"]))
    rig.sandbox.add_fault("500", method="POST", path="/v3/candidate_tags", count=3)
    stop = StopSignal()
    pauses: list[float] = []

    def pause(seconds: float) -> None:  # SIGINT arrives during the first back-off
        pauses.append(seconds)
        stop.request(signal.SIGINT)

    journal = io.StringIO()
    rig.sandbox.clear_log()
    with pytest.raises(ApplyInterrupted) as e:
        Executor(rig.client(), journal=journal, stop=stop, clock=rig.clock.time, sleep=pause).apply(plan)
    assert e.value.exit_code == 130
    assert str(e.value).startswith("applied 0 of 1; interrupted during candidate_tag:Fresh")
    assert pauses == [1.0]
    assert [m for m, _, _ in rig.writes()] == ["POST"]  # found not committed, never re-sent
    assert [(x["event"], x.get("status")) for x in events(journal)] == [
        ("intent", None), ("outcome", "not committed"), ("interrupted", None)]
    assert "Fresh" not in {t["name"] for t in rig.sandbox.rows("candidate_tags")}


def test_every_intent_is_in_the_journal_before_its_request_is_sent() -> None:
    rig = Rig()
    plan = plan_for(rig, manifest(candidate_tags=TAGS, departments=[{"name": "Tools"}]))
    journal = io.StringIO()
    seen: list[dict[str, Any]] = []

    def at_send(method: str, path: str, body: Any) -> None:
        seen.append(events(journal)[-1])

    Executor(Meddling(rig.client(), at_send), journal=journal, clock=rig.clock.time, sleep=rig.clock.sleep).apply(plan)
    assert len(seen) == 5
    assert all(s["event"] == "intent" for s in seen)
    assert [s["name"] for s in seen] == ["Tools", "T1", "T2", "T3", "T4"]
    lines = events(journal)
    intents = [x["write"] for x in lines if x["event"] == "intent"]
    outcomes = [x["write"] for x in lines if x["event"] == "outcome"]
    assert intents == outcomes == [1, 2, 3, 4, 5]


def test_failed_and_refused_writes_have_outcome_lines_with_the_error() -> None:
    rig = Rig()
    plan = plan_for(rig, manifest(candidate_tags=["Referral", "Fresh"]))
    other = rig.client()

    def in_the_ui(method: str, path: str, body: Any) -> None:
        other.post("/v3/candidate_tags", {"name": "Fresh"})

    journal = io.StringIO()
    with pytest.raises(ApplyError, match="422"):
        Executor(Meddling(rig.client(), in_the_ui), journal=journal, clock=rig.clock.time,
                 sleep=rig.clock.sleep).apply(plan)
    outcome = [x for x in events(journal) if x["event"] == "outcome"]
    assert [(x["status"], x["id"]) for x in outcome] == [(422, None)]
    assert "already exists" in outcome[0]["error"] and "demo-secret" not in journal.getvalue()


def test_stop_signal_raises_before_defer_and_only_records_after() -> None:
    stop = StopSignal()
    before = signal.getsignal(signal.SIGTERM)
    with stop.installed():
        with pytest.raises(Signalled) as e:
            os.kill(os.getpid(), signal.SIGTERM)
            signal.pthread_sigmask(signal.SIG_BLOCK, [])  # a bytecode boundary for the handler to run at
        assert e.value.signum == signal.SIGTERM
        stop.defer()
        os.kill(os.getpid(), signal.SIGINT)
        signal.pthread_sigmask(signal.SIG_BLOCK, [])
        assert stop.requested and stop.signum == signal.SIGTERM  # the first signal is the one reported
    assert signal.getsignal(signal.SIGTERM) is before
