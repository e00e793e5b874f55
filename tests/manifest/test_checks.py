"""Semantic checks beyond the corpus: what must pass offline, and the less common ways to fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import load_ok, problems, write


def test_a_parent_that_no_manifest_names_is_fine_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"a.yaml": "departments:\n  - name: Platform\n    parent: Engineering\n"})
    assert load_ok(tmp_path, monkeypatch).count()["departments"] == 1


def test_parents_by_name_or_external_id_form_a_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path,
        {
            "a.yaml": """
            departments:
              - {name: Engineering, external_id: ENG, parent: null}
              - {name: Platform, external_id: ENG-PLAT, parent: ENG}
              - {name: Infrastructure, parent: Platform}
              - {name: ENG-PLAT-2, external_id: ENG-PLAT-2, parent: ENG-PLAT}
            """
        },
    )
    assert load_ok(tmp_path, monkeypatch).count()["departments"] == 4


def test_a_reference_to_a_renamed_away_name_is_refused_wherever_it_appears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "org.yaml": """
            departments:
              - name: Sales North America
                previously: Sales NA
            offices:
              - name: New York City
                previously: [New York]
            custom_fields:
              - name: Quota
                field_type: job
                value_type: number
                departments: [Sales NA]
            users:
              - email: raj@acme.example
                offices: [New York]
                future_job_permissions:
                  - {role: Standard, department: Sales NA, office: New York City}
            """
        },
    )
    assert problems(tmp_path, monkeypatch) == [
        'org.yaml:11:19: $.custom_fields[0].departments[0]: department "Sales NA" is the previous name of department '
        '"Sales North America" (at org.yaml:2:5): refer to its new name',
        'org.yaml:14:15: $.users[0].offices[0]: office "New York" is the previous name of office "New York City" '
        "(at org.yaml:5:5): refer to its new name",
        'org.yaml:16:26: $.users[0].future_job_permissions[0].department: department "Sales NA" is the previous name '
        'of department "Sales North America" (at org.yaml:2:5): refer to its new name',
    ]


def test_previously_may_not_repeat_the_own_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"a.yaml": "candidate_tags:\n  - {name: Alumni, previously: [Boomerang, Alumni]}\n"})
    assert problems(tmp_path, monkeypatch) == [
        'a.yaml:2:44: $.candidate_tags[0].previously[1]: previously lists the candidate tag\'s own name "Alumni"'
    ]


def test_an_option_rename_colliding_with_another_option_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "a.yaml": """
            custom_fields:
              - name: Seniority
                field_type: job
                value_type: single_select
                options:
                  - Junior
                  - {name: Senior, previously: [Junior]}
            """
        },
    )
    assert problems(tmp_path, monkeypatch) == [
        'a.yaml:7:37: $.custom_fields[0].options[1].previously[0]: previously name "Junior" is the name of another '
        "option (at a.yaml:6:9); the rename would be ambiguous"
    ]


def test_the_same_field_name_under_different_field_types_is_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "a.yaml": """
            custom_fields:
              - {name: Notes, field_type: job, value_type: long_text}
              - {name: Notes, field_type: candidate, value_type: long_text}
            """
        },
    )
    assert load_ok(tmp_path, monkeypatch).count()["custom_fields"] == 2


def test_type_specific_keys_follow_the_field_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path,
        {
            "ok.yaml": """
            custom_fields:
              - {name: Budget, field_type: opening, value_type: currency, require_approval: true, private: true}
              - {name: Level, field_type: user_attribute, value_type: single_select, required: true,
                 description: Badge level, options: [Gold, Silver]}
              - {name: Public, field_type: job, value_type: yes_no, expose_in_job_board_api: true,
                 departments: [], offices: []}
            """
        },
    )
    assert load_ok(tmp_path, monkeypatch).count()["custom_fields"] == 3
    write(
        tmp_path,
        {
            "ok.yaml": """
            custom_fields:
              - {name: Budget, field_type: opening, value_type: currency, expose_in_job_board_api: true}
              - {name: Level, field_type: user_attribute, value_type: short_text, departments: [Sales]}
            """
        },
    )
    assert problems(tmp_path, monkeypatch) == [
        "ok.yaml:2:63: $.custom_fields[0].expose_in_job_board_api: expose_in_job_board_api is not accepted on "
        "opening fields (only on job fields)",
        "ok.yaml:3:71: $.custom_fields[1].departments: departments is not accepted on user_attribute fields "
        "(they accept only name, key, description and required)",
    ]


def test_grants_differing_in_scope_or_job_are_distinct_but_a_job_id_and_its_string_are_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "a.yaml": """
            users:
              - email: jane@acme.example
                job_permissions:
                  - {job: REQ-1001, role: Standard}
                  - {job: 400, role: Standard}
                future_job_permissions:
                  - {role: Standard}
                  - {role: Standard, department: Platform}
                  - {role: Standard, office: Platform}
                  - {role: Private, department: Platform}
            """
        },
    )
    assert load_ok(tmp_path, monkeypatch).count()["users"] == 1
    write(tmp_path, {"a.yaml": 'users:\n  - email: jane@acme.example\n    job_permissions:\n'
                               '      - {job: 400, role: Standard}\n      - {job: "400", role: Private}\n'})  # fmt: skip
    assert problems(tmp_path, monkeypatch) == [
        'a.yaml:5:10: $.users[0].job_permissions[1].job: duplicate job_permissions entry for job "400" '
        "(same as 400 at a.yaml:4:10)"
    ]


def test_enforce_is_allowed_where_the_api_can_delete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"p.yaml": "policy:\n  prune: {candidate_tags: enforce, custom_fields: enforce, users: off}\n"})
    prune = load_ok(tmp_path, monkeypatch).policy.prune
    assert (prune["candidate_tags"], prune["custom_fields"], prune["users"]) == ("enforce", "enforce", "off")


def test_option_problems_are_located_at_their_own_option_when_indexes_share_digits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """options[1] and options[11]: each option's locations are its own, not those of an index prefix."""
    options = "\n".join(f"      - {{name: O{j}, external_id: X{j if j != 11 else 1}}}" for j in range(12))
    write(tmp_path, {"a.yaml": f"custom_fields:\n  - name: F\n    field_type: job\n    value_type: single_select\n"
                               f"    options:\n{options}\n"})  # fmt: skip
    assert problems(tmp_path, monkeypatch) == [
        'a.yaml:17:21: $.custom_fields[0].options[11].external_id: duplicate option external_id "X1" '
        "(first at a.yaml:7:20)"
    ]


def test_a_long_parent_chain_without_a_cycle_passes_and_a_cycle_at_its_end_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = "\n".join(f"  - {{name: D{i}, parent: {f'D{i - 1}' if i else 'null'}}}" for i in range(300))
    write(tmp_path, {"a.yaml": f"departments:\n{chain}\n"})
    assert load_ok(tmp_path, monkeypatch).count()["departments"] == 300
    write(tmp_path, {"a.yaml": f"departments:\n{chain}\n  - {{name: X, parent: Y}}\n  - {{name: Y, parent: X}}\n"})
    assert problems(tmp_path, monkeypatch) == [
        'a.yaml:302:15: $.departments[300].parent: department parents form a cycle: "X" -> "Y" -> "X"'
    ]
