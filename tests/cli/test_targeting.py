"""`apply --only`'s filter (reconciler/cli/targeting.py) on hand-built plans: what is kept, what is
refused, bulk requests and identity probes."""

from __future__ import annotations

import pytest

from reconciler.cli.targeting import keep_only, pending_text, references
from reconciler.errors import UsageError
from reconciler.plan import BulkRequest, Change, IdentityProbe, Plan, Settle, Write


def create(type_: str, key: str, name: str, body: object, path: str = "/v3/things") -> Change:
    return Change("create", type_, name, key, writes=(Write("POST", path, body),))


def office_and_grant() -> Plan:
    office = create("office", "office:NYC", "New York", {"name": "New York"}, "/v3/offices")
    grant = Change("create", "future_job_permission", "jane on New York", "fjp:1",
                   writes=(Write("POST", "/v3/future_job_permissions",
                                 {"user_id": 7, "office_id": {"$ref": "office:NYC"}, "role_id": 2}),))
    tag = create("candidate_tag", "candidate_tag:x", "x", {"name": "x"}, "/v3/candidate_tags")
    return Plan(changes=(office, grant, tag), identity_probes=(
        IdentityProbe("office:NYC", "/v3/offices", {}, {"name": "New York"}),
        IdentityProbe("candidate_tag:x", "/v3/candidate_tags", {}, {"name": "x"})),
        fingerprints={"offices": {"3": "abc"}}, fingerprint_scope="decisions")


def test_keeps_the_changes_of_the_types_in_order_and_counts_the_rest() -> None:
    kept = keep_only(office_and_grant(), ["candidate_tag"])
    assert [c.key for c in kept.plan.changes] == ["candidate_tag:x"]
    assert kept.pending == {"future_job_permission": 1, "office": 1}
    assert pending_text(kept.pending) == "1 future_job_permission, 1 office"
    assert [p.change for p in kept.plan.identity_probes] == ["candidate_tag:x"]
    assert kept.plan.only == ("candidate_tag",)
    assert kept.plan.fingerprints == {"offices": {"3": "abc"}}  # every fingerprint kept: a superset


def test_a_kept_change_referring_to_a_dropped_create_is_refused_naming_both() -> None:
    with pytest.raises(UsageError) as info:
        keep_only(office_and_grant(), ["future_job_permission"])
    assert str(info.value) == (
        "apply --only future_job_permission: the change fjp:1 (create future_job_permission jane on New York) "
        "depends on office:NYC (create office New York), which --only leaves out; add --only office, or apply "
        "without --only")
    both = keep_only(office_and_grant(), ["future_job_permission", "office"])
    assert [c.key for c in both.plan.changes] == ["office:NYC", "fjp:1"]
    assert both.pending == {"candidate_tag": 1}


def test_references_are_found_in_paths_bulk_rows_and_settle_probes() -> None:
    change = Change("update", "user", "u", "user:u", writes=(
        Write("PATCH", "/v3/users/{$ref:user:new}", {"x": 1}),
        Write("POST", "/v3/user_emails", None, settle=Settle("/v3/user_emails", {"user_ids": [{"$ref": "user:b"}]},
                                                               {"email": "e"}),
              bulk_item={"department_ids": [{"$ref": "department:D"}]}),
    ))
    assert references(change) == {"user:new", "user:b", "department:D"}
    assert references(create("candidate_tag", "t", "t", {"name": "$ref is just text"})) == set()


def test_bulk_requests_follow_their_kept_changes() -> None:
    endpoint = "PATCH /v3/departments/bulk"
    rows = tuple(Change("update", "department", f"d{i}", f"department:{i}", id=i,
                        writes=(Write("PATCH", f"/v3/departments/{i}", {"name": f"d{i}"}, bulk=endpoint),))
                 for i in range(1, 4))
    tag = create("candidate_tag", "candidate_tag:x", "x", {"name": "x"})
    plan = Plan(changes=(*rows, tag), bulk_requests=(BulkRequest(endpoint, tuple(c.key for c in rows)),))
    kept = keep_only(plan, ["department"])
    assert kept.plan.bulk_requests == plan.bulk_requests
    assert kept.plan.request_count() == 1
    none = keep_only(plan, ["candidate_tag"])
    assert none.plan.bulk_requests == () and none.pending == {"department": 3}
