"""Which live objects a saved plan's staleness check covers (reconciler/staleness.py), in process."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.live import LiveOrg
from reconciler.plan import Plan
from reconciler.planner import build_plan
from reconciler.staleness import stale_objects
from tests.builders import ROLES, dept, live, manifest, user

TAGS = [{"id": 600, "name": "Referral"}, {"id": 601, "name": "Boomerang"}]


class Org:
    """A fake reader over mutable rows: `/v3/<collection>` lists that collection (params ignored)."""

    def __init__(self, **collections: list[dict[str, Any]]) -> None:
        self.rows = collections

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows.get(path.rsplit("/", 1)[-1], [])]

    def live(self) -> LiveOrg:
        base = live(**self.rows)
        return LiveOrg(rows=base.rows, reads={c: ((f"/v3/{c}", {}),) for c in base.rows})


def saved(plan: Plan) -> Plan:
    """The plan as apply --plan reads it back from `plan --out`."""
    return Plan.from_json(json.loads(plan.dumps(include_fingerprints=True)))


def org() -> Org:
    return Org(candidate_tags=list(TAGS), users=[user(1001, "admin@acme.example", site_admin=True)], user_roles=list(ROLES),
               departments=[dept(30, "People"), dept(40, "Finance")])


def tag_plan(state: Org) -> Plan:
    m = manifest(candidate_tags=["Referral", "Boomerang", "Sourced"])
    return saved(build_plan(m, state.live(), acting_user_id=1001))


def test_a_new_tag_plan_covers_the_acting_user_and_the_tags_identity_only() -> None:
    plan = tag_plan(org())
    assert plan.fingerprint_scope == "decisions"
    assert {c: sorted(f) for c, f in plan.fingerprints.items()} == {"users": ["1001"]}
    assert set(plan.reads) == {"users"}
    assert [(p.change, p.path, dict(p.match)) for p in plan.identity_probes] == [
        ("candidate_tag:Sourced", "/v3/candidate_tags", {"name": "Sourced"})]


def test_unrelated_new_objects_do_not_make_the_plan_stale() -> None:
    state = org()
    plan = tag_plan(state)
    state.rows["candidate_tags"].append({"id": 602, "name": "Unrelated tag from the UI"})
    state.rows["users"].append(user(1500, "someone@acme.example"))
    state.rows["departments"][1] = dept(40, "Finance & Ops")
    assert stale_objects(plan, state) == []


def test_the_acting_user_changing_makes_it_stale() -> None:
    state = org()
    plan = tag_plan(state)
    state.rows["users"][0] = {**state.rows["users"][0], "site_admin": False}
    assert stale_objects(plan, state) == ["users id 1001 (admin@acme.example) changed"]


def test_a_row_with_a_planned_creates_identity_makes_it_stale_and_is_named() -> None:
    state = org()
    plan = tag_plan(state)
    state.rows["candidate_tags"].append({"id": 603, "name": "Sourced"})
    assert stale_objects(plan, state) == [
        "candidate_tags id 603 (Sourced) appeared with the identity of the planned create candidate_tag:Sourced"]


def test_the_object_a_plan_renames_changing_or_vanishing_makes_it_stale() -> None:
    state = org()
    plan = saved(build_plan(manifest(departments=[{"name": "People Ops", "previously": ["People"]}]),
                            state.live()))
    assert "30" in plan.fingerprints["departments"] and "40" not in plan.fingerprints["departments"]
    state.rows["departments"][0] = dept(30, "People Team")
    assert stale_objects(plan, state) == ["departments id 30 (People Team) changed"]
    del state.rows["departments"][0]
    assert stale_objects(plan, state) == ["departments id 30 vanished"]


def test_objects_a_write_refers_to_are_covered() -> None:
    state = org()
    plan = saved(build_plan(manifest(departments=[{"name": "Benefits", "parent": "People"}]), state.live()))
    assert "30" in plan.fingerprints["departments"]  # the parent's id is in the create's body
    state.rows["departments"][0] = dept(30, "People", external_id="PPL")
    assert stale_objects(plan, state) == ["departments id 30 (People) changed"]


def test_a_plan_saved_by_the_previous_version_still_fingerprints_everything() -> None:
    state = org()
    data = json.loads(build_plan(manifest(candidate_tags=["Referral", "Boomerang", "Sourced"]), state.live())
                      .dumps(include_fingerprints=True))
    del data["fingerprint_scope"], data["identity_probes"]
    data["fingerprints"] = state.live().fingerprints()
    data["reads"] = {c: [[f"/v3/{c}", {}]] for c in state.rows}
    old = Plan.from_json(data)
    assert old.fingerprint_scope == "all" and old.identity_probes == ()
    assert stale_objects(old, state) == []
    state.rows["candidate_tags"].append({"id": 602, "name": "Unrelated tag from the UI"})
    assert stale_objects(old, state) == ["candidate_tags id 602 (Unrelated tag from the UI) appeared"]


def test_plans_that_are_not_saved_keep_their_json() -> None:
    plan = build_plan(manifest(candidate_tags=["Sourced"]), org().live(), fingerprints=False)
    data = json.loads(plan.dumps())
    assert "fingerprint_scope" not in data and "identity_probes" not in data


def test_a_name_of_non_ascii_digits_is_not_taken_for_an_id() -> None:
    from reconciler.staleness import _numbers

    assert list(_numbers({"name": "²", "other": "٣", "id": "42", "n": 7})) == [42, 7]
