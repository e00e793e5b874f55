"""Fuzzing the API answers `plan` and `apply` are made from: a message or a tolerated answer, never a traceback,
never a write after a bad answer.

The organisation is the demo seed in an in-process sandbox, behind `AnswerServer` (a real HTTP server on
loopback); the manifests are that organisation's own export plus one new candidate tag, so every list is
read and a successful `apply` writes exactly one POST. One corruption of one list answer at a time:
malformed JSON, a body that is not an array, rows that are not objects, a missing or wrong-typed field
(any field the valid answer has, any JSON value), an extra field, a next link that loops or points to
another host. The outcome must be exit 0 (the answer is tolerable) or exit 1 with an `Error:` message,
with no write sent in the second case, no traceback, no secret in the output.

Deterministic: hypothesis derandomized, no example database; the explicit cases below it cover every
list read by every corruption class. The CLI runs in-process (tests/fuzz_api/cli_run.py) for speed,
plus a few real subprocess runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.sandbox import Sandbox
from tests.fuzz_api.cli_run import ROOT, SECRET, Outcome, environment, run_cli
from tests.fuzz_api.corrupt import DELETE, body_set, elsewhere, field_set, loop, rows_changed
from tests.fuzz_api.server import Answer, AnswerServer, Corruption, sandbox_upstream, serving

pytestmark = pytest.mark.e2e  # a real HTTP server on loopback

SEED = json.loads((ROOT / "examples" / "sandbox-seed.json").read_text(encoding="utf-8"))
NEW_TAG = "Fuzzed answers"


@dataclass
class Rig:
    server: AnswerServer
    manifests: Path
    #: The list paths a plan of `manifests` reads, in the order first read.
    paths: list[str]
    #: Every field the valid answers' rows have, by path.
    keys: dict[str, list[str]]

    def run(self, command: str, corruption: Corruption | None) -> Outcome:
        """`plan` or `apply` with one corruption; a sandbox that a previous run wrote to is replaced first."""
        if self.server.writes():
            self.server.reset(upstream=sandbox_upstream(Sandbox(SEED)))
        self.server.reset(corruption)
        args = ["plan", str(self.manifests)] if command == "plan" else \
            ["apply", str(self.manifests), "--yes", "--no-lock"]
        return run_cli(args, self.server.url)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    manifests = tmp_path_factory.mktemp("org")
    with serving(sandbox_upstream(Sandbox(SEED))) as server:
        exported = run_cli(["export", "--out", str(manifests)], server.url)
        assert exported.code == 0, exported.stderr
        tags = manifests / "candidate-tags.yaml"
        tags.write_text(tags.read_text(encoding="utf-8") + f"- {NEW_TAG}\n", encoding="utf-8")
        keys: dict[str, set[str]] = {}

        def remember(method: str, target: str, answer: Answer, base: str) -> Answer:
            rows = json.loads(answer[2])
            if isinstance(rows, list):
                keys.setdefault(target.split("?")[0], set()).update(k for r in rows for k in r)
            return answer

        server.reset(remember)
        planned = run_cli(["plan", str(manifests)], server.url)
        assert planned.code == 0 and planned.crash is None, planned.stderr
        paths = list(dict.fromkeys(p for m, p in server.requests if m == "GET" and p.startswith("/v3/")))
        yield Rig(server, manifests, paths, {p: sorted(k) for p, k in keys.items()})


def judge(rig: Rig, outcome: Outcome) -> None:
    """The contract for any answer: a message (exit 1, nothing written) or success; no traceback, no secret."""
    assert outcome.crash is None, outcome.crash
    text = outcome.stdout + outcome.stderr
    assert "Traceback" not in text
    assert SECRET not in text
    assert outcome.code in (0, 1), text
    if outcome.code == 1:
        assert "Error: " in outcome.stderr
        assert rig.server.writes() == [], outcome.stderr


def test_the_rig_reads_every_list_and_a_clean_apply_writes_one_tag(rig: Rig) -> None:
    """What the fuzzing below stands on: all collections read, and apply writes when the answers are good."""
    assert len(rig.paths) >= 10
    outcome = rig.run("apply", None)
    judge(rig, outcome)
    assert outcome.code == 0
    assert rig.server.writes() == [("POST", "/v3/candidate_tags")]


# -- explicit cases: every list, each class of bad answer -> exit 1, the path named, nothing written --------

BAD_BODIES: dict[str, bytes] = {
    "not JSON": b"<html>gateway</html>",
    "truncated JSON": b'[{"id": 1, "na',
    "an object": b'{"data": []}',
    "null": b"null",
    "a number": b"42",
    "rows that are not objects": b"[1, 2]",
    "not UTF-8": b"\xff\xfe[]",
}


def test_every_list_refuses_a_row_without_id_naming_the_path_and_row(rig: Rig) -> None:
    for path in rig.paths:
        outcome = rig.run("plan", field_set(path, 0, "id", DELETE))
        judge(rig, outcome)
        if outcome.code == 0:  # an empty list has no row to corrupt
            continue
        assert f'Error: GET {path}: row 0: field "id" is missing' in outcome.stderr


#: Read by every list (the others on the first three lists: the body is refused before any row is looked at).
EVERY_LIST = frozenset({"not JSON", "an object"})


@pytest.mark.parametrize("kind", sorted(BAD_BODIES))
def test_a_bad_body_on_any_list_is_an_error_naming_the_path(rig: Rig, kind: str) -> None:
    for path in rig.paths if kind in EVERY_LIST else rig.paths[:3]:
        outcome = rig.run("plan", body_set(path, BAD_BODIES[kind]))
        judge(rig, outcome)
        assert outcome.code == 1
        assert f"Error: GET {path} -> 200: " in outcome.stderr


@pytest.mark.parametrize("which", ["loop", "elsewhere"])
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_next_link_that_loops_or_leaves_the_api_host_stops_the_run(rig: Rig, which: str, command: str) -> None:
    for path in rig.paths[:2]:
        corruption = loop(path) if which == "loop" else elsewhere(path)
        outcome = rig.run(command, corruption)
        judge(rig, outcome)
        assert outcome.code == 1
        expected = "pagination loop" if which == "loop" else 'refusing the next page: its Link rel="next"'
        # Following the foreign link would have met a closed port on 127.0.0.2: a transport error, not this.
        assert f"Error: GET {path} -> 200: " in outcome.stderr and expected in outcome.stderr


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_extra_fields_everywhere_are_tolerated(rig: Rig, command: str) -> None:
    def extra(rows: list[Any]) -> list[Any]:
        return [{**r, "added_by_a_newer_api": {"x": [1]}} for r in rows]

    outcome = rig.run(command, _all(rig, extra))
    judge(rig, outcome)
    assert outcome.code == 0
    if command == "apply":
        assert rig.server.writes() == [("POST", "/v3/candidate_tags")]


def _all(rig: Rig, change: Any) -> Corruption:
    changes = [rows_changed(p, change) for p in rig.paths]

    def corrupt(method: str, target: str, answer: Answer, base: str) -> Answer:
        for c in changes:
            answer = c(method, target, answer, base)
        return answer
    return corrupt


# -- hypothesis: any field of any row of any list, any JSON value ------------------------------------------

JSON_VALUES = st.one_of(
    st.just(DELETE), st.none(), st.booleans(), st.integers(min_value=-2, max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
    st.lists(st.one_of(st.integers(), st.text(max_size=3), st.none()), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@st.composite
def field_corruptions(draw: st.DrawFn, rig: Rig) -> tuple[str, int, str, Any]:
    path = draw(st.sampled_from(rig.paths))
    keys = rig.keys.get(path) or ["id"]
    key = draw(st.one_of(st.sampled_from(keys), st.just("id")))
    return path, draw(st.integers(min_value=0, max_value=30)), key, draw(JSON_VALUES)


def test_any_corrupted_field_gives_a_message_or_a_tolerated_answer_never_a_traceback(rig: Rig) -> None:
    @settings(max_examples=40, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(corruption=field_corruptions(rig), command=st.sampled_from(["plan", "plan", "apply"]))
    def check(corruption: tuple[str, int, str, Any], command: str) -> None:
        path, index, key, value = corruption
        outcome = rig.run(command, field_set(path, index, key, value))
        judge(rig, outcome)
        if key == "id" and value is not DELETE and type(value) is not int and rig.keys.get(path):
            assert outcome.code == 1 and f"Error: GET {path}: row " in outcome.stderr

    check()


# -- a few real subprocess runs ----------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "corruption_of"), [
    ("malformed JSON", lambda path: body_set(path, b"[{")),
    ("a looping next link", loop),
])
def test_the_real_cli_in_a_subprocess_reports_a_bad_answer_without_a_traceback(rig: Rig, name: str,
                                                                              corruption_of: Any) -> None:
    path = rig.paths[0]
    if rig.server.writes():
        rig.server.reset(upstream=sandbox_upstream(Sandbox(SEED)))
    rig.server.reset(corruption_of(path))
    proc = subprocess.run([sys.executable, "-m", "reconciler", "apply", str(rig.manifests), "--yes", "--no-lock"],
                          cwd=ROOT, env=environment(rig.server.url), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert f"Error: GET {path} -> 200: " in proc.stderr
    assert "Traceback" not in proc.stderr and SECRET not in proc.stderr + proc.stdout
    assert rig.server.writes() == []


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("id", "1001", 'row 0: field "id" must be an integer, got "1001"'),
    ("site_admin", "yes", 'row 0 (id 1001): field "site_admin" must be a boolean or null, got "yes"'),
])
def test_the_identity_guards_own_request_is_checked_too(rig: Rig, key: str, value: Any, expected: str) -> None:
    """Planning only the tags, the guard asks for the acting user alone (`GET /v3/users?ids=1001`)."""
    rig.server.reset(field_set("/v3/users", 0, key, value))
    outcome = run_cli(["plan", str(rig.manifests / "candidate-tags.yaml")], rig.server.url)
    judge(rig, outcome)
    # (a request may be sent twice: in-process, a token minted for an earlier sandbox is refused once)
    assert {p for m, p in rig.server.requests if m == "GET"} == {"/v3/candidate_tags", "/v3/users"}
    assert outcome.code == 1 and f"Error: GET /v3/users: {expected}" in outcome.stderr


def test_applying_a_saved_plan_checks_the_replayed_reads_and_writes_nothing(rig: Rig, tmp_path: Path) -> None:
    """The staleness check replays the plan's recorded reads (here the users lists) through the same check."""
    saved = tmp_path / "plan.json"
    rig.server.reset()
    made = run_cli(["plan", str(rig.manifests), "--out", str(saved)], rig.server.url)
    assert made.code == 0, made.stderr
    assert "/v3/users" in {path for reads in json.loads(saved.read_text())["reads"].values() for path, _ in reads}
    rig.server.reset(field_set("/v3/users", 0, "office_ids", ["Berlin"]))
    outcome = run_cli(["apply", "--plan", str(saved), "--yes", "--no-lock"], rig.server.url)
    judge(rig, outcome)
    assert outcome.code == 1
    assert 'Error: GET /v3/users: row 0 (id ' in outcome.stderr
    assert 'field "office_ids" must be a list of integers or null, got ["Berlin"]' in outcome.stderr


def test_the_identity_probes_of_a_saved_plan_are_checked_too(rig: Rig, tmp_path: Path) -> None:
    """A saved plan that creates a tag re-reads the tags before applying (is the tag there by now?)."""
    saved = tmp_path / "plan.json"
    rig.server.reset()
    assert run_cli(["plan", str(rig.manifests), "--out", str(saved)], rig.server.url).code == 0
    assert [p["path"] for p in json.loads(saved.read_text())["identity_probes"]] == ["/v3/candidate_tags"]
    rig.server.reset(field_set("/v3/candidate_tags", 0, "name", 7))
    outcome = run_cli(["apply", "--plan", str(saved), "--yes", "--no-lock"], rig.server.url)
    judge(rig, outcome)
    assert outcome.code == 1
    assert 'Error: GET /v3/candidate_tags: row 0 (id ' in outcome.stderr and 'field "name" must be a string, got 7' in outcome.stderr
