"""The sandbox's state: every collection as a dict by id, plus ordering and lookup indexes.

No HTTP here. Rows are stored exactly as the list endpoints return them; ids are assigned as
max(id ever seen) + 1 per collection and never reused. Secondary indexes keep the uniqueness
checks and parent/child lookups O(1) so that a seed of 100,000 objects stays fast.
"""

from __future__ import annotations

import bisect
import copy
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from reconciler.sandbox.schema import COLLECTIONS, FIELDS
from reconciler.sandbox.timeutil import iso

_INDEXED: dict[str, tuple[str, ...]] = {
    "candidate_tags": ("name",),
    "departments": ("external_id",),
    "offices": ("name", "external_id"),
    "custom_fields": ("name_key",),
    "custom_field_options": ("custom_field_id", "name"),
    "custom_field_departments": ("custom_field_id",),
    "custom_field_offices": ("custom_field_id",),
    "users": ("primary_email",),
    "user_emails": ("email", "user_id"),
    "user_job_permissions": ("user_id",),
    "future_job_permissions": ("user_id",),
    "bulk_requests": ("bulk_action_uuid",),
}
_CASE_INSENSITIVE = {"email", "primary_email"}

_LIST_FIELDS = {"emails", "office_ids", "department_ids", "linked_candidate_ids", "interviewer_tags"}
_FALSE_FIELDS = {
    "private", "required", "require_approval", "trigger_new_version", "expose_in_job_board_api", "api_only",
    "use_for_job_approvals", "use_for_offer_approvals", "deactivated", "site_admin", "verified", "confidential",
    "is_template", "automated",
}


def _norm(field: str, value: Any) -> Any:
    if field in _CASE_INSENSITIVE and isinstance(value, str):
        return value.lower()
    return value


def _default(field: str) -> Any:
    if field in _LIST_FIELDS:
        return []
    if field == "custom_fields":
        return {}
    if field == "active":
        return True
    if field in _FALSE_FIELDS:
        return False
    return None


