"""Bulk endpoints: one write, then polling the bulk request; failures fetched from the results URL."""

from __future__ import annotations

import email.utils
import json
import random
from datetime import UTC, datetime

import httpx
import pytest

from reconciler.errors import ApiError, BulkPendingError, UsageError
from reconciler.harvest import BulkOutcome, HarvestClient, Polling
from reconciler.harvest.bulk import BulkNotAcceptedError, clock_offset
from tests.harvest.fake_api import FakeApi, json_response, settings
from tests.support import FakeClock

UUID = "6f1c2b0e-0000-4000-8000-000000000001"
STATUS_PATH = f"/v3/bulk_requests/{UUID}"


def client(api: FakeApi, clock: FakeClock) -> HarvestClient:
    return HarvestClient(settings(), transport=api.transport(), clock=clock.time, sleep=clock.sleep,
                         rng=random.Random(3))


def record(status: str, **fields: object) -> httpx.Response:
    return json_response(200, {"id": 1, "bulk_action_uuid": UUID, "status": status, "record_count": 3,
                               "success_count": 0, "failure_count": 0, "completed_at": None, **fields})


def test_bulk_sends_data_then_polls_until_completed_with_growing_interval() -> None:
    clock = FakeClock()
    api = FakeApi()
    api.script("PATCH", "/v3/custom_field_options/bulk", json_response(202, {"bulk_action_uuid": UUID}))
    api.script("GET", STATUS_PATH, record("pending"), record("in_progress"), record("in_progress"),
               record("completed", success_count=3, completed_at="2027-01-15T08:00:05.000Z"))
    rows = [{"id": 1, "sort_order": 0}, {"id": 2, "sort_order": 1}, {"id": 3, "sort_order": 2}]
    outcome = client(api, clock).bulk("PATCH", "/v3/custom_field_options/bulk", rows, polling=Polling(interval=2.0))
    assert outcome == BulkOutcome(uuid=UUID, status="completed", record_count=3, success_count=3,
                                  failure_count=0, failures=())
    (sent,) = api.api_requests("PATCH")
    assert json.loads(sent.content) == {"data": rows}
    assert clock.sleeps == [2.0, 3.0, 4.5]
    assert len(api.api_requests("GET", STATUS_PATH)) == 4


def test_poll_interval_is_capped() -> None:
    clock = FakeClock()
    api = FakeApi()
    api.script("POST", "/v3/users/deactivate/bulk", json_response(202, {"bulk_action_uuid": UUID}))
    api.script("GET", STATUS_PATH, *[record("pending") for _ in range(8)], record("completed"))
    client(api, clock).bulk("POST", "/v3/users/deactivate/bulk", [5, 6], polling=Polling(interval=1.0, max_interval=4.0))
    assert max(clock.sleeps) == 4.0 and len(clock.sleeps) == 8


def test_completed_at_alone_marks_the_end() -> None:
    clock = FakeClock()
    api = FakeApi()
    api.script("DELETE", "/v3/custom_field_options/bulk", json_response(202, {"bulk_action_uuid": UUID}))
    api.script("GET", STATUS_PATH, record("done-ish", completed_at="2027-01-15T08:00:00Z", success_count=2))
    outcome = client(api, clock).bulk("DELETE", "/v3/custom_field_options/bulk", [1, 2])
    assert (outcome.status, outcome.success_count) == ("done-ish", 2)
    assert clock.sleeps == []


def test_failure_rows_are_fetched_without_authorization_from_another_host() -> None:
    clock = FakeClock()
    api = FakeApi()
    results = "https://results.s3.example.test/bulk/failures.json?X-Amz-Signature=abc"
    rows = [{"id": 2, "errors": [{"field": "name", "message": "has already been taken"}]}]
    api.script("POST", "/v3/custom_field_options/bulk", json_response(202, {"bulk_action_uuid": UUID}))
    api.script("GET", STATUS_PATH, record("failed", success_count=2, failure_count=1, failure_results_url=results))
    api.script("GET", "/bulk/failures.json", json_response(200, rows))
    outcome = client(api, clock).bulk("POST", "/v3/custom_field_options/bulk", [{}, {}, {}])
    assert outcome.status == "failed" and outcome.failure_count == 1
    assert outcome.failures == tuple(rows)
    fetched = [r for r in api.requests if r.url.host == "results.s3.example.test"]
    assert len(fetched) == 1 and "Authorization" not in fetched[0].headers
    assert str(fetched[0].url) == results


