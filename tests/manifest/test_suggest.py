"""Did-you-mean suggestions rank by similarity the way a person would (issue 10, item 7)."""

from __future__ import annotations

import pytest

from reconciler.manifest.text import did_you_mean, suggest

ONE_COMPOSER = True  # no YAML is read here


@pytest.mark.parametrize(
    ("word", "choices", "expected"),
    [
        # ids: one edit beats two, whatever a block-matching ratio says
        ("REQ-0001", ["REQ-2000", "REQ-1001"], "REQ-1001"),
        ("REQ-0001", ["REQ-2000"], "REQ-2000"),  # two edits in eight characters: still close enough
        ("REQ-0001", ["REQ-2222"], None),
        ("REQ-1010", ["REQ-1001", "REQ-1100", "REQ-0110", "REQ-1110"], "REQ-0110"),  # swaps: 1 edit; then alphabetical
        # keys and words
        ("nmae", ["name", "parent", "previously"], "name"),
        ("Enginering", ["Engineering", "Marketing"], "Engineering"),
        ("custom_feilds", ["custom_fields", "candidate_tags"], "custom_fields"),
        ("singel_select", ["single_select", "multi_select"], "single_select"),
        ("max_delete", ["max_deletes", "max_change_percent"], "max_deletes"),
        ("timezone", ["name", "external_id", "parent", "location"], None),
        # case differences are the closest of all; among them the fewest case changes win
        ("london", ["Londres", "London"], "London"),
        ("LONDON", ["London", "LONDON OFFICE"], "London"),
        ("sales emea", ["Sales EMEA", "Sales NA"], "Sales EMEA"),
        ("Sales emea", ["SALES EMEA", "Sales EMEA"], "Sales EMEA"),
        # emails
        ("raj.patel@exampel.com", ["raj.patel@example.com", "raj.patil@example.com"], "raj.patel@example.com"),
        ("Raj.Patel@Example.com", ["ann@example.com", "raj.patel@example.com"], "raj.patel@example.com"),
        ("ann@example.com", ["anne@example.org", "bob@example.com"], None),
        # ties on distance go to the longer shared start and end
        ("Standrad", ["Standard", "Stanbrad"], "Standard"),
        ("Sales-West", ["Sales West", "Sale-West"], "Sales West"),
        # short words: only a case difference
        ("ab", ["ac", "b"], None),
        ("x", ["X", "y"], "X"),
        ("", ["a"], None),
        # nothing to choose from, or nothing near
        ("name", [], None),
        ("Support", ["Engineering", "Sales"], None),
    ],
)
def test_suggest_offers_what_a_person_would(word: str, choices: list[str], expected: str | None) -> None:
    assert suggest(word, choices) == expected


def test_suggest_ignores_non_strings_and_is_order_independent() -> None:
    choices: list[object] = [1001, None, "REQ-2000", "REQ-1001"]
    assert suggest("REQ-0001", choices) == "REQ-1001"  # type: ignore[arg-type]
    assert suggest("REQ-0001", list(reversed(choices))) == "REQ-1001"  # type: ignore[arg-type]


def test_did_you_mean_wording() -> None:
    assert did_you_mean("nmae", ["name"]) == ' (did you mean "name"?)'
    assert did_you_mean("zzz", ["name"]) == ""


def test_a_large_pool_is_searched_quickly_enough_to_be_correct() -> None:
    """100k live names (a large organisation): the nearest is found (the bounds must not lose it)."""
    pool = [f"Department {i:06d}" for i in range(100_000)]
    assert suggest("Departmnet 000123", pool) == "Department 000123"
    assert suggest("Department 0001234", pool) == "Department 000123"
