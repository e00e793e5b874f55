"""Read exactly the live collections a manifest needs, each with one paginated list.

Two stages: everything but the job-permission lists first; then those lists, filtered to the managed
users' ids when that fits one filter (a handful of users in an org of thousands costs one request).

Between the stages, the acting identity is checked, because Harvest answers an empty list (not an
error) to a token whose user is not a Site Admin [2nd] and a plan made on empty lists would create
the whole organisation again:
- with GREENHOUSE_USER_ID, that user must be a Site Admin (`check_acting_user`);
- without it (the token acts as the credential's service user, whose id the product cannot know
  without parsing the token, which it never does), `check_not_all_empty` refuses when every list
  read came back empty while the manifests name objects.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.errors import UsageError
from reconciler.live import LiveOrg, Reader, plan_reads, read_live
from reconciler.manifest.model import Manifest
from reconciler.planner import collections_needed, sections_to_plan

PERMISSIONS = ("user_job_permissions", "future_job_permissions")


def read_for_manifest(
    reader: Reader, manifest: Manifest, only: Iterable[str] = (), *, acting_user_id: str | None = None,
    service_user: bool = False,
) -> LiveOrg:
    """The live collections planning `manifest` (restricted to `only`) needs.

    `acting_user_id`: the token's `sub`, checked to be a Site Admin. `service_user`: the token has no
    `sub` (it acts as the credential's service user), so the generic empty-lists guard runs instead.
    With neither (tests that drive the reader directly), nothing is checked.
    """
    needed = collections_needed(manifest, only)
    first = [c for c in needed if c not in PERMISSIONS]
    live = read_live(reader, plan_reads(first))
    if acting_user_id is not None:
        check_acting_user(reader, live, acting_user_id)
    elif service_user:
        # The permission lists of stage two are filtered by the users read here; with no users read
        # they are not requested at all, so stage one decides "every list came back empty".
        named = sum(len(manifest.entries.get(s, ())) for s in sections_to_plan(manifest, only))
        check_not_all_empty(live, "plan", expected=named)
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


def check_not_all_empty(live: LiveOrg, action: str, *, expected: int) -> None:
    """Refuse to `action` ("plan", "export") on lists that all came back empty, when objects are expected.

    Used when the token acts as the credential's service user (no GREENHOUSE_USER_ID), whose permission
    level cannot be looked up. Generic on purpose: it looks at whatever collections were read, none by
    name. `expected` is the number of manifest entries in the sections being planned (export passes 1:
    an organisation worth exporting holds something). A truly empty organisation can still be planned
    (or exported) with GREENHOUSE_USER_ID set to a Site Admin, whose identity is then checked directly.
    """
    if expected <= 0 or not live.rows or any(live.rows.values()):
        return
    read = ", ".join(sorted(live.rows))
    why = (f", although the manifests name {expected} object(s): the plan would create them all again"
           if action == "plan" else ": the export would describe an empty organisation")
    raise UsageError(
        f"refusing to {action}: every list read from the Harvest API came back empty ({read}){why}. "
        "Harvest answers empty lists, not an error, to a token whose user is not a Site Admin, and GREENHOUSE_USER_ID "
        "is unset, so the token acts as the credential's own service user: check that credential in Greenhouse "
        "(its service user's permission level must be Site Admin), or set GREENHOUSE_USER_ID to a Site Admin's "
        "user id (that user is then checked directly, and an organisation that is really empty can be planned)"
    )
