"""Whatever the input, the loader answers with a Manifest or a ManifestError: never anything else."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import ManifestError
from reconciler.manifest import load

WORDS = ["name", "nmae", "parent", "previously", "external_id", "key", "field_type", "value_type", "options",
         "job", "single_select", "yes_no", "offer", "enforce", "users", "email", "a@b.c", "", " ", "x"]  # fmt: skip
KEYS = st.sampled_from(["version", "departments", "offices", "custom_fields", "candidate_tags", "users", "policy",
                        "prune", "protect", "limits", "max_deletes", *WORDS])  # fmt: skip
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 200), st.floats(allow_nan=False), st.sampled_from(WORDS))
VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=25,
)


def _load(directory: Path, content: bytes) -> None:
    (directory / "m.yaml").write_bytes(content)
    try:
        load([str(directory / "m.yaml")])
    except ManifestError as e:
        assert e.problems, "a ManifestError always carries at least one problem"
        for problem in e.problems:
            assert problem.message and "\n" not in problem.message


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.dictionaries(KEYS, VALUES, max_size=6))
def test_structured_documents_never_crash_the_loader(tmp_path: Path, document: dict[str, Any]) -> None:
    _load(tmp_path, yaml.safe_dump(document).encode())


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=string.printable + "ä€\x00\x07", max_size=200))
def test_arbitrary_text_never_crashes_the_loader(tmp_path: Path, text: str) -> None:
    _load(tmp_path, text.encode("utf-8"))


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_never_crash_the_loader(tmp_path: Path, data: bytes) -> None:
    _load(tmp_path, data)


@pytest.mark.parametrize("section", ["departments", "offices", "custom_fields", "candidate_tags", "users"])
def test_a_section_of_wrong_shapes_is_reported_item_by_item(tmp_path: Path, section: str) -> None:
    weird = [None, 1, [], {}, {"name": None}, {"name": ["a"]}, {"parent": {}}]
    (tmp_path / "m.yaml").write_text(yaml.safe_dump({section: weird}))
    with pytest.raises(ManifestError) as caught:
        load([str(tmp_path / "m.yaml")])
    flagged = {p.where.split(": ")[1].split("]")[0] + "]" for p in caught.value.problems}
    assert flagged == {f"$.{section}[{i}]" for i in range(len(weird))}
