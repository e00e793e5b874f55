"""The executor's re-reads check their rows as planning's reads do (`reconciler/live/rows.py`).

The re-read before the first create of a type, the settle probe after a lost reply and the duplicate
check after the apply all take list rows from the API. A row that does not fit (no id, a name that is
not a string) is a `LiveDataError` naming the method, path, row and field, and the apply stops with an
`ApplyError` (exit 1 in the CLI, no traceback): never a KeyError, and never a create sent again because
a misread row did not match it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from reconciler.errors import ApplyError
from reconciler.executor import Executor
from reconciler.harvest import HarvestClient
from reconciler.harvest.bulk import BulkOutcome, Polling
from reconciler.harvest.results import WriteResult
from reconciler.live import read_for_manifest
from reconciler.live.rows import LiveDataError
from reconciler.plan import Plan
from reconciler.planner import build_plan
from tests.builders import manifest
from tests.harness import Rig

Rows = list[dict[str, Any]]


class Spoiling:
    """A `reconciler.executor.Writer` over `client` whose `nth` list read of `path` (1-based) comes back
    through `spoil`: a malformed answer at exactly the re-read under test."""

    def __init__(self, client: HarvestClient, path: str, nth: int, spoil: Callable[[Rows], Rows]) -> None:
        self.client = client
        self.path = path
        self.nth = nth
        self.spoil = spoil
        self.reads: list[str] = []

    def post(self, path: str, json: Any = None) -> WriteResult:
        return self.client.post(path, json)

    def patch(self, path: str, json: Any) -> WriteResult:
        return self.client.patch(path, json)

    def delete(self, path: str, json: Any = None) -> WriteResult:
        return self.client.delete(path, json)

    def bulk(self, method: str, path: str, data: Sequence[Any], *, polling: Polling | None = None) -> BulkOutcome:
        return self.client.bulk(method, path, data, polling=polling)

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> Rows:
        rows = self.client.list_all(path, params)
        self.reads.append(path)
        return self.spoil(rows) if path == self.path and self.reads.count(path) == self.nth else rows


def plan_for(rig: Rig, m: Any) -> Plan:
    with rig.reader() as reader:
        return build_plan(m, read_for_manifest(reader, m), api_url="http://127.0.0.1")


def without_ids(rows: Rows) -> Rows:
    return [{k: v for k, v in r.items() if k != "id"} for r in rows]


def numbered_names(rows: Rows) -> Rows:
    return [{**r, "name": 5} if i == 1 else r for i, r in enumerate(rows)]


def departments(rig: Rig) -> list[str]:
    return sorted(r["name"] for r in rig.sandbox.rows("departments"))


def test_a_malformed_row_in_the_re_read_before_the_first_create_stops_the_apply_before_any_write() -> None:
    rig = Rig()
    plan = plan_for(rig, manifest(departments=[{"name": "Tools"}]))
    rig.sandbox.clear_log()
    writer = Spoiling(rig.client(), "/v3/departments", 1, numbered_names)
    with pytest.raises(ApplyError, match=r'applied 0 of 1 changes; failed: create department Tools: GET '
                                         r'/v3/departments: row 1 \(id \d+\): field "name" must be a string, '
                                         r"got 5; 0 not attempted") as caught:
        Executor(writer, clock=rig.clock.time, sleep=rig.clock.sleep).apply(plan)
    assert isinstance(caught.value.__context__, LiveDataError)
    assert rig.writes() == [] and "Tools" not in departments(rig)


def test_a_malformed_row_in_a_settle_probe_leaves_the_write_unknown_and_names_the_row() -> None:
    rig = Rig()
    plan = plan_for(rig, manifest(departments=[{"name": "Tools"}]))
    rig.sandbox.add_fault("drop_after", method="POST", path="/v3/departments")  # committed, reply lost
    journal = io.StringIO()
    writer = Spoiling(rig.client(), "/v3/departments", 2, without_ids)  # 1: the re-read before; 2: the probe
    with pytest.raises(ApplyError, match=r'failed: create department Tools: GET /v3/departments: row 0: '
                                         r'field "id" is missing'):
        Executor(writer, journal=journal, clock=rig.clock.time, sleep=rig.clock.sleep).apply(plan)
    outcomes = [json.loads(line) for line in journal.getvalue().splitlines()]
    (outcome,) = [e for e in outcomes if e["event"] == "outcome"]
    assert outcome["status"] == "unknown" and 'row 0: field "id" is missing' in outcome["error"]
    assert [m for m, _, _ in rig.writes()] == ["POST"]  # never sent again on a misread probe
    assert departments(rig).count("Tools") == 1


def test_a_malformed_row_in_the_duplicate_check_is_an_error_naming_it_after_the_writes() -> None:
    rig = Rig()
    plan = plan_for(rig, manifest(departments=[{"name": "Tools"}]))
    writer = Spoiling(rig.client(), "/v3/departments", 2, numbered_names)  # 2: the check after the apply
    with pytest.raises(LiveDataError, match=r'GET /v3/departments: row 1 \(id \d+\): field "name" must be a '
                                            r"string, got 5"):
        Executor(writer, clock=rig.clock.time, sleep=rig.clock.sleep).apply(plan)
    assert [m for m, _, _ in rig.writes()] == ["POST"] and departments(rig).count("Tools") == 1
