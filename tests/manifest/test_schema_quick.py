"""The quick schema check: True only for documents the full JSON Schema validator accepts.

`schema.validate` asks it first and skips jsonschema's (slow) error collection when it says a document
is valid, so it must never be more lenient than jsonschema; being stricter only costs time. These tests
compare the two on the corpus, the examples and near-valid random documents.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import ManifestError
from reconciler.manifest import schema
from reconciler.manifest.yamlload import read_yaml

ROOT = Path(__file__).resolve().parents[2]

#: Schema checks only: which YAML composer read the fixtures does not matter (see conftest.py).
ONE_COMPOSER = True


def _documents(folder: Path) -> list[Any]:
    out = []
    for path in sorted(folder.rglob("*.yaml")):
        try:
            out.append(read_yaml(path.name, path.read_text(encoding="utf-8")).data)
        except (ManifestError, UnicodeDecodeError):
            continue
    return out


def _valid(data: Any) -> bool:
    return not any(True for _ in schema._validator().iter_errors(data))


def _quick() -> Any:
    check = schema._quick_check()
    assert check is not None, "the manifest schema uses a keyword the quick check does not compile"
    return check


def test_the_manifest_schema_compiles_into_a_quick_check() -> None:
    assert callable(_quick())


@pytest.mark.parametrize(
    "fragment",
    [
        {"oneOf": [{"type": "string"}]},
        {"type": "object", "additionalProperties": {"type": "string"}},
        {"type": "array", "prefixItems": [{"type": "string"}]},
        {"enum": [1, 2]},
        {"type": "string", "format": "email"},
        {"$ref": "https://example.com/other.json"},
    ],
)
def test_a_keyword_it_does_not_know_is_refused_rather_than_ignored(fragment: dict[str, Any]) -> None:
    with pytest.raises(schema._Unsupported):
        schema._quick(fragment)


def test_the_examples_are_recognised_as_valid_without_the_full_validator() -> None:
    docs = _documents(ROOT / "examples")
    assert docs
    for data in docs:
        assert _valid(data)
        assert _quick()(data)


def test_no_bad_fixture_passes_the_quick_check_unless_it_is_schema_valid() -> None:
    docs = _documents(ROOT / "tests" / "fixtures" / "bad")
    assert len(docs) > 40
    for data in docs:
        assert _valid(data) or not _quick()(data), data


def test_the_quick_check_follows_json_types_as_jsonschema_does() -> None:
    check = _quick()
    assert check({"version": 1})
    assert not check({"version": True})  # bool is not the integer 1 to jsonschema
    assert not check({"policy": {"limits": {"max_deletes": 2.5}}})
    assert not check({"policy": {"limits": {"max_change_percent": True}}})
    assert check({"policy": {"limits": {"max_change_percent": 12.5}}})
    assert not check({"candidate_tags": ["Referral", " "]})
    assert not check({"users": [{"email": "a@acme.example", "offices": ["X", "X"]}]})
    assert check({"users": [{"email": "a@acme.example", "offices": ["X", "Y"]}]})


_BASE: dict[str, Any] = {
    "version": 1,
    "departments": [{"name": "Engineering", "external_id": "ENG", "parent": None, "previously": ["Eng"]}],
    "offices": [{"name": "Berlin", "location": "Berlin, DE", "primary_contact": "a@acme.example"}],
    "custom_fields": [
        {
            "name": "Level", "key": "level", "field_type": "job", "value_type": "single_select",
            "required": False, "departments": ["ENG"], "options": ["Junior", {"name": "Senior", "external_id": "S"}],
        }
    ],
    "candidate_tags": ["Referral", {"name": "Alumni", "previously": "Boomerang"}],
    "users": [
        {
            "email": "a@acme.example", "active": True, "offices": ["Berlin"],
            "job_permissions": [{"job": 400, "role": "Standard"}, {"job": "REQ-1", "role": "Standard"}],
            "future_job_permissions": [{"role": "Standard", "department": "ENG"}],
        }
    ],
    "policy": {"prune": {"users": "off"}, "protect": {"users": ["a@acme.example"]}, "limits": {"max_deletes": 3}},
}  # fmt: skip

_ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 200), st.floats(allow_nan=True), st.sampled_from(
        ["", " ", "x", "a@b", "a@b.c", "job", "yes_no", "off", "enforce", "Engineering", "a b", "nmae", "name"]
    ), st.just([]), st.just({}), st.just(["x", "x"]), st.just({"name": "x"}),
)  # fmt: skip


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 2), st.sampled_from(["name", "zz", "job"]), _ODD), max_size=4))  # fmt: skip
def test_near_valid_documents_pass_the_quick_check_only_when_valid(edits: list[tuple[int, int, str, Any]]) -> None:
    """Each edit replaces a value, adds a key or drops a key somewhere in a valid manifest."""
    data = copy.deepcopy(_BASE)
    for where, op, key, value in edits:
        paths = _paths(data)
        path = paths[where % len(paths)]
        parent: Any = data
        for step in path[:-1]:
            parent = parent[step]
        if not path or op == 0:
            if path:
                parent[path[-1]] = copy.deepcopy(value)
            continue
        target = parent[path[-1]]
        if op == 1 and isinstance(target, dict):
            target[key] = copy.deepcopy(value)
        elif op == 2 and isinstance(target, dict) and target:
            del target[next(iter(target))]
    assert _valid(data) or not _quick()(data)
    if not edits:
        assert _quick()(data)
