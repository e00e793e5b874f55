"""libyaml's composer (the fast path) and PyYAML's pure-Python one (the reference) read every text the same.

Each text below is one where the two differ (found by a differential fuzz) and the fast path must hand
over to the reference: with the hand-over broken, its test fails. The property test at the end mutates
manifests at random and compares the two readers on each mutant.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import ManifestError
from reconciler.manifest import yamlload
from reconciler.manifest.yamlload import FAST_MAX_DEPTH, Loc, read_yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: These tests compare the two composers themselves (see conftest.py).
ONE_COMPOSER = True


def _typed(value: Any) -> Any:
    """The value with every scalar's type spelled out (1, 1.0 and True compare equal in Python)."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value if value == value else "nan")


def _read(text: str) -> tuple[Any, ...]:
    try:
        doc = read_yaml("m.yaml", text)
    except ManifestError as e:
        return ("problems", [str(p) for p in e.problems])
    return ("document", _typed(doc.data), dict(doc.locs))


def _reference(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    with monkeypatch.context() as m:
        m.setattr(yamlload, "_CLoader", None)
        return _read(text)


def _fast_path_taken(text: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether `read_yaml` answers without PyYAML's pure-Python composer."""
    used: list[str] = []
    real = yamlload._compose

    def spy(file: str, body: str) -> Any:
        used.append(file)
        return real(file, body)

    with monkeypatch.context() as m:
        m.setattr(yamlload, "_compose", spy)
        _read(text)
    return not used


DIFFERENCES = {
    "question mark in a flow scalar": "candidate_tags: [a?b, c]\n",
    "question mark as a flow key": "candidate_tags: {? }\n",
    "question mark as a block key": "policy:\n  ? prune\n  : {users: off}\n",
    "question mark in a flow key": "policy: {pru?ne: x}\n",
    "empty flow key": "policy: {a: b, : c}\n",
    "tab after a colon": "offices:\n  - name:\tLondon\n",
    "byte-order mark inside the text": "candidate_tags:\n\ufeff  - A\n",
    "empty value with a bare tag": "policy: !\n",
    "block scalar header running into a comment": "offices:\n  - name: >#\n      London\n",
    "only a document marker": "---",
    "empty list item": "candidate_tags:\n  -\n  - Referral\n",
    "tag spelling only libyaml accepts": "candidate_tags:\n  - !tag:yaml_or!!int x\n",
    "explicit core tag": 'version: !!int "1"\n',
    "explicit tag on an empty scalar": 'candidate_tags: [!!int ""]\n',
    "flow nesting beyond the cap": "candidate_tags: " + "[" * 120 + "]" * 120 + "\n",
    "anchored flow nesting far beyond the cap": "candidate_tags: &x " + "[" * 600 + "]" * 600 + "\n",
    "block nesting beyond the fast depth": "".join(f"{' ' * i}k{i}:\n" for i in range(FAST_MAX_DEPTH + 5)),
    "second document": "candidate_tags: [A]\n---\ncandidate_tags: [B]\n",
    "syntax error": "departments:\n  - name: [Engineering\n",
    "duplicate key with an odd value after it": "a: 1\na: [x?y]\n",
    "non-scalar key": "? [a]\n: b\n",
    "recursive alias": "a: &x [*x]\n",
    "alias": "a: &x [Referral]\nb: *x\n",
}


@pytest.mark.parametrize("text", DIFFERENCES.values(), ids=DIFFERENCES.keys())
def test_texts_the_two_composers_read_differently_are_read_as_the_reference_reads_them(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _read(text) == _reference(text, monkeypatch)


def test_a_few_answers_of_the_reference_spelled_out() -> None:
    """What the hand-over preserves, for the cases where libyaml would have answered without complaint."""
    assert _read("candidate_tags: [a?b, c]\n") == (
        "problems",
        [
            "m.yaml:1:19: YAML syntax error: expected ',' or ']', but got '?' "
            "(while parsing a flow sequence at line 1, column 17)"
        ],
    )
    assert _read("offices:\n  - name:\tLondon\n") == (
        "problems",
        ["m.yaml:2:10: YAML syntax error: a tab character here; use spaces (YAML forbids tabs in indentation)"],
    )
    assert _read("policy: !\n")[1] == {"policy": ("NoneType", None)}
    assert _read("---") == ("document", ("NoneType", None), {(): Loc(1, 4)})
    assert _read("candidate_tags:\n  - !tag:yaml_or!!int x\n") == (
        "problems",
        ["m.yaml:2:9: YAML syntax error: expected '!', but found ':' (while scanning a tag at line 2, column 5)"],
    )


def test_ordinary_manifests_take_the_fast_path_when_libyaml_is_there(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.yaml"))]
    assert texts
    ordinary = texts + [
        "custom_fields:\n  - name: Level\n    description: |\n      Which level? Ask HR.\n    options: [A, B]\n",
        "users:\n  - email: a@acme.example\n    job_permissions:\n      - {job: 400, role: Standard}\n",
    ]
    for text in ordinary:
        assert _fast_path_taken(text, monkeypatch) == (yamlload._CLoader is not None), text
    with monkeypatch.context() as m:
        m.setattr(yamlload, "_CLoader", None)
        assert not any(_fast_path_taken(text, monkeypatch) for text in ordinary)


def test_the_bad_fixtures_read_the_same_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    for path in sorted((FIXTURES / "bad").rglob("*.yaml")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        assert _read(text) == _reference(text, monkeypatch), path.name


_SEEDS = [
    "departments:\n  - name: Engineering\n    external_id: ENG\n    parent: null\n  - {name: Platform, parent: ENG}\n",
    "custom_fields:\n  - name: Level\n    field_type: job\n    value_type: single_select\n    options:\n"
    "      - Junior\n      - {name: Senior, previously: [Sr]}\n    description: >-\n      Folded\n      text\n",
    "users:\n  - email: a@acme.example\n    active: yes\n    job_permissions:\n      - job: 010\n        role: 'x'\n"
    "    future_job_permissions: &f\n      - {role: Standard, office: \"Berlin\"}\n  - email: b@acme.example\n"
    "    future_job_permissions: *f\n",
    "policy:\n  prune: {users: off}\n  limits:\n    max_change_percent: 1e1\n  protect:\n    users: [~, .inf, 0x1F]\n",
]
_PIECES = list(" -:?[]{},#&*!|>'\"%@`\n\\.~0Ee_yNx") + [
    "\r\n", "\x85", "\u2028", "\u00e9", "  ", "\n  ", "\n- ", ": ", "---", "...", "!!str ", "!!int ", "&a ", "*a", "<<: ",
]  # fmt: skip


_EDITS = st.lists(st.tuples(st.integers(0, 2), st.floats(0, 1), st.sampled_from(_PIECES)), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.sampled_from(_SEEDS), edits=_EDITS)
def test_mutated_manifests_read_the_same_either_way(
    monkeypatch: pytest.MonkeyPatch, seed: str, edits: list[tuple[int, float, str]]
) -> None:
    chars = list(seed)
    for op, where, piece in edits:
        at = min(int(where * len(chars)), max(len(chars) - 1, 0))
        if op == 0 or not chars:
            chars.insert(at, piece)
        elif op == 1:
            del chars[at]
        else:
            chars[at] = piece
    text = "".join(chars)
    assert _read(text) == _reference(text, monkeypatch)


def test_a_seeded_random_walk_of_mutants_reads_the_same_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed sample besides hypothesis's: the same 400 mutants every run."""
    rng = random.Random(20261201)
    for _ in range(400):
        chars = list(rng.choice(_SEEDS))
        for _ in range(rng.randrange(1, 6)):
            at = rng.randrange(len(chars))
            chars[at : at + rng.randrange(2)] = [rng.choice(_PIECES)]
        text = "".join(chars)
        assert _read(text) == _reference(text, monkeypatch), repr(text)