def test_failure_results_on_the_api_host_are_fetched_with_the_token() -> None:
    clock = FakeClock()
    api = FakeApi()
    results = "http://127.0.0.1/v3/bulk_results/failures"
    api.script("POST", "/v3/users/bulk", json_response(202, {"bulk_action_uuid": UUID}))
    api.script("GET", STATUS_PATH, record("completed", failure_count=1, failure_results_url=results))
    api.script("GET", "/v3/bulk_results/failures", httpx.Response(200, text='{"row": 1, "error": "bad"}\n'))
    outcome = client(api, clock).bulk("POST", "/v3/users/bulk", [{}])
    assert outcome.failures == ({"row": 1, "error": "bad"},)
    assert api.api_requests("GET", "/v3/bulk_results/failures")[0].headers["Authorization"].startswith("Bearer ")


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ('[{"id": 1}, {"id": 2}]', ({"id": 1}, {"id": 2})),
        ('{"id": 1, "error": "x"}\n\n{"id": 2, "error": "y"}\n', ({"id": 1, "error": "x"}, {"id": 2, "error": "y"})),
        ('{"data": [{"id": 1}]}', ({"id": 1},)),
        ("[3, 4]", ({"value": 3}, {"value": 4})),
        ("id,error\n1,bad\n", ({"text": "id,error\n1,bad\n"},)),
        ("", ()),
    ],
)
def test_failure_files_are_parsed_as_json_array_json_lines_or_kept_as_text(
        text: str, rows: tuple[dict[str, object], ...]) -> None:
    clock = FakeClock()
    api = FakeApi()
    api.script("POST", "/v3/users/bulk", json_response(202, {"bulk_action_uuid": UUID}))
    api.script("GET", STATUS_PATH, record("completed", failure_count=2,
                                          failure_results_url="https://s3.example.test/f"))
    api.script("GET", "/f", httpx.Response(200, text=text))
    assert client(api, clock).bulk("POST", "/v3/users/bulk", [{}, {}]).failures == rows


def test_an_unreadable_failure_file_keeps_the_outcome() -> None:
    clock = FakeClock()
    api = FakeApi()
    api.script("POST", "/v3/users/bulk", json_response(202, {"bulk_action_uuid": UUID}))
    api.script("GET", STATUS_PATH, record("completed", failure_count=1, success_count=1,
                                          failure_results_url="https://s3.example.test/f?sig=s"))
    api.script("GET", "/f", httpx.Response(403, text="AccessDenied: Request has expired"))
    outcome = client(api, clock).bulk("POST", "/v3/users/bulk", [{}, {}])
    assert outcome.success_count == 1
    assert outcome.failures == ({"error": "could not read failure results: GET /f -> 403: AccessDenied: "
                                          "Request has expired"},)


def test_a_bulk_never_finishing_stops_as_pending_after_max_wait_without_resending() -> None:
    clock = FakeClock()
    api = FakeApi()
    api.script("PATCH", "/v3/departments/bulk", json_response(202, {"bulk_action_uuid": UUID}))
    api.script("GET", STATUS_PATH, *[record("in_progress") for _ in range(100)])
    with pytest.raises(BulkPendingError, match=f"bulk request {UUID} still pending; run plan again later "
                                               r"\(not finished after 30 s, last status 'in_progress'"):
        client(api, clock).bulk("PATCH", "/v3/departments/bulk", [{"id": 1}], polling=Polling(interval=5, max_wait=30))
    assert sum(clock.sleeps) == 30.0
    assert len(api.api_requests("PATCH")) == 1


def test_any_2xx_carrying_a_uuid_is_accepted_and_followed() -> None:
    clock = FakeClock()
    api = FakeApi()
    api.script("PATCH", "/v3/offices/bulk", json_response(200, {"bulk_action_uuid": UUID}))
    api.script("GET", STATUS_PATH, record("completed", success_count=3))
    outcome = client(api, clock).bulk("PATCH", "/v3/offices/bulk", [{"id": 1}, {"id": 2}, {"id": 3}])
    assert (outcome.uuid, outcome.success_count) == (UUID, 3)


