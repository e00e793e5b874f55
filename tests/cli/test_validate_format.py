"""`validate --format github|json` on the bad fixtures, through the real CLI in a subprocess; the escaping."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from reconciler.cli.annotations import Located, escape_data, escape_property, github_command, locate
from tests.e2e.conftest import ROOT

BAD = "tests/fixtures/bad"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reconciler", "validate", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_github_annotations_one_per_problem_at_the_manifest_lines() -> None:
    proc = run("--format", "github", f"{BAD}/duplicate-key.yaml", f"{BAD}/cross-file-duplicate",
               f"{BAD}/alias-bomb.yaml")
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        f"::error file={BAD}/alias-bomb.yaml,title=greenhouse-reconciler::YAML aliases would add 490329036 values "
        "(the limit is 10000): refusing a possible alias bomb; write the values out",
        f"::error file={BAD}/duplicate-key.yaml,line=4,col=5,title=greenhouse-reconciler::$.departments[0].name: "
        'duplicate key "name" (first at line 2, column 5); YAML would silently keep only the last',
        f"::error file={BAD}/cross-file-duplicate/b-more-tags.yaml,line=3,col=5,title=greenhouse-reconciler::"
        '$.candidate_tags[1].name: duplicate candidate tag "Boomerang" (first at '
        f"{BAD}/cross-file-duplicate/a-tags.yaml:3:5)",
    ]
    assert proc.stderr == "Error: 3 problem(s) in the manifests.\n"


def test_text_stays_the_default() -> None:
    proc = run(f"{BAD}/duplicate-key.yaml")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (f'Error: {BAD}/duplicate-key.yaml:4:5: $.departments[0].name: duplicate key "name" '
                           "(first at line 2, column 5); YAML would silently keep only the last\n")


def test_json_lists_every_problem_with_its_place() -> None:
    proc = run("--format", "json", f"{BAD}/duplicate-key.yaml", f"{BAD}/no-such-file.yaml")
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == {"valid": False, "problems": [
        {"file": f"{BAD}/no-such-file.yaml", "line": None, "column": None, "path": None,
         "message": "no such file or directory", "severity": "error"},
        {"file": f"{BAD}/duplicate-key.yaml", "line": 4, "column": 5, "path": "$.departments[0].name",
         "message": 'duplicate key "name" (first at line 2, column 5); YAML would silently keep only the last',
         "severity": "error"},
    ]}


def test_valid_manifests_in_each_format() -> None:
    proc = run("--format", "json", "examples/")
    assert proc.returncode == 0
    out = json.loads(proc.stdout)
    assert out["valid"] is True and out["problems"] == [] and out["files"] == 6
    assert out["counts"]["departments"] == 10
    proc = run("--format", "github", "examples/")
    assert proc.returncode == 0
    assert "::" not in proc.stdout and proc.stdout.startswith("Valid: 6 file(s)")


def test_every_bad_fixture_gives_annotations_and_exit_1() -> None:
    proc = run("--format", "github", BAD)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len(lines) > 10 and all(line.startswith("::error ") for line in lines)
    assert all(",title=greenhouse-reconciler::" in line for line in lines)


def test_escaping_follows_githubs_rules() -> None:
    assert escape_data("100% sure\r\nnext: a,b") == "100%25 sure%0D%0Anext: a,b"
    assert escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"
    problem = Located('bad "x"\nsecond line 50%', "dir,with:odd/file.yaml", 3, 7, "$.users[0]")
    assert github_command(problem) == ("::error file=dir%2Cwith%3Aodd/file.yaml,line=3,col=7,"
                                       "title=greenhouse-reconciler::$.users[0]: bad \"x\"%0Asecond line 50%25")
    assert github_command(Located("careful", severity="warning")) == "::warning title=greenhouse-reconciler::careful"


@pytest.mark.parametrize(("where", "expected"), [
    ("org/a.yaml:4:5: $.departments[0].name", ("org/a.yaml", 4, 5, "$.departments[0].name")),
    ("org/a.yaml:4:5", ("org/a.yaml", 4, 5, None)),
    ("org/a.yaml", ("org/a.yaml", None, None, None)),
    ("$.policy.limits", (None, None, None, "$.policy.limits")),
    ("org/a.yaml: $.x", ("org/a.yaml", None, None, "$.x")),
    ("", (None, None, None, None)),
])
def test_locate_splits_a_problem_place(where: str, expected: tuple[object, ...]) -> None:
    got = locate(where, "m")
    assert (got.file, got.line, got.column, got.path) == expected
