"""Planner rules for users, job permissions and future job permissions; plan-wide rules (--only, determinism)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from reconciler import render
from reconciler.errors import PlanError, UsageError
from reconciler.live import LiveOrg
from reconciler.manifest.model import Manifest, Source
from reconciler.plan import FieldChange, Plan, Settle
from reconciler.planner import build_plan
from tests.builders import dept, job, live, manifest, office, user
from tests.planner.test_org_and_tags import actions, writes

JANE = user(1002, "jane@acme.example", office_ids=[101], department_ids=[10], emails=["jane@acme.example", "jd@acme.example"])
ADMIN = user(1001, "admin@acme.example", site_admin=True)
CTO = user(1004, "cto@acme.example", site_admin=True)
JOBS = [job(400, "Senior Platform Engineer", "REQ-1001"), job(403, "Staff SRE", "REQ-1004"),
        job(404, "Solutions Engineer", "REQ-2000"), job(405, "Solutions Engineer (Berlin)", "REQ-2000")]
ORG = {"departments": [dept(10, "Engineering"), dept(20, "Sales")],
       "offices": [office(101, "San Francisco"), office(111, "London")]}


def test_a_matching_user_costs_nothing_and_email_case_does_not_matter() -> None:
    plan = build_plan(manifest(users=[{"email": "Jane@Acme.example", "offices": ["San Francisco"]}]), live(users=[JANE], **ORG))
    assert plan.changes == ()


def test_offices_are_sent_as_the_whole_set_because_patch_replaces_it() -> None:
    plan = build_plan(manifest(users=[{"email": "jane@acme.example", "offices": ["San Francisco", "London"]}]),
                      live(users=[JANE], **ORG))
    assert writes(plan) == [("PATCH", "/v3/users/1002", {"office_ids": [101, 111]})]


def test_a_new_user_is_posted_with_documented_fields_then_patched() -> None:
    m = manifest(users=[{"email": "nia@acme.example", "first_name": "Nia", "last_name": "Hire", "offices": ["London"]}])
    plan = build_plan(m, live(**ORG))
    assert writes(plan) == [
        ("POST", "/v3/users", {"first_name": "Nia", "last_name": "Hire", "primary_email": "nia@acme.example"}),
        ("PATCH", "/v3/users/{$ref:user:nia@acme.example}", {"office_ids": [111]}),
    ]


def test_a_new_user_without_names_is_an_error() -> None:
    with pytest.raises(PlanError, match="creating it needs first_name and last_name"):
        build_plan(manifest(users=[{"email": "nia@acme.example"}]), live())


def test_active_false_deactivates_and_counts_as_a_removal() -> None:
    plan = build_plan(manifest(users=[{"email": "jane@acme.example", "active": False}]), live(users=[JANE]))
    assert writes(plan) == [("POST", "/v3/users/1002/deactivate", None)]
    assert plan.changes[0].removal and not plan.changes[0].destructive


def test_a_protected_user_is_never_deactivated() -> None:
    m = manifest(protect={"users": ["JANE@acme.example"]}, users=[{"email": "jane@acme.example", "active": False}])
    plan = build_plan(m, live(users=[JANE]))
    assert plan.changes == ()
    assert any("protected" in w for w in plan.warnings)


def test_site_admin_true_cannot_be_granted() -> None:
    with pytest.raises(PlanError, match=r"\$.users\[0\]: jane@acme.example is not a site admin"):
        build_plan(manifest(users=[{"email": "jane@acme.example", "site_admin": True}]), live(users=[JANE]))


def test_revoking_a_site_admin_is_destructive_and_says_permissions_go_too() -> None:
    plan = build_plan(manifest(users=[{"email": "admin@acme.example", "site_admin": False}]), live(users=[ADMIN, CTO]))
    (change,) = plan.changes
    assert (change.destructive, change.removal) == (True, True)
    assert writes(plan) == [("POST", "/v3/users/1001/revoke_permissions", None)]
    assert any("job permissions" in r for r in change.reasons)


def test_a_site_admins_job_permissions_are_not_planned() -> None:
    m = manifest(users=[{"email": "admin@acme.example", "job_permissions": [{"job": "REQ-1001", "role": "Standard"}]}])
    plan = build_plan(m, live(users=[ADMIN], jobs=JOBS))
    assert plan.changes == ()
    assert any("site admin" in w for w in plan.warnings)


def test_the_primary_email_moves_to_a_verified_secondary_address() -> None:
    plan = build_plan(manifest(users=[{"email": "jd@acme.example"}]), live(users=[JANE]))
    assert writes(plan) == [("PATCH", "/v3/users/1002", {"primary_email": "jd@acme.example"})]


def grants(*rows: tuple[int, int, int, int]) -> list[dict[str, int]]:
    return [{"id": i, "user_id": u, "job_id": j, "role_id": r} for i, u, j, r in rows]


def test_job_permissions_are_the_exact_set_new_grants_before_removals() -> None:
    m = manifest(users=[{"email": "jane@acme.example", "job_permissions": [{"job": "REQ-1004", "role": "Standard"}]}])
    plan = build_plan(m, live(users=[JANE], jobs=JOBS, user_job_permissions=grants((500, 1002, 400, 2))))
    assert writes(plan) == [("POST", "/v3/user_job_permissions", {"user_id": 1002, "job_id": 403, "role_id": 2}),
                            ("DELETE", "/v3/user_job_permissions/500", None)]


def test_a_role_change_on_one_job_is_one_update_that_creates_before_it_deletes() -> None:
    m = manifest(users=[{"email": "jane@acme.example", "job_permissions": [{"job": "Staff SRE", "role": "Private"}]}])
    plan = build_plan(m, live(users=[JANE], jobs=JOBS, user_job_permissions=grants((501, 1002, 403, 2))))
    (change,) = plan.changes
    assert (change.action, change.type, change.id, change.fallback) == ("update", "user_job_permission", 501, "delete_first")
    assert change.fields["role"] == FieldChange("Standard", "Private")
    assert (change.removal, change.destructive) == (False, False)
    assert [(w.method, w.path, w.body) for w in change.writes] == [
        ("POST", "/v3/user_job_permissions", {"user_id": 1002, "job_id": 403, "role_id": 3}),
        ("DELETE", "/v3/user_job_permissions/501", None)]
    assert [w.settle for w in change.writes] == [
        Settle("/v3/user_job_permissions", {"user_ids": [1002]}, {"user_id": 1002, "job_id": 403, "role_id": 3}),
        Settle("/v3/user_job_permissions", {"ids": [501]}, {"id": 501}, "absent")]
    assert all(w.bulk is None for w in change.writes)
    assert any("created first" in r for r in change.reasons)
    assert any("duplicate-grant 422" in r and "deleted first" in r for r in change.reasons)
    assert plan.removals() == [] and plan.summary()["update"] == 1


def test_a_role_change_keeps_its_fallback_through_the_saved_plan_json() -> None:
    m = manifest(users=[{"email": "jane@acme.example", "job_permissions": [{"job": "Staff SRE", "role": "Private"}]}])
    plan = build_plan(m, live(users=[JANE], jobs=JOBS, user_job_permissions=grants((501, 1002, 403, 2))))
    data = json.loads(plan.dumps())
    assert data["changes"][0]["fallback"] == "delete_first"
    assert Plan.from_json(data).changes[0].fallback == "delete_first"
    with pytest.raises(ValueError, match="unknown fallback 'retry'"):
        Plan.from_json({**data, "changes": [{**data["changes"][0], "fallback": "retry"}]})


def test_an_ambiguous_job_reference_is_an_error() -> None:
    m = manifest(users=[{"email": "jane@acme.example", "job_permissions": [{"job": "REQ-2000", "role": "Standard"}]}])
    with pytest.raises(PlanError, match=r'job_permissions\[0\].job|ambiguous job "REQ-2000": it matches 2 jobs'):
        build_plan(m, live(users=[JANE], jobs=JOBS))


def test_a_job_may_be_named_by_id() -> None:
    m = manifest(users=[{"email": "jane@acme.example", "job_permissions": [{"job": 405, "role": "Standard"}]}])
    plan = build_plan(m, live(users=[JANE], jobs=JOBS))
    assert writes(plan) == [("POST", "/v3/user_job_permissions", {"user_id": 1002, "job_id": 405, "role_id": 2})]


@pytest.mark.parametrize(("role", "message"), [("Standrad", 'unknown role "Standrad" (did you mean "Standard"?)'),
                                               ("Interviewer", "job permissions need a job_admin role")])
def test_a_role_must_be_a_known_job_admin_role(role: str, message: str) -> None:
    m = manifest(users=[{"email": "jane@acme.example", "job_permissions": [{"job": "REQ-1001", "role": role}]}])
    with pytest.raises(PlanError) as e:
        build_plan(m, live(users=[JANE], jobs=JOBS))
    assert message in str(e.value)


def test_grants_of_a_new_user_refer_to_its_create() -> None:
    m = manifest(users=[{"email": "nia@acme.example", "first_name": "N", "last_name": "H",
                         "job_permissions": [{"job": "REQ-1001", "role": "Standard"}]}])
    plan = build_plan(m, live(jobs=JOBS))
    assert writes(plan)[-1] == ("POST", "/v3/user_job_permissions",
                                {"user_id": {"$ref": "user:nia@acme.example"}, "job_id": 400, "role_id": 2})


def test_future_job_permissions_are_the_exact_set() -> None:
    m = manifest(users=[{"email": "jane@acme.example", "future_job_permissions": [
        {"role": "Standard", "department": "Sales"}, {"role": "Standard"}]}])
    rows = [{"id": 600, "user_id": 1002, "role_id": 2, "department_id": 10, "office_id": None},
            {"id": 602, "user_id": 1002, "role_id": 2, "department_id": None, "office_id": None}]
    plan = build_plan(m, live(users=[JANE], future_job_permissions=rows, **ORG))
    assert writes(plan) == [("POST", "/v3/future_job_permissions", {"user_id": 1002, "role_id": 2, "department_id": 20}),
                            ("DELETE", "/v3/future_job_permissions/600", None)]


def test_only_restricts_the_plan_to_the_named_types() -> None:
    m = manifest(departments=[{"name": "Ops"}], candidate_tags=["New"])
    plan = build_plan(m, live(), only=["candidate_tag"])
    assert actions(plan) == [("create", "candidate_tag", "New")]


def test_only_refuses_to_drop_a_create_that_a_kept_change_needs() -> None:
    m = manifest(departments=[{"name": "Ops"}], custom_fields=[{"name": "X", "field_type": "job", "value_type": "yes_no",
                                                                  "departments": ["Ops"]}])
    with pytest.raises(UsageError, match='--only leaves out "department:Ops"'):
        build_plan(m, live(), only=["custom_field", "custom_field_department"])


def test_unknown_only_types_are_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown resource type"):
        build_plan(manifest(), live(), only=["departments"])


def test_the_same_inputs_give_byte_identical_plan_json() -> None:
    m = manifest(departments=[{"name": "Ops", "parent": "Engineering"}], candidate_tags=["A", "B"],
                 users=[{"email": "jane@acme.example", "offices": ["London"], "job_permissions": [{"job": "REQ-1004", "role": "Standard"}]}])
    first = build_plan(m, live(users=[JANE], jobs=JOBS, **ORG)).dumps(include_fingerprints=True)
    second = build_plan(m, live(users=[JANE], jobs=JOBS, **ORG)).dumps(include_fingerprints=True)
    assert first == second


def test_service_accounts_are_never_matched_listed_or_changed() -> None:
    service = user(1006, "", emails=[], employee_id="E-1")
    plan = build_plan(manifest(users=[{"email": "robot@acme.example", "employee_id": "E-1", "first_name": "R",
                                       "last_name": "B"}]), live(users=[JANE, service]))
    assert actions(plan) == [("create", "user", "robot@acme.example")]
    assert [u.name for u in plan.unmanaged] == ["jane@acme.example"]


def test_an_unknown_email_matches_an_existing_user_by_employee_id() -> None:
    plan = build_plan(manifest(users=[{"email": "jd@acme.example", "employee_id": "E-1002"}]),
                      live(users=[{**JANE, "emails": ["jane@acme.example"], "employee_id": "E-1002"}]))
    assert plan.changes == ()
    assert any("must first be added and verified" in w for w in plan.warnings)


def test_empty_permission_lists_on_a_site_admin_agree_with_the_api_silently() -> None:
    plan = build_plan(manifest(users=[{"email": "admin@acme.example", "job_permissions": [], "future_job_permissions": []}]),
                      live(users=[ADMIN], jobs=JOBS))
    assert plan.changes == () and plan.warnings == ()


def test_a_confidential_job_missing_from_the_jobs_list_resolves_by_the_id_a_live_grant_names() -> None:
    m = manifest(users=[{"email": "jane@acme.example", "job_permissions": [{"job": 407, "role": "Standard"}]}])
    plan = build_plan(m, live(users=[JANE], jobs=JOBS, user_job_permissions=grants((509, 1002, 407, 2))))
    assert plan.changes == ()
    with pytest.raises(PlanError, match='unknown job "408"'):
        build_plan(manifest(users=[{"email": "jane@acme.example", "job_permissions": [{"job": 408, "role": "Standard"}]}]),
                   live(users=[JANE], jobs=JOBS, user_job_permissions=grants((509, 1002, 407, 2))))


# -- automated grants (made by Greenhouse from a future job permission) --------------------------------


def automated(*rows: tuple[int, int, int, int]) -> list[dict[str, object]]:
    return [{"id": i, "user_id": u, "job_id": j, "role_id": r, "automated": True} for i, u, j, r in rows]


def hand_made(*rows: tuple[int, int, int, int]) -> list[dict[str, object]]:
    return [{**g, "automated": False} for g in grants(*rows)]


RAJ = user(1003, "raj@acme.example")


@pytest.mark.parametrize(
    ("listed", "expected"),
    [
        ([{"job": "REQ-1001", "role": "Standard"}], []),
        ([], [("DELETE", "/v3/user_job_permissions/500", None)]),
        ([{"job": "REQ-1001", "role": "Private"}], [
            ("POST", "/v3/user_job_permissions", {"user_id": 1002, "job_id": 400, "role_id": 3}),
            ("DELETE", "/v3/user_job_permissions/500", None)]),
    ],
    ids=["grant-kept", "all-hand-made-removed", "hand-made-role-changed"],
)
def test_automated_grants_are_never_deleted_whatever_the_list(listed: list[dict[str, str]],
                                                              expected: list[tuple[str, str, object]]) -> None:
    rows = hand_made((500, 1002, 400, 2)) + automated((599, 1002, 403, 2))
    plan = build_plan(manifest(users=[{"email": "jane@acme.example", "job_permissions": listed}]),
                      live(users=[JANE], jobs=JOBS, user_job_permissions=rows))
    assert writes(plan) == expected
    assert not any("/599" in w[1] for w in writes(plan))


def test_an_automated_grant_satisfies_the_listed_grant_on_its_job_and_role() -> None:
    m = manifest(users=[{"email": "jane@acme.example", "job_permissions": [{"job": "REQ-1004", "role": "Standard"}]}])
    plan = build_plan(m, live(users=[JANE], jobs=JOBS, user_job_permissions=automated((599, 1002, 403, 2))))
    assert plan.changes == ()
    assert plan.unchanged == {"user": 1, "user_job_permission": 1}
    (managed,) = plan.greenhouse_managed
    assert "satisfies the grant the manifest lists" in managed.reason


def test_an_automated_grant_with_another_role_stays_and_the_listed_role_is_granted_by_hand() -> None:
    m = manifest(users=[{"email": "jane@acme.example", "job_permissions": [{"job": "REQ-1004", "role": "Private"}]}])
    plan = build_plan(m, live(users=[JANE], jobs=JOBS, user_job_permissions=automated((599, 1002, 403, 2))))
    (change,) = plan.changes
    assert (change.action, change.fallback) == ("create", None)
    assert writes(plan) == [("POST", "/v3/user_job_permissions", {"user_id": 1002, "job_id": 403, "role_id": 3})]
    assert any("automated grant" in r and "Standard (id 599)" in r for r in change.reasons)


def test_a_hand_made_grant_whose_listed_role_an_automated_grant_already_gives_is_removed_not_the_automated_one() -> None:
    rows = hand_made((501, 1002, 403, 3)) + automated((599, 1002, 403, 2))
    m = manifest(users=[{"email": "jane@acme.example", "job_permissions": [{"job": "REQ-1004", "role": "Standard"}]}])
    plan = build_plan(m, live(users=[JANE], jobs=JOBS, user_job_permissions=rows))
    assert writes(plan) == [("DELETE", "/v3/user_job_permissions/501", None)]
    assert "automated grant (id 599)" in plan.changes[0].reasons[0]


def test_automated_grants_of_managed_users_are_greenhouse_managed_in_json_text_and_markdown_not_changes() -> None:
    rows = hand_made((500, 1002, 400, 2)) + automated((599, 1002, 403, 2), (598, 1003, 404, 3))
    m = manifest(users=[{"email": "jane@acme.example", "job_permissions": [{"job": "REQ-1001", "role": "Standard"}]},
                        {"email": "raj@acme.example"}])  # raj's grants are not managed: his row is not listed
    plan = build_plan(m, live(users=[JANE, RAJ], jobs=JOBS, user_job_permissions=rows))
    assert plan.changes == () and not plan.has_changes
    assert [(g.type, g.name, g.id) for g in plan.greenhouse_managed] == [
        ("user_job_permission", "jane@acme.example on REQ-1004", 599)]
    reason = plan.greenhouse_managed[0].reason
    assert "automated grant of role Standard" in reason and "never deleted" in reason
    assert plan.summary() == {"create": 0, "update": 0, "delete": 0, "replace": 0, "unchanged": 3, "unmanaged": 0}

    data = json.loads(plan.dumps())
    assert data["greenhouse_managed"] == [{"type": "user_job_permission", "name": "jane@acme.example on REQ-1004",
                                           "id": 599, "reason": reason}]
    assert data["changes"] == []
    assert Plan.from_json(data).greenhouse_managed == plan.greenhouse_managed

    text = render.to_text(plan)
    assert text.startswith("No changes.")
    assert "Greenhouse-managed (made by Greenhouse itself; never changed by apply, not drift): 1" in text
    assert f"  = user_job_permission jane@acme.example on REQ-1004 (id 599): {reason}" in text
    md = render.to_markdown(plan)
    assert "1 Greenhouse-managed live row(s)" in md
    assert "- user_job_permission jane@acme.example on REQ-1004 (id 599): " in md


def test_greenhouse_managed_rows_follow_only() -> None:
    m = manifest(users=[{"email": "jane@acme.example", "job_permissions": []}])
    state = live(users=[JANE], jobs=JOBS, user_job_permissions=automated((599, 1002, 403, 2)))
    assert len(build_plan(m, state, only=["user_job_permission"]).greenhouse_managed) == 1
    assert build_plan(m, state, only=["user"]).greenhouse_managed == ()


def test_deleting_a_future_permission_says_the_automated_grants_it_made_stay() -> None:
    rows = [{"id": 600, "user_id": 1002, "role_id": 2, "department_id": 10, "office_id": None}]
    plan = build_plan(manifest(users=[{"email": "jane@acme.example", "future_job_permissions": []}]),
                      live(users=[JANE], future_job_permissions=rows, **ORG))
    (change,) = plan.changes
    assert writes(plan) == [("DELETE", "/v3/future_job_permissions/600", None)]
    assert any("keep those automated grants" in r and "Previously-created jobs" in r for r in change.reasons)


# -- linear planning ---------------------------------------------------------------------------------


class Scanned(Mapping[int, Mapping[str, Any]]):
    """A live collection that counts how often it is scanned whole (iterated); lookups by id are free."""

    def __init__(self, rows: Mapping[int, Mapping[str, Any]]) -> None:
        self.rows = rows
        self.scans = 0

    def __getitem__(self, key: int) -> Mapping[str, Any]:
        return self.rows[key]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[int]:
        self.scans += 1
        return iter(self.rows)


def scans_to_plan(n: int) -> dict[str, int]:
    """Plan n users (each with grants, future grants and some drift) and count each collection's scans."""
    users = [user(2000 + i, f"u{i}@acme.example", office_ids=[101]) for i in range(n)]
    grants = hand_made(*((5000 + 2 * i, 2000 + i, 400, 2) for i in range(n)))
    grants += automated(*((5001 + 2 * i, 2000 + i, 403, 2) for i in range(n)))
    futures = [{"id": 6000 + i, "user_id": 2000 + i, "role_id": 2, "department_id": 10, "office_id": None}
               for i in range(n)]
    m = manifest(users=[{"email": f"u{i}@acme.example", "offices": ["London"], "job_title": "Recruiter",
                         "job_permissions": [{"job": "REQ-1004", "role": "Standard"}, {"job": 400, "role": "Private"}],
                         "future_job_permissions": [{"role": "Standard", "department": "Sales"}]} for i in range(n)])
    state = live(users=users, jobs=JOBS, user_job_permissions=grants, future_job_permissions=futures, **ORG)
    counted = {c: Scanned(rows) for c, rows in state.rows.items()}
    plan = build_plan(m, LiveOrg(rows=counted), fingerprints=False)
    # Each user: a PATCH, a role change, a future grant created and one deleted (REQ-1004 is automated).
    assert len(plan.changes) == 4 * n and len(plan.greenhouse_managed) == n
    return {c: rows.scans for c, rows in counted.items()}


