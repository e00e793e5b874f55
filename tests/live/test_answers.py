"""Reading API answers (reconciler/harvest/responses.py): 422 texts said once, next links kept on the API's host."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from reconciler.errors import ApiError
from reconciler.harvest import HarvestReader
from reconciler.harvest.responses import error_detail, next_link
from tests.harness import Rig
from tests.harvest.fake_api import FakeApi, json_response, settings


def answer(status: int, body: Any, link: str | None = None, url: str = "https://harvest.example/v3/departments") -> httpx.Response:
    headers = {"Content-Type": "application/json", **({"Link": link} if link else {})}
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers,
                          request=httpx.Request("GET", url))


def test_a_422_whose_message_already_says_the_field_error_is_not_repeated() -> None:
    response = answer(422, {"message": "Validation failed: name has already been taken",
                            "errors": [{"field": "name", "message": "has already been taken"}]})
    assert error_detail(response) == ("Validation failed: name has already been taken", [])
    error = ApiError("POST", "/v3/departments", 422, *error_detail(response))
    assert str(error) == "POST /v3/departments -> 422: Validation failed: name has already been taken"


def test_field_errors_the_message_does_not_say_are_kept_once_each_in_order() -> None:
    response = answer(422, {"message": "Validation failed: name has already been taken",
                            "errors": [{"field": "data", "message": "name has already been taken"},
                                       {"field": "parent_id", "message": "does not exist"},
                                       {"field": "parent_id", "message": "does not exist"},
                                       {"field": "email", "message": "is invalid"}]})
    assert error_detail(response) == ("Validation failed: name has already been taken",
                                      [("parent_id", "does not exist"), ("email", "is invalid")])


def test_field_errors_under_a_generic_message_are_all_kept() -> None:
    response = answer(422, {"message": "Validation failed", "errors": [{"field": "name", "message": "is too long"}]})
    assert error_detail(response) == ("Validation failed", [("name", "is too long")])


@pytest.mark.parametrize("link", [
    '<https://harvest.example/v3/departments?cursor=b>; rel="next"',
    '</v3/departments?cursor=b>; rel="next"',
])
def test_a_next_link_on_the_api_host_is_followed(link: str) -> None:
    assert str(next_link(answer(200, [], link))) == "https://harvest.example/v3/departments?cursor=b"


@pytest.mark.parametrize("link", [
    '<https://evil.example/v3/departments?cursor=b>; rel="next"',
    '<//evil.example/v3/departments?cursor=b>; rel="next"',
    '<http://harvest.example/v3/departments?cursor=b>; rel="next"',
    '<https://harvest.example:8443/v3/departments?cursor=b>; rel="next"',
    '<https://harvest.example.evil.example/v3/departments>; rel="next"',
])
def test_a_next_link_to_another_host_scheme_or_port_is_refused_without_naming_it(link: str) -> None:
    with pytest.raises(ApiError) as caught:
        next_link(answer(200, [], link))
    text = str(caught.value)
    assert text.startswith('GET /v3/departments -> 200: refusing the next page: its Link rel="next" points to another host')
    assert "evil" not in text and "cursor" not in text


def test_the_reader_refuses_a_foreign_next_page_and_sends_nothing_there() -> None:
    api = FakeApi()
    api.script("GET", "/v3/departments",
               json_response(200, [{"id": 1, "name": "A"}], {"Link": '<https://evil.example/v3/departments?cursor=x>; rel="next"'}))
    with HarvestReader(settings(), transport=api.transport()) as reader, pytest.raises(ApiError, match="another host"):
        reader.list_all("/v3/departments")
    assert [r.url.host for r in api.requests] == ["127.0.0.1", "127.0.0.1"]  # the token, then page one


def test_the_sandboxs_422_for_a_duplicate_tag_reads_once() -> None:
    rig = Rig()
    taken = rig.reader().list_all("/v3/candidate_tags")[0]["name"]
    with rig.client() as client, pytest.raises(ApiError) as caught:
        client.post("/v3/candidate_tags", {"name": taken})
    text = str(caught.value)
    assert text.startswith("POST /v3/candidate_tags -> 422: Validation failed: ")
    assert text.count(taken) == 1 and ";" not in text
