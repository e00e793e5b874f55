"""Schema messages say how to fix the value (issue 10, item 7), and every problem of an item is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.manifest.helpers import problems, write


@pytest.mark.parametrize(
    ("yaml_text", "line"),
    [
        ('version: "1"\n', '$.version: version must be the number 1, not the string "1" (write version: 1, '
                           "without quotes)"),
        ("version: '1 '\n", '$.version: version must be the number 1, not the string "1 " (write version: 1, '
                            "without quotes)"),
        ("version: 2\n", "$.version: unsupported manifest version 2: this program reads version 1 (write version: 1)"),
        ('policy:\n  limits:\n    max_deletes: "5"\n',
         '$.policy.limits.max_deletes: expected a whole number, got the string "5" (write 5, without quotes)'),
        ('policy:\n  limits:\n    max_change_percent: "12.5"\n',
         '$.policy.limits.max_change_percent: expected a number, got the string "12.5" (write 12.5, without quotes)'),
        ('policy:\n  limits:\n    max_change_percent: "lots"\n',
         '$.policy.limits.max_change_percent: expected a number, got the string "lots"'),
        ('users:\n  - email: a@acme.example\n    active: "true"\n',
         '$.users[0].active: expected true or false, got the string "true" (write true or false)'),
        ("users:\n  - email: a@acme.example\n    first_name:\n",
         "$.users[0].first_name: expected a string, got null (nothing) (write a value after the colon, or remove "
         "the key)"),
    ],
)
def test_a_wrong_type_says_what_to_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yaml_text: str, line: str
) -> None:
    write(tmp_path, {"a.yaml": yaml_text})
    found = problems(tmp_path, monkeypatch)
    assert len(found) == 1
    assert found[0].split(": ", 1)[1] == line


def test_every_problem_of_an_item_is_reported_schema_and_semantic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"a.yaml": """
        users:
          - email: ann@acme.example
            first_name: 7
            active: "yes"
            last_nmae: Lee
            job_permissions:
              - {job: REQ-1001, role: Standard}
              - {job: REQ-1001, role: Admin}
          - email: ANN@acme.example
    """})
    assert problems(tmp_path, monkeypatch) == [
        'a.yaml:3:5: $.users[0].first_name: expected a string, got the number 7 (quote it: "7")',
        'a.yaml:4:5: $.users[0].active: expected true or false, got the string "yes" (write true or false)',
        'a.yaml:5:5: $.users[0].last_nmae: unknown key "last_nmae" (did you mean "last_name"?)',
        'a.yaml:8:10: $.users[0].job_permissions[1].job: duplicate job_permissions entry for job "REQ-1001" '
        "(first at a.yaml:7:10)",
        'a.yaml:9:5: $.users[1].email: duplicate user email "ANN@acme.example" (same as "ann@acme.example" at '
        "a.yaml:2:5; emails are case-insensitive)",
    ]


def test_a_schema_error_in_the_policy_does_not_hide_its_other_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before issue 10 one bad limit dropped the whole policy block from the semantic checks."""
    write(tmp_path, {"a.yaml": """
        policy:
          limits:
            max_deletes: "5"
          prune:
            users: enforce
            departmentz: "off"
          protect:
            users: [5]
    """})
    assert problems(tmp_path, monkeypatch) == [
        'a.yaml:3:5: $.policy.limits.max_deletes: expected a whole number, got the string "5" (write 5, without '
        "quotes)",
        'a.yaml:6:5: $.policy.prune.departmentz: unknown key "departmentz" (did you mean "departments"?)',
        'a.yaml:8:13: $.policy.protect.users[0]: expected a string, got the number 5 (quote it: "5")',
        "a.yaml:5:5: $.policy.prune.users: prune: enforce is not possible for users: the API cannot delete them "
        "(use report or off); deactivate users by listing them with active: false",
    ]
