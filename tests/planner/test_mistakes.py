"""Planner rules for mistakes that used to pass in silence (issue 10): unreachable warnings are drift, protect
entries match like an admin reads them and warn when they match nothing, `previously` that cannot apply warns,
near-duplicate names warn, pure reorders count once for max_change_percent, an item's problems are all reported.
"""

from __future__ import annotations

import time

import pytest

from reconciler.errors import PlanError
from reconciler.plan import Plan
from reconciler.planner import build_plan
from reconciler.planner.names import differences, fold, quoted
from reconciler.safety import changed_objects, limit_violations
from tests.builders import dept, field, live, manifest, office, option, user

TAGS = [{"id": 300 + i, "name": n} for i, n in enumerate(["Referral", "Do Not Contact", "Boomerang"])]


def test_fold_equates_case_spaces_and_unicode_forms_only() -> None:
    assert fold("Cafe\u0301") == fold("Café") == fold("  CAFÉ ")
    assert fold("Silver  Medalist") == fold("silver medalist")
    assert fold("Referral") != fold("Referrals")
    assert differences("Cafe\u0301", "Café") == "Unicode form (NFC)"
    assert differences("london", "London") == "letter case"
    assert differences("Referral ", "Referral") == "spaces"
    assert differences("referral ", "Referral") == "letter case and spaces"


def test_quoted_shows_every_invisible_difference() -> None:
    assert quoted("Café") == '"Café"'
    assert quoted("Cafe\u0301") == '"Cafe\\u0301"'
    assert quoted("a\tb") == '"a\\tb"'
    assert quoted("Referral ") == '"Referral "'
    assert quoted('say "hi"') == '"say \\"hi\\""'


# -- protect -------------------------------------------------------------------------------------------


def test_protect_in_another_case_keeps_the_tag_under_enforce_and_says_so() -> None:
    m = manifest(candidate_tags=["Referral", "Boomerang"], prune={"candidate_tags": "enforce"},
                 protect={"candidate_tags": ["do not contact"]})
    plan = build_plan(m, live(candidate_tags=TAGS))
    assert plan.changes == ()
    assert [(u.name, u.protected) for u in plan.unmanaged] == [("Do Not Contact", True)]
    (warning,) = plan.warnings
    assert 'entry "do not contact" differs from "Do Not Contact" only in letter case; it protects it' in warning
    assert not plan.drifted


def test_an_exact_protect_entry_is_silent_and_a_missing_one_warns() -> None:
    m = manifest(candidate_tags=["Referral", "Boomerang"], prune={"candidate_tags": "enforce"},
                 protect={"candidate_tags": ["Do Not Contact", "Do Not Contakt", "Boomerang"]})
    plan = build_plan(m, live(candidate_tags=TAGS))
    assert plan.changes == ()
    assert plan.warnings == ('policy.protect.candidate_tags entry "Do Not Contakt" matches no candidate tag (live '
                             'or in the manifests), so it protects nothing (did you mean "Do Not Contact"?)',)


def test_under_prune_report_unmanaged_objects_are_not_listed_as_protected() -> None:
    plan = build_plan(manifest(candidate_tags=["Referral"], protect={"candidate_tags": ["Do Not Contact"]}),
                      live(candidate_tags=TAGS))
    assert {(u.name, u.protected) for u in plan.unmanaged} == {("Do Not Contact", False), ("Boomerang", False)}


@pytest.mark.parametrize(("section", "entry"), [
    ("users", "nobody@acme.example"), ("departments", "Marketing"), ("offices", "Tokyo"), ("custom_fields", "nope")])
def test_a_protect_entry_of_any_section_that_names_nothing_warns(section: str, entry: str) -> None:
    sections = {"users": [{"email": "ann@acme.example"}], "departments": ["Engineering"], "offices": ["London"],
                "custom_fields": [{"name": "C", "key": "c", "field_type": "job", "value_type": "short_text"}]}
    m = manifest(protect={section: [entry, "ann@acme.example", "Engineering", "London", "c"]},
                 **{section: sections[section]})
    plan = build_plan(m, live(users=[user(1, "ann@acme.example")], departments=[dept(10, "Engineering")],
                              offices=[office(100, "London")],
                              custom_fields=[field(1, "C", "c", value_type="short_text")]))
    assert any(f'entry "{entry}" matches no' in w for w in plan.warnings), plan.warnings


