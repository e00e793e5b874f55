"""The plan JSON Schema: generated from one description of the keys, committed, and true of real plans."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.plan import PLAN_FORMAT_VERSION, Plan
from reconciler.plan_schema import PLAN, SHAPES, Shape, plan_json_schema
from reconciler.planner import build_plan
from tests.builders import dept, field, job, live, manifest, option, user
from tests.render.plans import large, pruning
from tests.render.test_mistakes import mistakes_plan
from tests.render.test_render import GOLDEN, demo_plan

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "schemas" / "plan.schema.json"
DOC = ROOT / "docs" / "plan-json.md"
REGENERATE = "regenerate it: python -m reconciler schema --plan > schemas/plan.schema.json"
SHAPE = {s.name: s for s in SHAPES}


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(COMMITTED.read_text(encoding="utf-8")))


def test_the_committed_plan_schema_is_up_to_date() -> None:
    generated = json.dumps(plan_json_schema(), indent=2) + "\n"
    assert COMMITTED.read_text(encoding="utf-8") == generated, f"schemas/plan.schema.json is stale; {REGENERATE}"


@pytest.mark.e2e
def test_the_schema_command_prints_the_committed_plan_schema() -> None:
    run = subprocess.run([sys.executable, "-m", "reconciler", "schema", "--plan"], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout == COMMITTED.read_text(encoding="utf-8"), REGENERATE


def test_the_plan_schema_is_valid_draft_2020_12_and_describes_every_key() -> None:
    schema = plan_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["format_version"] == {"description": PLAN.keys[0].description,
                                                      "const": PLAN_FORMAT_VERSION}
    for shape in SHAPES:
        node = schema if shape is PLAN else schema["$defs"][shape.name]
        assert list(node["properties"]) == shape.names()
        for name, prop in node["properties"].items():
            assert isinstance(prop.get("description"), str) and len(prop["description"]) > 10, f"{shape.name}.{name}"


# -- real plans ---------------------------------------------------------------------------------------------

JANE = user(1002, "jane@acme.example")
JOBS = [job(400, "Platform", "REQ-1001"), job(401, "Old", "REQ-0900"), job(403, "SRE", "REQ-1004")]


def assorted() -> Plan:
    """Bulk requests (bulk/bulk_item), a role change (fallback), deletes with `absent` settles,
    Greenhouse-managed rows, unmanaged objects, warnings."""
    grants = [{"id": 900, "user_id": 1002, "job_id": 401, "role_id": 3, "automated": False},
              {"id": 501, "user_id": 1002, "job_id": 403, "role_id": 3, "automated": False},
              {"id": 599, "user_id": 1002, "job_id": 400, "role_id": 2, "automated": True}]
    admin = user(1001, "admin@acme.example", site_admin=True)
    m = manifest(
        departments=[{"name": f"New {i}", "external_id": f"D{i}"} for i in range(3)],
        candidate_tags=["kept"],
        users=[{"email": "jane@acme.example",
                "job_permissions": [{"job": "REQ-1001", "role": "Standard"}, {"job": "REQ-1004", "role": "Standard"}]},
               {"email": "admin@acme.example", "job_permissions": [{"job": "REQ-1001", "role": "Standard"}]}],
    )
    state = live(departments=[dept(10 + i, f"Old {i}", external_id=f"D{i}") for i in range(3)],
                 candidate_tags=[{"id": 1, "name": "kept"}, {"id": 2, "name": "extra"}],
                 users=[JANE, admin], jobs=JOBS, user_job_permissions=grants)
    plan = build_plan(m, state)
    assert plan.bulk_requests and plan.greenhouse_managed and plan.unmanaged and plan.warnings
    assert any(c.fallback for c in plan.changes)
    return plan


def reorder() -> Plan:
    """Option updates that only renumber a field (`counts_as`), beside a rename that counts on its own."""
    m = manifest(custom_fields=[{"name": "C", "key": "c", "field_type": "job", "value_type": "single_select",
                                 "options": ["B", "A", "C2"]}])
    plan = build_plan(m, live(custom_fields=[field(1, "C", "c")], custom_field_options=[
        option(10, 1, "A", 1), option(11, 1, "B", 2), option(12, 1, "C", 3)]))
    assert {c.counts_as for c in plan.changes} == {"custom_field:1:option-order", None}
    return plan


def golden() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN / "demo-plan.json").read_text(encoding="utf-8"))
    return data


def samples(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "golden demo plan", golden()
    yield "saved demo plan", json.loads(demo_plan(monkeypatch).dumps(include_fingerprints=True))
    for name, plan in [("assorted", assorted()), ("pruning", pruning(keep=4)), ("large", large(tags=50, users=3)),
                       ("mistakes", mistakes_plan()), ("reorder", reorder())]:
        yield name, json.loads(plan.dumps())
        yield f"saved {name}", json.loads(plan.dumps(include_fingerprints=True))


def test_real_plans_validate_against_the_committed_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    check = validator()
    for name, data in samples(monkeypatch):
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in check.iter_errors(data)]
        assert not errors, (name, errors[:5])


def _objects(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every object of the plan JSON, by the shape that describes it."""
    changes = data["changes"]
    writes = [w for c in changes for w in c["writes"]]
    return {
        "plan": [data], "summary": [data["summary"]], "limits": [data["limits"]], "change": changes,
        "field_change": [f for c in changes for f in c["fields"].values()], "write": writes,
        "settle": [w["settle"] for w in writes if "settle" in w], "bulk_request": data["bulk_requests"],
        "unmanaged": data["unmanaged"], "greenhouse_managed": data["greenhouse_managed"],
        "identity_probe": data.get("identity_probes", []),
    }