def test_per_row_results_in_a_2xx_without_uuid_are_read_as_a_synchronous_outcome() -> None:
    clock = FakeClock()
    api = FakeApi()
    rows = [{"id": 1, "status": 200}, {"id": 2, "status": 422, "errors": [{"field": "name", "message": "taken"}]}]
    api.script("PATCH", "/v3/users/bulk", json_response(200, {"data": rows}))
    outcome = client(api, clock).bulk("PATCH", "/v3/users/bulk", [{"id": 1}, {"id": 2}])
    assert (outcome.success_count, outcome.failure_count, outcome.failures) == (1, 1, (rows[1],))
    assert api.api_requests("GET") == []


@pytest.mark.parametrize("answer", [json_response(200, {"results": []}), json_response(202, {"status": "ok"}),
                                    httpx.Response(204)])
def test_an_answer_without_a_uuid_or_row_results_is_pending_and_never_resent(answer: httpx.Response) -> None:
    clock = FakeClock()
    api = FakeApi()
    api.script("POST", "/v3/users/bulk", answer)
    with pytest.raises(BulkPendingError, match="the bulk request POST /v3/users/bulk still pending; run plan again "
                                               "later .* without a bulk_action_uuid"):
        client(api, clock).bulk("POST", "/v3/users/bulk", [{}])
    assert api.api_requests("GET") == [] and len(api.api_requests("POST")) == 1


def test_a_rejected_bulk_is_an_api_error() -> None:
    clock = FakeClock()
    api = FakeApi()
    api.script("POST", "/v3/users/bulk", json_response(422, {"message": "too many rows"}))
    with pytest.raises(ApiError, match="POST /v3/users/bulk -> 422: too many rows"):
        client(api, clock).bulk("POST", "/v3/users/bulk", [{}] * 101)


def recent(*records: dict[str, object]) -> httpx.Response:
    return json_response(200, list(records))


def listed(uuid: str, endpoint: str, rows: int, at: str = "2027-01-15T08:00:00Z") -> dict[str, object]:
    return {"id": 9, "bulk_action_uuid": uuid, "api_endpoint": endpoint, "record_count": rows, "status": "pending",
            "requested_at": at}


def test_a_lost_bulk_reply_is_found_among_recent_requests_and_followed_without_resending() -> None:
    clock = FakeClock(start=1_800_000_000.0)  # 2027-01-15T08:00:00Z
    api = FakeApi()
    api.script("POST", "/v3/custom_field_options/bulk", httpx.RemoteProtocolError("dropped"))
    api.script("GET", "/v3/bulk_requests", recent(
        listed("other-endpoint", "PATCH /v3/departments/bulk", 2),
        listed("other-count", "POST /v3/custom_field_options/bulk", 5),
        listed("too-old", "POST /v3/custom_field_options/bulk", 2, at="2027-01-15T07:00:00Z"),
        listed(UUID, "POST /v3/custom_field_options/bulk", 2)))
    api.script("GET", STATUS_PATH, record("completed", success_count=2))
    outcome = client(api, clock).bulk("POST", "/v3/custom_field_options/bulk", [{}, {}])
    assert (outcome.uuid, outcome.success_count) == (UUID, 2)
    assert len(api.api_requests("POST", "/v3/custom_field_options/bulk")) == 1
    (lookup,) = api.api_requests("GET", "/v3/bulk_requests")
    assert lookup.url.params["per_page"] == "100"


@pytest.mark.parametrize(("records", "why"), [
    ((), "no matching bulk request was found"),
    ((listed("a", "POST /v3/users/bulk", 1), listed("b", "POST /v3/users/bulk", 1)), "2 recent bulk requests match"),
])
def test_a_lost_bulk_reply_that_cannot_be_identified_stops_as_pending(records: tuple[dict[str, object], ...],
                                                                      why: str) -> None:
    clock = FakeClock()
    api = FakeApi()
    api.script("POST", "/v3/users/bulk", httpx.RemoteProtocolError("dropped"))
    api.script("GET", "/v3/bulk_requests", recent(*records))
    with pytest.raises(BulkPendingError, match=f"still pending; run plan again later .*{why}"):
        client(api, clock).bulk("POST", "/v3/users/bulk", [{}])
    assert len(api.api_requests("POST")) == 1 and api.api_requests("GET", STATUS_PATH) == []


def test_an_unreadable_bulk_status_stops_as_pending() -> None:
    clock = FakeClock()
    api = FakeApi()
    api.script("DELETE", "/v3/custom_field_options/bulk", json_response(202, {"bulk_action_uuid": UUID}))
    api.script("GET", STATUS_PATH, json_response(403, {"message": "missing scope"}))
    with pytest.raises(BulkPendingError, match=f"bulk request {UUID} still pending.*cannot be read.*403"):
        client(api, clock).bulk("DELETE", "/v3/custom_field_options/bulk", [1, 2])


