"""Fixed-window rate limiting (reference 1.8) and deterministic fault injection (spec section 7)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox import FaultSpec, Sandbox, SandboxOptions
from tests.sandbox.conftest import ClientFactory
from tests.support import FakeClock

WINDOW_START = 1_800_000_000  # FakeClock's start is a multiple of 30


def limited(seed: dict[str, Any], clock: FakeClock, spec: str | tuple[int, float] = "3/30") -> Sandbox:
    return Sandbox(seed, clock=clock.time, rate_limit=spec)


def test_rate_limit_headers_count_down_and_429_carries_retry_after(
    seed: dict[str, Any], clock: FakeClock, make_client: ClientFactory
) -> None:
    sb = limited(seed, clock)
    client = make_client(sandbox=sb)
    clock.advance(10)
    remaining = []
    for _ in range(3):
        answer = client.get("/v3/departments")
        assert answer.status_code == 200
        assert answer.headers["X-RateLimit-Limit"] == "3"
        assert answer.headers["X-RateLimit-Reset"] == str(WINDOW_START + 30)
        remaining.append(answer.headers["X-RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    refused = client.post("/v3/candidate_tags", json={"name": "over"})
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "20"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert set(refused.json()) == {"message", "errors"}
    assert "over" not in [t["name"] for t in sb.rows("candidate_tags")]
    clock.advance(20)
    again = client.get("/v3/departments")
    assert again.status_code == 200
    assert again.headers["X-RateLimit-Remaining"] == "2"
    assert again.headers["X-RateLimit-Reset"] == str(WINDOW_START + 60)


def test_tuple_spec_and_token_requests_are_not_limited(seed: dict[str, Any], clock: FakeClock,
                                                       make_client: ClientFactory) -> None:
    sb = limited(seed, clock, (1, 30.0))
    for _ in range(3):
        client = make_client(sandbox=sb)  # three token requests: never limited
    assert client.get("/v3/departments").status_code == 200
    assert client.get("/v3/departments").status_code == 429
    assert client.get("/_sandbox/state").status_code == 200


def test_each_client_has_its_own_window(seed: dict[str, Any], clock: FakeClock, make_client: ClientFactory) -> None:
    seed["clients"].append({"client_id": "second", "client_secret": "s2"})
    sb = limited(seed, clock, "1/30")
    first = make_client(sandbox=sb)
    second = httpx.Client(transport=sb.transport(), base_url="http://127.0.0.1")
    minted = second.post("/token", auth=("second", "s2"), data={"grant_type": "client_credentials", "sub": "1001"})
    second.headers["Authorization"] = f"Bearer {minted.json()['access_token']}"
    assert first.get("/v3/offices").status_code == 200
    assert second.get("/v3/offices").status_code == 200
    assert first.get("/v3/offices").status_code == 429


def test_rate_limit_headers_on_every_v3_response_without_rate_limit(api: httpx.Client, sb: Sandbox,
                                                                   clock: FakeClock) -> None:
    clock.advance(10)
    answers = [
        api.get("/v3/departments"),
        api.post("/v3/candidate_tags", json={"name": "headers"}),
        api.post("/v3/candidate_tags", json={}),  # 422
        api.get("/v3/nothing_here"),  # 404
        api.get("/v3/bulk_requests/00000000-0000-0000-0000-000000000000"),  # 404
    ]
    assert [a.status_code for a in answers] == [200, 201, 422, 404, 404]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"10000"}
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["9999", "9998", "9997", "9996", "9995"]
    assert {a.headers["X-RateLimit-Reset"] for a in answers} == {str(WINDOW_START + 30)}
    unauthenticated = httpx.Client(transport=sb.transport(), base_url="http://127.0.0.1").get("/v3/departments")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["X-RateLimit-Limit"] == "10000"
    assert "X-RateLimit-Limit" not in api.get("/_sandbox/state").headers


def test_default_limit_is_an_option_and_rate_limit_overrides_it(seed: dict[str, Any], clock: FakeClock,
                                                                 make_client: ClientFactory) -> None:
    low = Sandbox(seed, clock=clock.time, options=SandboxOptions(default_rate_limit="2/10"))
    client = make_client(sandbox=low)
    assert [client.get("/v3/offices").status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/v3/offices").headers["X-RateLimit-Reset"] == str(WINDOW_START + 10)
    both = Sandbox(seed, clock=clock.time, rate_limit="5/30", options=SandboxOptions(default_rate_limit="2/10"))
    assert make_client(sandbox=both).get("/v3/offices").headers["X-RateLimit-Limit"] == "5"
    with pytest.raises(ValueError, match="rate limit"):
        Sandbox(seed, options=SandboxOptions(default_rate_limit="fast"))


@pytest.mark.parametrize("spec", ["75", "0/30", "75/0", "a/b", "75/30/2"])
def test_bad_rate_limit_spec_is_a_value_error(seed: dict[str, Any], spec: str) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        Sandbox(seed, rate_limit=spec)


@pytest.mark.parametrize(
    "spec",
    ["rate429=2", "bogus=1", "teapot@GET /v3/departments", "latency=0.1", "rate429=0.6,rate500=0.6",
     "429x0@GET /v3/departments", "latency=0.5:fast", "seed=x", "retry_after=-1", "retry_after=nan",
     "retry_after=inf"],
)
def test_bad_fault_spec_is_a_value_error(seed: dict[str, Any], spec: str) -> None:
    with pytest.raises(ValueError, match="faults"):
        Sandbox(seed, faults=spec)


def test_fault_grammar_parses_rates_and_rules() -> None:
    spec = FaultSpec.parse("seed=7,rate429=0.05,rate500=0.02,rate503=0.02,latency=0.1:200ms,drop_before=0.01,"
                           "drop_after=0.01,retry_after=3,drop_after@POST /v3/candidate_tags#1,429x3@GET /v3/departments")
    assert (spec.seed, spec.latency_rate, spec.latency, spec.retry_after) == (7, 0.1, 0.2, 3)
    assert spec.rates == {"429": 0.05, "500": 0.02, "503": 0.02, "drop_before": 0.01, "drop_after": 0.01}
    assert [(r.kind, r.method, r.path, r.nth, r.count) for r in spec.rules] == [
        ("drop_after", "POST", "/v3/candidate_tags", 1, 1), ("429", "GET", "/v3/departments", 1, 3)]


def test_targeted_429_burst_then_normal_service(seed: dict[str, Any], clock: FakeClock,
                                                make_client: ClientFactory) -> None:
    sb = Sandbox(seed, clock=clock.time, faults="retry_after=2,429x3@GET /v3/departments")
    client = make_client(sandbox=sb)
    answers = [client.get("/v3/departments") for _ in range(4)]
    assert [a.status_code for a in answers] == [429, 429, 429, 200]
    assert answers[0].headers["Retry-After"] == "2"
    assert client.get("/v3/offices").status_code == 200
    assert [r.fault for r in sb.log if r.path == "/v3/departments"] == ["429", "429", "429", None]


def test_a_fractional_retry_after_is_sent_as_written(seed: dict[str, Any], clock: FakeClock,
                                                    make_client: ClientFactory) -> None:
    assert FaultSpec.parse("retry_after=0.05").retry_after == 0.05
    sb = Sandbox(seed, clock=clock.time, faults="retry_after=0.05,429@GET /v3/departments,429@GET /v3/offices")
    client = make_client(sandbox=sb)
    assert client.get("/v3/departments").headers["Retry-After"] == "0.05"
    whole = Sandbox(seed, clock=clock.time, faults="retry_after=2.0,429@GET /v3/offices")
    assert make_client(sandbox=whole).get("/v3/offices").headers["Retry-After"] == "2"


def test_nth_matching_request_and_method_filter(seed: dict[str, Any], clock: FakeClock,
                                                make_client: ClientFactory) -> None:
    sb = Sandbox(seed, clock=clock.time, faults="500@POST /v3/candidate_tags#2")
    client = make_client(sandbox=sb)
    assert client.get("/v3/candidate_tags").status_code == 200  # GET does not match
    statuses = [client.post("/v3/candidate_tags", json={"name": f"t{i}"}).status_code for i in range(3)]
    assert statuses == [201, 500, 201]
    assert [t["name"] for t in sb.rows("candidate_tags")][-2:] == ["t0", "t2"]  # the 500 committed nothing


@pytest.mark.parametrize("kind", ["500", "503"])
def test_server_errors_have_the_error_body_and_change_nothing(sb: Sandbox, api: httpx.Client, kind: str) -> None:
    sb.add_fault(kind, method="PATCH", path="/v3/departments")
    answer = api.patch("/v3/departments/10", json={"name": "Eng"})
    assert answer.status_code == int(kind)
    assert set(answer.json()) == {"message", "errors"}
    assert [d["name"] for d in sb.rows("departments") if d["id"] == 10] == ["Engineering"]


def test_drop_before_raises_and_commits_nothing(sb: Sandbox, api: httpx.Client) -> None:
    sb.add_fault("drop_before", method="POST", path="/v3/candidate_tags")
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v3/candidate_tags", json={"name": "lost"})
    assert "lost" not in [t["name"] for t in sb.rows("candidate_tags")]
    entry = sb.log[-1]
    assert (entry.status, entry.fault, entry.body) == (0, "drop_before", {"name": "lost"})


def test_drop_after_commits_then_loses_the_reply(sb: Sandbox, api: httpx.Client) -> None:
    sb.add_fault("drop_after", method="POST", path="/v3/candidate_tags")
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v3/candidate_tags", json={"name": "committed"})
    assert [t["name"] for t in sb.rows("candidate_tags")][-1] == "committed"
    retried = api.post("/v3/candidate_tags", json={"name": "committed"})  # a naive blind retry
    assert retried.status_code == 422
    assert [(w.status, w.fault) for w in sb.writes()] == [(0, "drop_after"), (422, None)]
    # The log keeps the status of the answer that was lost: 201, the write was committed.
    assert [w.lost_status for w in sb.writes()] == [201, None]


def test_a_dropped_answer_to_a_refused_write_logs_its_status(sb: Sandbox, api: httpx.Client) -> None:
    sb.add_fault("drop_after", method="POST", path="/v3/candidate_tags")
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v3/candidate_tags", json={})  # no name: refused, nothing committed
    assert [(w.status, w.fault, w.lost_status) for w in sb.writes()] == [(0, "drop_after", 422)]
    sb.add_fault("drop_before", method="POST", path="/v3/candidate_tags")
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v3/candidate_tags", json={"name": "never"})
    assert sb.writes()[-1].to_json()["lost_status"] is None  # nothing was processed


def test_latency_waits_through_the_injected_sleep(seed: dict[str, Any], clock: FakeClock,
                                                  make_client: ClientFactory) -> None:
    sb = Sandbox(seed, clock=clock.time, faults="latency:250ms@GET /v3/users",
                 options=SandboxOptions(sleep=clock.sleep))
    client = make_client(sandbox=sb)
    assert client.get("/v3/users").status_code == 200
    assert client.get("/v3/users").status_code == 200
    assert clock.sleeps == [0.25]
    assert [r.latency for r in sb.log if r.path == "/v3/users"] == [0.25, 0.0]  # the log says which was delayed


def test_faults_never_hit_token_or_admin_endpoints(seed: dict[str, Any], clock: FakeClock,
                                                   make_client: ClientFactory) -> None:
    sb = Sandbox(seed, clock=clock.time, faults="rate500=1.0")
    client = make_client(sandbox=sb)  # the token request succeeds
    assert client.get("/_sandbox/state").status_code == 200
    assert client.get("/v3/departments").status_code == 500


def test_probabilistic_faults_are_deterministic_for_a_seed(seed: dict[str, Any], clock: FakeClock,
                                                           make_client: ClientFactory) -> None:
    spec = "seed=7,rate429=0.2,rate500=0.1,rate503=0.1"

    def statuses() -> list[int]:
        sb = Sandbox(seed, clock=clock.time, faults=spec)
        client = make_client(sandbox=sb)
        return [client.get("/v3/departments").status_code for _ in range(60)]

    first, second = statuses(), statuses()
    assert first == second
    assert {200, 429, 500, 503} <= set(first)
    other = Sandbox(seed, clock=clock.time, faults="seed=8,rate429=0.2,rate500=0.1,rate503=0.1")
    other_client = make_client(sandbox=other)
    assert [other_client.get("/v3/departments").status_code for _ in range(60)] != first


def test_per_request_draws_do_not_depend_on_how_other_paths_interleave(seed: dict[str, Any], clock: FakeClock,
                                                                       make_client: ClientFactory) -> None:
    spec = "seed=7,rate429=0.2,rate500=0.1,rate503=0.1,draws=request"
    assert FaultSpec.parse(spec).draws == "request"

    def departments(polls_between: int, faults: str = spec) -> list[int]:
        """Statuses of 40 department reads, with `polls_between` office reads before each."""
        client = make_client(sandbox=Sandbox(seed, clock=clock.time, faults=faults))
        answers = []
        for _ in range(40):
            for _ in range(polls_between):
                client.get("/v3/offices")
            answers.append(client.get("/v3/departments").status_code)
        return answers

    first = departments(0)
    assert {200, 429, 500, 503} <= set(first)
    assert departments(3) == first  # the office reads between them change nothing for the departments
    assert departments(0, spec.replace("seed=7", "seed=8")) != first
    sequence = spec.replace(",draws=request", "")  # the default: one generator for every request
    assert departments(3, sequence) != departments(0, sequence)


def test_an_unknown_draws_value_is_refused(seed: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="draws=often.*sequence, request"):
        Sandbox(seed, faults="draws=often")
