"""Renames within a name-uniqueness scope (options of a field, offices): chains ordered, swaps and cycles
through a temporary name, and the bulk-ability rule for writes whose order matters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from reconciler.plan import Plan
from reconciler.planner import build_plan
from reconciler.planner.renames import Step, order_renames
from tests.builders import dept, field, live, manifest, office, option
from tests.planner.test_org_and_tags import writes


def simulate(names: Mapping[int, str], path: str, plan: Plan) -> list[dict[int, str]]:
    """Apply the plan's name-setting PATCHes of `path`/{id} to `names`, asserting every state has unique names."""
    state = dict(names)
    states = [dict(state)]
    for method, write_path, body in writes(plan):
        if method == "PATCH" and write_path.startswith(f"{path}/") and isinstance(body, dict) and "name" in body:
            state[int(write_path.rsplit("/", 1)[1])] = body["name"]
            assert len(set(state.values())) == len(state), f"duplicate name after PATCH {write_path} {body}: {state}"
            states.append(dict(state))
    return states


def apply_steps(names: dict[str, str], steps: tuple[Step[str], ...]) -> None:
    for step in steps:
        assert names[step.key] == step.before
        names[step.key] = step.after
        assert len(set(names.values())) == len(names), f"duplicate after {step}: {names}"


# -- the generic helper ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("renames", "expected"),
    [
        ({"a": ("A", "X"), "b": ("B", "Y")}, [("a", "A", "X"), ("b", "B", "Y")]),
        ({"a": ("A", "B"), "b": ("B", "C")}, [("b", "B", "C"), ("a", "A", "B")]),
        ({"b": ("B", "C"), "a": ("A", "B")}, [("b", "B", "C"), ("a", "A", "B")]),
        ({"a": ("A", "B"), "b": ("B", "A")}, [("a", "A", "A (renaming a)"), ("b", "B", "A"), ("a", "A (renaming a)", "B")]),
        ({"a": ("A", "B"), "b": ("B", "C"), "c": ("C", "A")},
         [("a", "A", "A (renaming a)"), ("c", "C", "A"), ("b", "B", "C"), ("a", "A (renaming a)", "B")]),
    ],
    ids=["independent", "chain", "chain-given-backwards", "swap", "three-cycle"],
)
def test_order_renames_frees_every_name_before_it_is_taken(renames: dict[str, tuple[str, str]],
                                                           expected: list[tuple[str, str, str]]) -> None:
    result = order_renames(renames, taken={"Z"})
    assert [(s.key, s.before, s.after) for s in result.steps] == expected
    assert result.blocked == ()
    names = {k: before for k, (before, _) in renames.items()} | {"other": "Z"}
    apply_steps(names, result.steps)
    assert names == {k: after for k, (_, after) in renames.items()} | {"other": "Z"}


def test_only_renames_that_wait_or_are_waited_for_are_ordered() -> None:
    result = order_renames({"a": ("A", "B"), "b": ("B", "C"), "x": ("X", "Y")}, taken=())
    assert {s.key: s.ordered for s in result.steps} == {"a": True, "b": True, "x": False}


def test_a_temporary_name_collides_with_nothing_live_or_desired() -> None:
    result = order_renames({"a": ("A", "B"), "b": ("B", "A (renaming a)"), "c": ("A (renaming a)", "A")}, taken=())
    temporary = [s.after for s in result.steps if s.temporary]
    assert temporary == ["A (renaming a) 2"]
    apply_steps({"a": "A", "b": "B", "c": "A (renaming a)"}, result.steps)


def test_a_rename_onto_a_name_that_another_object_keeps_is_reported_blocked() -> None:
    result = order_renames({"a": ("A", "B")}, taken={"B"})
    assert result.blocked == ("a",)
    assert [(s.key, s.ordered) for s in result.steps] == [("a", True)]


# -- custom-field options --------------------------------------------------------------------------------

TIER = field(200, "Tier", "tier")


