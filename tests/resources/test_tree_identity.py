"""The `id:` identity of last resort and id references: offline checks, matching, and references in plans.

Offline (`validate`): departments may share a name when each has an external_id or an id, names that
display alike (NFC) count as one name, offices stay strict (their names are unique in Greenhouse), two
entries with one id are an error, an integer `parent` is an id reference that takes part in the cycle
check. Plan: an `id` is the whole identity (it matches that object whatever its name, and a miss is a
problem at the `id` line, never a create); integer references resolve to the live object with that id;
options of one field with one name are told apart by id.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ManifestError, PlanError
from reconciler.manifest import load
from reconciler.planner import build_plan
from tests.builders import dept, field, live, manifest, option


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load([str(path)])
    except ManifestError as e:
        return [f"{p.where}: {p.message}".replace(f"{tmp_path}/", "") for p in e.problems]
    return []


def test_departments_may_share_a_name_when_each_has_an_id_or_an_external_id(tmp_path: Path) -> None:
    assert problems(tmp_path, "departments:\n  - {name: Sales, id: 90}\n  - {name: Sales, external_id: S2}\n"
                              "  - {name: Sales, id: 91}\n") == []


def test_a_shared_name_without_an_identity_of_its_own_is_a_duplicate_with_the_hint(tmp_path: Path) -> None:
    assert problems(tmp_path, "departments:\n  - {name: Sales, id: 90}\n  - {name: Sales}\n") == [
        'm.yaml:3:6: $.departments[1].name: duplicate department name "Sales" (first at m.yaml:2:6; departments '
        "may share a name only when each has an external_id or an id)"]


def test_names_that_display_alike_are_one_name_for_the_shared_name_rule(tmp_path: Path) -> None:
    found = problems(tmp_path, "departments:\n  - {name: Caf\u00e9}\n  - {name: Cafe\u0301}\n")
    assert len(found) == 1 and found[0].startswith("m.yaml:3:6: $.departments[1].name: duplicate department name")
    assert problems(tmp_path, "departments:\n  - {name: Caf\u00e9, id: 1}\n  - {name: Cafe\u0301, id: 2}\n") == []


def test_offices_never_share_an_exact_name_even_with_ids(tmp_path: Path) -> None:
    found = problems(tmp_path, "offices:\n  - {name: London, id: 1}\n  - {name: London, id: 2}\n")
    assert found == ['m.yaml:3:6: $.offices[1].name: duplicate office name "London" (first at m.yaml:2:6)']
    # Names that only display alike are two names to Greenhouse: with ids they may both be written.
    assert problems(tmp_path, "offices:\n  - {name: Z\u00fcrich, id: 1}\n  - {name: Zu\u0308rich, id: 2}\n") == []


def test_two_entries_with_one_id_are_an_error(tmp_path: Path) -> None:
    assert problems(tmp_path, "departments:\n  - {name: A, id: 7}\n  - {name: B, id: 7}\n") == [
        "m.yaml:3:15: $.departments[1].id: duplicate department id 7 (first at m.yaml:2:15)"]


def test_an_integer_parent_is_an_id_reference_and_takes_part_in_the_cycle_check(tmp_path: Path) -> None:
    found = problems(tmp_path, "departments:\n  - {name: A, id: 1, parent: 2}\n  - {name: B, id: 2, parent: 1}\n")
    assert found == ['m.yaml:2:22: $.departments[0].parent: department parents form a cycle: "A" -> "B" -> "A"']


def test_a_parent_naming_two_same_named_departments_is_ambiguous(tmp_path: Path) -> None:
    found = problems(tmp_path, "departments:\n  - {name: Sales, id: 90}\n  - {name: Sales, id: 91}\n"
                               "  - {name: Kid, parent: Sales}\n")
    assert len(found) == 1 and 'parent "Sales" matches more than one department' in found[0]


def test_an_id_matches_its_object_whatever_the_name_so_a_new_name_is_a_rename() -> None:
    rows = [dept(90, "Sales", None), dept(91, "Sales", None)]
    plan = build_plan(manifest(departments=[{"name": "Sales", "id": 90}, {"name": "Sales West", "id": 91}]),
                      live(departments=rows))
    (change,) = plan.changes
    assert (change.action, change.id, change.fields["name"].after) == ("update", 91, "Sales West")


def test_an_id_that_matches_nothing_is_a_problem_at_the_id_never_a_create() -> None:
    with pytest.raises(PlanError) as raised:
        build_plan(manifest(departments=[{"name": "Sales", "id": 4012}]), live(departments=[dept(90, "Sales")]))
    (problem,) = raised.value.problems
    assert problem.message.startswith("id 4012 matches no live department: a Harvest id names an object of one "
                                      "organisation")


def test_integer_references_resolve_to_the_live_object_with_that_id() -> None:
    rows = [dept(10, "ENG"), dept(11, "Engineering", external_id="ENG"), dept(12, "Tooling", 10)]
    desired = [{"name": "ENG", "parent": None}, {"name": "Engineering", "external_id": "ENG", "parent": None},
               {"name": "Tooling", "parent": 10}]
    assert build_plan(manifest(departments=desired), live(departments=rows)).changes == ()
    moved = build_plan(manifest(departments=[*desired[:2], {"name": "Tooling", "parent": 11}]), live(departments=rows))
    (change,) = moved.changes
    assert (change.id, change.fields["parent"].before, change.fields["parent"].after) == (12, "ENG", "Engineering")


def test_an_unknown_integer_reference_is_a_plan_problem() -> None:
    with pytest.raises(PlanError, match="unknown department id 77"):
        build_plan(manifest(departments=[{"name": "Kid", "parent": 77}]), live(departments=[dept(1, "Kid")]))


def test_options_of_one_field_that_share_a_name_are_told_apart_by_id() -> None:
    rows = [option(301, 30, "Other", 1), option(302, 30, "Other", 2)]
    desired = [{"name": "Cost", "key": "cost", "field_type": "job", "value_type": "single_select",
                "options": [{"name": "Other", "id": 301}, {"name": "Other", "id": 302}]}]
    state = live(custom_fields=[field(30, "Cost", "cost")], custom_field_options=rows)
    assert build_plan(manifest(custom_fields=desired), state).changes == ()


def test_an_option_id_that_matches_no_option_of_its_field_is_a_problem() -> None:
    desired = [{"name": "Cost", "key": "cost", "field_type": "job", "value_type": "single_select",
                "options": [{"name": "Other", "id": 999}]}]
    state = live(custom_fields=[field(30, "Cost", "cost")], custom_field_options=[option(301, 30, "Other", 1)])
    with pytest.raises(PlanError) as raised:
        build_plan(manifest(custom_fields=desired), state)
    assert [p.message.split(":")[0] for p in raised.value.problems] == ["id 999 matches no live option"]
