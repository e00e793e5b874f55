"""Whether the token's user (GREENHOUSE_USER_ID) may read the organisation: it must be a Site Admin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.errors import UsageError

if TYPE_CHECKING:
    from reconciler.live import LiveOrg, Reader


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
