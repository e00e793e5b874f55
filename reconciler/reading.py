"""Read exactly the live collections a manifest needs, each with one paginated list.

Two stages: everything but the job-permission lists first; then those lists, filtered to the managed
users' ids when that fits one filter (a handful of users in an org of thousands costs one request).
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.errors import UsageError
from reconciler.live import LiveOrg, Reader, plan_reads, read_live
from reconciler.manifest.model import Manifest
from reconciler.planner import collections_needed

PERMISSIONS = ("user_job_permissions", "future_job_permissions")


def read_for_manifest(
    reader: Reader, manifest: Manifest, only: Iterable[str] = (), *, acting_user_id: str | None = None
) -> LiveOrg:
    needed = collections_needed(manifest, only)
    first = [c for c in needed if c not in PERMISSIONS]
    live = read_live(reader, plan_reads(first))
    if acting_user_id is not None:
        check_acting_user(reader, live, acting_user_id)
    second = [c for c in needed if c in PERMISSIONS]
    if not second:
        return live
    user_ids = _managed_user_ids(manifest, live)
    more = read_live(reader, plan_reads(second, permission_user_ids=user_ids))
    return LiveOrg(rows={**live.rows, **more.rows}, reads={**live.reads, **more.reads})


def _managed_user_ids(manifest: Manifest, live: LiveOrg) -> list[int]:
    """Live ids of the users whose permissions the manifests manage (emails matched case-insensitively)."""
    by_email: dict[str, int] = {}
    for live_id, row in live.get("users").items():
        for email in [row.get("primary_email"), *(row.get("emails") or [])]:
            if email:
                by_email.setdefault(str(email).lower(), live_id)
    ids = set()
    for entry in manifest.entries.get("users", ()):
        if "job_permissions" in entry.data or "future_job_permissions" in entry.data:
            found = by_email.get(str(entry.data["email"]).lower())
            if found is not None:
                ids.add(found)
    return sorted(ids)


def check_acting_user(reader: Reader, live: LiveOrg, acting_user_id: str) -> None:
    """Refuse to plan on silently empty data: the token's user must be a Site Admin.

    List endpoints answer an empty list, not an error, when the acting user is not a Site Admin [2nd];
    planning on that would "create" every object again. The users list is used when it was read anyway;
    otherwise one filtered request (`ids=<user>`) checks.
    """
    user_id = int(acting_user_id)
    if live.has("users"):
        row = live.get("users").get(user_id)
    else:
        rows = reader.list_all("/v3/users", {"ids": [user_id], "show_service_accounts": True})
        row = next((r for r in rows if int(r.get("id", -1)) == user_id), None)
    if row is None or not row.get("site_admin"):
        state = "was not returned by the API" if row is None else "is not a Site Admin"
        raise UsageError(
            f"GREENHOUSE_USER_ID {user_id} {state}: Harvest v3 list endpoints return nothing (silently) unless "
            "the token acts as a Site Admin, so planning would be wrong; set GREENHOUSE_USER_ID to a Site Admin's id"
        )
