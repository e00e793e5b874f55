"""The merge's fast path text and copy agree with `json_path` / `relative_path` and `copy.deepcopy`."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.manifest.build import _copy, _PathText, _relative
from reconciler.manifest.text import json_path, relative_path

#: No YAML is read here (see conftest.py).
ONE_COMPOSER = True

PATHS: list[tuple[Any, ...]] = [
    ("name",),
    ("options", 2, "name"),
    (0, "a"),
    ("a b", 1),
    ("options", 10, "previously", 0),
    ('quote"d', "x.y", "ünï", "-dash", "_under", "9lead"),
    (3,),
]


@pytest.mark.parametrize("path", PATHS, ids=[repr(p) for p in PATHS])
def test_path_text_is_what_json_path_writes(path: tuple[Any, ...]) -> None:
    paths = _PathText()
    for _ in range(2):  # the second time from the cached fragments
        steps = paths.steps(path)
        assert _relative(steps) == relative_path(path)
        assert "$.users[7]" + steps == json_path(("users", 7, *path))


def test_the_copy_is_a_deep_copy_of_loaded_values() -> None:
    value = {"a": [1, {"b": [None, True, 2.5, "x"]}], "c": {}}
    copied = _copy(value)
    assert copied == copy.deepcopy(value)
    assert copied["a"] is not value["a"] and copied["a"][1] is not value["a"][1]
    assert copied["a"][1]["b"] is not value["a"][1]["b"]
