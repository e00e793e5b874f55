"""Export of users: profile, offices, departments, and the hand-made job and future-job grants.

Each item is `to_manifest(from_api(row))` of the canonical shapes in `definition`, so planning the
export is a no-op by construction (`from_manifest` inverts `to_manifest`; tests/resources checks it).
The structure around the shapes:

* A user's `job_permissions` are the hand-made grants only: rows with `automated: true` are made by
  Greenhouse from a future job permission, and the planner leaves them alone.
* Service accounts (no email) are not managed. Site admins hold every job, so their grants are not written.
* A name or employee id the manifest cannot write (blank: the schema needs a non-blank text) is left
  out, i.e. unmanaged, so the export still validates.
* Users whose primary emails differ only by case are left out: Greenhouse compares emails
  case-insensitively, so no entry could name one of them (`Exporting.user_exported` notes it).
* Offices and departments are written by `Exporting.references` (a Harvest id stays an integer).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from reconciler.resources.canonical import NameOf
from reconciler.resources.exporting import Exporting, writable
from reconciler.resources.users.definition import (
    FUTURE_JOB_PERMISSION_SHAPE,
    JOB_PERMISSION_SHAPE,
    USER_SHAPE,
)

#: The users shape's reference sets (offices, departments).
_MANY = tuple(a for a in USER_SHAPE.attrs if a.many)
#: Keys whose schema is a non-blank text (`NAME`), and whether null is allowed.
_NAMES = {"first_name": False, "last_name": False, "employee_id": True}


def name_of(exporting: Exporting) -> NameOf:
    """The `NameOf` of the users shapes: how each kind of reference is written."""
    roles = exporting.live.get("user_roles")

    def write(kind: str, value: Any) -> Any:
        if kind == "office":
            return exporting.office(value)
        if kind == "department":
            return exporting.department(value)
        if kind == "job":
            return exporting.job(int(value))
        if kind == "role":
            return roles.get(int(value), {}).get("name", value)
        raise ValueError(f"users export: no writer for {kind} references")

    return write


def _writable(exporting: Exporting, row: Mapping[str, Any], key: str, value: Any) -> bool:
    """Whether a profile key can be written as it is (a name the manifest rules accept, or an allowed null)."""
    nullable = _NAMES.get(key)
    if nullable is None:
        return True
    if value is None:
        return nullable
    if isinstance(value, str) and value.strip() == "":
        return False  # blank: the same as none to a person, and the schema needs a non-blank text
    return exporting.value("user", row, key, value)


def _grants(exporting: Exporting, row: Mapping[str, Any], key: str, written: list[dict[str, Any]]) -> bool:
    """Whether a user's grants can all be written: leaving one out would revoke it, so the key goes instead."""
    for grant in written:
        for value in grant.values():
            if isinstance(value, str) and not writable(value):
                exporting.value("user", row, key, value)  # notes that the key is left out, and why
                return False
    return True


def items(exporting: Exporting) -> list[dict[str, Any]]:
    live = exporting.live
    write = name_of(exporting)
    grants: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for g in live.get("user_job_permissions").values():
        if g.get("automated") is True:  # made by Greenhouse from a future job permission: not the manifest's
            continue
        grants[int(g["user_id"])].append(g)
    future: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for g in live.get("future_job_permissions").values():
        future[int(g["user_id"])].append(g)
    out = []
    for row in sorted(live.get("users").values(), key=lambda r: str(r.get("primary_email") or "").lower()):
        if not row.get("primary_email"):  # service accounts have no email and are not managed
            continue
        if not exporting.user_exported(row):
            continue
        canonical = USER_SHAPE.from_api(row)
        user = USER_SHAPE.to_manifest(canonical, write)
        for attr in _MANY:
            user[attr.name] = exporting.references(attr.ref or "", canonical[attr.name])
        item = {k: v for k, v in user.items() if _writable(exporting, row, k, v)}
        if not row.get("site_admin"):
            job_grants = sorted(
                (JOB_PERMISSION_SHAPE.to_manifest(JOB_PERMISSION_SHAPE.from_api(g), write)
                 for g in grants.get(int(row["id"]), [])),
                key=lambda g: (str(g["job"]), str(g["role"])))
            future_grants = sorted(
                (FUTURE_JOB_PERMISSION_SHAPE.to_manifest(FUTURE_JOB_PERMISSION_SHAPE.from_api(g), write)
                 for g in future.get(int(row["id"]), [])),
                key=str)
            if _grants(exporting, row, "job_permissions", job_grants):
                item["job_permissions"] = job_grants
            if _grants(exporting, row, "future_job_permissions", future_grants):
                item["future_job_permissions"] = future_grants
        out.append(item)
    return out
