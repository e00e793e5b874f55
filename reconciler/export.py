"""Live organisation -> manifests that `validate` accepts and `plan` reports as zero changes.

Pure: `export_documents(live)` returns {file name: YAML text}; the CLI reads and writes. One file per
section. References are written in their most stable unambiguous form: a department/office by
external_id when it has one, else by name; a job by requisition_id when unique, else by name when
unique, else by id. Custom fields always carry their `key`. A user's `job_permissions` are the hand-made
grants only: rows with `automated: true` are made by Greenhouse from a future job permission, and the
planner leaves them alone. Anything that cannot be expressed so that planning it is a no-op is returned
as a note for the user.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from reconciler.live import LiveOrg
from reconciler.manifest.sections import CUSTOM_FIELD
from reconciler.planner.fields import PROPERTIES, SELECT_TYPES

FILES: dict[str, str] = {
    "departments": "departments.yaml",
    "offices": "offices.yaml",
    "custom_fields": "custom-fields.yaml",
    "candidate_tags": "candidate-tags.yaml",
    "users": "users.yaml",
}

#: The live collections each section's export reads.
SECTION_COLLECTIONS: dict[str, tuple[str, ...]] = {
    "departments": ("departments",),
    "offices": ("offices", "users"),
    "custom_fields": ("custom_fields", "custom_field_options", "custom_field_departments", "custom_field_offices",
                      "departments", "offices"),
    "candidate_tags": ("candidate_tags",),
    "users": ("users", "departments", "offices", "user_roles", "jobs", "user_job_permissions",
              "future_job_permissions"),
}


@dataclass
class Export:
    documents: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def collections_for(sections: Sequence[str]) -> list[str]:
    return sorted({c for s in sections for c in SECTION_COLLECTIONS[s]})


def export_documents(live: LiveOrg, sections: Sequence[str], *, api_url: str = "") -> Export:
    out = Export()
    refs = _Refs(live, out.notes)
    builders = {
        "departments": lambda: _tree(live.get("departments"), refs.department),
        "offices": lambda: _offices(live, refs),
        "custom_fields": lambda: _custom_fields(live, refs),
        "candidate_tags": lambda: sorted((str(t["name"]) for t in live.get("candidate_tags").values()), key=str),
        "users": lambda: _users(live, refs, out.notes),
    }
    for section in sections:
        items = builders[section]()
        header = (f"# {section}: exported by greenhouse-reconciler export"
                  + (f" from {api_url}" if api_url else "") + ".\n"
                  "# Edit, review in a pull request, and apply; see docs/manifest.md for the format.\n")
        body = yaml.safe_dump({"version": 1, section: items}, sort_keys=False, allow_unicode=True, width=110)
        out.documents[FILES[section]] = header + body
    return out


class _Refs:
    """The reference string to write for a department, office, user or job id."""

    def __init__(self, live: LiveOrg, notes: list[str]) -> None:
        self.live = live
        self.notes = notes
        self.job_req = Counter(j.get("requisition_id") for j in live.get("jobs").values() if j.get("requisition_id"))
        self.job_name = Counter(j.get("name") for j in live.get("jobs").values())

    def _tree_ref(self, collection: str, noun: str, obj_id: Any) -> Any:
        rows = self.live.get(collection)
        row = rows.get(int(obj_id)) if obj_id is not None else None
        if row is None:
            return None if obj_id is None else obj_id
        if row.get("external_id"):
            return str(row["external_id"])
        name = str(row.get("name"))
        if sum(1 for r in rows.values() if r.get("name") == name) > 1:
            self.notes.append(f'{noun} "{name}" (id {obj_id}) shares its name with another {noun} and has no '
                              "external_id: references to it are ambiguous; give it an external_id in Greenhouse")
        return name

    def department(self, obj_id: Any) -> Any:
        return self._tree_ref("departments", "department", obj_id)

    def office(self, obj_id: Any) -> Any:
        return self._tree_ref("offices", "office", obj_id)

    def user_email(self, user_id: Any) -> Any:
        row = self.live.get("users").get(int(user_id)) if user_id is not None else None
        return row.get("primary_email") if row else None

    def job(self, job_id: int) -> Any:
        row = self.live.get("jobs").get(job_id)
        if row is None:
            return job_id
        if row.get("requisition_id") and self.job_req[row["requisition_id"]] == 1 \
                and row["requisition_id"] not in self.job_name:
            return str(row["requisition_id"])
        if self.job_name[row.get("name")] == 1 and row.get("name") not in self.job_req:
            return str(row.get("name"))
        return job_id


def _tree_order(rows: Mapping[int, Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Parents before children; siblings by name."""
    children: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows.values():
        parent = row.get("parent_id")
        children[parent if parent in rows else None].append(row)
    ordered: list[Mapping[str, Any]] = []

    def walk(parent: Any) -> None:
        for row in sorted(children.get(parent, []), key=lambda r: (str(r.get("name")), r["id"])):
            ordered.append(row)
            walk(row["id"])

    walk(None)
    return ordered