def test_planning_scans_no_collection_once_per_user() -> None:
    assert scans_to_plan(3) == scans_to_plan(30)


# -- the tool never cuts its own access ----------------------------------------------------------------


def placed(m: Manifest, **lines: int) -> Manifest:
    """`m` with nested values of its users written at the given lines of test.yaml (column 7).

    Keys are "<user index>:<path relative to the entry>", e.g. `placed(m, **{"0:active": 4})`; keys of users
    `m` does not have are ignored.
    """
    users = list(m.entries["users"])
    for key, line in lines.items():
        index, relative = key.split(":", 1)
        if int(index) >= len(users):
            continue
        entry = users[int(index)]
        located = {**entry.sources, relative: Source("test.yaml", line, 7, f"{entry.source.path}.{relative}")}
        users[int(index)] = dataclasses.replace(entry, sources=located)
    return dataclasses.replace(m, entries={**m.entries, "users": tuple(users)})


SERVICE = user(1006, "", emails=[], site_admin=True)  # a service account: not a person, never managed
GONE = user(1009, "gone@acme.example", site_admin=True, deactivated=True)
ADMINS = [ADMIN, CTO, JANE, SERVICE, GONE]


@pytest.mark.parametrize(
    ("users", "acting", "expected"),
    [
        # the acting user (GREENHOUSE_USER_ID), as settings give it (a string) or as an int
        ([{"email": "admin@acme.example", "active": False}], "1001",
         ["test.yaml:5:7: $.users[0].active: this plan deactivates admin@acme.example, the user this tool acts "
          "as (GREENHOUSE_USER_ID 1001): every later request of the apply would fail"]),
        ([{"email": "ADMIN@acme.example", "site_admin": False}], 1001,
         ["test.yaml:6:7: $.users[0].site_admin: this plan revokes the site admin role of ADMIN@acme.example, "
          "the user this tool acts as (GREENHOUSE_USER_ID 1001): every later read would silently answer nothing"]),
        # every active site admin (service accounts and deactivated admins do not count), with or without
        # GREENHOUSE_USER_ID: one error at each line that asks for it, naming the other
        ([{"email": "admin@acme.example", "site_admin": False}, {"email": "cto@acme.example", "active": False}], None,
         [f"test.yaml:{n}:7: $.users[{i}].{k}: this plan leaves the organisation with no active site admin (it "
          "deactivates or revokes all 2 of them: admin@acme.example at test.yaml:6:7, cto@acme.example at "
          "test.yaml:7:7), so nobody could administer Greenhouse or be named in GREENHOUSE_USER_ID afterwards"
          for i, k, n in ((0, "site_admin", 6), (1, "active", 7))]),
        ([{"email": "admin@acme.example", "active": False}, {"email": "cto@acme.example", "site_admin": False}],
         "1004",
         ["$.users[1].site_admin: this plan revokes the site admin role of cto@acme.example, the user this tool acts",
          "$.users[0].active: this plan leaves the organisation with no active site admin",
          "$.users[1].site_admin: this plan leaves the organisation with no active site admin"]),
    ],
    ids=["deactivate-acting-user", "revoke-acting-user", "no-site-admin-left", "both-rules"],
)
def test_a_plan_that_cuts_the_tools_own_access_is_an_error_at_the_line_asking_for_it(
        users: list[dict[str, Any]], acting: str | int | None, expected: list[str]) -> None:
    m = placed(manifest(users=users), **{"0:active": 5, "0:site_admin": 6, "1:active": 7, "1:site_admin": 7})
    with pytest.raises(PlanError) as e:
        build_plan(m, live(users=ADMINS), acting_user_id=acting)
    text = str(e.value)
    for message in expected:
        assert message in text
    assert text.count("\n") + 1 >= len(expected)