def test_a_bulk_followed_once_is_never_taken_for_a_later_lost_reply() -> None:
    clock = FakeClock()
    api = FakeApi()
    api.script("POST", "/v3/users/bulk", json_response(202, {"bulk_action_uuid": UUID}),
               httpx.RemoteProtocolError("dropped"))
    api.script("GET", STATUS_PATH, record("completed", success_count=1))
    api.script("GET", "/v3/bulk_requests", recent(listed(UUID, "POST /v3/users/bulk", 1)))
    c = client(api, clock)
    c.bulk("POST", "/v3/users/bulk", [{}])
    with pytest.raises(BulkPendingError, match="no matching bulk request was found"):
        c.bulk("POST", "/v3/users/bulk", [{}])


@pytest.mark.parametrize(("method", "data"), [("GET", [1]), ("PUT", [1]), ("POST", "abc"), ("POST", {"a": 1})])
def test_bulk_arguments_are_checked(method: str, data: object) -> None:
    with pytest.raises(UsageError):
        client(FakeApi(), FakeClock()).bulk(method, "/v3/users/bulk", data)  # type: ignore[arg-type]


# -- telling a lost reply's own request from an earlier one by the server's clock (`Date`) --------------

SENT = 1_800_000_000.0  # the fake clock's start: 2027-01-15T08:00:00Z
EARLIER = "0a0a0a0a-0000-4000-8000-00000000000e"  # a previous apply's request: same endpoint and row count


def http_date(epoch: float) -> str:
    """An IMF-fixdate (RFC 9110 section 5.6.7), truncated to the second as servers send it."""
    return email.utils.formatdate(int(epoch), usegmt=True)


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(epoch * 1000) % 1000:03d}Z"


def lookup(*records: dict[str, object], date: str | None) -> httpx.Response:
    return json_response(200, list(records), headers={"Date": date} if date is not None else None)


def lost_post_then(api: FakeApi, answer: httpx.Response) -> None:
    """A bulk POST of two rows whose reply is lost, the lookup answering `answer`, the status completed."""
    api.script("POST", "/v3/users/bulk", httpx.RemoteProtocolError("dropped"))
    api.script("GET", "/v3/bulk_requests", answer)
    api.script("GET", STATUS_PATH, record("completed", record_count=2, success_count=2))


@pytest.mark.parametrize("skew", [0.0, 120.0, -120.0, 0.4])
def test_with_the_server_clock_known_a_request_made_before_the_send_is_not_taken_for_it(skew: float) -> None:
    clock = FakeClock(start=SENT)
    api = FakeApi()
    server = SENT + skew  # the server's clock when the write reached it
    lost_post_then(api, lookup(listed(UUID, "POST /v3/users/bulk", 2, at=iso(server + 0.02)),
                               listed(EARLIER, "POST /v3/users/bulk", 2, at=iso(server - 10)),
                               date=http_date(server + 0.3)))
    c = client(api, clock)
    outcome = c.bulk("POST", "/v3/users/bulk", [{}, {}])
    assert (outcome.uuid, outcome.success_count) == (UUID, 2)
    assert len(api.api_requests("POST")) == 1
    assert c.server_offset is not None and skew - 1 < c.server_offset <= skew


def test_without_a_date_header_the_same_two_requests_stay_ambiguous() -> None:
    clock = FakeClock(start=SENT)
    api = FakeApi()
    lost_post_then(api, lookup(listed(UUID, "POST /v3/users/bulk", 2, at=iso(SENT + 0.02)),
                               listed(EARLIER, "POST /v3/users/bulk", 2, at=iso(SENT - 10)), date=None))
    c = client(api, clock)
    with pytest.raises(BulkPendingError, match=f"2 recent bulk requests match it \\({EARLIER}, {UUID}\\)"):
        c.bulk("POST", "/v3/users/bulk", [{}, {}])
    assert c.server_offset is None
    assert len(api.api_requests("POST")) == 1 and api.api_requests("GET", STATUS_PATH) == []


