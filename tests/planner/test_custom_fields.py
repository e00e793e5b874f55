"""Planner rules for custom fields, options (archive, reactivate, order) and visibility scoping."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import PlanError
from reconciler.manifest.loader import load
from reconciler.planner import build_plan
from reconciler.resources.custom_fields.plan import sort_orders
from tests.builders import dept, field, live, manifest, office, option
from tests.planner.test_org_and_tags import actions, writes

COST = field(200, "Cost Center", "cost_center", require_approval=True)
OPTS = [option(2001, 200, "100 - Platform", 1), option(2002, 200, "200 Sales", 2),
        option(2004, 200, "900 - Legacy", 4, active=False)]
DEPTS = [dept(10, "Engineering"), dept(20, "Sales"), dept(40, "Finance")]


def cost(**extra: object) -> dict[str, object]:
    return {"name": "Cost Center", "key": "cost_center", "field_type": "job", "value_type": "single_select", **extra}


def test_an_unchanged_field_with_its_options_costs_nothing() -> None:
    plan = build_plan(manifest(custom_fields=[cost(options=[{"name": "100 - Platform"}, {"name": "200 Sales"}])]),
                      live(custom_fields=[COST], custom_field_options=OPTS))
    assert plan.changes == ()


def test_only_written_properties_are_compared() -> None:
    plan = build_plan(manifest(custom_fields=[cost(description="Finance")]), live(custom_fields=[COST]))
    assert writes(plan) == [("PATCH", "/v3/custom_fields/200", {"description": "Finance"})]


def test_the_key_is_identity_so_a_new_name_is_a_rename() -> None:
    plan = build_plan(manifest(custom_fields=[{**cost(), "name": "Cost Centre"}]), live(custom_fields=[COST]))
    assert writes(plan) == [("PATCH", "/v3/custom_fields/200", {"name": "Cost Centre"})]


def test_a_changed_value_type_is_a_destructive_replace() -> None:
    plan = build_plan(manifest(custom_fields=[cost(value_type="short_text")]), live(custom_fields=[COST]))
    (change,) = plan.changes
    assert (change.action, change.destructive, change.removal) == ("replace", True, True)
    assert [(w.method, w.path) for w in change.writes] == [("DELETE", "/v3/custom_fields/200"), ("POST", "/v3/custom_fields")]
    assert "immutable value_type changed: single_select -> short_text" in change.reasons


def test_without_a_key_a_field_is_matched_by_name_within_its_field_type() -> None:
    plan = build_plan(manifest(custom_fields=[{"name": "Cost Center", "field_type": "offer", "value_type": "short_text"}]),
                      live(custom_fields=[COST]))
    assert actions(plan) == [("create", "custom_field", "Cost Center")]


def test_a_new_select_field_is_created_with_its_options_inline() -> None:
    m = manifest(custom_fields=[{"name": "Tier", "field_type": "job", "value_type": "single_select",
                                  "options": [{"name": "A"}, {"name": "B", "external_id": "b"}]}])
    plan = build_plan(m, live())
    assert writes(plan) == [("POST", "/v3/custom_fields", {
        "name": "Tier", "field_type": "job", "value_type": "single_select",
        "custom_field_options": [{"name": "A", "sort_order": 1}, {"name": "B", "sort_order": 2, "external_id": "b"}]})]


BADGE = field(207, "Badge Number", "badge_number", field_type="user_attribute", value_type="short_text", active=False)


@pytest.mark.parametrize(
    ("desired", "live_field", "expected"),
    [
        (cost(), {**COST, "active": False}, []),
        (cost(description="Finance", require_approval=False), {**COST, "active": False},
         [("PATCH", "/v3/custom_fields/200", {"description": "Finance", "require_approval": False})]),
        ({"name": "Badge", "key": "badge_number", "field_type": "user_attribute", "value_type": "short_text",
          "description": "Door badge", "required": True}, BADGE,
         [("PATCH", "/v3/custom_fields/207", {"name": "Badge", "description": "Door badge", "required": True})]),
    ],
    ids=["job-field-unchanged", "job-field-other-changes", "user-attribute-field-other-changes"],
)
def test_an_inactive_field_is_never_patched_active_and_the_admin_is_told_to_reactivate_it(
    desired: dict[str, object], live_field: dict[str, object], expected: list[tuple[str, str, object]]
) -> None:
    plan = build_plan(manifest(custom_fields=[desired]), live(custom_fields=[live_field]))
    assert writes(plan) == expected
    assert not any("active" in (w.body or {}) for c in plan.changes for w in c.writes)
    (warning,) = plan.warnings
    assert f"(id {live_field['id']}) is inactive in Greenhouse" in warning
    assert "reactivate it in Greenhouse" in warning
    assert ("other changes are planned" in warning) == bool(expected)


def test_a_user_attribute_field_is_patched_only_in_name_description_and_required() -> None:
    live_field = {**BADGE, "active": True, "private": False}
    desired = {"name": "Badge Number", "key": "badge_number", "field_type": "user_attribute", "value_type": "short_text",
               "private": True, "required": True}
    plan = build_plan(manifest(custom_fields=[desired]), live(custom_fields=[live_field]))
    assert writes(plan) == [("PATCH", "/v3/custom_fields/207", {"required": True})]
    assert any("private cannot be changed on user_attribute" in w for w in plan.warnings)


def test_a_new_option_is_appended_after_the_last_sort_order() -> None:
    m = manifest(custom_fields=[cost(options=["100 - Platform", "200 Sales", {"name": "400 - Finance", "external_id": "400"}])])
    plan = build_plan(m, live(custom_fields=[COST], custom_field_options=OPTS))
    assert writes(plan) == [("POST", "/v3/custom_field_options",
                             {"custom_field_id": 200, "name": "400 - Finance", "sort_order": 3, "external_id": "400"})]


def test_an_unlisted_option_is_archived_not_destroyed() -> None:
    plan = build_plan(manifest(custom_fields=[cost(options=["100 - Platform"])]),
                      live(custom_fields=[COST], custom_field_options=OPTS))
    (change,) = plan.changes
    assert (change.action, change.type, change.destructive, change.removal) == ("delete", "custom_field_option", False, True)
    assert writes(plan) == [("DELETE", "/v3/custom_field_options/2002", None)]


def test_a_listed_archived_option_is_reactivated_by_patch_never_recreated() -> None:
    plan = build_plan(manifest(custom_fields=[cost(options=["100 - Platform", "200 Sales", "900 - Legacy"])]),
                      live(custom_fields=[COST], custom_field_options=OPTS))
    assert writes(plan) == [("PATCH", "/v3/custom_field_options/2004",
                             {"active": True, "name": "900 - Legacy", "custom_field_id": 200})]
    assert plan.changes[0].reasons == ("archived option reactivated",)


def test_reordering_options_renumbers_them() -> None:
    plan = build_plan(manifest(custom_fields=[cost(options=["200 Sales", "100 - Platform"])]),
                      live(custom_fields=[COST], custom_field_options=OPTS))
    assert writes(plan) == [("PATCH", "/v3/custom_field_options/2002", {"sort_order": 1}),
                            ("PATCH", "/v3/custom_field_options/2001", {"sort_order": 2})]


def test_an_option_renamed_through_previously_is_patched() -> None:
    plan = build_plan(manifest(custom_fields=[cost(options=["100 - Platform", {"name": "200 - Sales", "previously": ["200 Sales"]}])]),
                      live(custom_fields=[COST], custom_field_options=OPTS))
    assert writes(plan) == [("PATCH", "/v3/custom_field_options/2002", {"name": "200 - Sales"})]


@pytest.mark.parametrize(
    ("live_orders", "desired"),
    [
        ([1, 2, 3], [1, 2, 3]),
        ([10, 20, None], [10, 20, 21]),
        ([None, 5], [1, 5]),
        ([2, 1], [1, 2]),
        ([1, None, 2], [1, 2, 3]),
        ([None, None], [1, 2]),
    ],
)
def test_sort_orders_keep_ascending_live_values_and_fill_gaps(live_orders: list[int | None], desired: list[int]) -> None:
    assert sort_orders(list(live_orders)) == desired
    assert sort_orders(list(desired)) == desired  # a fixed point: planning again changes nothing


def test_scoping_rows_are_created_before_extra_ones_are_deleted() -> None:
    m = manifest(custom_fields=[cost(departments=["Finance"])])
    rows = [{"id": 700, "custom_field_id": 200, "department_id": 10}]
    plan = build_plan(m, live(custom_fields=[COST], departments=DEPTS, custom_field_departments=rows))
    assert writes(plan) == [("POST", "/v3/custom_field_departments", {"custom_field_id": 200, "department_id": 40}),
                            ("DELETE", "/v3/custom_field_departments/700", None)]


def test_removing_the_last_scoping_row_warns_that_the_field_becomes_visible_everywhere() -> None:
    m = manifest(custom_fields=[cost(offices=[])])
    rows = [{"id": 710, "custom_field_id": 200, "office_id": 101}]
    plan = build_plan(m, live(custom_fields=[COST], offices=[office(101, "San Francisco")], custom_field_offices=rows))
    assert writes(plan) == [("DELETE", "/v3/custom_field_offices/710", None)]
    assert any("visible in every office" in w for w in plan.warnings)


def test_a_new_field_is_scoped_through_a_reference_to_its_create() -> None:
    m = manifest(custom_fields=[{"name": "Remote", "key": "remote", "field_type": "job", "value_type": "yes_no",
                                  "departments": ["Sales"]}])
    plan = build_plan(m, live(departments=DEPTS))
    assert writes(plan)[1] == ("POST", "/v3/custom_field_departments",
                               {"custom_field_id": {"$ref": "custom_field:remote"}, "department_id": 20})


def test_an_unknown_scoping_department_is_an_error() -> None:
    with pytest.raises(PlanError, match=r'\$.custom_fields\[0\]: unknown department "Finanse"'):
        build_plan(manifest(custom_fields=[cost(departments=["Finanse"])]), live(custom_fields=[COST], departments=DEPTS))


def test_prune_enforce_deletes_unlisted_fields_destructively_except_protected() -> None:
    other = field(201, "Seniority", "seniority")
    kept = field(202, "Level", "level")
    m = manifest(prune={"custom_fields": "enforce"}, protect={"custom_fields": ["level"]}, custom_fields=[cost()])
    plan = build_plan(m, live(custom_fields=[COST, other, kept]))
    assert [(c.action, c.name, c.destructive) for c in plan.changes] == [("delete", "Seniority", True)]
    assert [u.name for u in plan.unmanaged] == ["Level"]


# -- replace: what the manifest leaves unmanaged is carried over --------------------------------------

SCOPED = field(200, "Cost Center", "cost_center", require_approval=True, description="Finance cost center",
               api_only=False, expose_in_job_board_api=False, trigger_new_version=False)
SCOPING = {"custom_field_departments": [{"id": 700, "custom_field_id": 200, "department_id": 10},
                                        {"id": 701, "custom_field_id": 200, "department_id": 20}],
           "custom_field_offices": [{"id": 710, "custom_field_id": 200, "office_id": 101}]}
LIVE_SCOPED = live(custom_fields=[SCOPED], departments=DEPTS, offices=[office(101, "San Francisco")],
                   custom_field_options=OPTS, **SCOPING)


def test_a_replace_recreates_the_unmanaged_settings_the_new_field_type_accepts() -> None:
    plan = build_plan(manifest(custom_fields=[cost(value_type="multi_select")]), LIVE_SCOPED)
    replace, *scoping = plan.changes
    (_, create) = replace.writes
    assert (create.method, create.body) == ("POST", {
        "name": "Cost Center", "field_type": "job", "value_type": "multi_select", "description": "Finance cost center",
        "required": False, "private": False, "api_only": False, "expose_in_job_board_api": False,
        "require_approval": True,
        # active options only (2004 is archived), in display order; trigger_new_version is for offer fields only
        "custom_field_options": [{"name": "100 - Platform", "sort_order": 1}, {"name": "200 Sales", "sort_order": 2}]})
    assert [(w.method, w.path, w.body) for c in scoping for w in c.writes] == [
        ("POST", "/v3/custom_field_departments", {"custom_field_id": {"$ref": "custom_field:cost_center"},
                                                  "department_id": 10}),
        ("POST", "/v3/custom_field_departments", {"custom_field_id": {"$ref": "custom_field:cost_center"},
                                                  "department_id": 20}),
        ("POST", "/v3/custom_field_offices", {"custom_field_id": {"$ref": "custom_field:cost_center"}, "office_id": 101}),
    ]
    carried = next(r for r in replace.reasons if r.startswith("carried over"))
    for shown in ('description "Finance cost center"', "require_approval true",
                  "required, private, api_only, expose_in_job_board_api false", "departments (Engineering, Sales)",
                  "offices (San Francisco)", "2 active option(s) (100 - Platform, 200 Sales)"):
        assert shown in carried
    assert any("values stored on records cannot be carried over" in r for r in replace.reasons)
    assert 'key "cost_center" kept: the API derives name_key from the name, and the old field is deleted first' \
        in replace.reasons
    assert plan.warnings == ()


def test_a_replace_shows_only_real_differences() -> None:
    plan = build_plan(manifest(custom_fields=[cost(value_type="multi_select")]), LIVE_SCOPED)
    assert {k: (f.before, f.after) for k, f in plan.changes[0].fields.items()} == {
        "value_type": ("single_select", "multi_select")}


def test_what_the_manifest_writes_wins_over_the_live_settings_in_a_replace() -> None:
    desired = cost(value_type="multi_select", description=None, departments=["Finance"], options=["A"])
    plan = build_plan(manifest(custom_fields=[desired]), LIVE_SCOPED)
    replace, *scoping = plan.changes
    body = replace.writes[1].body
    assert body["description"] is None and body["custom_field_options"] == [{"name": "A", "sort_order": 1}]
    assert [w.body for c in scoping for w in c.writes] == [
        {"custom_field_id": {"$ref": "custom_field:cost_center"}, "department_id": 40},
        {"custom_field_id": {"$ref": "custom_field:cost_center"}, "office_id": 101},  # offices: not written, carried
    ]
    assert {k: (f.before, f.after) for k, f in replace.fields.items()} == {
        "value_type": ("single_select", "multi_select"), "description": ("Finance cost center", None),
        "departments": (["Engineering", "Sales"], ["Finance"]),
        "options": (["100 - Platform", "200 Sales"], ["A"])}


def test_a_replace_names_what_cannot_be_carried_over_and_warns_when_the_key_changes() -> None:
    desired = {"name": "Cost Centre", "key": "cost_center", "field_type": "offer", "value_type": "short_text"}
    plan = build_plan(manifest(custom_fields=[desired]), LIVE_SCOPED)
    replace = plan.changes[0]
    body = replace.writes[1].body
    assert "require_approval" not in body and "custom_field_options" not in body  # not accepted on offer/short_text
    assert body["trigger_new_version"] is False  # accepted on offer fields: carried
    assert "cannot be carried over: require_approval (not accepted on offer fields); 2 option(s) (short_text " \
           "fields have no options)" in replace.reasons
    assert {k: (f.before, f.after) for k, f in replace.fields.items()} == {
        "name": ("Cost Center", "Cost Centre"), "field_type": ("job", "offer"),
        "value_type": ("single_select", "short_text"), "require_approval": (True, None),
        "options": (["100 - Platform", "200 Sales"], None)}
    assert 'key "cost_center" cannot be kept: the API derives name_key from the name "Cost Centre"' in replace.reasons
    (warning,) = plan.warnings
    assert 'the old key "cost_center" cannot be kept (expect "cost_centre")' in warning


def test_a_replace_into_a_user_attribute_field_loses_its_scoping_and_says_so() -> None:
    desired = {"name": "Cost Center", "key": "cost_center", "field_type": "user_attribute", "value_type": "short_text"}
    plan = build_plan(manifest(custom_fields=[desired]), LIVE_SCOPED)
    (replace,) = plan.changes  # no scoping rows: user_attribute fields accept none
    assert replace.writes[1].body == {"name": "Cost Center", "field_type": "user_attribute", "value_type": "short_text",
                                      "description": "Finance cost center", "required": False}
    lost = next(r for r in replace.reasons if r.startswith("cannot be carried over"))
    assert "departments (Engineering, Sales: not accepted on user_attribute fields; the new field is visible " \
           "everywhere)" in lost
    assert "offices (San Francisco: " in lost and "private (" not in lost  # a false flag is no loss


# -- conflicting option entries -------------------------------------------------------------------------


def test_two_option_entries_resolving_to_one_live_option_are_an_error_naming_both_places(tmp_path: Path) -> None:
    path = tmp_path / "fields.yaml"
    path.write_text(
        "custom_fields:\n"
        "  - name: Cost Center\n    key: cost_center\n    field_type: job\n    value_type: single_select\n"
        "    options:\n"
        '      - name: "100 - Platform"\n'
        '      - name: "200 Sales"\n'
        '      - name: "Sales (new)"\n        external_id: "200"\n')
    options = [option(2001, 200, "100 - Platform", 1), option(2002, 200, "200 Sales", 2, external_id="200")]
    with pytest.raises(PlanError) as raised:
        build_plan(load([path]), live(custom_fields=[COST], custom_field_options=options))
    message = str(raised.value)
    assert f'{path}:9:9: $.custom_fields[0].options[2]: custom field "Cost Center": option "Sales (new)" ' \
           f'(by external_id "200") and the option at {path}:8:9: $.custom_fields[0].options[1] ' \
           '(by name "200 Sales") both resolve to live option id 2002 ("200 Sales")' in message