class Store:
    """All collections, the API clients (with their service users), and the bulk requests' internal
    bookkeeping."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[int, dict[str, Any]]] = {c: {} for c in COLLECTIONS}
        self._order: dict[str, list[int]] = {c: [] for c in COLLECTIONS}
        self.next_ids: dict[str, int] = {c: 1 for c in COLLECTIONS}
        self.clients: dict[str, str] = {}
        """client_id -> client_secret."""
        self.service_users: dict[str, int] = {}
        """client_id -> the user id of the client's service user (the token's user when `sub` is omitted)."""
        self.bulk: dict[str, dict[str, Any]] = {}
        self._index: dict[tuple[str, str], dict[Any, set[int]]] = {
            (c, f): {} for c, fields in _INDEXED.items() for f in fields
        }
        self._maxima: dict[tuple[str, str, str], dict[Any, int]] = {}

    # -- reads -----------------------------------------------------------------------------------

    def get(self, collection: str, row_id: Any) -> dict[str, Any] | None:
        if isinstance(row_id, bool) or not isinstance(row_id, int):
            return None
        return self.rows[collection].get(row_id)

    def find(self, collection: str, field: str, value: Any) -> list[dict[str, Any]]:
        """Rows whose indexed `field` equals `value` (emails case-insensitively), id ascending."""
        ids = self._index[(collection, field)].get(_norm(field, value), set())
        return [self.rows[collection][i] for i in sorted(ids)]

    def max_in_group(self, collection: str, group_field: str, group: Any, value_field: str) -> int:
        """The largest integer `value_field` among rows whose indexed `group_field` is `group`
        (0 when none). Kept as a running maximum after the first call, so lowering or deleting
        the largest value does not lower it: "last + 1" defaults then never collide."""
        spec = (collection, group_field, value_field)
        cache = self._maxima.setdefault(spec, {})
        if group not in cache:
            values = (r.get(value_field) for r in self.find(collection, group_field, group))
            cache[group] = max((v for v in values if isinstance(v, int) and not isinstance(v, bool)), default=0)
        return cache[group]

    def _track_maxima(self, collection: str, row: dict[str, Any]) -> None:
        for (coll, group_field, value_field), cache in self._maxima.items():
            value = row.get(value_field)
            group = row.get(group_field)
            if coll == collection and group in cache and isinstance(value, int) and not isinstance(value, bool):
                cache[group] = max(cache[group], value)

    def ids_desc(self, collection: str, below: int | None = None) -> Iterator[int]:
        """Ids in descending order, starting strictly below `below` when given."""
        order = self._order[collection]
        start = len(order) if below is None else bisect.bisect_left(order, below)
        for i in range(start - 1, -1, -1):
            yield order[i]

    def count(self, collection: str) -> int:
        return len(self.rows[collection])

    def service_user_of(self, client_id: str, now: float) -> int:
        """The id of the client's service user, created (site-admin level) if the client has none yet.

        A client seeded without `service_user` already got one in `from_json`; this also covers
        clients added to `clients` directly (tests do), as Greenhouse creates the service user
        together with the credential [2nd].
        """
        if client_id not in self.service_users:
            self.service_users[client_id] = self._new_service_user(client_id, None, True, {}, now)["id"]
        return self.service_users[client_id]

    def _new_service_user(self, client_id: str, user_id: int | None, site_admin: bool, names: Mapping[str, Any],
                          now: float) -> dict[str, Any]:
        """Store a service account for `client_id`: a user whose `primary_email` is "" [2nd]."""
        row = {f: _default(f) for f in FIELDS["users"]}
        first = str(names.get("first_name", "Harvest Integration"))
        last = str(names.get("last_name", client_id))
        row.update(id=user_id if user_id is not None else self.next_ids["users"], first_name=first, last_name=last,
                   name=f"{first} {last}", primary_email="", site_admin=site_admin, created_at=iso(now),
                   updated_at=iso(now))
        self._put("users", row)
        return row

    def _seed_service_user(self, i: int, client_id: str, spec: Any, now: float) -> None:
        """Resolve a seed client's `service_user`: absent (a new site-admin service user), a seeded
        service account's id, or `{"id"?, "site_admin"?, "first_name"?, "last_name"?}`."""
        where = f"sandbox seed: clients[{i}].service_user"
        if spec is None:
            self.service_user_of(client_id, now)
            return
        if isinstance(spec, bool) or not isinstance(spec, (int, Mapping)):
            raise ValueError(f"{where} must be a user id or an object")
        options: Mapping[str, Any] = spec if isinstance(spec, Mapping) else {"id": spec}
        unknown = sorted(set(options) - {"id", "site_admin", "first_name", "last_name"})
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")
        user_id = options.get("id")
        if user_id is not None and (isinstance(user_id, bool) or not isinstance(user_id, int) or user_id < 1):
            raise ValueError(f"{where}: 'id' must be a positive integer")
        site_admin = options.get("site_admin")
        if site_admin is not None and not isinstance(site_admin, bool):
            raise ValueError(f"{where}: 'site_admin' must be true or false")
        existing = self.get("users", user_id)
        if existing is None and isinstance(spec, int):
            raise ValueError(f"{where}: no seeded user has id {user_id}")
        if existing is not None:
            if existing["primary_email"] != "":
                raise ValueError(f"{where}: user {user_id} is not a service account (its primary_email is not \"\")")
            if site_admin is not None:
                existing["site_admin"] = site_admin
            self.service_users[client_id] = existing["id"]
            return
        row = self._new_service_user(client_id, user_id, True if site_admin is None else site_admin, options, now)
        self.service_users[client_id] = row["id"]

    # -- writes ----------------------------------------------------------------------------------

    def insert(self, collection: str, row: dict[str, Any], now: float) -> dict[str, Any]:
        """Store a new row (fields not given take their defaults); assigns the next id."""
        new = {f: _default(f) for f in FIELDS[collection]}
        new.update(row)
        new["id"] = self.next_ids[collection]
        stamp = iso(now)
        new["created_at"] = stamp
        new["updated_at"] = stamp
        self._put(collection, new)
        return new

    def update(self, collection: str, row_id: int, changes: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Apply `changes` to a row; `updated_at` moves only when something differs."""
        row = self.rows[collection][row_id]
        differs = {k: v for k, v in changes.items() if row.get(k) != v}
        if differs:
            self._unindex(collection, row)
            row.update(differs)
            row["updated_at"] = iso(now)
            self._reindex(collection, row)
            self._track_maxima(collection, row)
        return row

    def delete(self, collection: str, row_id: int) -> None:
        row = self.rows[collection].pop(row_id)
        self._unindex(collection, row)
        order = self._order[collection]
        del order[bisect.bisect_left(order, row_id)]

    def _put(self, collection: str, row: dict[str, Any]) -> None:
        row_id = row["id"]
        if row_id in self.rows[collection]:
            raise ValueError(f"{collection}: duplicate id {row_id}")
        self.rows[collection][row_id] = row
        order = self._order[collection]
        if not order or row_id > order[-1]:
            order.append(row_id)
        else:
            bisect.insort(order, row_id)
        self.next_ids[collection] = max(self.next_ids[collection], row_id + 1)
        self._reindex(collection, row)
        self._track_maxima(collection, row)

    def _reindex(self, collection: str, row: dict[str, Any]) -> None:
        for field in _INDEXED.get(collection, ()):
            self._index[(collection, field)].setdefault(_norm(field, row.get(field)), set()).add(row["id"])

    def _unindex(self, collection: str, row: dict[str, Any]) -> None:
        for field in _INDEXED.get(collection, ()):
            bucket = self._index[(collection, field)].get(_norm(field, row.get(field)))
            if bucket is not None:
                bucket.discard(row["id"])

    # -- seed and persistence --------------------------------------------------------------------

    @classmethod
    def from_json(cls, data: Any, now: float) -> Store:
        """Build a store from a seed or a saved state. Raises ValueError naming what is wrong."""
        if not isinstance(data, Mapping):
            raise ValueError("sandbox seed must be a JSON object keyed by collection name")
        store = cls()
        for key in data:
            if key not in COLLECTIONS and key not in ("clients", "_sandbox"):
                raise ValueError(f"sandbox seed: unknown collection {key!r} (known: {', '.join(COLLECTIONS)})")
        clients = data.get("clients", [])
        if not isinstance(clients, list):
            raise ValueError("sandbox seed: 'clients' must be an array")
        for i, client in enumerate(clients):
            if not (
                isinstance(client, Mapping)
                and isinstance(client.get("client_id"), str)
                and isinstance(client.get("client_secret"), str)
            ):
                raise ValueError(f"sandbox seed: clients[{i}] needs string client_id and client_secret")
            store.clients[client["client_id"]] = client["client_secret"]
        stamp = iso(now)
        for collection in COLLECTIONS:
            rows = data.get(collection, [])
            if not isinstance(rows, list):
                raise ValueError(f"sandbox seed: {collection!r} must be an array of objects")
            known = set(FIELDS[collection])
            for i, raw in enumerate(rows):
                where = f"sandbox seed: {collection}[{i}]"
                if not isinstance(raw, Mapping):
                    raise ValueError(f"{where} must be an object")
                row_id = raw.get("id")
                if isinstance(row_id, bool) or not isinstance(row_id, int) or row_id < 1:
                    raise ValueError(f"{where}: 'id' must be a positive integer")
                unknown = sorted(set(raw) - known)
                if unknown:
                    raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")
                row = {f: copy.deepcopy(raw[f]) if f in raw else _default(f) for f in FIELDS[collection]}
                for ts in ("created_at", "updated_at"):
                    row[ts] = row[ts] or stamp
                store._put(collection, row)
        for i, client in enumerate(clients):
            store._seed_service_user(i, client["client_id"], client.get("service_user"), now)
        if "user_emails" not in data:
            store._emails_from_users(now)
        extra = data.get("_sandbox", {})
        if isinstance(extra, Mapping):
            for collection, next_id in dict(extra.get("next_ids", {})).items():
                if collection in store.next_ids and isinstance(next_id, int):
                    store.next_ids[collection] = max(store.next_ids[collection], next_id)
            store.bulk = copy.deepcopy(dict(extra.get("bulk", {})))
        return store

    def _emails_from_users(self, now: float) -> None:
        """A seed without `user_emails` gets one verified row per address in users' `emails`."""
        for user_id in sorted(self.rows["users"]):
            for email in self.rows["users"][user_id]["emails"] or []:
                self.insert("user_emails", {"user_id": user_id, "email": email, "verified": True}, now)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "clients": [
                {"client_id": k, "client_secret": v,
                 **({"service_user": self.service_users[k]} if k in self.service_users else {})}
                for k, v in self.clients.items()
            ],
        }
        for collection in COLLECTIONS:
            data[collection] = [self.rows[collection][i] for i in self._order[collection]]
        data["_sandbox"] = {"next_ids": dict(self.next_ids), "bulk": self.bulk}
        return data

    def save(self, path: Path) -> None:
        """Write the state atomically (temp file in the same directory, then rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.to_json(), fh, indent=1)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
