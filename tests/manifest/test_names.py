"""Names checked like an admin would (issue 10, item 5): stray spaces, control and invisible characters."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.manifest.names import name_problem
from reconciler.manifest.text import quote
from tests.manifest.helpers import load_ok, problems, write


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Referral ", "has a trailing space; remove it"),
        (" Boomerang", "has a leading space; remove it"),
        ("Sales   ", "has a trailing space ×3; remove it"),
        ("Sales\t", "has a trailing tab (\\t); remove it"),
        ("Sales \t", "has a trailing run of 2 characters (space, tab (\\t)); remove it"),
        ("\u00a0Sales", "has a leading no-break space (U+00A0); remove it"),
        ("Sales\n", "has a trailing line break (\\n); remove it"),
        ("Tab\there", "contains a tab (\\t); remove it"),
        ("Line\nbreak", "contains a line break (\\n); write the value on one line"),
        ("Bell\x07", "contains a control character (U+0007); remove it"),
        ("C1\x85x", "contains a control character (U+0085); remove it"),
        ("Zero\u200bwidth", "contains an invisible zero width space (U+200B); remove it"),
        ("\u200bLead", "contains an invisible zero width space (U+200B); remove it"),
        ("Bidi\u202eevil", "contains an invisible right-to-left override (U+202E); remove it"),
        ("Soft\u00adhyphen", "contains an invisible soft hyphen (U+00AD); remove it"),
        ("BOM\ufeffinside", "contains an invisible zero width no-break space (U+FEFF); remove it"),
        ("Joiner\u200d", "contains an invisible zero width joiner (U+200D); remove it"),
        ("Sep\u2028x", "contains a line separator (U+2028); write the value on one line"),
        ("No\u00a0break", "contains a no-break space (U+00A0), which looks like a space but is not one; "
                          "type a normal space"),
        ("Thin\u2009space", "contains a thin space (U+2009), which looks like a space but is not one; "
                            "type a normal space"),
    ],
)
def test_a_name_with_a_stray_or_invisible_character_is_refused_with_the_fix(value: str, problem: str) -> None:
    assert name_problem(value) == problem


@pytest.mark.parametrize(
    "value",
    [
        "Referral",
        "Sales EMEA",
        "Sales  EMEA",  # two ordinary spaces inside: a near-duplicate for the plan to warn about, not an error
        "Café",
        "Cafe\u0301",  # a combining accent is a visible character
        "東京\u3000本社",  # the ideographic space between CJK words
        "\U0001f469\u200d\U0001f4bb Devs",  # a zero width joiner inside an emoji sequence
        "می\u200cخواهم",  # a zero width non-joiner inside a Persian word
        " ",  # blank: the schema's "must not be empty or blank" says it, once
        "",
    ],
)
def test_ordinary_names_pass(value: str) -> None:
    assert name_problem(value) is None


def test_quote_shows_invisible_characters_as_escapes() -> None:
    assert quote("Referral\u00a0") == '"Referral\\u00a0"'
    assert quote("a\tb\u200bc") == '"a\\tb\\u200bc"'
    assert quote("Café") == '"Café"'
    assert quote("\U000e0001") == '"\\U000e0001"'


def test_names_references_keys_and_emails_are_checked_where_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"a.yaml": """
        departments:
          - name: "Sales "
            external_id: "ENG\\u200b"
          - name: Support
            parent: " Sales"
        custom_fields:
          - name: Level
            key: "level\\u200bx"
            field_type: job
            value_type: single_select
            options: ["Junior", "Senior\\t"]
        users:
          - email: "ann@acme.example\\u200b"
            first_name: Ann
            last_name: "Lee\\n"
            offices: ["London "]
        candidate_tags:
          - "Referral "
    """})
    assert problems(tmp_path, monkeypatch) == [
        'a.yaml:2:5: $.departments[0].name: name "Sales " has a trailing space; remove it',
        'a.yaml:3:5: $.departments[0].external_id: external_id "ENG\\u200b" contains an invisible zero width space '
        "(U+200B); remove it",
        'a.yaml:5:5: $.departments[1].parent: parent " Sales" has a leading space; remove it',
        'a.yaml:8:5: $.custom_fields[0].key: key "level\\u200bx" contains an invisible zero width space (U+200B); '
        "remove it",
        'a.yaml:11:25: $.custom_fields[0].options[1]: name "Senior\\t" has a trailing tab (\\t); remove it',
        'a.yaml:13:5: $.users[0].email: email "ann@acme.example\\u200b" contains an invisible zero width space '
        "(U+200B); remove it",
        'a.yaml:15:5: $.users[0].last_name: last_name "Lee\\n" has a trailing line break (\\n); remove it',
        'a.yaml:16:15: $.users[0].offices[0]: offices entry "London " has a trailing space; remove it',
        'a.yaml:18:5: $.candidate_tags[0]: name "Referral " has a trailing space; remove it',
    ]


def test_previously_protect_and_free_text_may_hold_what_live_data_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`previously` and protect entries name live objects as they are (so "Referral " can be renamed to a
    clean name); free text (a description, a job title) may span lines."""
    write(tmp_path, {"a.yaml": """
        candidate_tags:
          - name: Referral
            previously: ["Referral ", "Refer\\tral"]
        custom_fields:
          - name: Level
            key: level
            field_type: job
            value_type: short_text
            description: "Line one\\nline two\\t(tabbed) "
        users:
          - email: ann@acme.example
            job_title: " Head of People "
        policy:
          protect:
            candidate_tags: ["Do Not Contact "]
    """})
    manifest = load_ok(tmp_path, monkeypatch)
    assert manifest.entries["candidate_tags"][0].data["previously"] == ["Referral ", "Refer\tral"]