def test_a_protected_user_the_manifest_deactivates_is_drift() -> None:
    m = manifest(users=[{"email": "ann@acme.example", "active": False}], protect={"users": ["ANN@acme.example"]})
    plan = build_plan(m, live(users=[user(1, "ann@acme.example")]))
    assert plan.changes == ()
    assert plan.drifted and len(plan.unreachable) == 1
    assert "is protected (policy.protect.users): not deactivated" in plan.unreachable[0]


# -- previously -------------------------------------------------------------------------------------------


def test_previously_beside_an_existing_new_name_warns_and_names_the_old_object() -> None:
    m = manifest(departments=[{"name": "Sales EMEA", "previously": ["Sales NA"]}])
    plan = build_plan(m, live(departments=[dept(21, "Sales EMEA"), dept(22, "Sales NA")]))
    assert plan.changes == ()
    (warning,) = plan.unreachable
    assert 'previously "Sales NA" is ignored: department "Sales EMEA" already exists (id 21)' in warning
    assert 'live department "Sales NA" (id 22) also still exists' in warning
    assert plan.drifted


def test_previously_that_applies_is_silent() -> None:
    m = manifest(offices=[{"name": "London HQ", "previously": ["London"]}])
    plan = build_plan(m, live(offices=[office(111, "London")]))
    assert [c.fields["name"].after for c in plan.changes] == ["London HQ"]
    assert plan.warnings == ()


def test_previously_of_a_field_and_of_an_option_that_cannot_apply_warn() -> None:
    m = manifest(custom_fields=[{"name": "Level", "previously": ["Seniority"], "key": "level", "field_type": "job",
                                 "value_type": "single_select",
                                 "options": [{"name": "Senior", "previously": ["Sr"]}, "Junior"]}])
    plan = build_plan(m, live(custom_fields=[field(1, "Level", "level"), field(2, "Seniority", "seniority")],
                              custom_field_options=[option(5, 1, "Senior", 1), option(6, 1, "Sr", 2),
                                                    option(7, 1, "Junior", 3)]))
    texts = "\n".join(plan.unreachable)
    assert 'previously "Seniority" is ignored: custom field "Level" already exists (id 1)' in texts
    assert 'live custom field "Seniority" (id 2) also still exists' in texts
    assert 'previously "Sr" is ignored: option "Senior" already exists (id 5)' in texts
    assert ('live custom field "Seniority" (id 2) also still exists and keeps its name; remove `previously`, or '
            "merge the two in Greenhouse") in texts
    assert ('live option "Sr" (id 6) also still exists (it is archived unless listed); remove `previously`'
            in texts)


def test_a_field_and_an_option_rename_that_is_done_are_plain_notes() -> None:
    m = manifest(custom_fields=[{"name": "Level", "previously": ["Seniority"], "key": "level", "field_type": "job",
                                 "value_type": "single_select",
                                 "options": [{"name": "Senior", "previously": ["Sr"]}, "Junior"]}])
    plan = build_plan(m, live(custom_fields=[field(1, "Level", "level")],
                              custom_field_options=[option(5, 1, "Senior", 1), option(7, 1, "Junior", 2)]))
    assert plan.changes == () and plan.unreachable == ()
    texts = "\n".join(plan.warnings)
    assert ('previously "Seniority" names no live custom field of this field_type, so it is ignored: custom field '
            '"Level" already exists (id 1) and is the one this entry manages; the rename is done') in texts
    assert ('custom field "Level": previously "Sr" names no option of the field, so it is ignored: option "Senior" '
            "already exists (id 5) and is the one this entry manages; the rename is done") in texts


def test_a_tag_rename_that_is_done_is_a_plain_note() -> None:
    plan = build_plan(manifest(candidate_tags=[{"name": "Referral", "previously": ["Referal"]}]),
                      live(candidate_tags=TAGS))
    assert plan.changes == () and plan.unreachable == ()
    assert ['previously "Referal" names no live candidate tag, so it is ignored: the rename is done' in w
            for w in plan.warnings] == [True]


# -- near-duplicates ----------------------------------------------------------------------------------------


def test_a_created_tag_that_differs_from_a_live_one_only_in_case_warns_naming_both() -> None:
    plan = build_plan(manifest(candidate_tags=["referral"]), live(candidate_tags=TAGS))
    assert [c.action for c in plan.changes] == ["create"]
    (warning,) = plan.warnings
    assert warning == ('test.yaml:1:1: $.candidate_tags[0]: candidate tag "referral" is created beside live candidate '
                       'tag "Referral" (id 300), which differs only in letter case: if they are meant to be one '
                       "candidate tag, write the name exactly as in Greenhouse")
    assert not plan.unreachable


