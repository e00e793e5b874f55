"""Offline checks of users: identities, references to the manifests' departments/offices, duplicate grants."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.errors import RANK_SEMANTIC, Problem
from reconciler.manifest.checks import Checking, by_field, duplicates, place
from reconciler.manifest.model import Entry
from reconciler.manifest.text import quote
from reconciler.resources import departments, offices
from reconciler.resources.tree_manifest import entries_of


def check(entries: Sequence[Entry], checking: Checking) -> list[Problem]:
    department_tree = entries_of(checking, departments.TREE)
    office_tree = entries_of(checking, offices.TREE)
    out = duplicates(
        entries,
        lambda e: [(e.data["email"].casefold(), "email", e.data["email"])],
        "user email",
        "emails are case-insensitive",
    )
    out += duplicates(entries, by_field("employee_id"), "employee_id")
    for entry in entries:
        out += office_tree.references(entry, "offices", "office")
        out += department_tree.references(entry, "departments", "department")
        grants = [
            Entry("job_permissions", g, entry.at(f"job_permissions[{j}]"), {"job": entry.at(f"job_permissions[{j}].job")})
            for j, g in enumerate(entry.data.get("job_permissions") or [])
        ]
        out += duplicates(grants, lambda g: [(str(g.data["job"]), "job", g.data["job"])], "job_permissions entry for job")
        futures = entry.data.get("future_job_permissions") or []
        seen: dict[tuple[Any, Any, Any], int] = {}
        for j, grant in enumerate(futures):
            at = entry.at(f"future_job_permissions[{j}]")
            scope = (grant["role"], grant.get("department"), grant.get("office"))
            if scope in seen:
                prior = entry.at(f"future_job_permissions[{seen[scope]}]")
                out.append(
                    Problem(
                        RANK_SEMANTIC,
                        str(at),
                        f"duplicate future job permission (role {quote(scope[0])}, department {quote(scope[1])}, "
                        f"office {quote(scope[2])}; first at {place(prior)})",
                    )
                )
            else:
                seen[scope] = j
            if "department" in grant:
                out += department_tree.reference(
                    grant["department"], entry.at(f"future_job_permissions[{j}].department"), "department")
            if "office" in grant:
                out += office_tree.reference(grant["office"], entry.at(f"future_job_permissions[{j}].office"), "office")
    return out