def _tree(rows: Mapping[int, Mapping[str, Any]], ref: Any) -> list[dict[str, Any]]:
    items = []
    for row in _tree_order(rows):
        item: dict[str, Any] = {"name": row["name"]}
        if row.get("external_id"):
            item["external_id"] = row["external_id"]
        item["parent"] = ref(row.get("parent_id"))
        items.append(item)
    return items


def _offices(live: LiveOrg, refs: _Refs) -> list[dict[str, Any]]:
    rows = live.get("offices")
    items = _tree(rows, refs.office)
    for item, row in zip(items, _tree_order(rows), strict=True):
        item["location"] = row.get("location") or None
        contact = row.get("primary_in_house_contact_user_id")
        email = refs.user_email(contact)
        if contact is not None and email:
            item["primary_contact"] = email
        elif contact is None:
            item["primary_contact"] = None
    return items


def _custom_fields(live: LiveOrg, refs: _Refs) -> list[dict[str, Any]]:
    options: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for o in live.get("custom_field_options").values():
        if o.get("active", True):
            options[int(o["custom_field_id"])].append(o)
    scoped: dict[str, dict[int, list[Any]]] = {"departments": defaultdict(list), "offices": defaultdict(list)}
    for r in live.get("custom_field_departments").values():
        scoped["departments"][int(r["custom_field_id"])].append(refs.department(r["department_id"]))
    for r in live.get("custom_field_offices").values():
        scoped["offices"][int(r["custom_field_id"])].append(refs.office(r["office_id"]))
    items = []
    for row in sorted(live.get("custom_fields").values(), key=lambda r: (str(r.get("field_type")), str(r.get("name")))):
        if row.get("active") is False:
            continue
        ftype = str(row.get("field_type"))
        item: dict[str, Any] = {"name": row["name"], "key": row["name_key"], "field_type": ftype,
                                "value_type": row["value_type"]}
        for prop in PROPERTIES:
            definition = CUSTOM_FIELD.get(prop)
            allowed = definition is not None and (definition.field_types is None or ftype in definition.field_types)
            if allowed and prop in row and row[prop] is not None:
                item[prop] = row[prop]
        for key in ("departments", "offices"):
            definition = CUSTOM_FIELD.get(key)
            if definition is not None and (definition.field_types is None or ftype in definition.field_types):
                item[key] = sorted(map(str, scoped[key].get(int(row["id"]), [])))
        if row.get("value_type") in SELECT_TYPES:
            ordered = sorted(options.get(int(row["id"]), []), key=lambda o: (o.get("sort_order") or 0, o["id"]))
            item["options"] = [
                {"name": o["name"], "external_id": o["external_id"]} if o.get("external_id") else o["name"]
                for o in ordered
            ]
        items.append(item)
    return items


def _users(live: LiveOrg, refs: _Refs, notes: list[str]) -> list[dict[str, Any]]:
    grants: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for g in live.get("user_job_permissions").values():
        if g.get("automated") is True:  # made by Greenhouse from a future job permission: not the manifest's
            continue
        grants[int(g["user_id"])].append(g)
    future: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for g in live.get("future_job_permissions").values():
        future[int(g["user_id"])].append(g)
    roles = live.get("user_roles")
    items = []
    for row in sorted(live.get("users").values(), key=lambda r: str(r.get("primary_email") or "").lower()):
        email = row.get("primary_email")
        if not email:  # service accounts have no email and are not managed
            continue
        item: dict[str, Any] = {"email": email}
        for key in ("first_name", "last_name"):
            if row.get(key):
                item[key] = row[key]
        if row.get("employee_id"):
            item["employee_id"] = row["employee_id"]
        if row.get("job_title"):
            item["job_title"] = row["job_title"]
        item["active"] = not row.get("deactivated", False)
        item["site_admin"] = bool(row.get("site_admin"))
        item["offices"] = sorted(str(refs.office(i)) for i in row.get("office_ids") or [])
        item["departments"] = sorted(str(refs.department(i)) for i in row.get("department_ids") or [])
        if not row.get("site_admin"):
            item["job_permissions"] = sorted(
                ({"job": refs.job(int(g["job_id"])), "role": roles.get(int(g["role_id"]), {}).get("name", g["role_id"])}
                 for g in grants.get(int(row["id"]), [])), key=lambda g: (str(g["job"]), str(g["role"])))
            item["future_job_permissions"] = sorted(
                (_future(g, roles, refs) for g in future.get(int(row["id"]), [])), key=str)
        items.append(item)
    return items


def _future(g: Mapping[str, Any], roles: Mapping[int, Mapping[str, Any]], refs: _Refs) -> dict[str, Any]:
    out: dict[str, Any] = {"role": roles.get(int(g["role_id"]), {}).get("name", g["role_id"])}
    if g.get("department_id") is not None:
        out["department"] = refs.department(g["department_id"])
    if g.get("office_id") is not None:
        out["office"] = refs.office(g["office_id"])
    return out
