"""Generated reference organisations: a sandbox seed (the live org) and manifests (the desired org).

Contract:
* `generate(scale, seed)` is deterministic: the same scale and seed give byte-identical files.
* The live org holds exactly the scale's counts of departments (a tree), offices (a tree), custom
  fields, custom-field options, candidate tags, users, user job permissions ("grants") and future job
  permissions, plus the jobs, user roles and custom-field scoping rows they need. Every row is visible
  to a Site Admin: no confidential jobs, no grants of site admins. The seed's client has no
  `service_user`, so the sandbox creates one service account (a site admin); it is listed by
  `show_service_accounts=true`, so the users list holds `users + 1` rows.
* The manifests describe the live org except for about 1% of the objects of each type (the `Drift`
  kinds below: renames, new objects, changed fields, moves, archives, deletions, deactivations, grants
  added and removed). Each drift item is exactly one change of the plan.
* `Org.read_floor` and `Org.bulk_floor` are computed from the generated data alone, never from the
  product: the first from the rows each list endpoint returns, the second from the documented bulk
  endpoints (docs/api-facts.md, "Bulk endpoints").
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TS = "2026-01-15T10:00:00.000Z"
CLIENT_ID = "demo-client"
CLIENT_SECRET = "demo-secret"  # noqa: S105 - a sandbox-only credential, written into the generated seed
ADMIN_ID = 1001
"""The acting Site Admin (GREENHOUSE_USER_ID), as in dev.py's demo."""
PAGE = 500
"""Rows per page (the client's per_page, Harvest's maximum)."""
BULK_CAP = 100
"""Rows per bulk request (the product's default --bulk-max-rows)."""