def test_two_desired_names_that_read_alike_warn_at_the_second() -> None:
    plan = build_plan(manifest(offices=["Caf\u00e9", "Cafe\u0301"]), live())
    (warning,) = plan.warnings
    assert warning.startswith('test.yaml:2:1: $.offices[1]: office "Cafe\\u0301" differs only in Unicode form (NFC) '
                              'from office "Café" at test.yaml:1:1')


def test_a_rename_onto_a_near_duplicate_of_another_live_object_warns() -> None:
    m = manifest(departments=[{"name": "sales", "external_id": "S2"}])
    plan = build_plan(m, live(departments=[dept(20, "Sales"), dept(23, "Sales Ops", external_id="S2")]))
    assert any('department "sales" is the new name of live id 23, beside live department "Sales" (id 20)' in w
               for w in plan.warnings)


def test_a_case_fix_of_the_objects_own_name_is_not_a_near_duplicate() -> None:
    plan = build_plan(manifest(departments=[{"name": "Sales", "external_id": "S"}]),
                      live(departments=[dept(20, "sales", external_id="S")]))
    assert [c.fields["name"].after for c in plan.changes] == ["Sales"]
    assert plan.warnings == ()


def test_near_duplicate_options_of_one_field_warn() -> None:
    m = manifest(custom_fields=[{"name": "C", "key": "c", "field_type": "job", "value_type": "single_select",
                                 "options": ["Full-time", "full-time "]}])
    plan = build_plan(m, live(custom_fields=[field(1, "C", "c")], custom_field_options=[option(5, 1, "Full-time", 1)]))
    assert any('option of custom field "C" "full-time " differs only in letter case and spaces' in w
               for w in plan.warnings)


def test_near_duplicate_checks_are_linear_in_the_names() -> None:
    """50,000 live tags and 50,000 desired ones, every desired one a near-duplicate: a pairwise scan would take
    hours; indexed by fold it is a second or so."""
    n = 50_000
    tags = [{"id": i, "name": f"Tag {i}"} for i in range(n)]
    m = manifest(candidate_tags=[f"tag {i}" for i in range(n)])
    started = time.perf_counter()
    plan = build_plan(m, live(candidate_tags=tags), fingerprints=False)
    assert len(plan.warnings) == n
    assert time.perf_counter() - started < 60


# -- unreachable warnings and errors --------------------------------------------------------------------------


def test_an_email_that_cannot_become_primary_is_an_unreachable_warning() -> None:
    m = manifest(users=[{"email": "raj.patel@acme.example", "employee_id": "E-1003"}])
    plan = build_plan(m, live(users=[user(1003, "raj@acme.example", employee_id="E-1003")]))
    assert plan.changes == () and plan.drifted
    assert plan.unreachable == plan.warnings
    restored = Plan.from_json(plan.to_json())
    assert restored.unreachable == plan.unreachable and restored.drifted


def test_a_custom_field_key_that_cannot_be_set_is_drift() -> None:
    m = manifest(custom_fields=[{"name": "Cost Center", "key": "cost_centre", "field_type": "job",
                                 "value_type": "short_text", "description": "Finance"}])
    plan = build_plan(m, live(custom_fields=[field(200, "Cost Center", "cost_center", value_type="short_text")]))
    assert [w.path for c in plan.changes for w in c.writes] == ["/v3/custom_fields/200"]  # the rest is planned
    (warning,) = plan.unreachable
    assert 'custom field "Cost Center" (id 200) has key "cost_center" in Greenhouse' in warning
    assert 'write key: "cost_center"' in warning


def test_a_new_field_whose_key_the_api_cannot_give_is_drift() -> None:
    m = manifest(custom_fields=[{"name": "New field", "key": "bench_new", "field_type": "job",
                                 "value_type": "short_text"},
                                {"name": "Other", "key": "other", "field_type": "job", "value_type": "short_text"}])
    plan = build_plan(m, live())
    assert [c.action for c in plan.changes] == ["create", "create"]
    (warning,) = plan.unreachable
    assert 'custom field "New field" is created, but POST takes no name_key' in warning
    assert '(expect "new_field")' in warning


def test_an_inactive_field_is_drift_even_without_changes() -> None:
    m = manifest(custom_fields=[{"name": "C", "key": "c", "field_type": "job", "value_type": "short_text"}])
    plan = build_plan(m, live(custom_fields=[field(1, "C", "c", value_type="short_text", active=False)]))
    assert plan.changes == () and plan.drifted


