"""The real server in a subprocess (`python -m reconciler sandbox serve`), over real HTTP."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.sandbox.conftest import SEED_PATH

ROOT = SEED_PATH.parents[1]
pytestmark = pytest.mark.e2e


@contextmanager
def serve(*args: str) -> Iterator[str]:
    """Start the server, yield its base URL from the listening line, always terminate it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0", *args],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr or []], daemon=True)
    reader.start()
    try:
        line = lines.get(timeout=30)
        assert line.startswith("Sandbox listening on http://127.0.0.1:"), line
        yield line.strip().rsplit(" ", 1)[1]
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        reader.join(timeout=15)  # then close the pipe: left open it is a ResourceWarning, i.e. an error
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == 0


def authed(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=10)
    answer = client.post("/token", auth=("demo-client", "demo-secret"),
                         data={"grant_type": "client_credentials", "sub": "1001"})
    assert answer.status_code == 200
    client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return client


def test_real_http_token_pagination_errors_and_request_log() -> None:
    with serve("--seed", "examples/sandbox-seed.json") as base, closing(authed(base)) as client:
        answer = client.get("/v3/departments", params={"per_page": 4})
        seen = [d["id"] for d in answer.json()]
        pages = 1
        while "next" in answer.links:
            assert answer.links["next"]["url"].startswith(f"{base}/v3/departments?cursor=")
            answer = client.get(answer.links["next"]["url"])
            seen += [d["id"] for d in answer.json()]
            pages += 1
        assert (seen, pages) == ([40, 30, 22, 21, 20, 13, 12, 11, 10], 3)
        link = client.get("/v3/departments", params={"per_page": 4}).links["next"]["url"]
        assert client.get(link + "&per_page=4").status_code == 422
        assert client.get("/v3/departments", params={"per_page": 501}).status_code == 422
        assert client.post("/v3/candidate_tags", json={"name": "over-http"}).status_code == 201
        logged = client.get("/_sandbox/requests").json()
        assert {"method": "POST", "path": "/v3/candidate_tags", "query": {}, "status": 201,
                "body": {"name": "over-http"}, "fault": None, "lost_status": None, "latency": 0.0} in logged


def test_drop_after_closes_the_socket_after_committing() -> None:
    with serve("--seed", "examples/sandbox-seed.json", "--faults", "drop_after@POST /v3/candidate_tags") as base, \
            closing(authed(base)) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/v3/candidate_tags", json={"name": "lost-reply"})
        state = httpx.get(f"{base}/_sandbox/state", timeout=10).json()
        assert state["candidate_tags"][-1]["name"] == "lost-reply"


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with serve("--seed", "examples/sandbox-seed.json", "--state", str(state)) as base, closing(authed(base)) as client:
        assert client.post("/v3/candidate_tags", json={"name": "durable"}).status_code == 201
    assert "durable" in [t["name"] for t in json.loads(state.read_text())["candidate_tags"]]
    with serve("--seed", "examples/sandbox-seed.json", "--state", str(state)) as base, closing(authed(base)) as client:
        names = [t["name"] for t in client.get("/v3/candidate_tags").json()]
        assert names[0] == "durable"


def test_option_flags_set_the_bulk_delay_order_and_duplicate_rule() -> None:
    with serve("--seed", "examples/sandbox-seed.json", "--option", "bulk_processing_seconds=0",
               "--option", "bulk_shuffle=false", "--option", "reject_duplicate_job_permission=false") as base, \
            closing(authed(base)) as client:
        rows = [{"custom_field_id": 206, "name": f"e2e-{i}"} for i in range(6)]
        submitted = client.post("/v3/custom_field_options/bulk", json={"data": rows})
        assert submitted.status_code == 202
        assert submitted.headers["X-RateLimit-Limit"] == "10000"
        uuid = submitted.json()["bulk_action_uuid"]
        assert client.get(f"/v3/bulk_requests/{uuid}").json()["status"] == "completed"  # delay 0: done at once
        options = sorted(client.get("/v3/custom_field_options").json(), key=lambda o: o["id"])
        assert [o["name"] for o in options if o["name"].startswith("e2e-")] == [r["name"] for r in rows]
        second_role = client.post("/v3/user_job_permissions", json={"user_id": 1002, "job_id": 400, "role_id": 3})
        assert second_role.status_code == 201


def test_bulk_rows_land_in_the_background_without_polling() -> None:
    with serve("--seed", "examples/sandbox-seed.json", "--option", "bulk_processing_seconds=0.2") as base, \
            closing(authed(base)) as client:
        answer = client.patch("/v3/departments/bulk", json={"data": [{"id": 12, "name": "Infra"}]})
        assert answer.status_code == 202
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            names = {d["id"]: d["name"] for d in client.get("/v3/departments").json()}
            if names[12] == "Infra":
                break
            time.sleep(0.05)
        assert names[12] == "Infra"
        logged = client.get("/_sandbox/requests").json()
        assert not [r for r in logged if r["path"].startswith("/v3/bulk_requests")]


def test_a_slow_bulk_is_pending_right_after_submission() -> None:
    with serve("--seed", "examples/sandbox-seed.json", "--option", "bulk_processing_seconds=600") as base, \
            closing(authed(base)) as client:
        uuid = client.patch("/v3/departments/bulk", json={"data": [{"id": 12, "name": "Infra"}]}).json()["bulk_action_uuid"]
        assert client.get(f"/v3/bulk_requests/{uuid}").json()["status"] == "pending"
        assert {d["id"]: d["name"] for d in client.get("/v3/departments").json()}[12] == "Infrastructure"


@pytest.mark.parametrize(("flag", "value", "needle"), [("--rate-limit", "fast", "rate limit"),
                                                       ("--faults", "teapot@GET /v3", "faults"),
                                                       ("--option", "nope=1", "unknown sandbox option 'nope'"),
                                                       ("--option", "bulk_seed=abc", "expected an integer")])
def test_bad_options_exit_1_with_a_clear_message(flag: str, value: str, needle: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0", flag, value],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 1
    assert needle in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_seed_file_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "seed.json"
    bad.write_text('{"widgets": []}')
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0", "--seed", str(bad)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 1
    assert "unknown collection 'widgets'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_port_in_use_exits_1_with_a_clear_message() -> None:
    with serve("--seed", "examples/sandbox-seed.json") as base:
        port = base.rsplit(":", 1)[1]
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", port],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
