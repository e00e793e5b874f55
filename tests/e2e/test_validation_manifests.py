"""The real CLI on the manifest mistakes of issue 10 (items 3, 5, 7, 8): exit 1, each problem at
file:line:col with the field and the fix, never a traceback; `plan` refuses them before any write."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from tests.e2e.conftest import Run, Server, cli

pytestmark = pytest.mark.e2e


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def _validate(root: Path, *paths: str) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENHOUSE_")}
    return cli("validate", *(str(root / p) for p in paths), env={**env, "NO_COLOR": "1"})


def _errors(run: Run) -> list[str]:
    assert run.code == 1, run
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert lines[0].startswith("Error:"), run.stderr  # "Error: <one problem>" or "Error:" then one per line
    return lines[1:] if lines[0] == "Error:" else [lines[0][len("Error: ") :]]


def test_names_with_stray_spaces_and_invisible_characters_are_errors_naming_field_and_fix(tmp_path: Path) -> None:
    _write(tmp_path, {"org/tags.yaml": """
        candidate_tags:
          - "Referral "
          - " Boomerang"
          - "Tab\\there"
          - "Zero\\u200bwidth"
          - name: "Do\\u00a0Not Contact"
          - name: Alumni
            previously: "Alumni "
    """, "org/offices.yaml": """
        offices:
          - name: "London\\n"
    """})
    file, offices = tmp_path / "org" / "tags.yaml", tmp_path / "org" / "offices.yaml"
    assert _errors(_validate(tmp_path, "org")) == [
        f'{offices}:2:5: $.offices[0].name: name "London\\n" has a trailing line break (\\n); remove it',
        f'{file}:2:5: $.candidate_tags[0]: name "Referral " has a trailing space; remove it',
        f'{file}:3:5: $.candidate_tags[1]: name " Boomerang" has a leading space; remove it',
        f'{file}:4:5: $.candidate_tags[2]: name "Tab\\there" contains a tab (\\t); remove it',
        f'{file}:5:5: $.candidate_tags[3]: name "Zero\\u200bwidth" contains an invisible zero width space (U+200B); '
        "remove it",
        f'{file}:6:5: $.candidate_tags[4].name: name "Do\\u00a0Not Contact" contains a no-break space (U+00A0), which '
        "looks like a space but is not one; type a normal space",
    ]


def test_two_names_equal_after_unicode_normalisation_are_a_duplicate(tmp_path: Path) -> None:
    _write(tmp_path, {"tags.yaml": 'candidate_tags:\n  - "Caf\\u00e9"\n  - "Cafe\\u0301"\n'})
    file = tmp_path / "tags.yaml"
    assert _errors(_validate(tmp_path, "tags.yaml")) == [
        f'{file}:3:5: $.candidate_tags[1].name: duplicate candidate tag "Cafe\u0301" (same as "Caf\\u00e9" at '
        f'{file}:2:5, written here as "Cafe\\u0301": the two display alike and differ only in how accents are encoded '
        "(Unicode normalisation); retype one)",
    ]


def test_a_broken_policy_symlink_is_an_error_and_plan_reads_and_writes_nothing(
    tmp_path: Path, server: Server
) -> None:
    """If a broken policy.yaml were skipped, its protect lists and limits would vanish from the plan."""
    _write(tmp_path, {"org/tags.yaml": "candidate_tags: [Referral]\n"})
    (tmp_path / "org" / "policy.yaml").symlink_to("../shared/policy.yaml")
    expected = [f'{tmp_path / "org" / "policy.yaml"}: a broken symbolic link: its target "../shared/policy.yaml" '
                "does not exist; remove the link or restore the file"]
    assert _errors(_validate(tmp_path, "org")) == expected
    server.clear()
    run = cli("plan", str(tmp_path / "org"), env=server.env())
    assert run.code == 1
    assert expected[0] in run.stderr
    assert "Traceback" not in run.stderr
    assert [r for r in server.requests() if r["path"] != "/token"] == []


def test_a_directory_a_fifo_and_an_unreadable_file_named_like_manifests_are_errors(tmp_path: Path) -> None:
    """Unreadable even as root (the tests run as root, where chmod 000 does not stop reading): a link to
    /proc/self/mem, a regular file whose read fails with EIO."""
    _write(tmp_path, {"org/tags.yaml": "candidate_tags: [Referral]\n", "org/users.yaml/inside.yaml": "users: []\n"})
    os.mkfifo(tmp_path / "org" / "pipe.yml")
    (tmp_path / "org" / "mem.yaml").symlink_to("/proc/self/mem")
    (tmp_path / "org" / "loop.yaml").symlink_to("loop.yaml")
    org = tmp_path / "org"
    assert _errors(_validate(tmp_path, "org")) == [
        f'{org}/loop.yaml: a symbolic link loop (it points to "loop.yaml", which leads back to itself): remove it',
        f"{org}/mem.yaml: cannot read the file: Input/output error",
        f"{org}/pipe.yml: a named pipe (FIFO), not a regular file: a manifest must be a regular file",
        f"{org}/users.yaml: a directory, named like a manifest file: rename it (manifest files are regular *.yaml "
        "files)",
    ]


def test_escapes_beyond_unicode_and_lone_surrogates_are_located_errors(tmp_path: Path) -> None:
    _write(tmp_path, {"a.yaml": 'candidate_tags:\n  - "\\U00110000"\n', "b.yaml": 'candidate_tags:\n  - "x\\ud800"\n'})
    assert _errors(_validate(tmp_path, "a.yaml", "b.yaml")) == [
        f"{tmp_path / 'a.yaml'}:2:6: YAML syntax error: the escape \\U00110000 is beyond the last Unicode character "
        "(U+10FFFF)",
        f"{tmp_path / 'b.yaml'}:2:5: YAML syntax error: a \\u escape in this string is half of a UTF-16 surrogate "
        "pair, not a character: write the character itself (or its \\U0001xxxx escape)",
    ]


def test_version_as_a_string_says_to_write_the_number(tmp_path: Path) -> None:
    _write(tmp_path, {"a.yaml": 'version: "1"\n'})
    assert _errors(_validate(tmp_path, "a.yaml")) == [
        f'{tmp_path / "a.yaml"}:1:1: $.version: version must be the number 1, not the string "1" '
        "(write version: 1, without quotes)",
    ]


def test_every_problem_of_an_item_is_reported_with_how_to_fix_it(tmp_path: Path) -> None:
    _write(tmp_path, {"a.yaml": """
        departments:
          - name: Engineering
          - name: Engineering
            parent: [Sales]
        custom_feilds: []
        policy:
          limits:
            max_deletes: "5"
    """})
    file = tmp_path / "a.yaml"
    assert _errors(_validate(tmp_path, "a.yaml")) == [
        f"{file}:4:5: $.departments[1].parent: expected a string, a whole number or null, got a list",
        f'{file}:5:1: $.custom_feilds: unknown section "custom_feilds" (did you mean "custom_fields"?)',
        f'{file}:8:5: $.policy.limits.max_deletes: expected a whole number, got the string "5" (write 5, without '
        "quotes)",
        f'{file}:3:5: $.departments[1].name: duplicate department name "Engineering" (first at {file}:2:5; '
        "departments may share a name only when each has an external_id or an id)",
    ]


def test_previously_and_protect_may_name_a_live_object_with_a_stray_space(tmp_path: Path) -> None:
    _write(tmp_path, {"a.yaml": """
        candidate_tags:
          - name: Referral
            previously: "Referral "
        policy:
          protect:
            candidate_tags: ["Do Not Contact "]
    """})
    run = _validate(tmp_path, "a.yaml")
    assert (run.code, run.stderr) == (0, "")
    assert run.stdout.startswith("Valid: 1 file(s)")
