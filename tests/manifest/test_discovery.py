"""Nothing named like a manifest is skipped silently (issue 10, item 3), and escapes that are not
characters are located errors (item 8's known crash)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.manifest.helpers import load_ok, problems, write

OK = "candidate_tags: [Referral]\n"


def test_a_broken_symlink_named_policy_yaml_is_an_error_not_a_missing_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"org/tags.yaml": OK})
    (tmp_path / "org" / "policy.yaml").symlink_to("../shared/policy.yaml")
    assert problems(tmp_path, monkeypatch, "org") == [
        "org/policy.yaml: a broken symbolic link: its target \"../shared/policy.yaml\" does not exist; remove the "
        "link or restore the file",
    ]


def test_a_broken_symlink_given_by_name_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "policy.yml").symlink_to("gone.yml")
    assert problems(tmp_path, monkeypatch, "policy.yml") == [
        'policy.yml: a broken symbolic link: its target "gone.yml" does not exist; remove the link or restore the file',
    ]


def test_a_symlink_loop_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"org/tags.yaml": OK})
    (tmp_path / "org" / "loop.yaml").symlink_to("loop.yaml")
    assert problems(tmp_path, monkeypatch, "org") == [
        'org/loop.yaml: a symbolic link loop (it points to "loop.yaml", which leads back to itself): remove it',
    ]


def test_a_directory_named_like_a_manifest_is_an_error_and_not_entered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"org/tags.yaml": OK, "org/users.yaml/inside.yaml": "users: 5\n", "org/sub/more.yaml": "candidate_tags: [Boomerang]\n"})
    (tmp_path / "org" / "linked.yml").symlink_to(tmp_path / "org" / "sub")
    assert problems(tmp_path, monkeypatch, "org") == [
        "org/linked.yml: a symbolic link to a directory, named like a manifest file: rename it (manifest files are "
        "regular *.yaml files)",
        "org/users.yaml: a directory, named like a manifest file: rename it (manifest files are regular *.yaml files)",
    ]


def test_a_named_pipe_is_refused_without_being_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a FIFO would block forever; it is reported instead."""
    write(tmp_path, {"org/tags.yaml": OK})
    os.mkfifo(tmp_path / "org" / "pipe.yaml")
    assert problems(tmp_path, monkeypatch, "org") == [
        "org/pipe.yaml: a named pipe (FIFO), not a regular file: a manifest must be a regular file",
    ]


def test_a_file_that_cannot_be_read_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests run as root, where chmod 000 does not stop reading: /proc/self/mem is a regular file that
    refuses a read at offset 0 with EIO for every user, root included, so the read error path is real."""
    write(tmp_path, {"org/tags.yaml": OK})
    (tmp_path / "org" / "mem.yaml").symlink_to("/proc/self/mem")
    assert problems(tmp_path, monkeypatch, "org") == ["org/mem.yaml: cannot read the file: Input/output error"]


def test_hidden_entries_and_other_names_are_still_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"org/tags.yaml": OK, "org/.git/config.yaml": "users: 5\n", "org/notes.txt": "x"})
    (tmp_path / "org" / ".broken.yaml").symlink_to("nowhere")
    (tmp_path / "org" / "readme.md").symlink_to("nowhere")
    (tmp_path / "org" / "linked-dir").symlink_to(tmp_path / "org" / ".git")
    assert load_ok(tmp_path, monkeypatch, "org").files == ("org/tags.yaml",)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ('"\\U00110000"', ":2:6: YAML syntax error: the escape \\U00110000 is beyond the last Unicode character "
                          "(U+10FFFF)"),
        ('"a \\UFFFFFFFF"', ":2:8: YAML syntax error: the escape \\UFFFFFFFF is beyond the last Unicode character "
                            "(U+10FFFF)"),
        ('"\\ud800"', ":2:5: YAML syntax error: a \\u escape in this string is half of a UTF-16 surrogate pair, not a "
                      "character: write the character itself (or its \\U0001xxxx escape)"),
        ('"x\\udc00y"', ":2:5: YAML syntax error: a \\u escape in this string is half of a UTF-16 surrogate pair, "
                        "not a character: write the character itself (or its \\U0001xxxx escape)"),
    ],
)
def test_an_escape_that_is_no_character_is_a_located_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str, message: str
) -> None:
    write(tmp_path, {"a.yaml": f"candidate_tags:\n  - {written}\n"})
    assert problems(tmp_path, monkeypatch, "a.yaml") == [f"a.yaml{message}"]


def test_a_surrogate_pair_escape_is_the_character_it_stands_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"a.yaml": 'candidate_tags:\n  - "Star \\ud83c\\udf1f"\n  - "\\U0001F31F Star"\n'})
    manifest = load_ok(tmp_path, monkeypatch, "a.yaml")
    assert [e.data["name"] for e in manifest.entries["candidate_tags"]] == ["Star \U0001f31f", "\U0001f31f Star"]
