"""Planner rules for departments, offices and candidate tags: identity, renames, parents, prune, protect."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import PlanError
from reconciler.live import read_for_manifest
from reconciler.plan import FieldChange, Plan
from reconciler.planner import build_plan
from tests.builders import dept, live, manifest, office, user
from tests.harness import Rig, seed


def actions(plan: Plan) -> list[tuple[str, str, str]]:
    return [(c.action, c.type, c.name) for c in plan.changes]


def writes(plan: Plan) -> list[tuple[str, str, Any]]:
    return [(w.method, w.path, w.body) for c in plan.changes for w in c.writes]


ENG = dept(10, "Engineering", external_id="ENG")
PLAT = dept(11, "Platform", parent_id=10, external_id="ENG-PLAT")


def test_an_unchanged_department_costs_nothing() -> None:
    plan = build_plan(manifest(departments=[{"name": "Engineering", "external_id": "ENG"}]), live(departments=[ENG]))
    assert plan.changes == ()
    assert plan.unchanged == {"department": 1}


def test_external_id_is_identity_so_a_new_name_is_a_rename() -> None:
    plan = build_plan(manifest(departments=[{"name": "R&D", "external_id": "ENG"}]), live(departments=[ENG]))
    assert writes(plan) == [("PATCH", "/v3/departments/10", {"name": "R&D"})]
    assert plan.changes[0].reasons == ('renamed from "Engineering"',)


def test_previously_renames_instead_of_recreating() -> None:
    plan = build_plan(manifest(departments=[{"name": "Infra", "previously": ["Infrastructure"]}]),
                      live(departments=[dept(12, "Infrastructure")]))
    assert writes(plan) == [("PATCH", "/v3/departments/12", {"name": "Infra"})]


def test_two_live_departments_with_the_name_are_an_error_not_a_guess() -> None:
    with pytest.raises(PlanError, match=r'test.yaml:1:1: \$.departments\[0\]: name "Platform" matches 2 live departments'):
        build_plan(manifest(departments=[{"name": "Platform"}]),
                   live(departments=[dept(11, "Platform", 10), dept(21, "Platform", 20)]))


def test_two_entries_matching_one_live_department_are_an_error() -> None:
    with pytest.raises(PlanError, match="matches the same live department"):
        build_plan(manifest(departments=[{"name": "Engineering"}, {"name": "Eng", "external_id": "ENG"}]),
                   live(departments=[ENG]))


def test_a_new_child_of_a_new_parent_is_created_after_it_with_a_reference() -> None:
    m = manifest(departments=[{"name": "DX", "parent": "Tools"}, {"name": "Tools", "parent": "Engineering"}])
    plan = build_plan(m, live(departments=[ENG]))
    assert writes(plan) == [
        ("POST", "/v3/departments", {"name": "Tools", "parent_id": 10}),
        ("POST", "/v3/departments", {"name": "DX", "parent_id": {"$ref": "department:Tools"}}),
    ]


def test_an_omitted_parent_is_unmanaged() -> None:
    plan = build_plan(manifest(departments=[{"name": "Platform"}]), live(departments=[ENG, PLAT]))
    assert plan.changes == ()


def test_parent_null_moves_to_the_top_level() -> None:
    plan = build_plan(manifest(departments=[{"name": "Platform", "parent": None}]), live(departments=[ENG, PLAT]))
    assert writes(plan) == [("PATCH", "/v3/departments/11", {"parent_id": None})]
    assert plan.changes[0].fields["parent"].before == "Engineering"


def test_an_unknown_parent_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(PlanError, match=r'unknown department "Enginering" \(did you mean "Engineering"\?\)'):
        build_plan(manifest(departments=[{"name": "Platform", "parent": "Enginering"}]), live(departments=[ENG, PLAT]))


def test_a_parent_may_be_named_by_external_id() -> None:
    plan = build_plan(manifest(departments=[{"name": "DX", "parent": "ENG-PLAT"}]), live(departments=[ENG, PLAT]))
    assert writes(plan) == [("POST", "/v3/departments", {"name": "DX", "parent_id": 11})]


def test_a_reparent_that_closes_a_cycle_with_live_data_is_an_error() -> None:
    with pytest.raises(PlanError, match="cycle"):
        build_plan(manifest(departments=[{"name": "Engineering", "parent": "Platform"}]), live(departments=[ENG, PLAT]))


def test_unmatched_live_departments_are_listed_as_unmanaged_never_deleted() -> None:
    plan = build_plan(manifest(departments=[{"name": "Engineering"}]), live(departments=[ENG, PLAT]))
    assert [(u.type, u.name, u.id) for u in plan.unmanaged] == [("department", "Platform", 11)]
    assert plan.changes == ()


def test_prune_off_does_not_list_unmanaged() -> None:
    plan = build_plan(manifest(prune={"departments": "off"}, departments=[{"name": "Engineering"}]),
                      live(departments=[ENG, PLAT]))
    assert plan.unmanaged == ()


def test_office_location_and_primary_contact_are_compared_and_patched() -> None:
    m = manifest(offices=[{"name": "Berlin", "location": "Berlin, Germany", "primary_contact": "Jane@acme.example"}])
    plan = build_plan(m, live(offices=[office(112, "Berlin", location="Berlin")], users=[user(1002, "jane@acme.example")]))
    assert writes(plan) == [("PATCH", "/v3/offices/112",
                             {"location": "Berlin, Germany", "primary_in_house_contact_user_id": 1002})]
    assert plan.changes[0].fields["primary_contact"].after == "Jane@acme.example"


def test_an_unknown_primary_contact_is_an_error() -> None:
    with pytest.raises(PlanError, match='unknown user "nobody@acme.example"'):
        build_plan(manifest(offices=[{"name": "Berlin", "primary_contact": "nobody@acme.example"}]),
                   live(offices=[office(112, "Berlin")]))


# -- candidate tags -------------------------------------------------------------------------------

TAGS = [{"id": 300, "name": "Referral"}, {"id": 304, "name": "old-tag"}, {"id": 302, "name": "Do Not Contact"}]


def test_a_new_tag_is_created_and_unlisted_tags_are_reported() -> None:
    plan = build_plan(manifest(candidate_tags=["Referral", "2026-grad"]), live(candidate_tags=TAGS))
    assert writes(plan) == [("POST", "/v3/candidate_tags", {"name": "2026-grad"})]
    assert sorted(u.name for u in plan.unmanaged) == ["Do Not Contact", "old-tag"]


def test_tag_names_are_case_sensitive() -> None:
    plan = build_plan(manifest(candidate_tags=["referral"]), live(candidate_tags=TAGS[:1]))
    assert writes(plan) == [("POST", "/v3/candidate_tags", {"name": "referral"})]


def test_renaming_a_tag_is_a_create_and_a_destructive_delete() -> None:
    plan = build_plan(manifest(candidate_tags=[{"name": "legacy", "previously": ["old-tag"]}]), live(candidate_tags=TAGS))
    assert actions(plan) == [("create", "candidate_tag", "legacy"), ("delete", "candidate_tag", "old-tag")]
    assert [c.destructive for c in plan.changes] == [False, True]


def test_prune_enforce_deletes_unlisted_tags_except_protected_ones() -> None:
    m = manifest(prune={"candidate_tags": "enforce"}, protect={"candidate_tags": ["Do Not Contact"]},
                 candidate_tags=["Referral"])
    plan = build_plan(m, live(candidate_tags=TAGS))
    assert writes(plan) == [("DELETE", "/v3/candidate_tags/304", None)]
    assert plan.changes[0].destructive and plan.changes[0].removal
    assert [u.name for u in plan.unmanaged] == ["Do Not Contact"]


def test_a_section_no_manifest_mentions_is_not_managed() -> None:
    plan = build_plan(manifest(departments=[{"name": "Engineering"}]), live(departments=[ENG], candidate_tags=TAGS))
    assert plan.unmanaged == ()


def test_enforce_on_a_section_no_manifest_mentions_prunes_nothing_and_says_so() -> None:
    plan = build_plan(manifest(prune={"candidate_tags": "enforce"}, departments=[{"name": "Engineering"}]),
                      live(departments=[ENG], candidate_tags=TAGS))
    assert plan.changes == ()
    assert any("policy.prune.candidate_tags is enforce, but no manifest" in w for w in plan.warnings)


def test_an_empty_section_under_enforce_deletes_every_unprotected_tag() -> None:
    m = manifest(prune={"candidate_tags": "enforce"}, protect={"candidate_tags": ["Do Not Contact"]}, candidate_tags=[])
    plan = build_plan(m, live(candidate_tags=TAGS))
    assert sorted(c.name for c in plan.changes) == ["Referral", "old-tag"]


def test_a_primary_contact_created_by_the_same_plan_is_set_after_the_user_exists() -> None:
    m = manifest(offices=[{"name": "Berlin", "primary_contact": "nia@acme.example"}, {"name": "Oslo", "primary_contact": "nia@acme.example"}],
                 users=[{"email": "Nia@acme.example", "first_name": "Nia", "last_name": "Hire"}])
    plan = build_plan(m, live(offices=[office(112, "Berlin")]))
    assert [(w[0], w[1]) for w in writes(plan)] == [
        ("POST", "/v3/offices"), ("POST", "/v3/users"),
        ("PATCH", "/v3/offices/112"), ("PATCH", "/v3/offices/{$ref:office:Oslo}")]
    assert writes(plan)[0][2] == {"name": "Oslo"}
    assert writes(plan)[2][2] == {"primary_in_house_contact_user_id": {"$ref": "user:nia@acme.example"}}
    assert plan.changes[2].fields["primary_contact"].after == "nia@acme.example"


def test_swapping_parent_and_child_moves_the_future_parent_first_so_no_step_is_a_cycle() -> None:
    m = manifest(departments=[{"name": "Engineering", "parent": "Platform"}, {"name": "Platform", "parent": None}])
    plan = build_plan(m, live(departments=[ENG, PLAT]))
    assert writes(plan) == [("PATCH", "/v3/departments/11", {"parent_id": None}),
                            ("PATCH", "/v3/departments/10", {"parent_id": 11})]


# -- offices: location and primary contact ------------------------------------------------------------


def test_a_blank_live_location_is_none_so_location_null_is_no_change() -> None:
    plan = build_plan(manifest(offices=[{"name": "Berlin", "location": None}]), live(offices=[office(112, "Berlin", location="")]))
    assert plan.changes == () and plan.unchanged == {"office": 1}


def test_a_blank_live_location_is_shown_as_none_when_a_location_is_set() -> None:
    plan = build_plan(manifest(offices=[{"name": "Berlin", "location": "Berlin"}]), live(offices=[office(112, "Berlin", location="")]))
    assert writes(plan) == [("PATCH", "/v3/offices/112", {"location": "Berlin"})]
    assert plan.changes[0].fields["location"].before is None


def test_omitted_location_and_contact_are_unmanaged() -> None:
    plan = build_plan(manifest(offices=[{"name": "Berlin"}]),
                      live(offices=[office(112, "Berlin", location="Berlin", contact=1002)], users=[user(1002, "jane@acme.example")]))
    assert plan.changes == ()


def test_a_primary_contact_matches_any_of_the_users_addresses_and_null_clears_it() -> None:
    jane = user(1002, "jane@acme.example", emails=["jane@acme.example", "j.doe@acme.example"])
    plan = build_plan(manifest(offices=[{"name": "Berlin", "primary_contact": "J.Doe@acme.example"}, {"name": "Oslo", "primary_contact": None}]),
                      live(offices=[office(112, "Berlin"), office(113, "Oslo", contact=1002)], users=[jane]))
    assert writes(plan) == [("PATCH", "/v3/offices/112", {"primary_in_house_contact_user_id": 1002}),
                            ("PATCH", "/v3/offices/113", {"primary_in_house_contact_user_id": None})]
    assert plan.changes[1].fields["primary_contact"] == FieldChange("jane@acme.example", None)


def test_a_new_office_sends_its_location_and_contact_in_the_create() -> None:
    plan = build_plan(manifest(offices=[{"name": "Oslo", "location": "Norway", "primary_contact": "jane@acme.example"}]),
                      live(users=[user(1002, "jane@acme.example")]))
    assert writes(plan) == [("POST", "/v3/offices", {"name": "Oslo", "location": "Norway",
                                                     "primary_in_house_contact_user_id": 1002})]
    assert plan.changes[0].fields["primary_contact"].after == "jane@acme.example"


def test_a_new_user_replacing_a_live_contact_is_set_later_and_shows_the_old_contact() -> None:
    m = manifest(offices=[{"name": "Berlin", "primary_contact": "nia@acme.example", "location": "Berlin"}],
                 users=[{"email": "nia@acme.example", "first_name": "Nia", "last_name": "Hire"}])
    plan = build_plan(m, live(offices=[office(112, "Berlin", contact=1002)], users=[user(1002, "jane@acme.example")]))
    assert [(c.key, c.fields) for c in plan.changes if c.type == "office"] == [
        ("office:112", {"location": FieldChange(None, "Berlin")}),
        ("office:contact:112", {"primary_contact": FieldChange("jane@acme.example", "nia@acme.example")}),
    ]


def test_an_unknown_parent_and_an_unknown_contact_are_both_reported() -> None:
    with pytest.raises(PlanError) as raised:
        build_plan(manifest(offices=[{"name": "Berlin", "parent": "EMEA", "primary_contact": "nobody@acme.example"}]),
                   live(offices=[office(112, "Berlin")]))
    assert 'unknown office "EMEA"' in str(raised.value) and 'unknown user "nobody@acme.example"' in str(raised.value)


# -- deep trees: the final-tree checks are linear ---------------------------------------------------------

DEEP = 3000


def chain(n: int) -> list[dict[str, Any]]:
    """Departments D1 (top level) <- D2 <- ... <- Dn, each the parent of the next."""
    return [{"name": f"D{i}", "parent": f"D{i - 1}" if i > 1 else None} for i in range(1, n + 1)]


def test_a_3000_deep_chain_given_children_first_is_created_parents_first() -> None:
    plan = build_plan(manifest(departments=list(reversed(chain(DEEP)))), live())
    assert [c.name for c in plan.changes] == [f"D{i}" for i in range(1, DEEP + 1)]
    assert writes(plan)[-1] == ("POST", "/v3/departments", {"name": f"D{DEEP}", "parent_id": {"$ref": f"department:D{DEEP - 1}"}})


def test_a_flat_tree_folded_into_a_3000_deep_chain_moves_shallowest_first() -> None:
    rows = [dept(i, f"D{i}") for i in range(1, DEEP + 1)]
    plan = build_plan(manifest(departments=list(reversed(chain(DEEP)))), live(departments=rows))
    assert [c.id for c in plan.changes] == list(range(2, DEEP + 1))
    assert plan.unchanged == {"department": 1}


def test_a_3000_deep_chain_that_is_unchanged_costs_nothing() -> None:
    rows = [dept(i, f"D{i}", i - 1 or None) for i in range(1, DEEP + 1)]
    plan = build_plan(manifest(departments=chain(DEEP)), live(departments=rows))
    assert plan.changes == () and plan.unchanged == {"department": DEEP}


def test_closing_a_3000_deep_chain_into_a_loop_is_a_cycle_named_from_its_least_member() -> None:
    rows = [dept(i, f"D{i}", i - 1 or None) for i in range(1, DEEP + 1)]
    with pytest.raises(PlanError, match=rf"the planned department tree has a cycle: D1 -> D{DEEP} -> D{DEEP - 1} -> .* -> D2 -> D1$"):
        build_plan(manifest(departments=[{"name": "D1", "parent": f"D{DEEP}"}]), live(departments=rows))


# -- any re-parenting converges through the sandbox, which refuses every intermediate cycle ------------------


def forest(draw: st.DrawFn, nodes: list[int]) -> dict[int, int | None]:
    """A random forest over `nodes`: in a random order, each node's parent is an earlier node or none."""
    order = draw(st.permutations(nodes))
    return {n: draw(st.sampled_from([None, *order[:i]])) for i, n in enumerate(order)}


@st.composite
def reparentings(draw: st.DrawFn) -> tuple[dict[int, int | None], dict[int, int | None]]:
    nodes = list(range(500, 500 + draw(st.integers(1, 7))))
    return forest(draw, nodes), forest(draw, nodes)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees=reparentings())
def test_any_reparenting_applies_without_an_intermediate_cycle_and_converges(
    trees: tuple[dict[int, int | None], dict[int, int | None]],
) -> None:
    before, after = trees
    data = seed()
    stamp = {"created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
    data["departments"] += [{"id": n, "name": f"T{n}", "parent_id": p, "external_id": None, **stamp}
                            for n, p in before.items()]
    rig = Rig(data)
    m = manifest(prune={"departments": "off"},
                 departments=[{"name": f"T{n}", "parent": None if p is None else f"T{p}"} for n, p in after.items()])
    with rig.reader() as reader:
        rig.executor().apply(build_plan(m, read_for_manifest(reader, m)))
    assert {r["id"]: r["parent_id"] for r in rig.sandbox.rows("departments") if r["id"] in after} == after
    with rig.reader() as reader:
        assert build_plan(m, read_for_manifest(reader, m)).changes == ()
