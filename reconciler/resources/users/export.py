"""Export of users: profile, offices, departments, and the hand-made job and future-job grants.

A user's `job_permissions` are the hand-made grants only: rows with `automated: true` are made by
Greenhouse from a future job permission, and the planner leaves them alone. Service accounts (no email)
are not managed. Site admins hold every job, so their grants are not written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from reconciler.resources.exporting import Exporting


def items(exporting: Exporting) -> list[dict[str, Any]]:
    live = exporting.live
    grants: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for g in live.get("user_job_permissions").values():
        if g.get("automated") is True:  # made by Greenhouse from a future job permission: not the manifest's
            continue
        grants[int(g["user_id"])].append(g)
    future: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for g in live.get("future_job_permissions").values():
        future[int(g["user_id"])].append(g)
    roles = live.get("user_roles")
    out = []
    for row in sorted(live.get("users").values(), key=lambda r: str(r.get("primary_email") or "").lower()):
        email = row.get("primary_email")
        if not email:  # service accounts have no email and are not managed
            continue
        item: dict[str, Any] = {"email": email}
        for key in ("first_name", "last_name"):
            if row.get(key):
                item[key] = row[key]
        if row.get("employee_id"):
            item["employee_id"] = row["employee_id"]
        if row.get("job_title"):
            item["job_title"] = row["job_title"]
        item["active"] = not row.get("deactivated", False)
        item["site_admin"] = bool(row.get("site_admin"))
        item["offices"] = sorted(str(exporting.office(i)) for i in row.get("office_ids") or [])
        item["departments"] = sorted(str(exporting.department(i)) for i in row.get("department_ids") or [])
        if not row.get("site_admin"):
            item["job_permissions"] = sorted(
                ({"job": exporting.job(int(g["job_id"])),
                  "role": roles.get(int(g["role_id"]), {}).get("name", g["role_id"])}
                 for g in grants.get(int(row["id"]), [])), key=lambda g: (str(g["job"]), str(g["role"])))
            item["future_job_permissions"] = sorted(
                (_future(g, roles, exporting) for g in future.get(int(row["id"]), [])), key=str)
        out.append(item)
    return out


def _future(g: Mapping[str, Any], roles: Mapping[int, Mapping[str, Any]], exporting: Exporting) -> dict[str, Any]:
    out: dict[str, Any] = {"role": roles.get(int(g["role_id"]), {}).get("name", g["role_id"])}
    if g.get("department_id") is not None:
        out["department"] = exporting.department(g["department_id"])
    if g.get("office_id") is not None:
        out["office"] = exporting.office(g["office_id"])
    return out
