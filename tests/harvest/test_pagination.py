"""Lists: params and per_page on the first request only, then the Link rel="next" URL exactly."""

from __future__ import annotations

import httpx
import pytest

from reconciler.errors import ApiError, UsageError
from reconciler.harvest import HarvestReader
from tests.harvest.fake_api import FakeApi, json_response, settings


def page(rows: list[dict[str, object]], next_url: str | None = None) -> httpx.Response:
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
    return json_response(200, rows, headers)


def test_all_pages_are_read_in_order_following_the_next_link_exactly() -> None:
    api = FakeApi()
    api.script("GET", "/v3/departments",
               page([{"id": 3}, {"id": 2}], "http://127.0.0.1/v3/departments?cursor=b64%3D%3Dpage2"),
               page([{"id": 1}], "/v3/departments?cursor=page3"),  # a relative link resolves against the request
               page([]))
    r = HarvestReader(settings(), transport=api.transport(), per_page=2)
    assert [row["id"] for row in r.list("/v3/departments", {"parent_id": 9})] == [3, 2, 1]
    first, second, third = api.api_requests()
    assert dict(first.url.params) == {"parent_id": "9", "per_page": "2"}
    assert str(second.url) == "http://127.0.0.1/v3/departments?cursor=b64%3D%3Dpage2"
    assert str(third.url) == "http://127.0.0.1/v3/departments?cursor=page3"
    assert r.request_count == 3


def test_follow_up_requests_carry_only_the_cursor() -> None:
    api = FakeApi()
    api.script("GET", "/v3/users",
               page([{"id": 2}], "http://127.0.0.1/v3/users?cursor=abc"),
               page([{"id": 1}]))
    rows = HarvestReader(settings(), transport=api.transport()).list_all(
        "/v3/users", {"ids": [5, 6], "show_service_accounts": True, "fields": ("id", "email")})
    assert rows == [{"id": 2}, {"id": 1}]
    first, second = api.api_requests()
    assert dict(first.url.params) == {"ids": "5,6", "show_service_accounts": "true", "fields": "id,email",
                                      "per_page": "500"}
    assert list(second.url.params.keys()) == ["cursor"]


def test_a_page_without_link_ends_the_listing() -> None:
    api = FakeApi()
    api.script("GET", "/v3/offices", page([{"id": 1}]))
    r = HarvestReader(settings(), transport=api.transport())
    assert r.list_all("/v3/offices") == [{"id": 1}]
    assert r.request_count == 1


def test_params_are_encoded_as_harvest_expects() -> None:
    api = FakeApi()
    HarvestReader(settings(), transport=api.transport()).list_all(
        "/v3/custom_fields", {"active": False, "field_type": "job", "ids": {3, 1, 2}, "skip": None, "per_page": 50})
    (request,) = api.api_requests()
    assert dict(request.url.params) == {"active": "false", "field_type": "job", "ids": "1,2,3", "per_page": "50"}


def test_a_cursor_given_by_the_caller_goes_alone() -> None:
    api = FakeApi()
    r = HarvestReader(settings(), transport=api.transport())
    r.list_all("/v3/jobs", {"cursor": "xyz"})
    (request,) = api.api_requests()
    assert dict(request.url.params) == {"cursor": "xyz"}
    with pytest.raises(UsageError, match="cursor"):
        r.list("/v3/jobs", {"cursor": "xyz", "status": "open"})
    assert r.request_count == 1


@pytest.mark.parametrize("per_page", [0, 501])
def test_per_page_outside_harvest_bounds_is_refused(per_page: int) -> None:
    with pytest.raises(UsageError, match="per_page"):
        HarvestReader(settings(), transport=FakeApi().transport(), per_page=per_page)


def test_a_repeating_next_link_is_an_error_not_an_endless_loop() -> None:
    api = FakeApi()
    loop = "http://127.0.0.1/v3/departments?cursor=same"
    api.script("GET", "/v3/departments", page([{"id": 2}], loop), page([{"id": 1}], loop), page([{"id": 0}], loop))
    with pytest.raises(ApiError, match="pagination loop"):
        HarvestReader(settings(), transport=api.transport()).list_all("/v3/departments")


@pytest.mark.parametrize("body", [{"data": []}, ["not an object"], "plain text"])
def test_a_list_endpoint_must_answer_an_array_of_objects(body: object) -> None:
    api = FakeApi()
    api.script("GET", "/v3/departments", json_response(200, body) if not isinstance(body, str)
               else httpx.Response(200, text=body))
    with pytest.raises(ApiError, match="GET /v3/departments -> 200"):
        HarvestReader(settings(), transport=api.transport()).list_all("/v3/departments")


def test_paths_must_be_api_paths() -> None:
    r = HarvestReader(settings(), transport=FakeApi().transport())
    with pytest.raises(UsageError):
        r.list("v3/departments")
    with pytest.raises(UsageError):
        r.list("https://elsewhere.test/v3/departments")
    with pytest.raises(UsageError, match="http"):
        r.get("http://elsewhere.test/results.json")
