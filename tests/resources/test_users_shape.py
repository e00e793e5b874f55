"""The users family's canonical shapes: a user, a per-job grant, a future-job grant.

For generated live rows, `from_manifest(to_manifest(from_api(row)))` is `from_api(row)` (references
written by name and resolved back), and `to_api(from_api(row))` gives the row's own values back. For a
generated live organisation, the real export of `users` loaded by the real manifest loader and planned
against the same organisation changes nothing, and lists every automated grant as Greenhouse-managed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.export import export_documents
from reconciler.manifest import load
from reconciler.planner import build_plan
from reconciler.resources.exporting import writable
from reconciler.resources.users.definition import (
    FUTURE_JOB_PERMISSION_SHAPE,
    JOB_PERMISSION_SHAPE,
    USER_SHAPE,
)
from tests.builders import ROLES, dept, job, live, office, user

#: Free text as people write it, with strings YAML would read as something else unless quoted; only what the
#: manifest's name rules accept (a live " padded " name is left out by export: tests/export/test_roundtrip_property.py).
TEXT = (st.sampled_from(["Recruiter", "Lead  Recruiter", "null", "yes", "1.0", "Zürich", "東京"]) | st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=10)).filter(writable)
JOB_ADMIN_ROLES = [int(str(r["id"])) for r in ROLES if r["role_type"] == "job_admin"]
ROLE_NAMES = {int(str(r["id"])): str(r["name"]) for r in ROLES}


def references(names: Mapping[str, Mapping[int, str]]) -> tuple[Any, Any]:
    """A (resolve, name_of) pair over generated referenced objects: {kind: {id: name}}."""
    ids = {kind: {name: i for i, name in by_id.items()} for kind, by_id in names.items()}

    def resolve(kind: str, value: Any, _relative: str) -> int:
        return ids[kind][value]

    def name_of(kind: str, value: Any) -> str:
        return names[kind][value]

    return resolve, name_of


@st.composite
def named(draw: st.DrawFn, kind: str, first_id: int, max_size: int = 4) -> dict[int, str]:
    count = draw(st.integers(0, max_size))
    return {first_id + i: f"{kind} {i}" for i in range(count)}


def subset(draw: Callable[[st.SearchStrategy[list[int]]], list[int]], ids: Mapping[int, Any] | list[int]) -> list[int]:
    """A generated subset of `ids` (in generated order)."""
    return draw(st.lists(st.sampled_from(sorted(ids)), unique=True)) if ids else []


# -- the shapes, one row at a time -------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(data=st.data(), offices=named("office", 100), departments=named("department", 10))
def test_a_user_reads_back_as_its_live_row(data: st.DataObject, offices: dict[int, str],
                                           departments: dict[int, str]) -> None:
    row = user(1002, data.draw(st.emails()), site_admin=data.draw(st.booleans()),
               deactivated=data.draw(st.booleans()), office_ids=subset(data.draw, offices),
               department_ids=subset(data.draw, departments),
               first_name=data.draw(TEXT), last_name=data.draw(TEXT),
               employee_id=data.draw(st.none() | st.just("") | TEXT), job_title=data.draw(st.none() | st.just("") | TEXT))
    resolve, name_of = references({"office": offices, "department": departments})
    canonical = USER_SHAPE.from_api(row)
    assert USER_SHAPE.from_manifest(USER_SHAPE.to_manifest(canonical, name_of), resolve) == canonical
    assert canonical["active"] is not row["deactivated"]
    api = USER_SHAPE.to_api(canonical)
    assert api == {k: sorted(row[k]) if k.endswith("_ids") else row[k] for k in api}


@settings(max_examples=60, deadline=None)
@given(data=st.data(), jobs=named("job", 400, max_size=5).filter(bool))
def test_a_job_grant_reads_back_as_its_live_row(data: st.DataObject, jobs: dict[int, str]) -> None:
    row = {"id": 500, "user_id": 1002, "job_id": data.draw(st.sampled_from(sorted(jobs))),
           "role_id": data.draw(st.sampled_from(JOB_ADMIN_ROLES)), "automated": data.draw(st.booleans())}
    resolve, name_of = references({"job": jobs, "role": ROLE_NAMES})
    canonical = JOB_PERMISSION_SHAPE.from_api(row)
    assert JOB_PERMISSION_SHAPE.from_manifest(JOB_PERMISSION_SHAPE.to_manifest(canonical, name_of), resolve) == canonical
    assert JOB_PERMISSION_SHAPE.to_api(canonical) == {"job_id": row["job_id"], "role_id": row["role_id"]}


@settings(max_examples=60, deadline=None)
@given(data=st.data(), offices=named("office", 100), departments=named("department", 10))
def test_a_future_grant_reads_back_as_its_live_row_an_absent_scope_being_any(
        data: st.DataObject, offices: dict[int, str], departments: dict[int, str]) -> None:
    scopes: dict[str, list[int | None]] = {"department": [None, *departments], "office": [None, *offices]}
    row = {"id": 600, "user_id": 1002, "role_id": data.draw(st.sampled_from(JOB_ADMIN_ROLES)),
           "department_id": data.draw(st.sampled_from(scopes["department"])),
           "office_id": data.draw(st.sampled_from(scopes["office"]))}
    resolve, name_of = references({"office": offices, "department": departments,
                                   "role": ROLE_NAMES})
    canonical = FUTURE_JOB_PERMISSION_SHAPE.from_api(row)
    item = FUTURE_JOB_PERMISSION_SHAPE.to_manifest(canonical, name_of)
    assert ("department" in item) is (row["department_id"] is not None)  # the schema has no null scope
    assert ("office" in item) is (row["office_id"] is not None)
    assert FUTURE_JOB_PERMISSION_SHAPE.from_manifest(item, resolve) == canonical
    assert FUTURE_JOB_PERMISSION_SHAPE.to_api(canonical) == {k: row[k] for k in ("role_id", "department_id", "office_id")}


# -- a whole organisation through the real export, loader and planner --------------------------------


@st.composite
def organisations(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    """Departments and offices with distinct names (some with external ids), jobs (requisition ids and names
    may repeat, so the export falls back to a name or an id), users (one service account at most; site
    admins without grants), hand-made grants (one per user and job, some on a confidential job missing from
    the jobs list), automated grants beside them, and future grants with distinct scopes."""
    departments = [dept(10 + i, f"Dept {i}", external_id=draw(st.sampled_from([None, f"D-{i}"])))
                   for i in range(draw(st.integers(0, 3)))]
    offices = [office(100 + i, f"Office {i}", external_id=draw(st.sampled_from([None, f"O-{i}"])))
               for i in range(draw(st.integers(0, 3)))]
    jobs = [job(400 + i, draw(st.sampled_from(["Engineer", "Designer", f"Job {i}"])),
                draw(st.sampled_from([None, "REQ-1", f"REQ-{i + 2}"]))) for i in range(draw(st.integers(0, 4)))]
    job_ids = [j["id"] for j in jobs] + [499]  # 499: a confidential job, named only by grants
    users: list[dict[str, Any]] = []
    grants: list[dict[str, Any]] = []
    futures: list[dict[str, Any]] = []
    for i in range(draw(st.integers(0, 4))):
        uid = 1000 + i
        email = f"{draw(st.sampled_from(['ann', 'Bob', 'CHEN']))}.{i}@acme.example"
        site_admin = draw(st.booleans())
        users.append(user(
            uid, email, site_admin=site_admin, deactivated=draw(st.booleans()),
            office_ids=subset(draw, [o["id"] for o in offices]),
            department_ids=subset(draw, [d["id"] for d in departments]),
            emails=[email, *draw(st.lists(st.just(f"alias.{i}@acme.example"), max_size=1))],
            first_name=draw(TEXT), last_name=draw(TEXT),
            employee_id=draw(st.sampled_from([None, "", f"E-{i}"])), job_title=draw(st.none() | st.just("") | TEXT)))
        if site_admin:
            continue
        for job_id in subset(draw, job_ids):
            grants.append({"id": 500 + len(grants), "user_id": uid, "job_id": job_id,
                           "role_id": draw(st.sampled_from(JOB_ADMIN_ROLES)), "automated": False})
        for job_id in subset(draw, job_ids):
            grants.append({"id": 500 + len(grants), "user_id": uid, "job_id": job_id,
                           "role_id": draw(st.sampled_from(JOB_ADMIN_ROLES)), "automated": True})
        dept_ids: list[int | None] = [None, *(d["id"] for d in departments)]
        office_ids: list[int | None] = [None, *(o["id"] for o in offices)]
        scopes = st.tuples(st.sampled_from(JOB_ADMIN_ROLES), st.sampled_from(dept_ids), st.sampled_from(office_ids))
        for role_id, dept_id, office_id in draw(st.lists(scopes, unique=True, max_size=3)):
            futures.append({"id": 600 + len(futures), "user_id": uid, "role_id": role_id, "department_id": dept_id,
                            "office_id": office_id})
    if draw(st.booleans()):
        users.append(user(1999, "", emails=[], site_admin=True))  # the token's service account
    return {"departments": departments, "offices": offices, "jobs": jobs, "users": users,
            "user_job_permissions": grants, "future_job_permissions": futures}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(org=organisations())
def test_planning_the_export_against_the_organisation_it_came_from_changes_nothing(
        org: dict[str, list[dict[str, Any]]]) -> None:
    state = live(**org)
    result = export_documents(state, ["users"])
    assert result.notes == []
    with tempfile.TemporaryDirectory() as directory:
        for name, text in result.documents.items():
            (Path(directory) / name).write_text(text, encoding="utf-8")
        plan = build_plan(load([directory]), state)
    assert plan.changes == () and plan.unmanaged == () and plan.warnings == ()
    managed = [u for u in org["users"] if u["primary_email"]]
    assert plan.unchanged.get("user", 0) == len(managed)
    automated = sorted(g["id"] for g in org["user_job_permissions"] if g["automated"])
    assert sorted(g.id for g in plan.greenhouse_managed) == automated
