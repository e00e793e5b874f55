"""Users with their job and future-job permissions (one family, three types), and the jobs and roles
those refer to (read-only collections).

The knowledge is split by concern: `definition` (the manifest keys), `checks` (offline), `plan`,
`export`, `acting` (whether the token's user may read the organisation).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.manifest.model import Entry
from reconciler.resources.base import Collection, Family, Phase, ResourceType, RowField
from reconciler.resources.registry import REGISTRY
from reconciler.resources.users import acting, checks, export, plan
from reconciler.resources.users.definition import (
    FUTURE_JOB_PERMISSION,
    FUTURE_JOB_PERMISSION_SHAPE,
    JOB_PERMISSION,
    JOB_PERMISSION_SHAPE,
    USER,
    USER_SHAPE,
)

if TYPE_CHECKING:
    from reconciler.live import LiveOrg

SECTION = "users"


def _reads(entries: Sequence[Entry]) -> frozenset[str]:
    needed = {"users", "user_roles", "departments", "offices"}
    if any("job_permissions" in e.data for e in entries):
        needed |= {"jobs", "user_job_permissions"}
    if any("future_job_permissions" in e.data for e in entries):
        needed.add("future_job_permissions")
    return frozenset(needed)


def _managed_user_ids(entries: Sequence[Entry], live: LiveOrg) -> list[int]:
    """Live ids of the users whose permissions the manifests manage (emails matched case-insensitively)."""
    by_email: dict[str, int] = {}
    for live_id, row in live.get("users").items():
        for email in [row.get("primary_email"), *(row.get("emails") or [])]:
            if email:
                by_email.setdefault(str(email).lower(), live_id)
    ids = set()
    for entry in entries:
        if "job_permissions" in entry.data or "future_job_permissions" in entry.data:
            found = by_email.get(str(entry.data["email"]).lower())
            if found is not None:
                ids.add(found)
    return sorted(ids)


FAMILY = REGISTRY.register(Family(
    section=SECTION,
    help="Users, their offices/departments and job permissions.",
    definition=USER,
    nested=(JOB_PERMISSION, FUTURE_JOB_PERMISSION),
    types=(
        ResourceType("user", "users", frozenset({"create", "update", "bulk"})),
        ResourceType("user_job_permission", "user_job_permissions", frozenset({"create", "update", "delete"}),
                     owner_separator=" on "),
        ResourceType("future_job_permission", "future_job_permissions", frozenset({"create", "delete"}),
                     owner_separator=": "),
    ),
    phases=(
        Phase("user", after=("department", "office"), independent=True),
        Phase("user_job_permission", after=("user",)),
        # New grants first, so a user never loses access in between.
        Phase("user_job_permission_delete", after=("user_job_permission",)),
        Phase("future_job_permission", after=("user",)),
        Phase("future_job_permission_delete", after=("future_job_permission",)),
    ),
    collections=(
        Collection(
            "user_roles", "/v3/user_roles", read_only=True,
            fields=(RowField("name", "string", nullable=False, required=True), RowField("role_type", "string"))),
        # Service accounts are hidden unless asked for [spec]; reading them lets the planner recognise (and
        # never list, match or deactivate) them. Whether the default list includes deactivated users is
        # undocumented [inferred: users-deactivated], so they are listed explicitly too.
        Collection(
            "users", plan.PATH,
            params=({"show_service_accounts": True}, {"deactivated": True, "show_service_accounts": True}),
            label=("name", "primary_email"), shape=USER_SHAPE, definition=USER, fields=(RowField("emails", "strings"),)),
        Collection("jobs", "/v3/jobs", read_only=True, fields=(RowField("requisition_id", "string"),)),
        Collection("user_job_permissions", plan.UJP, filter_param="user_ids", label=(), shape=JOB_PERMISSION_SHAPE,
                   fields=(RowField("user_id", "integer", nullable=False, required=True),
                           RowField("job_id", "integer", nullable=False, required=True),
                           RowField("role_id", "integer", nullable=False, required=True),
                           RowField("automated", "boolean"))),
        Collection("future_job_permissions", plan.FJP, filter_param="user_ids", label=(),
                   shape=FUTURE_JOB_PERMISSION_SHAPE,
                   fields=(RowField("user_id", "integer", nullable=False, required=True),
                           RowField("role_id", "integer", nullable=False, required=True))),
    ),
    identity="user emails",
    export_file="users.yaml",
    plan_reads=_reads,
    export_reads=frozenset({"users", "departments", "offices", "user_roles", "jobs", "user_job_permissions",
                            "future_job_permissions"}),
    plan=plan.plan_users,
    check=checks.check,
    export=export.items,
    deletable=False,
    casefold_identity=True,
    prune_hint="deactivate users by listing them with active: false",
    read_filter=_managed_user_ids,
    acting_user_check=acting.check_acting_user,
))

__all__ = ["FAMILY", "SECTION"]
