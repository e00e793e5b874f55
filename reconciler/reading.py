"""Read exactly the live collections a manifest needs, each with one paginated list.

Two stages: everything but the job-permission lists first; then those lists, filtered to the managed
users' ids when that fits one filter (a handful of users in an org of thousands costs one request).
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.live import LiveOrg, Reader, plan_reads, read_live
from reconciler.manifest.model import Manifest
from reconciler.planner import collections_needed

PERMISSIONS = ("user_job_permissions", "future_job_permissions")


def read_for_manifest(reader: Reader, manifest: Manifest, only: Iterable[str] = ()) -> LiveOrg:
    needed = collections_needed(manifest, only)
    first = [c for c in needed if c not in PERMISSIONS]
    live = read_live(reader, plan_reads(first))
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
