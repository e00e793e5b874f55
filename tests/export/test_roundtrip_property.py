"""The export round trip over generated live organisations: export -> validate -> plan is zero changes.

Each example is the demo organisation plus generated objects that make naming hard: departments that share
a name (under different parents, at the end of deep chains), names equal to another object's external id,
external ids two objects share, case variants and Unicode variants of one name ("Café" written composed and
decomposed), names the manifest rules refuse (a leading space, a tab, a no-break space), options of one field
that share a name, custom fields and candidate tags whose names display alike, users whose emails differ only
by case or Unicode form, office contacts among them. The organisation is seeded into the
sandbox (in-process transport), read as `export` reads it, exported, loaded as `validate` loads the written
files, and planned against the same sandbox: no change, no problem, no warning, and exactly the objects
export left out (with a note each) are unmanaged.

Derandomized with a fixed example count, so CI runs the same examples every time, in a few seconds.
"""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.export import collections_for, export_documents
from reconciler.live import read_for_manifest, read_live, requests
from reconciler.manifest import load
from reconciler.planner import build_plan
from reconciler.resources.exporting import writable
from tests.harness import Rig, seed

SECTIONS = ["departments", "offices", "custom_fields", "candidate_tags", "users"]
#: Names that collide: with each other (case, NFC), with the demo's names and external ids ("ENG", "SALES",
#: "SF"), with YAML's other types ("null", "1"); and two the manifest rules refuse (left out by export).
NAMES = ["Sales", "sales", "ENG", "Engineering", "SALES", "SF", "Café", "Cafe\u0301", "Ops", "null", "1",
         "Zürich", "東京", " Sales", "Ops\t"]
EXTERNAL_IDS = [None, None, None, "ENG", "SALES", "Sales", "Ops", "SHARED", "SHARED", " pad"]
STAMP = {"created_at": "2026-01-15T10:00:00.000Z", "updated_at": "2026-01-15T10:00:00.000Z"}


@st.composite
def organisations(draw: st.DrawFn) -> dict[str, Any]:
    data = seed()
    dept_ids = [d["id"] for d in data["departments"]]
    for i in range(draw(st.integers(0, 7))):
        row = {"id": 5000 + i, "name": draw(st.sampled_from(NAMES)), "external_id": draw(st.sampled_from(EXTERNAL_IDS)),
               "parent_id": draw(st.sampled_from([None, *dept_ids])), **STAMP}
        data["departments"].append(row)
        dept_ids.append(row["id"])
    chain = draw(st.integers(0, 12))  # a deep branch whose levels share one name: only ids tell them apart
    parent = draw(st.sampled_from(dept_ids))
    for level in range(chain):
        data["departments"].append({"id": 5100 + level, "name": "Team", "external_id": None, "parent_id": parent,
                                    **STAMP})
        parent = 5100 + level
        dept_ids.append(parent)

    office_ids = [o["id"] for o in data["offices"]]
    taken = {o["name"] for o in data["offices"]}
    for i, name in enumerate(draw(st.lists(st.sampled_from(["London", "london", "SF", "NA", "Z\u00fcrich", "Zu\u0308rich",
                                                            " Berlin"]),
                                           unique=True, max_size=4))):
        if name in taken:
            continue
        data["offices"].append({"id": 6000 + i, "name": name, "external_id": draw(st.sampled_from(EXTERNAL_IDS)),
                                "parent_id": draw(st.sampled_from([None, *office_ids])), "location": None,
                                "primary_in_house_contact_user_id": draw(st.sampled_from([None, 1002, 7000, 7001])),
                                **STAMP})
        office_ids.append(6000 + i)

    emails = draw(st.lists(st.sampled_from(["RAJ@acme.example", "Raj@Acme.example", "new@acme.example",
                                            "NEW@acme.example", "zo\u00eb@acme.example", "zoe\u0308@acme.example"]),
                           unique=True, max_size=5))
    for i, email in enumerate(emails):
        uid = 7000 + i
        data["users"].append({
            "id": uid, "first_name": draw(st.sampled_from(["Ann", " Ann", "Zoë"])), "last_name": "Gen",
            "name": "Ann Gen", "primary_email": email, "emails": [email], "employee_id": f"G-{i}",
            "deactivated": False, "site_admin": False, "job_title": None,
            "office_ids": draw(st.lists(st.sampled_from(office_ids), unique=True, max_size=2)),
            "department_ids": draw(st.lists(st.sampled_from(dept_ids), unique=True, max_size=3)), **STAMP})
        data["user_emails"].append({"id": 8000 + i, "user_id": uid, "email": email, "verified": True, **STAMP})

    tags = {t["name"] for t in data["candidate_tags"]}
    for i, name in enumerate(draw(st.lists(st.sampled_from(["referral", "REFERRAL", "Caf\u00e9", "Cafe\u0301",
                                                            " Boomerang", "Do\u00a0Not Contact"]),
                                           unique=True, max_size=4))):
        if name not in tags:  # tag names are unique (exactly) in Greenhouse
            data["candidate_tags"].append({"id": 9700 + i, "name": name, **STAMP})

    field_names = draw(st.lists(st.sampled_from(["Generated", "Caf\u00e9", "Cafe\u0301", " Padded"]), unique=True,
                                max_size=3))
    for i, field_name in enumerate(field_names):
        field_id = 9000 + i
        data["custom_fields"].append({"id": field_id, "name": field_name, "name_key": f"generated_{i}",
                                      "field_type": "job", "value_type": "single_select", "active": True, **STAMP})
        for j, name in enumerate(draw(st.lists(st.sampled_from(NAMES), max_size=5))):
            data["custom_field_options"].append({"id": 9100 + 10 * i + j, "custom_field_id": field_id, "name": name,
                                                 "sort_order": j, "active": True,
                                                 "external_id": draw(st.sampled_from([None, f"O{j}", "SAME", " O"])),
                                                 **STAMP})
        for j, dept in enumerate(draw(st.lists(st.sampled_from(dept_ids), unique=True, max_size=3))):
            data["custom_field_departments"].append({"id": 9300 + 10 * i + j, "custom_field_id": field_id,
                                                     "department_id": dept, **STAMP})
        for j, office in enumerate(draw(st.lists(st.sampled_from(office_ids), unique=True, max_size=2))):
            data["custom_field_offices"].append({"id": 9500 + 10 * i + j, "custom_field_id": field_id,
                                                 "office_id": office, **STAMP})
    return data