@pytest.mark.parametrize(
    ("users", "acting"),
    [
        ([{"email": "cto@acme.example", "active": False}], "1001"),  # another site admin stays: the acting one
        ([{"email": "cto@acme.example", "site_admin": False}], None),  # admin@ stays active
        ([{"email": "admin@acme.example", "active": True, "site_admin": True}], "1001"),  # no change
        ([{"email": "gone@acme.example", "active": False}], None),  # already deactivated: nothing planned
    ],
    ids=["other-admin", "other-admin-no-acting-user", "unchanged", "already-deactivated"],
)
def test_cuts_that_leave_the_acting_user_and_a_site_admin_are_planned(users: list[dict[str, Any]],
                                                                    acting: str | None) -> None:
    plan = build_plan(manifest(users=users), live(users=ADMINS), acting_user_id=acting)
    assert [c.action for c in plan.changes] == (["update"] if "cto" in users[0]["email"] else [])


def test_a_protected_acting_user_is_not_deactivated_so_nothing_is_refused() -> None:
    m = manifest(protect={"users": ["admin@acme.example"]}, users=[{"email": "admin@acme.example", "active": False}])
    plan = build_plan(m, live(users=[ADMIN]), acting_user_id="1001")
    assert plan.changes == ()
    assert any("protected" in w for w in plan.warnings)


