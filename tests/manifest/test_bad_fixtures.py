"""The bad-input corpus: one fixture per mistake under tests/fixtures/bad/, each with its exact message.

Every fixture must produce exactly the one located problem listed here (file:line:col: $.path and the
words), so a message that regresses into jargon, moves to the wrong line, or multiplies into several
complaints for one mistake fails its own named test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest import load

BAD = Path(__file__).resolve().parents[1] / "fixtures" / "bad"

#: (fixture, where, message): the single problem each fixture must produce.
CASES: list[tuple[str, str, str]] = [
    ('alias-bomb.yaml', 'alias-bomb.yaml',
     'YAML aliases would add 490329036 values (the limit is 10000): refusing a possible alias bomb; write the values out'),
    ('ambiguous-parent.yaml', 'ambiguous-parent.yaml:6:5: $.departments[2].parent',
     'parent "ENG" matches more than one department: "ENG" at ambiguous-parent.yaml:2:5 and "Engineering" at ambiguous-parent.yaml:3:5'),
    ('bad-email.yaml', 'bad-email.yaml:2:5: $.users[0].email',
     '"jane.acme.example" is not an email address'),
    ('bad-field-type.yaml', 'bad-field-type.yaml:3:5: $.custom_fields[0].field_type',
     'invalid field_type "jobs" (did you mean "job"?); allowed: job, opening, standard, offer, compensation_frequency, candidate, referral_question, application, rejection_question, form, agency_question, user_attribute'),
    ('bad-indentation.yaml', 'bad-indentation.yaml:3:4',
     "YAML syntax error: expected <block end>, but found '<block mapping start>'; check the indentation (while parsing a block collection at line 2, column 3)"),
    ('bad-limits-negative.yaml', 'bad-limits-negative.yaml:3:5: $.policy.limits.max_deletes',
     'max_deletes must be at least 0, got -5'),
    ('bad-limits-percent.yaml', 'bad-limits-percent.yaml:3:5: $.policy.limits.max_change_percent',
     'max_change_percent must be at most 100, got 150'),
    ('bad-limits-type.yaml', 'bad-limits-type.yaml:3:5: $.policy.limits.max_deletes',
     'expected a whole number, got the string "ten"'),
    ('bad-prune-mode.yaml', 'bad-prune-mode.yaml:3:5: $.policy.prune.candidate_tags',
     'invalid prune mode "enforced" (did you mean "enforce"?); allowed: off, report, enforce'),
    ('bad-value-type.yaml', 'bad-value-type.yaml:4:5: $.custom_fields[0].value_type',
     'invalid value_type "singleselect" (did you mean "single_select"?); allowed: short_text, long_text, yes_no, single_select, multi_select, currency, currency_range, number, number_range, date, url, user, attachment'),
    ('blank-tag.yaml', 'blank-tag.yaml:3:5: $.candidate_tags[1]',
     'name must not be empty or blank'),
    ('cross-file-duplicate', 'cross-file-duplicate/b-more-tags.yaml:3:5: $.candidate_tags[1].name',
     'duplicate candidate tag "Boomerang" (first at cross-file-duplicate/a-tags.yaml:3:5)'),
    ('custom-tag.yaml', 'custom-tag.yaml:3:15: $.offices[0].location',
     'unsupported YAML tag !env: manifests use plain strings, numbers, booleans, lists and mappings'),
    ('department-cycle.yaml', 'department-cycle.yaml:3:5: $.departments[0].parent',
     'department parents form a cycle: "Engineering" -> "Infrastructure" -> "Platform" -> "Engineering"'),
    ('department-own-parent.yaml', 'department-own-parent.yaml:4:5: $.departments[0].parent',
     'department parents form a cycle: "Platform" -> "Platform"'),
    ('duplicate-custom-field-key.yaml', 'duplicate-custom-field-key.yaml:7:5: $.custom_fields[1].key',
     'duplicate custom field key "cost_center" (first at duplicate-custom-field-key.yaml:3:5)'),
    ('duplicate-custom-field-name.yaml', 'duplicate-custom-field-name.yaml:5:5: $.custom_fields[1].name',
     'duplicate custom field name "Seniority" (first at duplicate-custom-field-name.yaml:2:5; names are unique within a field_type)'),
    ('duplicate-department-external-id.yaml', 'duplicate-department-external-id.yaml:5:5: $.departments[1].external_id',
     'duplicate department external_id "ENG" (first at duplicate-department-external-id.yaml:3:5)'),
    ('duplicate-department-name.yaml', 'duplicate-department-name.yaml:4:5: $.departments[1].name',
     'duplicate department name "Engineering" (first at duplicate-department-name.yaml:2:5; departments may '
     'share a name only when each has an external_id or an id)'),
    ('duplicate-employee-id.yaml', 'duplicate-employee-id.yaml:5:5: $.users[1].employee_id',
     'duplicate employee_id "E-1002" (first at duplicate-employee-id.yaml:3:5)'),
    ('duplicate-future-job-permission.yaml', 'duplicate-future-job-permission.yaml:7:9: $.users[0].future_job_permissions[2]',
     'duplicate future job permission (role "Standard", department "Sales", office null; first at duplicate-future-job-permission.yaml:4:9)'),
    ('duplicate-job-permission.yaml', 'duplicate-job-permission.yaml:6:9: $.users[0].job_permissions[1].job',
     'duplicate job_permissions entry for job "REQ-1001" (first at duplicate-job-permission.yaml:4:9)'),
    ('duplicate-key.yaml', 'duplicate-key.yaml:4:5: $.departments[0].name',
     'duplicate key "name" (first at line 2, column 5); YAML would silently keep only the last'),
    ('duplicate-office-name.yaml', 'duplicate-office-name.yaml:4:5: $.offices[2].name',
     'duplicate office name "London" (first at duplicate-office-name.yaml:2:5)'),
    ('duplicate-option-external-id.yaml', 'duplicate-option-external-id.yaml:10:9: $.custom_fields[0].options[1].external_id',
     'duplicate option external_id "100" (first at duplicate-option-external-id.yaml:8:9)'),
    ('duplicate-option.yaml', 'duplicate-option.yaml:6:36: $.custom_fields[0].options[3].name',
     'duplicate option name "Mid" (first at duplicate-option.yaml:6:23)'),
    ('duplicate-scoping-department.yaml', 'duplicate-scoping-department.yaml:5:5: $.custom_fields[0].departments',
     'departments lists "Engineering" more than once'),
    ('duplicate-section-key.yaml', 'duplicate-section-key.yaml:5:1: $.candidate_tags',
     'duplicate key "candidate_tags" (first at line 1, column 1); YAML would silently keep only the last'),
    ('duplicate-tag.yaml', 'duplicate-tag.yaml:4:5: $.candidate_tags[2].name',
     'duplicate candidate tag "Referral" (first at duplicate-tag.yaml:2:5)'),
    ('duplicate-user-email-case.yaml', 'duplicate-user-email-case.yaml:3:5: $.users[1].email',
     'duplicate user email "Jane@Acme.Example" (same as "jane@acme.example" at duplicate-user-email-case.yaml:2:5; emails are case-insensitive)'),
    ('empty-name.yaml', 'empty-name.yaml:2:5: $.departments[0].name',
     'name must not be empty or blank'),
    ('enforce-on-departments.yaml', 'enforce-on-departments.yaml:4:5: $.policy.prune.departments',
     'prune: enforce is not possible for departments: the API cannot delete them (use report or off)'),
    ('enforce-on-users.yaml', 'enforce-on-users.yaml:3:5: $.policy.prune.users',
     'prune: enforce is not possible for users: the API cannot delete them (use report or off); deactivate users by listing them with active: false'),
    ('invalid-explicit-int.yaml', 'invalid-explicit-int.yaml:3:18: $.policy.limits.max_deletes',
     '"ten" is not a valid !!int'),
    ('job-permission-missing-role.yaml', 'job-permission-missing-role.yaml:4:9: $.users[0].job_permissions[0]',
     'missing required key "role"'),
    ('key-with-spaces.yaml', 'key-with-spaces.yaml:3:5: $.custom_fields[0].key',
     'key must not be empty or contain spaces'),
    ('merge-key.yaml', 'merge-key.yaml:5:5: $.departments[1]',
     'merge keys (<<) are not supported: write the keys out'),
    ('missing-user-email.yaml', 'missing-user-email.yaml:2:5: $.users[0]',
     'missing required key "email"'),
    ('missing-value-type.yaml', 'missing-value-type.yaml:2:5: $.custom_fields[0]',
     'missing required key "value_type"'),
    ('multiple-documents.yaml', 'multiple-documents.yaml:3:1',
     'a manifest file holds one YAML document; remove the extra "---"'),
    ('non-utf8.yaml', 'non-utf8.yaml:3:8',
     'not valid UTF-8 (byte 0xe9): manifests must be saved as UTF-8'),
    ('office-cycle-by-external-id.yaml', 'office-cycle-by-external-id.yaml:4:5: $.offices[0].parent',
     'office parents form a cycle: "Europe" -> "London" -> "Europe"'),
    ('options-on-yes-no.yaml', 'options-on-yes-no.yaml:6:5: $.custom_fields[0].options',
     "options are only for single_select and multi_select fields (this field's value_type is yes_no)"),
    ('parent-is-old-name.yaml', 'parent-is-old-name.yaml:7:5: $.departments[2].parent',
     'parent "Sales NA" is the previous name of department "Sales North America" (at parent-is-old-name.yaml:3:5): refer to its new name'),
    ('policy-set-twice', 'policy-set-twice/team.yaml:3:5: $.policy.limits.max_deletes',
     'policy.limits.max_deletes is set twice (also at policy-set-twice/limits.yaml:3:5)'),
    ('previously-claimed-twice.yaml', 'previously-claimed-twice.yaml:5:18: $.offices[1].previously[0]',
     'previously name "New York" is also claimed by office "New York City" (at previously-claimed-twice.yaml:2:5)'),
    ('previously-collides-with-name.yaml', 'previously-collides-with-name.yaml:4:18: $.departments[1].previously[0]',
     'previously name "Platform" is the name of another department (at previously-collides-with-name.yaml:2:5); the rename would be ambiguous'),
    ('protect-empty-string.yaml', 'protect-empty-string.yaml:3:40: $.policy.protect.candidate_tags[1]',
     'a list item must not be empty or blank'),
    ('recursive-alias.yaml', 'recursive-alias.yaml:1:14',
     'recursive YAML alias: a value contains itself'),
    ('require-approval-on-offer.yaml', 'require-approval-on-offer.yaml:6:5: $.custom_fields[0].require_approval',
     'require_approval is not accepted on offer fields (only on job and opening fields)'),
    ('section-empty-null.yaml', 'section-empty-null.yaml:2:1: $.candidate_tags',
     'expected a list, got null (nothing) (write [] for an empty list)'),
    ('section-not-a-list.yaml', 'section-not-a-list.yaml:1:1: $.departments',
     'expected a list, got a mapping'),
    ('syntax-unclosed-bracket.yaml', 'syntax-unclosed-bracket.yaml:4:1',
     "YAML syntax error: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence at line 3, column 18)"),
    ('tab-indentation.yaml', 'tab-indentation.yaml:3:1',
     'YAML syntax error: a tab character here; use spaces (YAML forbids tabs in indentation)'),
    ('tag-previously-collides.yaml', 'tag-previously-collides.yaml:4:18: $.candidate_tags[1].previously[0]',
     'previously name "Referral" is the name of another candidate tag (at tag-previously-collides.yaml:2:5); the rename would be ambiguous'),
    ('top-level-list.yaml', 'top-level-list.yaml:1:1: $',
     'expected a mapping, got a list'),
    ('trigger-new-version-on-job.yaml', 'trigger-new-version-on-job.yaml:5:5: $.custom_fields[0].trigger_new_version',
     'trigger_new_version is not accepted on job fields (only on offer fields)'),
    ('unknown-key-near-miss.yaml', 'unknown-key-near-miss.yaml:2:5: $.departments[0].nmae',
     'unknown key "nmae" (did you mean "name"?)'),
    ('unknown-key-no-suggestion.yaml', 'unknown-key-no-suggestion.yaml:3:5: $.offices[0].timezone',
     'unknown key "timezone" (allowed: name, id, external_id, parent, location, primary_contact, previously)'),
    ('unknown-policy-key.yaml', 'unknown-policy-key.yaml:2:3: $.policy.protct',
     'unknown key "protct" (did you mean "protect"?)'),
    ('unknown-prune-section.yaml', 'unknown-prune-section.yaml:3:5: $.policy.prune.candidate_tag',
     'unknown key "candidate_tag" (did you mean "candidate_tags"?)'),
    ('unknown-section.yaml', 'unknown-section.yaml:1:1: $.deparments',
     'unknown section "deparments" (did you mean "departments"?)'),
    ('unquoted-number-option.yaml', 'unquoted-number-option.yaml:8:9: $.custom_fields[0].options[1]',
     'expected a string or a mapping, got the number 200 (quote it: "200")'),
    ('unsafe-python-tag.yaml', 'unsafe-python-tag.yaml:2:5: $.candidate_tags[0]',
     'unsafe YAML tag !!python/object/apply:os.system refused: manifests are plain data and never construct objects'),
    ('user-attribute-private.yaml', 'user-attribute-private.yaml:6:5: $.custom_fields[0].private',
     'private is not accepted on user_attribute fields (they accept only name, key, description and required)'),
    ('version-as-string.yaml', 'version-as-string.yaml:1:1: $.version',
     'version must be the number 1, not the string "1" (write version: 1, without quotes)'),
    ('wrong-type-boolean.yaml', 'wrong-type-boolean.yaml:3:5: $.users[0].active',
     'expected true or false, got the string "yes please"'),
    ('name-trailing-space.yaml', 'name-trailing-space.yaml:2:5: $.candidate_tags[0]',
     'name "Referral " has a trailing space; remove it'),
    ('name-invisible-character.yaml', 'name-invisible-character.yaml:2:5: $.departments[0].name',
     'name "Sales\\u200bEMEA" contains an invisible zero width space (U+200B); remove it'),
    ('name-control-character.yaml', 'name-control-character.yaml:2:5: $.offices[0].name',
     'name "London\\tUK" contains a tab (\\t); remove it'),
    ('name-nfc-duplicate.yaml', 'name-nfc-duplicate.yaml:3:5: $.candidate_tags[1].name',
     'duplicate candidate tag "Cafe\u0301" (same as "Caf\\u00e9" at name-nfc-duplicate.yaml:2:5, written here as '
     '"Cafe\\u0301": the two display alike and differ only in how accents are encoded (Unicode normalisation); '
     'retype one)'),
    ('escape-beyond-unicode.yaml', 'escape-beyond-unicode.yaml:2:6',
     'YAML syntax error: the escape \\U00110000 is beyond the last Unicode character (U+10FFFF)'),
    ('escape-lone-surrogate.yaml', 'escape-lone-surrogate.yaml:2:5',
     'YAML syntax error: a \\u escape in this string is half of a UTF-16 surrogate pair, not a character: write the '
     'character itself (or its \\U0001xxxx escape)'),
    ('quoted-number.yaml', 'quoted-number.yaml:3:5: $.policy.limits.max_deletes',
     'expected a whole number, got the string "5" (write 5, without quotes)'),
    ('wrong-version.yaml', 'wrong-version.yaml:1:1: $.version',
     'unsupported manifest version 2: this program reads version 1 (write version: 1)'),
]


@pytest.mark.parametrize(("fixture", "where", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_fixture_is_refused_with_its_located_message(
    fixture: str, where: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(BAD)  # paths are shown as given: relative here
    with pytest.raises(ManifestError) as caught:
        load([fixture])
    assert [(p.where, p.message) for p in caught.value.problems] == [(where, message)]
    assert str(caught.value) == f"{where}: {message}"


def test_every_fixture_in_the_corpus_has_a_case() -> None:
    on_disk = {p.name for p in BAD.iterdir()}
    assert on_disk == {c[0] for c in CASES}
    assert len(CASES) >= 40
