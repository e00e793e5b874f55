"""A bulk write whose reply is lost: found and followed, or shown not accepted (BulkNotAcceptedError).

The chaos suite's runs stop most often on a bulk request whose answer was lost (a 5xx, a dropped
connection) and which the lookup among recent bulk requests does not find. `reconciler/harvest/bulk.py`
raises `BulkNotAcceptedError` (a `BulkPendingError`) then, so that a caller may send the rows again; these
tests pin when it does, through the real client and the in-process sandbox.

A reply lost after the bulk request was recorded, while a previous apply's request of the same endpoint
and row count lies seconds earlier, is told apart by the server's clock, which the client learns from
the HTTP `Date` header of the API's answers (the sandbox over HTTP sends it: `http.server` does; the
in-process transport does not, so `DatedTransport` below adds it from the sandbox's clock).
"""

from __future__ import annotations

import email.utils
import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer

import httpx
import pytest

from reconciler.errors import BulkPendingError
from reconciler.harvest import HarvestClient
from reconciler.harvest.bulk import BulkNotAcceptedError, clock_offset
from reconciler.sandbox import Sandbox
from reconciler.sandbox.server import make_handler
from tests.harness import SETTINGS, Rig, seed
from tests.support import FakeClock

ENDPOINT = "/v3/custom_field_options/bulk"
ROWS = [{"custom_field_id": 201, "name": "Principal"}, {"custom_field_id": 201, "name": "Distinguished"}]


def _seniority(rig: Rig) -> list[str]:
    return [o["name"] for o in rig.sandbox.rows("custom_field_options") if o["custom_field_id"] == 201]


@pytest.mark.parametrize("fault", ["500", "503", "drop_before"])
def test_a_lost_reply_with_no_recorded_bulk_request_is_not_accepted(fault: str) -> None:
    rig = Rig(faults=f"{fault}@POST {ENDPOINT}")
    with rig.client() as client, pytest.raises(BulkNotAcceptedError, match="no matching bulk request was found"):
        client.bulk("POST", ENDPOINT, ROWS)
    assert "Principal" not in _seniority(rig)  # nothing was accepted: sending the rows again is safe
    assert [r.path for r in rig.sandbox.log if r.method == "GET"] == ["/v3/bulk_requests"]


def test_a_reply_lost_after_the_bulk_request_was_recorded_is_followed_not_refused() -> None:
    rig = Rig(faults=f"drop_after@POST {ENDPOINT}")
    with rig.client() as client:
        outcome = client.bulk("POST", ENDPOINT, ROWS)
    assert (outcome.status, outcome.success_count) == ("completed", 2)
    assert set(_seniority(rig)[-2:]) == {"Principal", "Distinguished"}  # rows run in a shuffled order


def test_an_unreadable_lookup_proves_nothing_and_stays_pending() -> None:
    rig = Rig(faults=f"500@POST {ENDPOINT},500x7@GET /v3/bulk_requests")
    with rig.client() as client, pytest.raises(BulkPendingError, match="recent bulk requests cannot be read") as caught:
        client.bulk("POST", ENDPOINT, ROWS)
    assert not isinstance(caught.value, BulkNotAcceptedError)


class DatedTransport(httpx.BaseTransport):
    """The in-process sandbox, with the `Date` header a server stamps from its own clock (RFC 9110 6.6.1)."""

    def __init__(self, sandbox: Sandbox, server_clock: Callable[[], float]) -> None:
        self._inner = sandbox.transport()
        self._clock = server_clock

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        response.headers["Date"] = email.utils.formatdate(int(self._clock()), usegmt=True)
        return response


def _two_bulk_requests_ten_seconds_apart(dated: bool, skew: float) -> tuple[Sandbox, str, HarvestClient]:
    """A previous apply's client sends two options in bulk; 10 s later a new client sends two others, and
    its reply is dropped after the sandbox recorded the request. The sandbox's clock is `skew` s ahead."""
    clock = FakeClock()
    server_clock = lambda: clock.time() + skew  # noqa: E731
    sandbox = Sandbox(seed(), clock=server_clock)
    transport = DatedTransport(sandbox, server_clock) if dated else sandbox.transport()
    with HarvestClient(SETTINGS, transport=transport, clock=clock.time, sleep=clock.sleep) as previous:
        earlier = previous.bulk("POST", ENDPOINT, [{"custom_field_id": 201, "name": "Fellow"},
                                                   {"custom_field_id": 201, "name": "Emeritus"}]).uuid
    clock.advance(10)
    sandbox.add_fault("drop_after", method="POST", path=ENDPOINT)
    return sandbox, earlier, HarvestClient(SETTINGS, transport=transport, clock=clock.time, sleep=clock.sleep)


@pytest.mark.parametrize("skew", [0.0, 120.0, -120.0])
def test_a_previous_apply_s_request_seconds_earlier_is_told_apart_by_the_date_header(skew: float) -> None:
    sandbox, earlier, client = _two_bulk_requests_ten_seconds_apart(dated=True, skew=skew)
    with client:
        outcome = client.bulk("POST", ENDPOINT, ROWS)
    assert outcome.uuid != earlier and (outcome.status, outcome.success_count) == ("completed", 2)
    assert client.server_offset == skew  # the fake clocks sit on whole seconds
    assert [r["bulk_action_uuid"] for r in sandbox.rows("bulk_requests")] == [earlier, outcome.uuid]
    assert [r.method for r in sandbox.log if r.path == ENDPOINT] == ["POST", "POST"]  # nothing sent again


def test_without_a_date_header_the_previous_apply_s_request_makes_the_lookup_ambiguous() -> None:
    sandbox, earlier, client = _two_bulk_requests_ten_seconds_apart(dated=False, skew=0.0)
    with client, pytest.raises(BulkPendingError, match="2 recent bulk requests match it") as caught:
        client.bulk("POST", ENDPOINT, ROWS)
    assert earlier in str(caught.value) and not isinstance(caught.value, BulkNotAcceptedError)
    assert [r.method for r in sandbox.log if r.path == ENDPOINT] == ["POST", "POST"]


@pytest.fixture
def served() -> Iterator[str]:
    """The sandbox over real HTTP (the handler `sandbox serve` uses), on a free loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(Sandbox(seed())))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.e2e
def test_the_sandbox_over_http_sends_a_date_header_the_client_can_read(served: str) -> None:
    answer = httpx.get(served + "/v3/departments")  # no token: 401, still dated
    assert answer.status_code == 401
    assert clock_offset(answer.headers.get_list("date"), 0.0) is not None
