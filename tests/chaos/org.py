"""The chaos suite's organisation: a seed the sandbox loads and the desired manifests, built from one model.

`seed()` is the live organisation before the first apply; `desired()` is what the manifests say, as
plain Python values; `manifest(desired())` renders them as a manifest (JSON text, which is YAML). The
plan between the two is about 500 changes across all ten resource types:

| type | changes |
|---|---|
| department | 20 creates (10 under a parent created by the same apply), 8 renames, 6 moves |
| office | 6 creates (3 under a live parent), a name swap and a 3-cycle (temporary names), 2 renames, 3 moves |
| custom_field | 5 creates, 2 renames, 1 description change, 2 deletes (prune) |
| custom_field_option | 135 creates, 12 renames and a swap, 12 archives |
| custom_field_department / _office | 7 + 5 creates, 5 + 1 deletes |
| candidate_tag | 15 creates, 10 deletes (prune) |
| user | 120 creates, 30 updates, 4 deactivations, 2 activations |
| user_job_permission | 30 grants (20 for users the apply creates), 10 revokes |
| future_job_permission | 15 creates (10 scoped to a department the apply creates), 5 deletes |

Everything is deterministic: the suite's seeds vary the faults, not the organisation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STAMP = "2026-01-15T10:00:00.000Z"
ROLES = {"Standard": 2, "Private": 3, "Hiring Manager": 5}

LIVE_DEPTS = 20        # Dept 00.. (D00..), top level; Team 00.. (T00..) under Dept i
NEW_DEPTS = 10         # New Dept 0i (ND0i), each with a New Team 0i (NT0i) under it
LIVE_OFFICES = 10      # Office 00.. (O00..), top level; Branch 00..04 (B0i) under Office i
LIVE_BRANCHES = 5
SELECT_FIELDS = 6      # Select 0f (select_0f), 12 options each (external ids S{f}-{k})
LIVE_OPTIONS = 12
NEW_OPTIONS = 30       # per live select field
LIVE_TAGS = 30
KEPT_TAGS = 20
LIVE_USERS = 60        # user{i}@chaos.example, ids 2000..
NEW_USERS = 60         # new{i}@chaos.example
JOBS = 20              # REQ-5{i:02}, ids 500..


def _ts(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "created_at": STAMP, "updated_at": STAMP}


def seed() -> dict[str, Any]:
    """The live organisation: the demo seed's clients, roles and admin users, plus the objects above."""
    demo = json.loads((ROOT / "examples" / "sandbox-seed.json").read_text())
    users = [u for u in demo["users"] if u["id"] in (1001, 1006)]
    departments = [_ts({"id": 100 + i, "name": f"Dept {i:02}", "parent_id": None, "external_id": f"D{i:02}"})
                   for i in range(LIVE_DEPTS)]
    departments += [_ts({"id": 200 + i, "name": f"Team {i:02}", "parent_id": 100 + i, "external_id": f"T{i:02}"})
                    for i in range(LIVE_DEPTS)]
    offices = [_ts({"id": 300 + i, "name": f"Office {i:02}", "parent_id": None, "external_id": f"O{i:02}",
                    "location": None, "primary_in_house_contact_user_id": None}) for i in range(LIVE_OFFICES)]
    offices += [_ts({"id": 350 + i, "name": f"Branch {i:02}", "parent_id": 300 + i, "external_id": f"B{i:02}",
                     "location": None, "primary_in_house_contact_user_id": None}) for i in range(LIVE_BRANCHES)]
    fields: list[dict[str, Any]] = []
    options: list[dict[str, Any]] = []
    for f in range(SELECT_FIELDS):
        fields.append(_field(400 + f, f"Select {f:02}", f"select_{f:02}", "job", "single_select", f + 1))
        options += [_ts({"id": 4000 + 100 * f + k, "custom_field_id": 400 + f, "name": f"Option {f}-{k:02}",
                         "sort_order": k + 1, "external_id": f"S{f}-{k:02}", "active": True})
                    for k in range(LIVE_OPTIONS)]
    fields += [_field(410 + t, f"Text {t:02}", f"text_{t:02}", "candidate", "short_text", 10 + t) for t in range(4)]
    fields += [_field(420 + t, f"Old Field {t:02}", f"old_field_{t:02}", "candidate", "short_text", 20 + t)
               for t in range(2)]
    scoped_departments = [(400, 100), (400, 101), (400, 102), (402, 110), (402, 111), (402, 112)]
    scoped_offices = [(400, 300), (400, 301)]
    user_rows = users + [_user(2000 + i, f"user{i}@chaos.example", f"User{i}", "Live", i >= 55)
                         for i in range(LIVE_USERS)]
    return {
        "clients": demo["clients"],
        "user_roles": demo["user_roles"],
        "users": user_rows,
        "departments": departments,
        "offices": offices,
        "custom_fields": fields,
        "custom_field_options": options,
        "custom_field_departments": [_ts({"id": 5000 + n, "custom_field_id": c, "department_id": d})
                                     for n, (c, d) in enumerate(scoped_departments)],
        "custom_field_offices": [_ts({"id": 5100 + n, "custom_field_id": c, "office_id": o})
                                 for n, (c, o) in enumerate(scoped_offices)],
        "candidate_tags": [_ts({"id": 600 + i, "name": f"Tag {i:02}"}) for i in range(LIVE_TAGS)],
        "jobs": [_ts({"id": 500 + j, "name": f"Job {j:02}", "requisition_id": f"REQ-5{j:02}", "status": "open",
                      "department_id": 100 + j % LIVE_DEPTS, "office_ids": [300 + j % LIVE_OFFICES],
                      "confidential": False, "is_template": False, "copied_from_id": None, "notes": None,
                      "opened_at": STAMP, "closed_at": None, "custom_fields": {}}) for j in range(JOBS)],
        "user_job_permissions": [_ts({"id": 7000 + i, "user_id": 2000 + i, "job_id": 500 + i, "role_id": 2,
                                      "automated": False}) for i in range(20)],
        "future_job_permissions": [_ts({"id": 8000 + i, "user_id": 2020 + i, "role_id": 2, "department_id": 100,
                                        "office_id": None}) for i in range(10)],
    }


