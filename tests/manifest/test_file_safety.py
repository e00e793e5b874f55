"""Files that are not small UTF-8 YAML text are refused with a clear message, never a traceback.

The big and binary inputs are generated here rather than committed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.manifest import files, yamlload
from reconciler.manifest.files import MAX_BYTES
from reconciler.manifest.yamlload import ALIAS_BUDGET, MAX_FLOW_DEPTH

from .helpers import load_ok, problems, write


def test_a_file_over_10_mb_is_refused_without_being_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with (tmp_path / "huge.yaml").open("wb") as f:
        f.write(b"candidate_tags:\n")
        f.truncate(MAX_BYTES + 1)
    assert MAX_BYTES == 10 * 1024 * 1024
    assert problems(tmp_path, monkeypatch) == [
        f"huge.yaml: the file is larger than the limit of 10 MB ({MAX_BYTES + 1} bytes or more)"
    ]


def test_the_size_limit_is_inclusive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_BYTES", 100)
    head = b"candidate_tags: [Referral]\n"
    write(tmp_path, {"edge.yaml": head + b"#" * (100 - len(head))})
    assert load_ok(tmp_path, monkeypatch).count()["candidate_tags"] == 1
    write(tmp_path, {"edge.yaml": head + b"#" * (101 - len(head))})
    assert problems(tmp_path, monkeypatch) == [
        "edge.yaml: the file is larger than the limit of 100 bytes (101 bytes or more)"
    ]


def test_a_binary_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"logo.yaml": bytes(range(256)) * 4})
    assert problems(tmp_path, monkeypatch) == ["logo.yaml: binary file (it contains NUL bytes), not a YAML manifest"]


def test_utf16_is_refused_with_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"win.yaml": "candidate_tags: [Referral]\n".encode("utf-16")})
    assert problems(tmp_path, monkeypatch) == ["win.yaml: the file is UTF-16 or UTF-32 encoded: save it as UTF-8"]


def test_control_characters_are_refused_at_their_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"ctl.yaml": b"candidate_tags:\n  - Ref\x07erral\n"})
    assert problems(tmp_path, monkeypatch) == [
        "ctl.yaml:2:8: unacceptable character #x0007 (control characters are not allowed in YAML): "
        "is this a binary file?"
    ]


def test_deep_bracket_nesting_is_refused_quickly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    depth = 50_000  # PyYAML's scanner is quadratic in this: without the cap this would take minutes
    write(tmp_path, {"deep.yaml": "candidate_tags: " + "[" * depth + "]" * depth + "\n"})
    column = len("candidate_tags: ") + MAX_FLOW_DEPTH + 1
    assert problems(tmp_path, monkeypatch) == [
        f"deep.yaml:1:{column}: YAML syntax error: brackets nested more than {MAX_FLOW_DEPTH} levels deep"
    ]


def test_deep_block_nesting_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "".join(f"{' ' * i}k:\n" for i in range(2000))
    write(tmp_path, {"deep.yaml": text})
    assert problems(tmp_path, monkeypatch) == ["deep.yaml: the YAML is nested too deeply"]


def test_aliases_just_within_the_budget_are_accepted_and_just_over_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlload, "ALIAS_BUDGET", 50)

    # an anchored list of n tags, reused for the protect list: the alias adds n + 1 values
    def manifest(n: int) -> str:
        tags = ", ".join(f"t{i}" for i in range(n))
        return f"candidate_tags: &t [{tags}]\npolicy:\n  protect:\n    candidate_tags: *t\n"

    write(tmp_path, {"a.yaml": manifest(49)})
    assert len(load_ok(tmp_path, monkeypatch).policy.protect["candidate_tags"]) == 49
    write(tmp_path, {"a.yaml": manifest(50)})
    assert problems(tmp_path, monkeypatch) == [
        "a.yaml: YAML aliases would add 51 values (the limit is 50): refusing a possible alias bomb; write the values out"
    ]


def test_the_alias_budget_is_small() -> None:
    assert ALIAS_BUDGET == 10_000