def test_a_skewed_server_without_a_date_header_is_still_found_within_the_300_second_window() -> None:
    clock = FakeClock(start=SENT)
    api = FakeApi()
    lost_post_then(api, lookup(listed(UUID, "POST /v3/users/bulk", 2, at=iso(SENT + 120)), date=None))
    assert client(api, clock).bulk("POST", "/v3/users/bulk", [{}, {}]).uuid == UUID


def test_two_requests_made_after_the_send_are_still_ambiguous_with_the_clock_known() -> None:
    clock = FakeClock(start=SENT)
    api = FakeApi()
    lost_post_then(api, lookup(listed(UUID, "POST /v3/users/bulk", 2, at=iso(SENT + 0.5)),
                               listed(EARLIER, "POST /v3/users/bulk", 2, at=iso(SENT + 0.1)),
                               date=http_date(SENT + 1)))
    with pytest.raises(BulkPendingError, match="2 recent bulk requests match it"):
        client(api, clock).bulk("POST", "/v3/users/bulk", [{}, {}])


def test_only_an_earlier_request_matching_stops_as_pending_and_is_neither_followed_nor_sent_again() -> None:
    clock = FakeClock(start=SENT)
    api = FakeApi()
    lost_post_then(api, lookup(listed(EARLIER, "POST /v3/users/bulk", 2, at=iso(SENT - 10)), date=http_date(SENT)))
    with pytest.raises(BulkPendingError, match=f"no matching bulk request was requested after it was sent .*"
                                               f"1 earlier one\\(s\\) within 300 s match it \\({EARLIER}\\)") as caught:
        client(api, clock).bulk("POST", "/v3/users/bulk", [{}, {}])
    assert not isinstance(caught.value, BulkNotAcceptedError)  # a wrong clock must never cause a re-send
    assert len(api.api_requests("POST")) == 1 and api.api_requests("GET", STATUS_PATH) == []


def test_with_the_clock_known_and_nothing_in_the_window_the_rows_were_not_accepted() -> None:
    clock = FakeClock(start=SENT)
    api = FakeApi()
    lost_post_then(api, lookup(listed(EARLIER, "POST /v3/users/bulk", 2, at=iso(SENT - 400)), date=http_date(SENT)))
    with pytest.raises(BulkNotAcceptedError, match="no matching bulk request was found"):
        client(api, clock).bulk("POST", "/v3/users/bulk", [{}, {}])


def test_the_offset_of_an_earlier_answer_is_kept_when_the_latest_has_no_usable_date() -> None:
    clock = FakeClock(start=SENT)
    api = FakeApi()
    api.script("GET", "/v3/users", json_response(200, [], headers={"Date": http_date(SENT + 120)}))
    lost_post_then(api, lookup(listed(UUID, "POST /v3/users/bulk", 2, at=iso(SENT + 120)),
                               listed(EARLIER, "POST /v3/users/bulk", 2, at=iso(SENT + 110)), date="yesterday"))
    c = client(api, clock)
    c.get("/v3/users")
    assert c.server_offset == 120.0
    assert c.bulk("POST", "/v3/users/bulk", [{}, {}]).uuid == UUID
    assert c.server_offset == 120.0


def test_a_date_from_another_host_is_not_the_api_server_clock() -> None:
    clock = FakeClock(start=SENT)
    api = FakeApi()
    api.script("GET", "/f", httpx.Response(200, text="", headers={"Date": http_date(SENT + 3600)}))
    c = client(api, clock)
    c.get("https://s3.example.test/f")
    assert c.server_offset is None


@pytest.mark.parametrize(("dates", "offset"), [
    (["Fri, 15 Jan 2027 08:02:00 GMT"], 120.0),  # IMF-fixdate
    (["Friday, 15-Jan-27 08:02:00 GMT"], 120.0),  # RFC 850
    (["Fri Jan 15 08:02:00 2027"], 120.0),  # asctime: no zone, GMT by definition
    ([" Fri, 15 Jan 2027 07:58:00 GMT "], -120.0),
    ([], None),  # missing
    (["yesterday"], None),
    ([""], None),
    (["Fri, 31 Feb 2027 08:00:00 GMT"], None),  # no such day
    (["Fri, 15 Jan 2027 08:02:00 GMT", "Fri, 15 Jan 2027 08:03:00 GMT"], None),  # two: which one?
])
def test_the_date_header_is_read_in_every_http_date_form_and_anything_else_is_ignored(
        dates: list[str], offset: float | None) -> None:
    assert clock_offset(dates, SENT) == offset