def _field(row_id: int, name: str, key: str, field_type: str, value_type: str, order: int) -> dict[str, Any]:
    return _ts({"id": row_id, "name": name, "name_key": key, "field_type": field_type, "value_type": value_type,
                "active": True, "private": False, "required": False, "require_approval": False,
                "trigger_new_version": False, "expose_in_job_board_api": False, "api_only": False,
                "description": None, "sort_order": order, "template_token_string": None})


def _user(row_id: int, email: str, first: str, last: str, deactivated: bool) -> dict[str, Any]:
    return _ts({"id": row_id, "first_name": first, "last_name": last, "name": f"{first} {last}",
                "primary_email": email, "emails": [email], "employee_id": None, "deactivated": deactivated,
                "site_admin": False, "job_title": "Recruiter", "agency_id": None, "office_ids": [],
                "department_ids": [], "linked_candidate_ids": [], "interviewer_tags": [], "custom_fields": {}})


def desired() -> dict[str, Any]:
    """The desired organisation, in the manifest's own terms (names and external ids, emails)."""
    departments = []
    for i in range(LIVE_DEPTS):
        departments.append({"name": f"Dept {i:02}" + (" renamed" if i < 8 else ""), "external_id": f"D{i:02}",
                            "parent": None})
    for i in range(LIVE_DEPTS):
        departments.append({"name": f"Team {i:02}", "external_id": f"T{i:02}",
                            "parent": f"D{i + 1 if i < 6 else i:02}"})
    for i in range(NEW_DEPTS):
        departments.append({"name": f"New Dept {i:02}", "external_id": f"ND{i:02}", "parent": None})
        departments.append({"name": f"New Team {i:02}", "external_id": f"NT{i:02}", "parent": f"ND{i:02}"})

    office_names = {f"O{i:02}": f"Office {i:02}" for i in range(LIVE_OFFICES)}
    office_names.update({"O00": "Office 01", "O01": "Office 00",                      # a swap
                         "O02": "Office 03", "O03": "Office 04", "O04": "Office 02",  # a 3-cycle
                         "O05": "Office 05 renamed", "O06": "Office 06 renamed"})
    offices = [{"name": name, "external_id": ext, "parent": None} for ext, name in office_names.items()]
    offices += [{"name": f"Branch {i:02}", "external_id": f"B{i:02}", "parent": f"O{i + 5 if i < 3 else i:02}"}
                for i in range(LIVE_BRANCHES)]
    offices += [{"name": f"New Office {i:02}", "external_id": f"NO{i:02}", "parent": "O07" if i < 3 else None}
                for i in range(6)]

    fields: list[dict[str, Any]] = []
    for f in range(SELECT_FIELDS):
        opts = []
        for k in range(LIVE_OPTIONS):
            if k in (10, 11):
                continue  # archived
            name = f"Option {f}-{k:02}" + (" renamed" if k in (8, 9) else "")
            if f == 0 and k in (0, 1):
                name = f"Option 0-{1 - k:02}"  # options 0 and 1 of Select 00 swap names
            opts.append({"name": name, "external_id": f"S{f}-{k:02}"})
        opts += [{"name": f"New Option {f}-{n:02}"} for n in range(NEW_OPTIONS)]
        field: dict[str, Any] = {"name": f"Select {f:02}" + (" renamed" if f in (4, 5) else ""),
                                 "key": f"select_{f:02}", "field_type": "job", "value_type": "single_select",
                                 "options": opts}
        if f == 0:
            field.update(departments=["D00", "D03", "D04"], offices=["O02", "O03", "O01"])
        elif f == 1:
            field["departments"] = [f"D{d:02}" for d in range(5, 10)]
        elif f == 2:
            field["departments"] = []
        elif f == 3:
            field["offices"] = ["O05", "O06", "O07"]
        fields.append(field)
    for t in range(4):
        field = {"name": f"Text {t:02}", "key": f"text_{t:02}", "field_type": "candidate", "value_type": "short_text"}
        if t == 0:
            field["description"] = "Changed by the chaos suite"
        fields.append(field)
    fields += [{"name": f"New Select {n:02}", "field_type": "job", "value_type": "single_select",
                "options": [{"name": f"Choice {n}-{k}"} for k in range(5)]} for n in range(3)]
    fields += [{"name": f"New Text {n:02}", "field_type": "candidate", "value_type": "short_text"} for n in range(2)]

    tags = [f"Tag {i:02}" for i in range(KEPT_TAGS)] + [f"New Tag {i:02}" for i in range(15)]

    users: list[dict[str, Any]] = []
    for i in range(LIVE_USERS):
        user: dict[str, Any] = {"email": f"user{i}@chaos.example"}
        user["job_title"] = f"Chaos title {i}"
        if 50 <= i < 54:
            user["active"] = False
        if i in (55, 56):
            user["active"] = True
        if i < 10:
            user["job_permissions"] = [{"job": f"REQ-5{i:02}", "role": "Standard"},
                                       {"job": f"REQ-5{i + 10:02}", "role": "Hiring Manager"}]
        elif i < 20:
            user["job_permissions"] = []
        elif i < 25:
            user["future_job_permissions"] = [{"role": "Standard", "department": "D00"},
                                              {"role": "Private", "office": "O05"}]
        elif i < 30:
            user["future_job_permissions"] = []
        users.append(user)
    for i in range(NEW_USERS):
        user = {"email": f"new{i}@chaos.example", "first_name": f"New{i}", "last_name": "Chaos"}
        if i < 20:
            user["job_permissions"] = [{"job": f"REQ-5{i:02}", "role": "Standard"}]
        elif i < 30:
            user["future_job_permissions"] = [{"role": "Standard", "department": "ND00"}]
        users.append(user)

    return {"departments": departments, "offices": offices, "custom_fields": fields, "candidate_tags": tags,
            "users": users}


def manifest(model: dict[str, Any]) -> str:
    """The manifest for `model`: JSON (a subset of YAML 1.2), with the policy the plan needs."""
    policy = {"prune": {"custom_fields": "enforce", "candidate_tags": "enforce"},
              "limits": {"max_deletes": 1000, "max_change_percent": 100}}
    return json.dumps({"version": 1, "policy": policy, **model}, indent=1) + "\n"
