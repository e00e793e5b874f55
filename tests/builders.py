"""Build desired (Manifest) and live (LiveOrg) states directly, for table-driven planner tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.live import LiveOrg, by_id
from reconciler.manifest.model import Entry, Limits, Manifest, Policy, Source
from reconciler.resources.registry import REGISTRY

SECTIONS = REGISTRY.views.sections

#: Every collection a full read returns; tests name the ones they populate, the rest are empty.
ALL_COLLECTIONS = (
    "departments", "offices", "custom_fields", "custom_field_options", "custom_field_departments",
    "custom_field_offices", "candidate_tags", "user_roles", "users", "jobs", "user_job_permissions",
    "future_job_permissions",
)

ROLES = [
    {"id": 1, "name": "Site Admin", "role_type": "site_admin"},
    {"id": 2, "name": "Standard", "role_type": "job_admin"},
    {"id": 3, "name": "Private", "role_type": "job_admin"},
    {"id": 4, "name": "Interviewer", "role_type": "deprecated_interviewer"},
]


def manifest(
    *,
    prune: Mapping[str, str] | None = None,
    protect: Mapping[str, Sequence[str]] | None = None,
    max_deletes: int = 10,
    max_change_percent: float = 30.0,
    **sections: Sequence[Mapping[str, Any] | str],
) -> Manifest:
    """A validated-looking Manifest; each item's source is "test.yaml:<n>:1: $.<section>[i]"."""
    entries: dict[str, tuple[Entry, ...]] = {s: () for s in SECTIONS}
    line = 1
    for section, items in sections.items():
        built = []
        for i, item in enumerate(items):
            data = {"name": item} if isinstance(item, str) else dict(item)
            if isinstance(data.get("options"), list):  # the loader's normalisation of option shorthand
                data["options"] = [{"name": o} if isinstance(o, str) else dict(o) for o in data["options"]]
            built.append(Entry(section, data, Source("test.yaml", line, 1, f"$.{section}[{i}]")))
            line += 1
        entries[section] = tuple(built)
    policy = Policy(
        prune={s: (prune or {}).get(s, "report") for s in SECTIONS},
        protect={s: tuple((protect or {}).get(s, ())) for s in SECTIONS},
        limits=Limits(max_deletes, max_change_percent),
    )
    return Manifest(entries=entries, policy=policy, files=("test.yaml",), digest="d" * 64,
                    present=frozenset(sections))


def live(**collections: Sequence[Mapping[str, Any]]) -> LiveOrg:
    rows = {c: by_id(collections.get(c, ROLES if c == "user_roles" else [])) for c in ALL_COLLECTIONS}
    return LiveOrg(rows=rows)


def dept(id: int, name: str, parent_id: int | None = None, external_id: str | None = None) -> dict[str, Any]:
    return {"id": id, "name": name, "parent_id": parent_id, "external_id": external_id}


def office(id: int, name: str, parent_id: int | None = None, external_id: str | None = None,
           location: str | None = None, contact: int | None = None) -> dict[str, Any]:
    return {"id": id, "name": name, "parent_id": parent_id, "external_id": external_id, "location": location,
            "primary_in_house_contact_user_id": contact}


def field(id: int, name: str, key: str, field_type: str = "job", value_type: str = "single_select",
          **extra: Any) -> dict[str, Any]:
    row = {"id": id, "name": name, "name_key": key, "field_type": field_type, "value_type": value_type,
           "active": True, "private": False, "required": False, "description": None}
    row.update(extra)
    return row


def option(id: int, field_id: int, name: str, sort_order: int, active: bool = True,
           external_id: str | None = None) -> dict[str, Any]:
    return {"id": id, "custom_field_id": field_id, "name": name, "sort_order": sort_order, "active": active,
            "external_id": external_id}


def user(id: int, email: str, *, site_admin: bool = False, deactivated: bool = False, office_ids: Sequence[int] = (),
         department_ids: Sequence[int] = (), emails: Sequence[str] | None = None, **extra: Any) -> dict[str, Any]:
    row = {"id": id, "first_name": "F", "last_name": "L", "primary_email": email,
           "emails": list(emails) if emails is not None else [email], "site_admin": site_admin,
           "deactivated": deactivated, "office_ids": list(office_ids), "department_ids": list(department_ids),
           "employee_id": None, "job_title": None}
    row.update(extra)
    return row


def job(id: int, name: str, requisition_id: str | None = None) -> dict[str, Any]:
    return {"id": id, "name": name, "requisition_id": requisition_id, "status": "open"}
