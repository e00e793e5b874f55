"""Bad API answers through the real CLI: exit 1, a message naming method, path, row and field, no write.

The real sandbox server runs in a subprocess (tests/e2e/conftest.py); a scripted server in front of it
(tests/fuzz_api/server.py) passes every request on and corrupts one list answer; the CLI runs in a
subprocess against that server. The sandbox's own request log proves that nothing was written.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Server, cli
from tests.fuzz_api.corrupt import DELETE, body_set, elsewhere, field_set
from tests.fuzz_api.server import AnswerServer, Corruption, http_upstream, serving
from tests.harness import Rig

pytestmark = pytest.mark.e2e

DEPARTMENTS = "/v3/departments"


@pytest.fixture
def front(server: Server) -> Iterator[AnswerServer]:
    with serving(http_upstream(server.url)) as answers:
        yield answers


def run(front: AnswerServer, server: Server, corruption: Corruption, command: str) -> tuple[int, str]:
    front.reset(corruption)
    server.clear()
    args = ("plan", "examples/") if command == "plan" else ("apply", "examples/", "--yes")
    done = cli(*args, env=server.env(GREENHOUSE_API_URL=front.url, GREENHOUSE_TOKEN_URL=f"{front.url}/token"))
    assert "Traceback" not in done.stderr
    assert server.writes() == [] and front.writes() == []
    return done.code, done.stderr


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_department_row_without_id_stops_plan_and_apply(front: AnswerServer, server: Server, command: str) -> None:
    code, stderr = run(front, server, field_set(DEPARTMENTS, 2, "id", DELETE), command)
    assert code == 1
    assert 'Error: GET /v3/departments: row 2: field "id" is missing' in stderr


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_wrong_typed_parent_id_stops_plan_and_apply(front: AnswerServer, server: Server, command: str) -> None:
    code, stderr = run(front, server, field_set(DEPARTMENTS, 3, "parent_id", "x"), command)
    assert code == 1
    with Rig().reader() as reader:  # the same emulator, in-process: which department the list answers fourth
        fourth = reader.list_all(DEPARTMENTS)[3]["id"]
    assert f'Error: GET /v3/departments: row 3 (id {fourth}): field "parent_id" must be an integer or null, got "x"' in stderr


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_list_answer_that_is_not_an_array_stops_plan_and_apply(front: AnswerServer, server: Server, command: str) -> None:
    code, stderr = run(front, server, body_set(DEPARTMENTS, b'{"departments": []}'), command)
    assert code == 1
    assert "Error: GET /v3/departments -> 200: expected a JSON array from a list endpoint, got dict" in stderr


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_next_link_to_another_host_is_refused_and_nothing_is_sent_there(front: AnswerServer, server: Server,
                                                                         command: str) -> None:
    # The other host is a server of its own on another loopback address, passing requests on to the sandbox:
    # had the client followed the link, that server would have seen the request.
    with serving(http_upstream(server.url), host="127.0.0.2") as other:
        code, stderr = run(front, server, elsewhere(DEPARTMENTS, other.url), command)
        assert other.requests == []
    assert code == 1
    assert ('Error: GET /v3/departments -> 200: refusing the next page: its Link rel="next" points to another host '
            "(or scheme or port) than the API's") in stderr
    assert "127.0.0.2" not in stderr


def test_an_unknown_field_type_is_tolerated_and_named_with_v(front: AnswerServer, server: Server) -> None:
    front.reset(field_set("/v3/custom_fields", 0, "field_type", "hologram"))
    env = server.env(GREENHOUSE_API_URL=front.url, GREENHOUSE_TOKEN_URL=f"{front.url}/token")
    quiet = cli("plan", "examples/", env=env)
    assert quiet.code == 0 and "hologram" not in quiet.stderr
    front.reset(field_set("/v3/custom_fields", 0, "field_type", "hologram"))
    verbose = cli("-v", "plan", "examples/", env=env)
    assert verbose.code == 0
    assert ('GET /v3/custom_fields: field "field_type" has values this program does not know: "hologram" (1 row(s)); '
            "tolerated (the planner does not act on them)") in verbose.stderr
    assert "GET /v3/departments: field(s) not checked, tolerated: created_at, updated_at" in verbose.stderr


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_an_unknown_value_type_stops_the_run(front: AnswerServer, server: Server, command: str) -> None:
    code, stderr = run(front, server, field_set("/v3/custom_fields", 0, "value_type", "hologram"), command)
    assert code == 1
    assert 'field "value_type" has the unknown value "hologram", which the planner would act on (known: ' in stderr


def test_export_after_a_bad_row_writes_no_file(front: AnswerServer, server: Server, tmp_path: Path) -> None:
    front.reset(field_set("/v3/offices", 1, "primary_in_house_contact_user_id", [1]))
    out = tmp_path / "org"
    done = cli("export", "--out", str(out),
               env=server.env(GREENHOUSE_API_URL=front.url, GREENHOUSE_TOKEN_URL=f"{front.url}/token"))
    assert done.code == 1 and "Traceback" not in done.stderr
    assert ('Error: GET /v3/offices: row 1 (id ' in done.stderr
            and 'field "primary_in_house_contact_user_id" must be an integer or null, got [1]' in done.stderr)
    assert not out.exists() or list(out.iterdir()) == []
