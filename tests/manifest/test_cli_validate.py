"""The real CLI on manifests: exit codes, one problem per line on stderr, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.cli import main
from tests.manifest.test_bad_fixtures import CASES

ROOT = Path(__file__).resolve().parents[2]
BAD = "tests/fixtures/bad"


def _validate(*paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", *paths], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


@pytest.mark.e2e
def test_validate_accepts_the_examples_with_a_one_line_summary() -> None:
    run = _validate("examples/")
    assert run.returncode == 0, run.stderr
    assert run.stdout == (
        "Valid: 6 file(s); 10 departments, 7 offices, 9 custom_fields, 6 candidate_tags, 6 users.\n"
    )
    assert run.stderr == ""


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("fixture", "line"),
    [
        ("unknown-key-near-miss.yaml", ':2:5: $.departments[0].nmae: unknown key "nmae" (did you mean "name"?)'),
        ("alias-bomb.yaml", ": YAML aliases would add 490329036 values (the limit is 10000)"),
        ("unsafe-python-tag.yaml", ":2:5: $.candidate_tags[0]: unsafe YAML tag !!python/object/apply:os.system"),
        ("non-utf8.yaml", ":3:8: not valid UTF-8 (byte 0xe9)"),
        ("department-cycle.yaml", ':3:5: $.departments[0].parent: department parents form a cycle: "Engineering"'),
        ("tab-indentation.yaml", ":3:1: YAML syntax error: a tab character"),
    ],
)
def test_validate_refuses_a_bad_fixture_with_exit_1_and_its_message(fixture: str, line: str) -> None:
    run = _validate(f"{BAD}/{fixture}")
    assert run.returncode == 1
    assert f"{BAD}/{fixture}{line}" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert run.stdout == ""


@pytest.mark.e2e
def test_validate_reports_every_problem_of_several_files_one_per_line() -> None:
    run = _validate(f"{BAD}/cross-file-duplicate", f"{BAD}/wrong-version.yaml", f"{BAD}/duplicate-key.yaml")
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "Error:",
        f'{BAD}/duplicate-key.yaml:4:5: $.departments[0].name: duplicate key "name" (first at line 2, column 5); '
        "YAML would silently keep only the last",
        f"{BAD}/wrong-version.yaml:1:1: $.version: unsupported manifest version 2: this program reads version 1 (write version: 1)",
        f'{BAD}/cross-file-duplicate/b-more-tags.yaml:3:5: $.candidate_tags[1].name: duplicate candidate tag "Boomerang" '
        f"(first at {BAD}/cross-file-duplicate/a-tags.yaml:3:5)",
        f'{BAD}/wrong-version.yaml:2:18: $.candidate_tags[0].name: duplicate candidate tag "Referral" '
        f"(first at {BAD}/cross-file-duplicate/a-tags.yaml:2:5)",
    ]


@pytest.mark.e2e
def test_validate_refuses_generated_binary_and_oversized_files(tmp_path: Path) -> None:
    (tmp_path / "blob.yaml").write_bytes(bytes(range(256)))
    with (tmp_path / "huge.yml").open("wb") as f:
        f.truncate(10 * 1024 * 1024 + 1)
    run = _validate(str(tmp_path / "blob.yaml"), str(tmp_path / "huge.yml"), str(tmp_path / "missing.yaml"))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert f"{tmp_path / 'blob.yaml'}: binary file (it contains NUL bytes), not a YAML manifest" in run.stderr
    assert f"{tmp_path / 'huge.yml'}: the file is larger than the limit of 10 MB" in run.stderr
    assert f"{tmp_path / 'missing.yaml'}: no such file or directory" in run.stderr


@pytest.mark.parametrize(("fixture", "where", "message"), CASES, ids=[c[0] for c in CASES])
def test_every_bad_fixture_makes_the_cli_exit_1_with_its_message(
    fixture: str, where: str, message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's own entry point, in-process: any exception other than its exit would fail the test."""
    monkeypatch.chdir(ROOT / BAD)
    with pytest.raises(SystemExit) as exit_:
        main(["validate", fixture])
    out, err = capsys.readouterr()
    assert exit_.value.code == 1
    assert f"{where}: {message}" in [line.removeprefix("Error: ") for line in err.splitlines()]
    assert out == "" and "Traceback" not in err