def left_out(data: dict[str, Any]) -> set[tuple[str, int]]:
    """What export cannot write, so planning its files lists it as unmanaged: objects whose name the
    manifest rules refuse, users whose primary emails differ only by case or Unicode form, and custom fields
    of one field_type and candidate tags whose names display alike."""
    out = {(kind, row["id"]) for kind, collection in (("department", "departments"), ("office", "offices"))
           for row in data[collection] if not writable(row["name"])}
    by_email: dict[str, list[int]] = {}
    for row in data["users"]:
        if row["primary_email"]:
            by_email.setdefault(unicodedata.normalize("NFC", row["primary_email"].casefold()), []).append(row["id"])
    out |= {("user", uid) for ids in by_email.values() if len(ids) > 1 for uid in ids}
    by_name: dict[str, list[int]] = {}
    for row in data["custom_fields"]:
        if row.get("active") is not False and row["field_type"] == "job":
            by_name.setdefault(unicodedata.normalize("NFC", row["name"]), []).append(row["id"])
    out |= {("custom_field", fid) for ids in by_name.values() if len(ids) > 1 for fid in ids}
    out |= {("custom_field", row["id"]) for row in data["custom_fields"] if not writable(row["name"])}
    by_tag: dict[str, list[int]] = {}
    for row in data["candidate_tags"]:
        by_tag.setdefault(unicodedata.normalize("NFC", row["name"]), []).append(row["id"])
    out |= {("candidate_tag", tid) for ids in by_tag.values() if len(ids) > 1 for tid in ids}
    out |= {("candidate_tag", row["id"]) for row in data["candidate_tags"] if not writable(row["name"])}
    return out


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=organisations())
def test_an_export_of_any_generated_organisation_validates_and_plans_to_zero_changes(data: dict[str, Any]) -> None:
    rig = Rig(data)
    with rig.reader() as reader:
        live = read_live(reader, requests(collections_for(SECTIONS)))
    result = export_documents(live, SECTIONS)
    assert len(result.notes) == len(set(result.notes))  # each note once
    with tempfile.TemporaryDirectory() as directory:
        for name, text in {**result.documents, **result.starters}.items():
            (Path(directory) / name).write_text(text, encoding="utf-8")
        manifest = load([directory])  # what `validate` does: raises on any problem
        with rig.reader() as reader:
            plan = build_plan(manifest, read_for_manifest(reader, manifest))
    assert plan.changes == ()
    assert plan.warnings == ()
    assert {(u.type, u.id) for u in plan.unmanaged} == left_out(data)
