"""The loader: which files it reads, how it merges them, what Entry.data holds, and where things are."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.manifest import Limits, Source
from reconciler.resources.registry import REGISTRY

from .helpers import load_ok, problems, write

SECTIONS = REGISTRY.views.sections

# --- which files -------------------------------------------------------------------------------------


def test_a_directory_is_read_recursively_sorted_and_only_yaml_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "org/b.yaml": "candidate_tags: [B]\n",
            "org/a.yml": "candidate_tags: [A]\n",
            "org/sub/c.yaml": "candidate_tags: [C]\n",
            "org/notes.txt": "not: [yaml",
            "org/seed.json": "{not json",
        },
    )
    manifest = load_ok(tmp_path, monkeypatch, "org")
    assert manifest.files == ("org/a.yml", "org/b.yaml", "org/sub/c.yaml")
    assert [e.data["name"] for e in manifest.entries["candidate_tags"]] == ["A", "B", "C"]


def test_hidden_directories_and_files_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path,
        {
            "tags.yaml": "candidate_tags: [Referral]\n",
            ".github/workflows/ci.yml": "on: [push]\n",
            ".hidden.yaml": "nonsense: true\n",
        },
    )
    assert load_ok(tmp_path, monkeypatch).files == ("tags.yaml",)


def test_a_file_named_twice_is_read_once_and_an_explicit_file_needs_no_yaml_suffix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"m/tags.yaml": "candidate_tags: [Referral]\n", "extra.manifest": "offices: [{name: London}]\n"})
    manifest = load_ok(tmp_path, monkeypatch, "m", "m/tags.yaml", "extra.manifest")
    assert manifest.files == ("extra.manifest", "m/tags.yaml")
    assert manifest.count()["candidate_tags"] == 1


def test_a_missing_path_and_an_empty_directory_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "empty").mkdir()
    write(tmp_path, {"empty/readme.md": "# nothing here\n"})
    assert problems(tmp_path, monkeypatch, "nope.yaml", "empty") == [
        "empty: no manifest files (*.yaml, *.yml) in this directory",
        "nope.yaml: no such file or directory",
    ]


def test_an_empty_file_and_a_comments_only_file_are_valid_and_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"a.yaml": "", "b.yaml": "# TODO: offices\n"})
    manifest = load_ok(tmp_path, monkeypatch)
    assert manifest.files == ("a.yaml", "b.yaml")
    assert manifest.count() == {s: 0 for s in SECTIONS}
    assert manifest.present == frozenset()


# --- merging -----------------------------------------------------------------------------------------


def test_a_section_split_across_files_is_concatenated_in_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "1-eng.yaml": "departments:\n  - name: Engineering\n  - name: Platform\n    parent: Engineering\n",
            "2-sales.yaml": "version: 1\ndepartments:\n  - name: Sales\n",
        },
    )
    entries = load_ok(tmp_path, monkeypatch).entries["departments"]
    assert [e.data["name"] for e in entries] == ["Engineering", "Platform", "Sales"]
    assert [str(e.source) for e in entries] == [
        "1-eng.yaml:2:5: $.departments[0]",
        "1-eng.yaml:3:5: $.departments[1]",
        "2-sales.yaml:3:5: $.departments[0]",
    ]


def test_present_lists_sections_mentioned_even_when_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"a.yaml": "candidate_tags: []\nusers:\n  - email: jane@acme.example\n"})
    manifest = load_ok(tmp_path, monkeypatch)
    assert manifest.present == frozenset({"candidate_tags", "users"})
    assert set(manifest.entries) == set(SECTIONS)
    assert manifest.entries["departments"] == ()


def test_policy_defaults_when_no_file_sets_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"a.yaml": "candidate_tags: [Referral]\n"})
    policy = load_ok(tmp_path, monkeypatch).policy
    assert dict(policy.prune) == {s: "report" for s in SECTIONS}
    assert dict(policy.protect) == {s: () for s in SECTIONS}
    assert policy.limits == Limits(max_deletes=10, max_change_percent=30.0)


def test_policy_blocks_from_several_files_are_merged_with_their_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "a.yaml": "policy:\n  prune:\n    candidate_tags: enforce\n  protect:\n    users: [cto@acme.example]\n",
            "b.yaml": "policy:\n  protect:\n    users: [admin@acme.example]\n  limits:\n    max_change_percent: 12.5\n",
        },
    )
    policy = load_ok(tmp_path, monkeypatch).policy
    assert policy.prune["candidate_tags"] == "enforce"
    assert policy.prune["custom_fields"] == "report"
    assert policy.protect["users"] == ("cto@acme.example", "admin@acme.example")
    assert policy.limits == Limits(max_deletes=10, max_change_percent=12.5)
    assert str(policy.sources["prune.candidate_tags"]) == "a.yaml:3:5: $.policy.prune.candidate_tags"
    assert str(policy.sources["protect.users[1]"]) == "b.yaml:3:13: $.policy.protect.users[0]"
    assert str(policy.sources["limits.max_change_percent"]) == "b.yaml:5:5: $.policy.limits.max_change_percent"


# --- Entry.data normalisation --------------------------------------------------------------------------


def test_shorthand_tags_and_options_are_expanded_and_previously_becomes_a_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "a.yaml": """
            candidate_tags:
              - Referral
              - name: Alumni
                previously: Boomerang
            custom_fields:
              - name: Seniority
                field_type: job
                value_type: single_select
                previously: Level
                options:
                  - Junior
                  - name: Senior
                    external_id: S
                    previously: Sr
            """
        },
    )
    manifest = load_ok(tmp_path, monkeypatch)
    assert [dict(e.data) for e in manifest.entries["candidate_tags"]] == [
        {"name": "Referral"},
        {"name": "Alumni", "previously": ["Boomerang"]},
    ]
    field = manifest.entries["custom_fields"][0].data
    assert field["previously"] == ["Level"]
    assert field["options"] == [{"name": "Junior"}, {"name": "Senior", "external_id": "S", "previously": ["Sr"]}]


def test_only_written_keys_are_present_and_null_parent_stays_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "a.yaml": """
            departments:
              - name: Engineering
                parent: null
              - name: Platform
            """
        },
    )
    top, unmanaged = load_ok(tmp_path, monkeypatch).entries["departments"]
    assert dict(top.data) == {"name": "Engineering", "parent": None}
    assert dict(unmanaged.data) == {"name": "Platform"}


def test_user_emails_keep_their_case_and_job_ids_their_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path,
        {
            "a.yaml": """
            users:
              - email: Jane.Doe@Acme.example
                job_permissions:
                  - {job: 400, role: Standard}
                  - {job: REQ-1001, role: Standard}
            """
        },
    )
    user = load_ok(tmp_path, monkeypatch).entries["users"][0].data
    assert user["email"] == "Jane.Doe@Acme.example"
    assert user["job_permissions"] == [{"job": 400, "role": "Standard"}, {"job": "REQ-1001", "role": "Standard"}]


def test_yaml_keys_are_the_text_written_and_date_like_names_stay_strings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"a.yaml": "candidate_tags:\n  - 2026-01-15\n  - name: 2025-grad\n"})
    tags = load_ok(tmp_path, monkeypatch).entries["candidate_tags"]
    assert [t.data["name"] for t in tags] == ["2026-01-15", "2025-grad"]
    write(tmp_path, {"a.yaml": "departments:\n  - name: Legal\n    no: 1\n"})
    assert problems(tmp_path, monkeypatch) == [
        'a.yaml:3:5: $.departments[0].no: unknown key "no" (allowed: name, id, external_id, parent, previously)'
    ]


def test_aliases_within_the_budget_are_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path,
        {
            "a.yaml": """
            users:
              - email: a@acme.example
                future_job_permissions: &recruiting
                  - {role: Standard, department: People}
              - email: b@acme.example
                future_job_permissions: *recruiting
            """
        },
    )
    users = load_ok(tmp_path, monkeypatch).entries["users"]
    assert users[1].data["future_job_permissions"] == [{"role": "Standard", "department": "People"}]
    assert users[0].data["future_job_permissions"] is not users[1].data["future_job_permissions"]


# --- locations ---------------------------------------------------------------------------------------


def test_every_nested_value_keeps_its_file_line_and_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path,
        {
            "org/fields.yaml": """
            custom_fields:
              - name: Seniority
                field_type: job
                value_type: single_select
                options: [Junior, Mid]
            users:
              - email: jane@acme.example
                job_permissions:
                  - job: REQ-1001
                    role: Standard
            """
        },
    )
    manifest = load_ok(tmp_path, monkeypatch, "org")
    field = manifest.entries["custom_fields"][0]
    assert field.source == Source("org/fields.yaml", 2, 5, "$.custom_fields[0]")
    assert str(field.at("options")) == "org/fields.yaml:5:5: $.custom_fields[0].options"
    assert str(field.at("options[1]")) == "org/fields.yaml:5:23: $.custom_fields[0].options[1]"
    assert str(field.at("options[1].name")) == "org/fields.yaml:5:23: $.custom_fields[0].options[1].name"
    user = manifest.entries["users"][0]
    assert str(user.at("job_permissions[0].job")) == "org/fields.yaml:9:9: $.users[0].job_permissions[0].job"
    assert str(user.at("job_permissions[0].role")) == "org/fields.yaml:10:9: $.users[0].job_permissions[0].role"
    # an unwritten path falls back to its nearest written ancestor
    assert user.at("job_permissions[0].nothing") == user.at("job_permissions[0]")
    assert user.at("offices") == user.source


def test_a_tag_written_as_a_string_is_located_at_the_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"t.yaml": "candidate_tags:\n  - Referral\n  -   Boomerang\n"})
    tag = load_ok(tmp_path, monkeypatch).entries["candidate_tags"][1]
    assert str(tag.source) == "t.yaml:3:7: $.candidate_tags[1]"
    assert str(tag.at("name")) == "t.yaml:3:7: $.candidate_tags[1].name"


def test_a_utf8_byte_order_mark_is_accepted_without_shifting_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"bom.yaml": "\ufeffoffices:\n  - name: Zürich\n".encode()})
    office = load_ok(tmp_path, monkeypatch).entries["offices"][0]
    assert office.data["name"] == "Zürich"
    assert str(office.source) == "bom.yaml:2:5: $.offices[0]"


# --- digest --------------------------------------------------------------------------------------------


def test_the_digest_identifies_the_file_set_and_contents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"m/a.yaml": "candidate_tags: [Referral]\n"})
    first = load_ok(tmp_path, monkeypatch, "m").digest
    assert load_ok(tmp_path, monkeypatch, "m").digest == first
    write(tmp_path, {"m/a.yaml": "candidate_tags: [Referral] \n"})
    changed = load_ok(tmp_path, monkeypatch, "m").digest
    assert changed != first
    (tmp_path / "m" / "a.yaml").rename(tmp_path / "m" / "b.yaml")
    assert load_ok(tmp_path, monkeypatch, "m").digest != changed
    assert len(first) == 64


# --- reporting ---------------------------------------------------------------------------------------


def test_problems_from_every_file_are_reported_together_ranked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "a-semantic.yaml": "candidate_tags: [Referral, Referral]\n",
            "b-schema.yaml": "offices:\n  - name: London\n    locaton: London, UK\n",
            "c-syntax.yaml": "departments:\n  - name: [Engineering\n",
            "d-file.yaml": b"\x00\x01binary",
        },
    )
    lines = problems(tmp_path, monkeypatch)
    assert lines == [
        "d-file.yaml: binary file (it contains NUL bytes), not a YAML manifest",
        "c-syntax.yaml:3:1: YAML syntax error: expected ',' or ']', but got '<stream end>'"
        " (while parsing a flow sequence at line 2, column 11)",
        'b-schema.yaml:3:5: $.offices[0].locaton: unknown key "locaton" (did you mean "location"?)',
        'a-semantic.yaml:1:28: $.candidate_tags[1].name: duplicate candidate tag "Referral" (first at a-semantic.yaml:1:18)',
    ]


def test_an_item_with_a_schema_error_keeps_its_good_keys_in_the_semantic_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One schema error of an item no longer hides the item's other problems (issue 10, item 7)."""
    write(
        tmp_path,
        {
            "a.yaml": """
            departments:
              - name: Engineering
              - name: Engineering
                parent: [Sales]
            """
        },
    )
    assert problems(tmp_path, monkeypatch) == [
        "a.yaml:4:5: $.departments[1].parent: expected a string, a whole number or null, got a list",
        'a.yaml:3:5: $.departments[1].name: duplicate department name "Engineering" (first at a.yaml:2:5; '
        "departments may share a name only when each has an external_id or an id)",
    ]