def test_a_users_profile_problem_does_not_hide_its_grant_problems() -> None:
    m = manifest(users=[{"email": "ann@acme.example", "offices": ["Atlantis"],
                         "job_permissions": [{"job": "REQ-0001", "role": "Standard"}]}])
    jobs = [{"id": 400, "name": "Engineer", "requisition_id": "REQ-1001"},
            {"id": 404, "name": "Solutions", "requisition_id": "REQ-2000"}]
    with pytest.raises(PlanError) as e:
        build_plan(m, live(users=[user(1, "ann@acme.example")], jobs=jobs))
    text = str(e.value)
    assert 'unknown office "Atlantis"' in text
    assert 'unknown job "REQ-0001" (did you mean "REQ-1001"?)' in text


def test_a_new_users_missing_names_do_not_hide_its_grant_problems() -> None:
    m = manifest(users=[{"email": "new@acme.example", "job_permissions": [{"job": "REQ-1001", "role": "Stanard"}]}])
    with pytest.raises(PlanError) as e:
        build_plan(m, live(jobs=[{"id": 400, "name": "Engineer", "requisition_id": "REQ-1001"}]))
    assert "creating it needs first_name and last_name" in str(e.value)
    assert 'unknown role "Stanard" (did you mean "Standard"?)' in str(e.value)


# -- limits --------------------------------------------------------------------------------------------


def _select(fid: int, name: str, options: list[str]) -> dict[str, object]:
    return {"name": name, "key": name.lower(), "field_type": "job", "value_type": "single_select", "options": options}


def test_a_pure_reorder_of_a_fields_options_counts_as_one_change() -> None:
    live_options = [option(10 + i, 1, n, i + 1) for i, n in enumerate("ABCDE")]
    live_options += [option(20 + i, 2, n, i + 1) for i, n in enumerate("FGHIJKLMNO")]
    m = manifest(custom_fields=[_select(1, "One", ["A", "New", "B", "C", "D", "E"]),
                                _select(2, "Two", list("GFHIJKLMNO"))])
    plan = build_plan(m, live(custom_fields=[field(1, "One", "one"), field(2, "Two", "two")],
                              custom_field_options=live_options))
    updates = [c for c in plan.changes if c.action == "update"]
    assert len(updates) == 6  # B..E renumbered, F and G swapped
    assert {c.counts_as for c in updates} == {"custom_field:1:option-order", "custom_field:2:option-order"}
    assert changed_objects(plan)["custom_field_option"] == 2
    assert limit_violations(plan) == []  # 2 of 15, not 6 of 15 (40%)
    restored = Plan.from_json(plan.to_json())
    assert changed_objects(restored) == changed_objects(plan)


def test_an_option_rename_beside_a_reorder_still_counts_on_its_own() -> None:
    live_options = [option(10 + i, 1, n, i + 1) for i, n in enumerate("ABCDEFGHIJ")]
    m = manifest(custom_fields=[_select(1, "One", ["B", "A", "C2", *"DEFGHIJ"])])
    plan = build_plan(m, live(custom_fields=[field(1, "One", "one")], custom_field_options=live_options))
    renamed = [c for c in plan.changes if "name" in c.fields]
    assert [c.counts_as for c in renamed] == [None]
    assert changed_objects(plan)["custom_field_option"] == 2  # the reorder of A and B, and the rename


def test_two_live_near_duplicates_listed_as_they_are_do_not_warn() -> None:
    """An export of an organisation holding "Cost Center" and "cost center" lists both: nothing is new."""
    fields = [{"name": n, "key": k, "field_type": "job", "value_type": "short_text"}
              for n, k in (("Cost Center", "cost_center"), ("cost center", "cost_center_2"))]
    plan = build_plan(manifest(custom_fields=fields),
                      live(custom_fields=[field(1, "Cost Center", "cost_center", value_type="short_text"),
                                          field(2, "cost center", "cost_center_2", value_type="short_text")]))
    assert plan.changes == () and plan.warnings == ()


def test_a_limit_violation_says_how_many_reorders_were_counted_once() -> None:
    live_options = [option(10 + i, 1, n, i + 1) for i, n in enumerate("ABCDEFGHIJ")]
    m = manifest(custom_fields=[_select(1, "One", ["B", "A", "X", "Y", "Z", *"CDEFGHIJ"])], max_change_percent=5)
    plan = build_plan(m, live(custom_fields=[field(1, "One", "one")], custom_field_options=live_options))
    assert limit_violations(plan) == ["custom_field_option: 1 of 10 live objects change (10.0%; 1 reorder(s) counted "
                                      "once each), over max_change_percent 5"]
