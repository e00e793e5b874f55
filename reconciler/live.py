"""The live organisation: what the Harvest v3 list endpoints return, read once per collection.

`read_live` never GETs one object at a time: each collection is one paginated list (plus, for users, whose
default filtering of deactivated users is undocumented, one extra list so nothing is missed). Job-permission lists are filtered to the managed users when that is one request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

#: Every collection the planner may read, with its list path.
COLLECTIONS: dict[str, str] = {
    "departments": "/v3/departments",
    "offices": "/v3/offices",
    "custom_fields": "/v3/custom_fields",
    "custom_field_options": "/v3/custom_field_options",
    "custom_field_departments": "/v3/custom_field_departments",
    "custom_field_offices": "/v3/custom_field_offices",
    "candidate_tags": "/v3/candidate_tags",
    "user_roles": "/v3/user_roles",
    "users": "/v3/users",
    "jobs": "/v3/jobs",
    "user_job_permissions": "/v3/user_job_permissions",
    "future_job_permissions": "/v3/future_job_permissions",
}

#: The `ids`/`*_ids` filters accept at most this many ids per request [2nd].
MAX_IDS = 50


class Reader(Protocol):
    """What the live read needs: the GET-only Harvest client satisfies it."""

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class LiveOrg:
    """Rows by collection, by id. A collection that was not read is absent (not empty)."""

    rows: Mapping[str, Mapping[int, Mapping[str, Any]]] = field(default_factory=dict)
    #: How each collection was read: {collection: [(path, params), ...]}; replaying them re-reads the same objects.
    reads: Mapping[str, tuple[tuple[str, Mapping[str, Any]], ...]] = field(default_factory=dict)

    def get(self, collection: str) -> Mapping[int, Mapping[str, Any]]:
        return self.rows.get(collection, {})

    def has(self, collection: str) -> bool:
        return collection in self.rows

    def fingerprints(self) -> dict[str, dict[str, str]]:
        return {c: {str(i): fingerprint(r) for i, r in rows.items()} for c, rows in self.rows.items()}


def fingerprint(row: Mapping[str, Any]) -> str:
    """A short stable digest of one live object's content."""
    text = json.dumps(row, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def by_id(rows: Iterable[Mapping[str, Any]]) -> dict[int, Mapping[str, Any]]:
    out: dict[int, Mapping[str, Any]] = {}
    for r in rows:
        out[int(r["id"])] = r
    return out


def plan_reads(
    collections: Iterable[str], *, permission_user_ids: Iterable[int] | None = None
) -> dict[str, tuple[tuple[str, Mapping[str, Any]], ...]]:
    """The list requests that read `collections`.

    * custom_fields: the default list, which returns active and archived fields ("Defaults to returning
      both active and archived", https://harvestdocs.greenhouse.io/reference/get_v3-custom-fields).
    * users: the default and `deactivated=true`, because whether the default includes deactivated users is
      undocumented [inferred: users-deactivated].
    * user_job_permissions / future_job_permissions: filtered by `user_ids` when the managed users fit in
      one filter (<= 50 ids), which is never more pages than the whole list.
    """
    reads: dict[str, tuple[tuple[str, Mapping[str, Any]], ...]] = {}
    user_ids = sorted(set(permission_user_ids)) if permission_user_ids is not None else None
    for c in collections:
        path = COLLECTIONS[c]
        if c == "users":
            # Service accounts are hidden unless asked for [spec]; reading them lets the planner recognise
            # (and never list, match or deactivate) them.
            reads[c] = ((path, {"show_service_accounts": True}),
                        (path, {"deactivated": True, "show_service_accounts": True}))
        elif c in ("user_job_permissions", "future_job_permissions") and user_ids is not None:
            if not user_ids:
                reads[c] = ()
            elif len(user_ids) <= MAX_IDS:
                reads[c] = ((path, {"user_ids": user_ids}),)
            else:
                reads[c] = ((path, {}),)
        else:
            reads[c] = ((path, {}),)
    return reads


def read_live(reader: Reader, reads: Mapping[str, tuple[tuple[str, Mapping[str, Any]], ...]]) -> LiveOrg:
    """Perform the reads (collections in a fixed order) and merge each collection's rows by id."""
    rows: dict[str, dict[int, Mapping[str, Any]]] = {}
    for c in COLLECTIONS:
        if c not in reads:
            continue
        merged: dict[int, Mapping[str, Any]] = {}
        for path, params in reads[c]:
            merged.update(by_id(reader.list_all(path, dict(params))))
        rows[c] = merged
    return LiveOrg(rows=rows, reads=dict(reads))