def test_deactivating_a_site_admin_while_another_stays_active_is_planned_as_before() -> None:
    plan = build_plan(manifest(users=[{"email": "cto@acme.example", "active": False}]), live(users=[ADMIN, CTO]),
                      acting_user_id="1001")
    assert writes(plan) == [("POST", "/v3/users/1004/deactivate", None)]


# -- conflicting grants: entries that resolve to one job or one scope ----------------------------------


@pytest.mark.parametrize(
    ("grants_listed", "expected"),
    [
        ([{"job": "REQ-1004", "role": "Standard"}, {"job": 403, "role": "Private"}],
         'test.yaml:9:7: $.users[0].job_permissions[1]: job "403" is the same job as "REQ-1004" at test.yaml:8:7 '
         '(REQ-1004, id 403; roles "Private" and "Standard"): a user holds one grant per job, so keep one entry'),
        ([{"job": "Staff SRE", "role": "Standard"}, {"job": "REQ-1001", "role": "Standard"},
          {"job": "REQ-1004", "role": "Standard"}],
         'test.yaml:10:7: $.users[0].job_permissions[2]: job "REQ-1004" is the same job as "Staff SRE" at '
         'test.yaml:8:7 (REQ-1004, id 403; role "Standard")'),
    ],
    ids=["requisition-id-and-job-id", "name-and-requisition-id"],
)
def test_two_job_permissions_entries_naming_one_job_are_an_error_naming_both_lines(
        grants_listed: list[dict[str, Any]], expected: str) -> None:
    m = placed(manifest(users=[{"email": "jane@acme.example", "job_permissions": grants_listed}]),
               **{f"0:job_permissions[{i}]": 8 + i for i in range(len(grants_listed))})
    with pytest.raises(PlanError) as e:
        build_plan(m, live(users=[JANE], jobs=JOBS, user_job_permissions=grants((501, 1002, 403, 2))))
    assert expected in str(e.value)
    assert str(e.value).count("same job") == 1