AREAS = (
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "People",
    "Operations",
    "Legal",
    "Support",
    "Product",
)
TEAMS = (
    "Platform",
    "Growth",
    "Core",
    "Infra",
    "Data",
    "Field",
    "Enterprise",
    "Partners",
    "Design",
    "Quality",
)
CITIES = (
    ("Berlin", "Germany"),
    ("London", "UK"),
    ("Paris", "France"),
    ("Austin", "TX"),
    ("Toronto", "Canada"),
    ("Sydney", "Australia"),
    ("Tokyo", "Japan"),
    ("Madrid", "Spain"),
    ("Dublin", "Ireland"),
    ("Denver", "CO"),
)
FIRST = ("Ada", "Ben", "Chen", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo", "Kai", "Lea", "Mo", "Nia")
LAST = ("Adams", "Brown", "Costa", "Diaz", "Evans", "Fischer", "Garcia", "Hall", "Ito", "Jones", "Khan", "Li")
TITLES = ("Recruiter", "Sourcer", "Coordinator", "Hiring Manager", "Interviewer", "Engineer", "Director")
JOB_ROLES = ("Standard", "Private", "Hiring Manager", "Recruiting Partner", "Coordinator Role")
FIELD_TYPES_SELECT = ("job", "candidate", "offer", "opening")
FIELD_TYPES_OTHER = ("job", "candidate", "offer", "opening", "application", "user_attribute")
VALUE_TYPES_OTHER = ("short_text", "yes_no", "number", "date", "long_text", "url")


@dataclass(frozen=True)
class Scale:
    """How many objects of each type the live organisation holds."""

    name: str
    departments: int
    offices: int
    custom_fields: int
    options: int
    tags: int
    users: int
    grants: int
    future: int
    min_batch: int = 1
    """The fewest changes of a batchable drift kind (the small size uses 3, so its plan has bulk requests)."""

    @property
    def jobs(self) -> int:
        return max(10, self.users // 5)

    @property
    def objects(self) -> int:
        return (
            self.departments
            + self.offices
            + self.custom_fields
            + self.options
            + self.tags
            + self.users
            + self.grants
            + self.future
        )


def _scaled(name: str, divisor: int) -> Scale:
    return Scale(
        name,
        2000 // divisor,
        500 // divisor,
        500 // divisor,
        50_000 // divisor,
        5000 // divisor,
        10_000 // divisor,
        30_000 // divisor,
        2000 // divisor,
    )


SCALES: dict[str, Scale] = {
    "100k": _scaled("100k", 1),
    "10k": _scaled("10k", 10),
    "small": Scale("small", 20, 10, 5, 500, 50, 100, 300, 20, min_batch=3),
}
"""The reference sizes: 100k (100,000 objects), 10k (one tenth of each) and small (about one hundredth, with
10 offices and at least 3 changes per batchable kind, for tests/benchmarks)."""

#: Drift kinds: (key, type whose count it scales with, share of that count, bulk endpoint or None).
#: Bulk endpoints are the documented ones (docs/api-facts.md); None: a single write per change.
DRIFT_KINDS: tuple[tuple[str, str, float, str | None], ...] = (
    ("department.rename", "departments", 0.004, "PATCH /v3/departments/bulk"),
    ("department.move", "departments", 0.003, "PATCH /v3/departments/bulk"),
    ("department.create", "departments", 0.003, None),
    ("office.rename", "offices", 0.004, "PATCH /v3/offices/bulk"),
    ("office.location", "offices", 0.004, "PATCH /v3/offices/bulk"),
    ("office.create", "offices", 0.002, None),
    ("custom_field.rename", "custom_fields", 0.004, None),
    ("custom_field.description", "custom_fields", 0.004, None),
    ("custom_field.create", "custom_fields", 0.002, None),
    ("option.rename", "options", 0.004, "PATCH /v3/custom_field_options/bulk"),
    ("option.create", "options", 0.004, "POST /v3/custom_field_options/bulk"),
    ("option.archive", "options", 0.002, "DELETE /v3/custom_field_options/bulk"),
    ("tag.create", "tags", 0.008, None),
    ("tag.delete", "tags", 0.002, None),
    ("user.job_title", "users", 0.004, "PATCH /v3/users/bulk"),
    ("user.offices", "users", 0.002, "PATCH /v3/users/bulk"),
    ("user.deactivate", "users", 0.002, "POST /v3/users/deactivate/bulk"),
    ("user.create", "users", 0.002, None),
    ("grant.add", "grants", 0.00667, None),
    ("grant.remove", "grants", 0.00333, None),
    ("future.add", "future", 0.005, None),
    ("future.remove", "future", 0.005, None),
)
REMOVALS = ("option.archive", "tag.delete", "user.deactivate", "grant.remove", "future.remove")


@dataclass(frozen=True)
class Drift:
    """One kind of difference between the manifests and the live org: `count` changes of one kind."""

    kind: str
    count: int
    bulk: str | None


def drift_counts(scale: Scale) -> dict[str, int]:
    """Changes per drift kind: the share of the type's count, at least 1 (batchable kinds: `min_batch`)."""
    return {
        kind: max(1 if bulk is None else scale.min_batch, round(getattr(scale, base) * share))
        for kind, base, share, bulk in DRIFT_KINDS
    }


@dataclass
class Org:
    """A generated organisation: the seed, the manifest files and what the floors are computed from."""

    scale: Scale
    seed: dict[str, Any]
    files: dict[str, str]
    live_rows: dict[str, int]
    """Rows each list endpoint returns to a Site Admin (users: with service accounts)."""
    deactivated_users: int
    drift: tuple[Drift, ...]
    desired_objects: int = 0

    @property
    def changes(self) -> int:
        """The number of changes a correct plan has (one per drift item)."""
        return sum(d.count for d in self.drift)

    def bulk_floor(self, cap: int = BULK_CAP) -> int:
        """Writes if every batchable change went in full bulk requests: sum of ceil(rows / cap) per bulk
        endpoint, plus one write per other change."""
        per_endpoint: dict[str, int] = {}
        singles = 0
        for d in self.drift:
            if d.bulk is None:
                singles += d.count
            else:
                per_endpoint[d.bulk] = per_endpoint.get(d.bulk, 0) + d.count
        return singles + sum(math.ceil(n / cap) for n in per_endpoint.values())

    def bulk_rows(self) -> dict[str, int]:
        """Batchable changes per bulk endpoint."""
        out: dict[str, int] = {}
        for d in self.drift:
            if d.bulk is not None:
                out[d.bulk] = out.get(d.bulk, 0) + d.count
        return out

    def read_floor(self, collections: Iterable[str], page: int = PAGE) -> int:
        """1 (the token request) + sum over `collections` of ceil(rows / page), an empty list costing 1."""
        return 1 + sum(max(1, math.ceil(self.live_rows[c] / page)) for c in set(collections))


# -- generation ------------------------------------------------------------------------------------------


@dataclass
class _Node:
    """A department or office, live and desired."""

    id: int
    name: str
    external_id: str | None
    parent: int | None
    location: str | None = None
    contact: int | None = None
    desired_name: str = ""
    desired_parent: int | None = None
    desired_location: str | None = None
    new: bool = False

    def __post_init__(self) -> None:
        self.desired_name = self.desired_name or self.name
        self.desired_parent = self.parent if self.desired_parent is None else self.desired_parent
        self.desired_location = self.location if self.desired_location is None else self.desired_location


@dataclass
class _Field:
    id: int
    key: str
    name: str
    field_type: str
    value_type: str
    description: str
    external_ids: bool
    options: list[dict[str, Any]] = field(default_factory=list)
    """Live options: {id, name, external_id, sort_order}; desired edits are in `desired_options`."""
    desired_options: list[dict[str, Any]] = field(default_factory=list)
    departments: list[int] = field(default_factory=list)
    offices: list[int] = field(default_factory=list)
    desired_name: str = ""
    desired_description: str = ""
    new: bool = False

    def __post_init__(self) -> None:
        self.desired_name = self.desired_name or self.name
        self.desired_description = self.desired_description or self.description


@dataclass
class _User:
    id: int
    first: str
    last: str
    email: str
    employee_id: str
    title: str
    site_admin: bool
    deactivated: bool
    offices: list[int]
    departments: list[int]
    grants: dict[int, int] = field(default_factory=dict)
    """Live grants: job id -> role id."""
    future: list[tuple[int, int | None, int | None]] = field(default_factory=list)
    """Live future permissions: (role id, department id, office id)."""
    desired_title: str = ""
    desired_offices: list[int] = field(default_factory=list)
    desired_active: bool = True
    desired_grants: dict[int, int] = field(default_factory=dict)
    desired_future: list[tuple[int, int | None, int | None]] = field(default_factory=list)
    new: bool = False


class _Builder:
    """Builds one organisation; `rng` is the only source of randomness."""

    def __init__(self, scale: Scale, seed: int) -> None:
        self.scale = scale
        self.rng = random.Random(f"{scale.name}:{seed}")
        self.counts = drift_counts(scale)
        self.roles = {2 + i: name for i, name in enumerate(JOB_ROLES)}
        self.departments: list[_Node] = []
        self.offices: list[_Node] = []
        self.fields: list[_Field] = []
        self.tags: list[str] = []
        self.desired_tags: list[str] = []
        self.users: list[_User] = []
        self.jobs: list[dict[str, Any]] = []

    # -- the live org ----------------------------------------------------------------------------------

    def tree(self, n: int, roots: int, prefix: str, offices: bool) -> list[_Node]:
        """A random recursive tree: node i's parent is a uniformly chosen earlier node (depth ~ log n)."""
        nodes: list[_Node] = []
        for i in range(n):
            parent = None if i < roots else nodes[self.rng.randrange(i)].id
            has_ext = self.rng.random() < (0.9 if offices else 0.8)
            if offices:
                city, country = CITIES[i % len(CITIES)]
                name = f"{city} {self.rng.choice(TEAMS)} {i:04d}"
                node = _Node(
                    100 + i,
                    name,
                    f"{prefix}{i:05d}" if has_ext else None,
                    parent,
                    location=f"{city}, {country}",
                )
            else:
                name = f"{self.rng.choice(AREAS)} {self.rng.choice(TEAMS)} {i:04d}"
                node = _Node(10 + i, name, f"{prefix}{i:05d}" if has_ext else None, parent)
            nodes.append(node)
        return nodes

    def make_fields(self) -> None:
        s = self.scale
        selects = max(1, s.custom_fields // 2)
        option_id = 1
        per_field, extra = divmod(s.options, selects)
        sel = 0
        for i in range(s.custom_fields):
            select = i % 2 == 0 and sel < selects
            if select:
                ftype, vtype = FIELD_TYPES_SELECT[sel % 4], ("single_select", "multi_select")[sel % 2]
            else:
                ftype, vtype = FIELD_TYPES_OTHER[i % 6], VALUE_TYPES_OTHER[(i // 6) % 6]
            f = _Field(
                200 + i,
                f"field_{i:04d}",
                f"{self.rng.choice(AREAS)} {self.rng.choice(TEAMS)} field {i:04d}",
                ftype,
                vtype,
                f"Benchmark field {i}",
                external_ids=sel % 2 == 0,
            )
            if select:
                for j in range(per_field + (1 if sel < extra else 0)):
                    ext = f"{f.key}-{j:03d}" if f.external_ids else None
                    f.options.append(
                        {
                            "id": option_id,
                            "name": f"Option {j:03d}",
                            "external_id": ext,
                            "sort_order": 10 * (j + 1),
                        }
                    )
                    option_id += 1
                sel += 1
            if ftype != "user_attribute" and i % 10 == 1:
                f.departments = [
                    d.id for d in self.rng.sample(self.departments, min(2, len(self.departments)))
                ]
                f.offices = [self.rng.choice(self.offices).id]
            f.desired_options = [dict(o) for o in f.options]
            self.fields.append(f)

    def make_users(self) -> None:
        s = self.scale
        admins = max(1, s.users // 500)
        for i in range(s.users):
            admin = i < admins
            first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
            offices = [self.rng.choice(self.offices).id] if self.rng.random() < 0.7 else []
            u = _User(
                ADMIN_ID + i,
                first,
                last,
                f"user{i:05d}@bench.example",
                f"E{i:05d}",
                self.rng.choice(TITLES),
                admin,
                deactivated=not admin and self.rng.random() < 0.05,
                offices=offices,
                departments=[self.rng.choice(self.departments).id],
            )
            self.users.append(u)
        for i in range(s.jobs):
            dept, office = self.rng.choice(self.departments), self.rng.choice(self.offices)
            self.jobs.append(
                {
                    "id": 5000 + i,
                    "name": f"{self.rng.choice(TITLES)} {i:05d}",
                    "requisition_id": f"REQ-{i:05d}",
                    "status": "open",
                    "department_id": dept.id,
                    "office_ids": [office.id],
                    "opened_at": TS,
                }
            )
        others = [u for u in self.users if not u.site_admin]
        per_user, extra = divmod(s.grants, len(others))
        job_ids = [j["id"] for j in self.jobs]
        for k, u in enumerate(others):
            for job in self.rng.sample(job_ids, per_user + (1 if k < extra else 0)):
                u.grants[job] = self.rng.choice(list(self.roles))
        made = 0
        seen: set[tuple[int, int, int | None, int | None]] = set()
        while made < s.future:
            u = self.rng.choice(others)
            dept = self.rng.choice(self.departments).id if self.rng.random() < 0.5 else None
            office = self.rng.choice(self.offices).id if self.rng.random() < 0.3 else None
            item = (u.id, self.rng.choice(list(self.roles)), dept, office)
            if item not in seen:
                seen.add(item)
                u.future.append(item[1:])
                made += 1
        for u in self.users:
            u.desired_title, u.desired_offices, u.desired_active = u.title, list(u.offices), not u.deactivated
            u.desired_grants, u.desired_future = dict(u.grants), list(u.future)
        for o in self.rng.sample(self.offices, max(1, len(self.offices) // 10)):
            o.contact = self.rng.choice(others).id

    def build_live(self) -> None:
        s = self.scale
        self.departments = self.tree(s.departments, max(1, s.departments // 100), "D", offices=False)
        self.offices = self.tree(s.offices, max(1, s.offices // 50), "O", offices=True)
        self.make_fields()
        self.tags = [f"{self.rng.choice(TEAMS).lower()}-{i:05d}" for i in range(s.tags)]
        self.desired_tags = list(self.tags)
        self.make_users()

    # -- drift ------------------------------------------------------------------------------------------

    def pick(self, items: Sequence[Any], kind: str, taken: set[int]) -> list[Any]:
        """`counts[kind]` distinct items not yet `taken` (by id()), marking them taken."""
        free = [x for x in items if id(x) not in taken]
        chosen = self.rng.sample(free, self.counts[kind])
        taken.update(id(x) for x in chosen)
        return chosen

    def drift_tree(self, nodes: list[_Node], noun: str, offices: bool) -> None:
        taken: set[int] = set()
        by_id = {n.id: n for n in nodes}
        for n in self.pick([n for n in nodes if n.external_id], f"{noun}.rename", taken):
            n.desired_name = f"{n.name} Renamed"
        if offices:
            for n in self.pick(nodes, "office.location", taken):
                n.desired_location = f"{n.location} (moved floors)"
        else:
            deep = [n for n in nodes if n.parent is not None and by_id[n.parent].parent is not None]
            roots = [n for n in nodes if n.parent is None]
            for n in self.pick(deep, "department.move", taken):
                n.desired_parent = self.rng.choice(roots).id
        next_id = max(by_id) + 1000
        for k in range(self.counts[f"{noun}.create"]):
            parent = self.rng.choice([n for n in nodes if not n.new])
            name = f"New {'Office' if offices else 'Department'} {k:04d}"
            node = _Node(
                next_id + k,
                name,
                f"{'ON' if offices else 'DN'}{k:04d}",
                parent.id,
                location="Remote" if offices else None,
                new=True,
            )
            nodes.append(node)

    def drift_fields(self) -> None:
        taken: set[int] = set()
        for f in self.pick(self.fields, "custom_field.rename", taken):
            f.desired_name = f"{f.name} Renamed"
        for f in self.pick(self.fields, "custom_field.description", taken):
            f.desired_description = f"{f.description}, reviewed"
        for k in range(self.counts["custom_field.create"]):
            self.fields.append(
                _Field(
                    0,
                    f"new_field_{k:03d}",
                    f"New field {k:03d}",
                    "job",
                    "yes_no",
                    "Added by the benchmark",
                    external_ids=False,
                    new=True,
                )
            )
        options = [(f, o) for f in self.fields for o in f.desired_options]
        chosen = self.rng.sample(options, self.counts["option.rename"] + self.counts["option.archive"])
        renamed, archived = chosen[: self.counts["option.rename"]], chosen[self.counts["option.rename"] :]
        for f, o in renamed:
            if not f.external_ids:
                o["previously"] = o["name"]
            o["name"] = f"{o['name']} renamed"
        for f, o in archived:
            f.desired_options.remove(o)
        selects = [f for f in self.fields if f.options]
        for k in range(self.counts["option.create"]):
            f = self.rng.choice(selects)
            ext = f"{f.key}-new-{k:04d}" if f.external_ids else None
            f.desired_options.append({"id": 0, "name": f"Added {k:04d}", "external_id": ext})

    def drift_tags(self) -> None:
        for name in self.rng.sample(self.tags, self.counts["tag.delete"]):
            self.desired_tags.remove(name)
        self.desired_tags += [f"new-tag-{k:04d}" for k in range(self.counts["tag.create"])]

    def drift_users(self) -> None:
        taken: set[int] = set()
        active = [u for u in self.users if not u.site_admin and not u.deactivated]
        for u in self.pick(active, "user.job_title", taken):
            u.desired_title = f"Senior {u.title}"
        for u in self.pick(active, "user.offices", taken):
            u.desired_offices = [
                self.rng.choice([o for o in self.offices if not o.new and o.id not in u.offices]).id
            ]
        deactivated = self.pick(active, "user.deactivate", taken)
        for u in deactivated:
            u.desired_active = False
        stable = [u for u in active if u not in deactivated]
        job_ids = [j["id"] for j in self.jobs]
        for _ in range(self.counts["grant.add"]):
            u = self.rng.choice([u for u in stable if len(u.desired_grants) < len(job_ids)])
            job = self.rng.choice([j for j in job_ids if j not in u.desired_grants and j not in u.grants])
            u.desired_grants[job] = self.rng.choice(list(self.roles))
        grants = [(u, job) for u in stable for job in u.grants if job in u.desired_grants]
        for u, job in self.rng.sample(grants, self.counts["grant.remove"]):
            del u.desired_grants[job]
        existing = {(u.id, *f) for u in self.users for f in u.future}
        added = 0
        while added < self.counts["future.add"]:
            u = self.rng.choice(stable)
            item = (self.rng.choice(list(self.roles)), self.rng.choice(self.departments).id, None)
            if (u.id, *item) not in existing:
                existing.add((u.id, *item))
                u.desired_future.append(item)
                added += 1
        futures = [(u, f) for u in stable for f in u.future]
        for u, f in self.rng.sample(futures, self.counts["future.remove"]):
            u.desired_future.remove(f)
        for k in range(self.counts["user.create"]):
            self.users.append(
                _User(
                    0,
                    "New",
                    f"Hire {k:04d}",
                    f"new{k:04d}@bench.example",
                    f"N{k:04d}",
                    "",
                    False,
                    False,
                    [],
                    [],
                    new=True,
                )
            )

    def build(self) -> None:
        self.build_live()
        self.drift_tree(self.departments, "department", offices=False)
        self.drift_tree(self.offices, "office", offices=True)
        self.drift_fields()
        self.drift_tags()
        self.drift_users()


# -- the seed (live) --------------------------------------------------------------------------------------


def _ts(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "created_at": TS, "updated_at": TS}


def _seed(b: _Builder) -> dict[str, Any]:
    roles = [_ts({"id": 1, "name": "Site Admin", "role_type": "site_admin"})]
    roles += [_ts({"id": i, "name": n, "role_type": "job_admin"}) for i, n in b.roles.items()]
    users = [u for u in b.users if not u.new]
    fields = [f for f in b.fields if not f.new]
    grant_id, future_id = iter(range(1, 10**9)), iter(range(1, 10**9))
    return {
        "clients": [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}],
        "user_roles": roles,
        "departments": [
            _ts({"id": n.id, "name": n.name, "parent_id": n.parent, "external_id": n.external_id})
            for n in b.departments
            if not n.new
        ],
        "offices": [
            _ts(
                {
                    "id": n.id,
                    "name": n.name,
                    "location": n.location,
                    "parent_id": n.parent,
                    "external_id": n.external_id,
                    "primary_in_house_contact_user_id": n.contact,
                }
            )
            for n in b.offices
            if not n.new
        ],
        "custom_fields": [
            _ts(
                {
                    "id": f.id,
                    "name": f.name,
                    "name_key": f.key,
                    "field_type": f.field_type,
                    "value_type": f.value_type,
                    "active": True,
                    "description": f.description,
                    "sort_order": i + 1,
                }
            )
            for i, f in enumerate(fields)
        ],
        "custom_field_options": [
            _ts(
                {
                    "id": o["id"],
                    "custom_field_id": f.id,
                    "name": o["name"],
                    "sort_order": o["sort_order"],
                    "external_id": o["external_id"],
                    "active": True,
                }
            )
            for f in fields
            for o in f.options
        ],
        "custom_field_departments": [
            _ts({"id": 1 + i, "custom_field_id": f, "department_id": d})
            for i, (f, d) in enumerate((f.id, d) for f in fields for d in f.departments)
        ],
        "custom_field_offices": [
            _ts({"id": 1 + i, "custom_field_id": f, "office_id": o})
            for i, (f, o) in enumerate((f.id, o) for f in fields for o in f.offices)
        ],
        "candidate_tags": [_ts({"id": 1 + i, "name": t}) for i, t in enumerate(b.tags)],
        "users": [
            _ts(
                {
                    "id": u.id,
                    "first_name": u.first,
                    "last_name": u.last,
                    "name": f"{u.first} {u.last}",
                    "primary_email": u.email,
                    "emails": [u.email],
                    "employee_id": u.employee_id,
                    "deactivated": u.deactivated,
                    "site_admin": u.site_admin,
                    "job_title": u.title,
                    "office_ids": u.offices,
                    "department_ids": u.departments,
                }
            )
            for u in users
        ],
        "jobs": [_ts(j) for j in b.jobs],
        "user_job_permissions": [
            _ts({"id": next(grant_id), "user_id": u.id, "job_id": job, "role_id": role, "automated": False})
            for u in users
            for job, role in u.grants.items()
        ],
        "future_job_permissions": [
            _ts({"id": next(future_id), "user_id": u.id, "role_id": r, "department_id": d, "office_id": o})
            for u in users
            for r, d, o in u.future
        ],
    }


# -- the manifests (desired) ------------------------------------------------------------------------------


def _y(value: Any) -> str:
    """A YAML scalar: JSON's double-quoted strings, null, true/false and numbers are valid YAML 1.2."""
    return json.dumps(value)


HEADER = "# Generated by benchmarks/orgs.py: do not edit.\nversion: 1\n\n"


def _tree_yaml(section: str, nodes: list[_Node], offices: bool) -> str:
    names = {n.id: n.desired_name for n in nodes}
    lines = [f"{section}:"]
    for n in nodes:
        lines.append(f"  - name: {_y(n.desired_name)}")
        if n.external_id:
            lines.append(f"    external_id: {_y(n.external_id)}")
        lines.append(f"    parent: {_y(names[n.desired_parent] if n.desired_parent is not None else None)}")
        if offices:
            lines.append(f"    location: {_y(n.desired_location)}")
    return HEADER + "\n".join(lines) + "\n"


def _fields_yaml(fields: list[_Field], depts: Mapping[int, str], offices: Mapping[int, str]) -> str:
    lines = ["custom_fields:"]
    for f in fields:
        lines += [
            f"  - name: {_y(f.desired_name)}",
            f"    key: {_y(f.key)}",
            f"    field_type: {_y(f.field_type)}",
            f"    value_type: {_y(f.value_type)}",
            f"    description: {_y(f.desired_description)}",
            "    required: false",
        ]
        if f.field_type != "user_attribute":
            lines.append("    private: false")
        if f.departments:
            lines.append(f"    departments: {_y([depts[d] for d in f.departments])}")
            lines.append(f"    offices: {_y([offices[o] for o in f.offices])}")
        if f.desired_options:
            lines.append("    options:")
            for o in f.desired_options:
                item = {"name": o["name"]}
                if o.get("external_id"):
                    item["external_id"] = o["external_id"]
                if o.get("previously"):
                    item["previously"] = o["previously"]
                lines.append("      - {" + ", ".join(f"{k}: {_y(v)}" for k, v in item.items()) + "}")
    return HEADER + "\n".join(lines) + "\n"


def _users_yaml(users: list[_User], b: _Builder) -> str:
    depts = {n.id: n.desired_name for n in b.departments}
    offices = {n.id: n.desired_name for n in b.offices}
    reqs = {j["id"]: j["requisition_id"] for j in b.jobs}
    lines = ["users:"]
    for u in users:
        lines += [
            f"  - email: {_y(u.email)}",
            f"    first_name: {_y(u.first)}",
            f"    last_name: {_y(u.last)}",
            f"    employee_id: {_y(u.employee_id)}",
        ]
        if u.new:
            continue
        lines += [
            f"    job_title: {_y(u.desired_title)}",
            f"    active: {_y(u.desired_active)}",
            f"    site_admin: {_y(u.site_admin)}",
            f"    offices: {_y([offices[o] for o in u.desired_offices])}",
            f"    departments: {_y([depts[d] for d in u.departments])}",
        ]
        grants = [
            f"{{job: {_y(reqs[j])}, role: {_y(b.roles[r])}}}" for j, r in sorted(u.desired_grants.items())
        ]
        lines.append("    job_permissions: [" + ", ".join(grants) + "]")
        future = []
        for r, d, o in u.desired_future:
            parts = [f"role: {_y(b.roles[r])}"]
            if d is not None:
                parts.append(f"department: {_y(depts[d])}")
            if o is not None:
                parts.append(f"office: {_y(offices[o])}")
            future.append("{" + ", ".join(parts) + "}")
        lines.append("    future_job_permissions: [" + ", ".join(future) + "]")
    return HEADER + "\n".join(lines) + "\n"


def _policy_yaml(counts: Mapping[str, int], scale: Scale) -> str:
    """Tags are pruned (so deletions are planned); the limits let the reviewed plan apply without --force
    (the small size changes most of its 10 offices, over the default 30%)."""
    removals = sum(counts[k] for k in REMOVALS)
    percent = 30 if scale.min_batch == 1 else 100
    return HEADER + (
        "policy:\n"
        "  prune:\n"
        "    candidate_tags: enforce\n"
        "  limits:\n"
        f"    max_deletes: {max(10, 2 * removals)}\n"
        f"    max_change_percent: {percent}\n"
    )


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [items]


def _files(b: _Builder) -> dict[str, str]:
    depts = {n.id: n.desired_name for n in b.departments}
    offices = {n.id: n.desired_name for n in b.offices}
    files = {
        "departments.yaml": _tree_yaml("departments", b.departments, offices=False),
        "offices.yaml": _tree_yaml("offices", b.offices, offices=True),
        "candidate-tags.yaml": HEADER
        + "candidate_tags:\n"
        + "".join(f"  - {_y(t)}\n" for t in b.desired_tags),
        "policy.yaml": _policy_yaml(b.counts, b.scale),
    }
    for i, chunk in enumerate(_chunks(b.fields, 100)):
        files[f"custom-fields/fields-{i:02d}.yaml"] = _fields_yaml(list(chunk), depts, offices)
    for i, chunk in enumerate(_chunks(b.users, 1000)):
        files[f"users/users-{i:02d}.yaml"] = _users_yaml(list(chunk), b)
    return files


def generate(scale: Scale, seed: int = 1) -> Org:
    """The organisation of `scale` (see the module contract)."""
    b = _Builder(scale, seed)
    b.build()
    data = _seed(b)
    live_rows = {
        c: len(data[c])
        for c in (
            "departments",
            "offices",
            "custom_fields",
            "custom_field_options",
            "custom_field_departments",
            "custom_field_offices",
            "candidate_tags",
            "user_roles",
            "users",
            "jobs",
            "user_job_permissions",
            "future_job_permissions",
        )
    }
    live_rows["users"] += 1  # the service account the sandbox creates for the client (show_service_accounts)
    drift = tuple(Drift(kind, b.counts[kind], bulk) for kind, _, _, bulk in DRIFT_KINDS)
    deactivated = sum(1 for u in data["users"] if u["deactivated"])
    return Org(scale, data, _files(b), live_rows, deactivated, drift)


def write(org: Org, directory: Path) -> tuple[Path, Path]:
    """Write `seed.json` and `manifests/` under `directory` (replacing earlier files). Returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    seed = directory / "seed.json"
    seed.write_text(json.dumps(org.seed, separators=(",", ":")), encoding="utf-8")
    manifests = directory / "manifests"
    if manifests.exists():
        for old in sorted(manifests.rglob("*.yaml"), reverse=True):
            old.unlink()
    for name, text in org.files.items():
        path = manifests / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return seed, manifests
