"""The real client against the in-process sandbox: pagination, tokens, throttling, faults, bulk.

These complement the scripted fake (test_*.py beside this file): here the server side is the
emulator written from the API reference, and every assertion about what was sent is read from
the sandbox's own request log.
"""

from __future__ import annotations

import copy
import json
import math
import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.errors import OutcomeUnknownError
from reconciler.harvest import HarvestClient, HarvestReader, Polling, Settings
from reconciler.sandbox import Sandbox
from tests.support import FakeClock

SEED_FILE = Path(__file__).resolve().parents[2] / "examples" / "sandbox-seed.json"
SETTINGS = Settings(client_id="demo-client", client_secret="demo-secret", user_id="1001",
                    api_url="http://127.0.0.1", token_url="http://127.0.0.1/token")


def seed(extra_departments: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    template = data["departments"][0]
    for n in range(extra_departments):
        row = copy.deepcopy(template)
        row.update(id=5000 + n, name=f"Extra {n}", external_id=f"EXTRA-{n}", parent_id=None)
        data["departments"].append(row)
    return data


def make(clock: FakeClock, *, cls: type[HarvestReader] = HarvestClient, extra: int = 0,
         transport: httpx.BaseTransport | None = None, **kw: Any) -> tuple[Sandbox, Any]:
    sandbox_kw = {k: kw.pop(k) for k in ("rate_limit", "faults") if k in kw}
    sb = Sandbox(seed(extra), clock=clock.time, **sandbox_kw)
    client = cls(SETTINGS, transport=transport or sb.transport(), clock=clock.time, sleep=clock.sleep,
                 rng=random.Random(0), **kw)
    return sb, client


def api_log(sb: Sandbox) -> list[Any]:
    return [e for e in sb.log if e.path != "/token"]


def test_many_pages_are_read_with_exactly_one_request_per_page() -> None:
    clock = FakeClock()
    sb, reader = make(clock, cls=HarvestReader, extra=41, per_page=7)
    total = len(sb.rows("departments"))
    rows = reader.list_all("/v3/departments")
    assert total == 50 and len(rows) == total
    assert [r["id"] for r in rows] == sorted((r["id"] for r in sb.rows("departments")), reverse=True)
    assert reader.request_count == math.ceil(total / 7) == len(api_log(sb))
    assert all(e.status == 200 for e in sb.log)


def test_only_the_first_page_request_carries_parameters() -> None:
    clock = FakeClock()
    sb, reader = make(clock, cls=HarvestReader, extra=12, per_page=4)
    rows = reader.list_all("/v3/departments", {"created_at": "gte|2020-01-01T00:00:00Z"})
    assert len(rows) == len(sb.rows("departments"))
    first, *rest = api_log(sb)
    assert first.query == {"created_at": "gte|2020-01-01T00:00:00Z", "per_page": "4"}
    assert rest and all(list(e.query) == ["cursor"] for e in rest)
    assert all(e.status == 200 for e in sb.log)


def test_the_token_is_renewed_before_it_expires() -> None:
    clock = FakeClock()
    sb, reader = make(clock, cls=HarvestReader)
    reader.get("/v3/offices")
    clock.advance(3600 - 61)
    reader.get("/v3/offices")
    clock.advance(2)  # 59 s before expiry: renew first instead of risking a 401
    reader.get("/v3/offices")
    assert [e.path for e in sb.log] == ["/token", "/v3/offices", "/v3/offices", "/token", "/v3/offices"]
    assert all(e.status == 200 for e in sb.log)


def test_a_token_revoked_by_minting_elsewhere_is_replaced_after_one_401() -> None:
    clock = FakeClock()
    sb, reader = make(clock, cls=HarvestReader)
    reader.get("/v3/offices")
    other = HarvestReader(SETTINGS, transport=sb.transport(), clock=clock.time, sleep=clock.sleep)
    other.get("/v3/offices")  # mints a newer token for the same client: ours is revoked
    sb.clear_log()
    assert len(reader.list_all("/v3/offices")) == len(sb.rows("offices"))
    assert [(e.path, e.status) for e in sb.log] == [("/v3/offices", 401), ("/token", 200), ("/v3/offices", 200)]


def test_an_injected_429_is_retried_after_retry_after() -> None:
    clock = FakeClock()
    sb, reader = make(clock, cls=HarvestReader, faults="retry_after=5")
    sb.add_fault("429", method="GET", path="/v3/departments")
    assert len(reader.list_all("/v3/departments")) == len(sb.rows("departments"))
    assert [e.status for e in api_log(sb)] == [429, 200]
    assert clock.sleeps == [5.0]


class WithoutRetryAfter(httpx.BaseTransport):
    """The sandbox always sends Retry-After with a 429; this strips it to exercise the fallback."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "retry-after"]
        return httpx.Response(response.status_code, headers=headers, content=response.read(), request=request)


def test_a_429_without_retry_after_waits_until_the_rate_limit_reset() -> None:
    clock = FakeClock(1_800_000_010.0)  # 20 s before the sandbox's 30-s window ends
    sb = Sandbox(seed(), clock=clock.time, rate_limit="75/30")
    sb.add_fault("429", method="GET", path="/v3/offices")
    reader = HarvestReader(SETTINGS, transport=WithoutRetryAfter(sb.transport()), clock=clock.time,
                           sleep=clock.sleep)
    reader.get("/v3/offices")
    assert [e.status for e in api_log(sb)] == [429, 200]
    assert clock.sleeps == [20.0]


def test_a_spent_window_is_waited_out_so_no_429_is_ever_provoked() -> None:
    clock = FakeClock()
    sb, reader = make(clock, cls=HarvestReader, rate_limit="3/30")
    for _ in range(10):
        reader.get("/v3/candidate_tags")
    statuses = [e.status for e in api_log(sb)]
    assert statuses == [200] * 10
    assert len(clock.sleeps) == 3 and all(0 < s <= 30 for s in clock.sleeps)


def test_gets_are_retried_through_injected_server_errors_and_drops() -> None:
    clock = FakeClock()
    sb, reader = make(clock, cls=HarvestReader)
    sb.add_fault("503", method="GET", path="/v3/offices", count=2)
    sb.add_fault("drop_before", method="GET", path="/v3/offices", nth=3)
    sb.add_fault("500", method="GET", path="/v3/offices", nth=4)
    assert len(reader.list_all("/v3/offices")) == len(sb.rows("offices"))
    assert [e.status for e in api_log(sb)] == [503, 503, 0, 500, 200]
    assert len(clock.sleeps) == 4


def test_a_post_whose_answer_is_lost_is_not_repeated() -> None:
    clock = FakeClock()
    sb, client = make(clock)
    sb.add_fault("drop_after", method="POST", path="/v3/candidate_tags")
    with pytest.raises(OutcomeUnknownError) as info:
        client.post("/v3/candidate_tags", {"name": "Silver Medalist"})
    assert str(info.value).startswith("POST /v3/candidate_tags -> outcome unknown (RemoteProtocolError")
    posts = [e for e in sb.writes() if e.method == "POST"]
    assert len(posts) == 1
    # The write was committed: a blind retry would have hit the duplicate-name rule (or worse).
    assert [t["name"] for t in sb.rows("candidate_tags")].count("Silver Medalist") == 1


def test_a_write_dropped_before_processing_is_still_reported_as_unknown() -> None:
    clock = FakeClock()
    sb, client = make(clock)
    sb.add_fault("drop_before", method="PATCH", path="/v3/departments/11")
    with pytest.raises(OutcomeUnknownError):
        client.patch("/v3/departments/11", {"name": "Platform Engineering"})
    # The client cannot tell a drop before from a drop after: both look like a lost answer.
    assert len(sb.writes()) == 1 and next(r for r in sb.rows("departments") if r["id"] == 11)["name"] == "Platform"


def test_a_rate_limited_write_is_retried_because_nothing_was_processed() -> None:
    clock = FakeClock()
    sb, client = make(clock)
    sb.add_fault("429", method="POST", path="/v3/candidate_tags")
    result = client.post("/v3/candidate_tags", {"name": "Rehire 2027"})
    assert result.status == 201 and result.body["name"] == "Rehire 2027"
    assert [e.status for e in sb.writes()] == [429, 201]


def test_bulk_create_reports_counts_and_failure_rows() -> None:
    clock = FakeClock()
    sb, client = make(clock)
    rows = [{"custom_field_id": 201, "name": "Principal", "sort_order": 4},
            {"custom_field_id": 201, "name": "Senior", "sort_order": 5}]  # an active name already: fails
    outcome = client.bulk("POST", "/v3/custom_field_options/bulk", rows, polling=Polling(interval=1.0))
    assert (outcome.status, outcome.record_count, outcome.success_count, outcome.failure_count) == (
        "completed", 2, 1, 1)
    (failure,) = outcome.failures
    assert failure["index"] == 1 and failure["status"] == 422
    assert [w.path for w in sb.writes()] == ["/v3/custom_field_options/bulk"]
    assert "Principal" in {o["name"] for o in sb.rows("custom_field_options")}
    assert clock.sleeps == [1.0]


def test_request_and_token_counts_match_the_sandbox_log() -> None:
    clock = FakeClock()
    sb, client = make(clock)
    client.list_all("/v3/departments")
    client.post("/v3/candidate_tags", {"name": "Alumni"})
    client.get("/v3/users", {"ids": [1001, 1002]})
    assert client.request_count == len(api_log(sb)) == 3
    assert client.token_count == len([e for e in sb.log if e.path == "/token"]) == 1