ORG_IDS = {"departments": [dept(10, "Engineering"), dept(20, "Sales", external_id="DEP-SALES")],
           "offices": [office(101, "San Francisco", external_id="SF"), office(111, "London")]}


@pytest.mark.parametrize(
    "futures",
    [
        [{"role": "Standard", "department": "Sales"}, {"role": "Standard", "department": "DEP-SALES"}],
        [{"role": "Private", "department": "Sales", "office": "SF"},
         {"role": "Private", "department": "DEP-SALES", "office": "San Francisco"}],
    ],
    ids=["department-by-name-and-external-id", "department-and-office"],
)
def test_two_future_job_permissions_with_one_scope_are_an_error_naming_both_lines(futures: list[dict[str, Any]]) -> None:
    m = placed(manifest(users=[{"email": "jane@acme.example", "future_job_permissions": futures}]),
               **{"0:future_job_permissions[0]": 8, "0:future_job_permissions[1]": 9})
    with pytest.raises(PlanError) as e:
        build_plan(m, live(users=[JANE], **ORG_IDS))
    assert "test.yaml:9:7: $.users[0].future_job_permissions[1]: the same future job permission as at test.yaml:8:7" \
        in str(e.value)
    assert "Sales" in str(e.value)


def test_future_job_permissions_differing_in_role_or_scope_are_no_conflict() -> None:
    futures = [{"role": "Standard", "department": "Sales"}, {"role": "Private", "department": "DEP-SALES"},
               {"role": "Standard", "department": "Sales", "office": "SF"}]
    plan = build_plan(manifest(users=[{"email": "jane@acme.example", "future_job_permissions": futures}]),
                      live(users=[JANE], **ORG_IDS))
    assert [c.action for c in plan.changes] == ["create"] * 3


def test_a_job_reference_of_non_ascii_digits_is_an_unknown_job_not_a_crash() -> None:
    m = manifest(users=[{"email": "jane@acme.example", "job_permissions": [{"job": "４０７", "role": "Standard"}]}])
    with pytest.raises(PlanError, match='unknown job "４０７"'):
        build_plan(m, live(users=[JANE], jobs=JOBS, user_job_permissions=grants((509, 1002, 407, 2))))