def test_an_item_whose_identity_has_a_schema_error_is_left_out_of_the_semantic_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checking it without its external_id would invent a duplicate name (the two may share a name only
    because each has an external id)."""
    write(
        tmp_path,
        {
            "a.yaml": """
            departments:
              - name: Engineering
                external_id: ENG
              - name: Engineering
                external_id: 7
            """
        },
    )
    assert problems(tmp_path, monkeypatch) == [
        'a.yaml:5:5: $.departments[1].external_id: expected a string or null, got the number 7 (quote it: "7")'
    ]


def test_an_item_missing_a_required_key_after_its_bad_keys_are_left_out_is_not_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "a.yaml": """
            departments:
              - name: Engineering
              - name: [Engineering]
                parent: Engineering
            """
        },
    )
    assert problems(tmp_path, monkeypatch) == [
        "a.yaml:3:5: $.departments[1].name: expected a string, got a list",
    ]


def test_every_schema_error_of_a_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path,
        {
            "a.yaml": """
            offices:
              - name: London
                parnt: Europe
              - location: Berlin
              - name: Paris
                primary_contact: nobody
            """
        },
    )
    assert problems(tmp_path, monkeypatch) == [
        'a.yaml:3:5: $.offices[0].parnt: unknown key "parnt" (did you mean "parent"?)',
        'a.yaml:4:5: $.offices[1]: missing required key "name"',
        'a.yaml:6:5: $.offices[2].primary_contact: "nobody" is not an email address',
    ]


def test_a_misspelt_required_key_is_reported_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"a.yaml": "users:\n  - emial: jane@acme.example\n"})
    assert problems(tmp_path, monkeypatch) == [
        'a.yaml:2:5: $.users[0].emial: unknown key "emial" (did you mean "email"?)'
    ]


def test_plain_scalars_follow_yaml_1_2_so_no_and_off_stay_strings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "a.yaml": """
            offices:
              - {name: Oslo, external_id: NO}
            policy:
              prune: {candidate_tags: off}
              limits: {max_deletes: 010}
            """
        },
    )
    manifest = load_ok(tmp_path, monkeypatch)
    assert manifest.entries["offices"][0].data["external_id"] == "NO"
    assert manifest.policy.prune["candidate_tags"] == "off"
    assert manifest.policy.limits.max_deletes == 10


def test_a_yes_for_a_boolean_is_refused_and_a_number_for_a_string_gets_a_quoting_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"a.yaml": "users:\n  - email: a@acme.example\n    active: yes\n    employee_id: 1002\n"})
    assert problems(tmp_path, monkeypatch) == [
        'a.yaml:3:5: $.users[0].active: expected true or false, got the string "yes" (write true or false)',
        'a.yaml:4:5: $.users[0].employee_id: expected a string or null, got the number 1002 (quote it: "1002")',
    ]