def tier(*options: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": "Tier", "key": "tier", "field_type": "job", "value_type": "single_select", "options": list(options)}


OPTS3 = [option(1, 200, "Gold", 1, external_id="g"), option(2, 200, "Silver", 2, external_id="s"),
         option(3, 200, "Bronze", 3, external_id="b")]


@pytest.mark.parametrize(
    ("desired", "final"),
    [
        ([{"name": "Silver", "external_id": "g"}, {"name": "Gold", "external_id": "s"}, {"name": "Bronze", "external_id": "b"}],
         {1: "Silver", 2: "Gold", 3: "Bronze"}),
        ([{"name": "Silver", "external_id": "g"}, {"name": "Bronze", "external_id": "s"}, {"name": "Gold", "external_id": "b"}],
         {1: "Silver", 2: "Bronze", 3: "Gold"}),
    ],
    ids=["swap", "three-cycle"],
)
def test_option_name_swaps_and_cycles_go_through_a_temporary_name_one_patch_each(
    desired: list[dict[str, str]], final: dict[int, str]
) -> None:
    plan = build_plan(manifest(custom_fields=[tier(*desired)]), live(custom_fields=[TIER], custom_field_options=OPTS3))
    states = simulate({o["id"]: o["name"] for o in OPTS3}, "/v3/custom_field_options", plan)
    assert states[-1] == final
    assert states[1] == {**states[0], 1: "Gold (renaming 1)"}  # the first of the cycle frees its name first
    (temporary,) = [c for c in plan.changes if c.key.endswith(":temporary-name")]
    assert temporary.fields["name"].after == "Gold (renaming 1)" and "temporary name" in temporary.reasons[0]
    assert all(w.bulk is None for c in plan.changes for w in c.writes)


def test_an_option_rename_chain_is_ordered_without_a_temporary_name_and_not_bulked() -> None:
    opts = [option(1, 200, "Gold", 1, external_id="g"), option(2, 200, "Silver", 2, external_id="s")]
    desired = [{"name": "Silver", "external_id": "g"}, {"name": "Platinum", "external_id": "s"}]
    plan = build_plan(manifest(custom_fields=[tier(*desired)]), live(custom_fields=[TIER], custom_field_options=opts))
    assert writes(plan) == [("PATCH", "/v3/custom_field_options/2", {"name": "Platinum"}),
                            ("PATCH", "/v3/custom_field_options/1", {"name": "Silver"})]
    assert simulate({1: "Gold", 2: "Silver"}, "/v3/custom_field_options", plan)[-1] == {1: "Silver", 2: "Platinum"}
    assert [w.bulk for c in plan.changes for w in c.writes] == [None, None]


def test_an_independent_option_rename_stays_bulk_able() -> None:
    opts = [option(1, 200, "Gold", 1), option(2, 200, "Silver", 2)]
    plan = build_plan(manifest(custom_fields=[tier({"name": "Gold"}, {"name": "Argent", "previously": ["Silver"]})]),
                      live(custom_fields=[TIER], custom_field_options=opts))
    assert [w.bulk for c in plan.changes for w in c.writes] == ["PATCH /v3/custom_field_options/bulk"]


def test_reactivating_an_archived_option_is_always_a_single_patch() -> None:
    opts = [option(1, 200, "Gold", 1), option(2, 200, "Silver", 2, active=False)]
    plan = build_plan(manifest(custom_fields=[tier({"name": "Gold"}, {"name": "Silver"})]),
                      live(custom_fields=[TIER], custom_field_options=opts))
    (change,) = plan.changes
    assert change.writes[0].body == {"active": True, "name": "Silver", "custom_field_id": 200}
    assert (change.writes[0].bulk, change.writes[0].bulk_item) == (None, None)


def test_an_option_renamed_onto_a_name_another_option_keeps_is_warned_about_and_not_bulked() -> None:
    opts = [option(1, 200, "Gold", 1, external_id="g"), option(2, 200, "Silver", 2, active=False)]
    plan = build_plan(manifest(custom_fields=[tier({"name": "Silver", "external_id": "g"})]),
                      live(custom_fields=[TIER], custom_field_options=opts))
    assert writes(plan) == [("PATCH", "/v3/custom_field_options/1", {"name": "Silver"})]
    assert plan.changes[0].writes[0].bulk is None
    assert any('"Gold" cannot be renamed to "Silver" while option id 2' in w for w in plan.warnings)


# -- offices and departments -----------------------------------------------------------------------------

OFFICES3 = [office(1, "Berlin", external_id="be"), office(2, "Paris", external_id="pa"),
            office(3, "Rome", external_id="ro"), office(9, "Oslo")]


@pytest.mark.parametrize(
    ("desired", "final"),
    [
        ([{"name": "Paris", "external_id": "be"}, {"name": "Berlin", "external_id": "pa"}],
         {1: "Paris", 2: "Berlin", 3: "Rome", 9: "Oslo"}),
        ([{"name": "Paris", "external_id": "be"}, {"name": "Rome", "external_id": "pa"}, {"name": "Berlin", "external_id": "ro"}],
         {1: "Paris", 2: "Rome", 3: "Berlin", 9: "Oslo"}),
    ],
    ids=["swap", "three-cycle"],
)
def test_office_name_swaps_and_cycles_go_through_a_temporary_name_one_patch_each(
    desired: list[dict[str, str]], final: dict[int, str]
) -> None:
    plan = build_plan(manifest(offices=desired), live(offices=OFFICES3))
    states = simulate({o["id"]: o["name"] for o in OFFICES3}, "/v3/offices", plan)
    assert states[-1] == final
    assert states[1] == {**states[0], 1: "Berlin (renaming 1)"}
    assert all(w.bulk is None for c in plan.changes for w in c.writes)
    assert len({c.key for c in plan.changes}) == len(plan.changes)


def test_an_office_in_a_rename_cycle_keeps_its_other_changes_in_its_own_update_after_the_renames() -> None:
    desired = [{"name": "Paris", "external_id": "be", "location": "Berlin, DE"}, {"name": "Berlin", "external_id": "pa"}]
    plan = build_plan(manifest(offices=desired), live(offices=OFFICES3))
    assert writes(plan)[-1] == ("PATCH", "/v3/offices/1", {"location": "Berlin, DE"})
    assert simulate({o["id"]: o["name"] for o in OFFICES3}, "/v3/offices", plan)[-1][1] == "Paris"
    assert [c.key for c in plan.changes] == ["office:1:temporary-name", "office:2", "office:1:name", "office:1"]


def test_an_office_rename_chain_is_ordered() -> None:
    plan = build_plan(manifest(offices=[{"name": "Paris", "external_id": "be"}, {"name": "Lyon", "external_id": "pa"}]),
                      live(offices=OFFICES3))
    assert writes(plan) == [("PATCH", "/v3/offices/2", {"name": "Lyon"}), ("PATCH", "/v3/offices/1", {"name": "Paris"})]


def test_a_department_swap_is_two_bulk_able_renames_because_department_names_need_not_be_unique() -> None:
    m = manifest(departments=[{"name": "Ops", "external_id": "e"}, {"name": "Eng", "external_id": "o"}])
    plan = build_plan(m, live(departments=[dept(1, "Eng", external_id="e"), dept(2, "Ops", external_id="o")]))
    assert writes(plan) == [("PATCH", "/v3/departments/1", {"name": "Ops"}), ("PATCH", "/v3/departments/2", {"name": "Eng"})]
    assert [w.bulk for c in plan.changes for w in c.writes] == ["PATCH /v3/departments/bulk"] * 2
    assert plan.warnings == ()


def test_an_office_renamed_and_moved_in_a_chain_is_renamed_first_then_moved() -> None:
    rows = [office(1, "Berlin", external_id="be"), office(2, "Paris", external_id="pa"), office(3, "EMEA")]
    desired = [{"name": "Paris", "external_id": "be", "parent": "EMEA"}, {"name": "Lyon", "external_id": "pa"}]
    plan = build_plan(manifest(offices=desired), live(offices=rows))
    assert writes(plan) == [("PATCH", "/v3/offices/2", {"name": "Lyon"}), ("PATCH", "/v3/offices/1", {"name": "Paris"}),
                            ("PATCH", "/v3/offices/1", {"parent_id": 3})]
    assert [c.key for c in plan.changes] == ["office:2", "office:1:name", "office:1"]


@pytest.mark.parametrize(
    ("section", "rows", "desired", "bulk"),
    [
        # A move under an object no move touches is valid in every order (tests/planner/test_tree_moves.py
        # has the moves that stay single).
        ("departments", [dept(1, "Eng"), dept(2, "Ops")], [{"name": "Ops", "parent": "Eng"}],
         "PATCH /v3/departments/bulk"),
        ("departments", [dept(1, "Eng"), dept(2, "Ops")], [{"name": "Operations", "previously": ["Ops"]}],
         "PATCH /v3/departments/bulk"),
        ("offices", [office(1, "EMEA"), office(2, "Oslo")], [{"name": "Oslo", "parent": "EMEA"}],
         "PATCH /v3/offices/bulk"),
        ("offices", [office(1, "EMEA"), office(2, "Oslo")], [{"name": "Oslo", "parent": "Nordics"}, {"name": "Nordics"}],
         None),
        ("offices", [office(1, "EMEA"), office(2, "Oslo")], [{"name": "Oslo", "location": "Norway"}],
         "PATCH /v3/offices/bulk"),
    ],
    ids=["department-moved", "department-renamed", "office-moved", "office-moved-under-a-new-office",
         "office-located"],
)
def test_a_department_or_office_update_is_bulk_able_unless_it_moves_under_a_new_or_moved_object(
    section: str, rows: list[dict[str, Any]], desired: list[dict[str, Any]], bulk: str | None
) -> None:
    plan = build_plan(manifest(**{section: desired}), live(**{section: rows}))
    (change,) = [c for c in plan.changes if c.action == "update"]
    assert change.writes[0].bulk == bulk
    assert (change.writes[0].bulk_item is None) == (bulk is None)