def test_names_equal_after_unicode_normalisation_are_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"a.yaml": 'candidate_tags:\n  - "Caf\\u00e9"\n  - "Cafe\\u0301"\n  - "Cafe"\n'})
    assert problems(tmp_path, monkeypatch) == [
        'a.yaml:3:5: $.candidate_tags[1].name: duplicate candidate tag "Cafe\u0301" (same as "Caf\\u00e9" at a.yaml:2:5, '
        'written here as "Cafe\\u0301": the two display alike and differ only in how accents are encoded '
        "(Unicode normalisation); retype one)",
    ]


def test_a_name_problem_does_not_hide_the_items_other_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"a.yaml": """
        offices:
          - name: "London "
            location: "  "
          - name: Paris
          - name: Paris
    """})
    assert problems(tmp_path, monkeypatch) == [
        'a.yaml:2:5: $.offices[0].name: name "London " has a trailing space; remove it',
        "a.yaml:3:5: $.offices[0].location: location must not be empty or blank",
        'a.yaml:5:5: $.offices[2].name: duplicate office name "Paris" (first at a.yaml:4:5)',
    ]


def test_a_value_the_schema_already_refuses_is_reported_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"a.yaml": """
        custom_fields:
          - name: Level
            key: "level\\u00a0x"
            field_type: job
            value_type: short_text
    """})
    assert problems(tmp_path, monkeypatch) == [
        "a.yaml:3:5: $.custom_fields[0].key: key must not be empty or contain spaces",
    ]


def test_a_previously_name_equal_after_normalisation_to_another_name_is_ambiguous(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"a.yaml": 'candidate_tags:\n  - "Caf\\u00e9"\n  - name: Bistro\n    previously: "Cafe\\u0301"\n'})
    assert problems(tmp_path, monkeypatch) == [
        'a.yaml:4:5: $.candidate_tags[1].previously: previously name "Cafe\u0301" is the name of another '
        "candidate tag (at a.yaml:2:5); the rename would be ambiguous",
    ]