def test_to_json_writes_exactly_the_described_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shapes are the one list of keys: every object has each required key and no undescribed one,
    and every optional key occurs in some real plan."""
    seen: dict[str, set[str]] = {s.name: set() for s in SHAPES}
    for name, data in samples(monkeypatch):
        saved = name.startswith("saved")
        for shape_name, objects in _objects(data).items():
            shape = SHAPE[shape_name]
            for obj in objects:
                assert set(shape.required()) <= set(obj) <= set(shape.names(saved=saved)), (name, shape_name, obj)
                seen[shape_name] |= set(obj)
    assert {n: sorted(keys) for n, keys in seen.items()} == {s.name: sorted(s.names()) for s in SHAPES}


def test_bulk_and_bulk_item_come_together(monkeypatch: pytest.MonkeyPatch) -> None:
    for _, data in samples(monkeypatch):
        for write in _objects(data)["write"]:
            assert ("bulk" in write) == ("bulk_item" in write)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(format_version=2), "was expected"),
    (lambda d: d.pop("changes"), "'changes' is a required property"),
    (lambda d: d["changes"][0].update(action="explode"), "'explode' is not one of"),
    (lambda d: d["changes"][0]["writes"][0].pop("method"), "'method' is a required property"),
    (lambda d: d["changes"][0]["writes"][0]["settle"].update(committed_if="maybe"), "'maybe' is not one of"),
    (lambda d: d["summary"].update(create=-1), "less than the minimum"),
])
def test_the_schema_rejects_what_is_not_a_plan(edit: Any, message: str) -> None:
    data = golden()
    edit(data)
    assert any(message in e.message for e in validator().iter_errors(data))


def test_unknown_keys_are_accepted_as_the_stability_promise_says() -> None:
    data = golden()
    data["added_later"] = {"x": 1}
    data["changes"][0]["added_later"] = True
    assert not list(validator().iter_errors(data))


# -- the document -------------------------------------------------------------------------------------------


def _doc_section(shape: Shape) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"^## [^\n]*`{shape.name}`[^\n]*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/plan-json.md has no section headed with `{shape.name}`"
    return match.group(1)


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_the_document_describes_every_key(shape: Shape) -> None:
    section = _doc_section(shape)
    documented = re.findall(r"^\| `([a-z_]+)` \|", section, re.M)
    assert documented == shape.names(), f"docs/plan-json.md, section `{shape.name}`"


def test_the_document_states_the_version_and_its_promise() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert f"`format_version` is {PLAN_FORMAT_VERSION}" in text
    assert "ignore keys they do not know" in text
