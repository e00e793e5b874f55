"""Custom fields' canonical shapes: the export is `to_manifest(from_api(row))`, and reads back as the row.

Per type, for generated live rows:

* custom_field: `FIELD.from_manifest(FIELD.to_manifest(FIELD.from_api(row)))` is `FIELD.from_api(row)`
  (the row composed with its join rows; references written and resolved the way export and plan do);
* custom_field_option: the same through `OPTION`;
* custom_field_department / custom_field_office: a field's join rows (duplicates included) are the set of
  referenced ids in its canonical value, written once each, and read back as that set;
* all four: exporting a generated organisation (`export_documents`), loading the YAML (`manifest.load`)
  and planning it against the same organisation changes nothing, and every exported object is counted
  unchanged.

The live organisations hold what Greenhouse holds: names unique within their scope (a field's active
options; active fields of one field_type), keys and option external_ids unique, distinct sort_orders
among a field's active options, join rows that refer to existing departments and offices. They also hold
what the export must leave alone: inactive fields, archived options (some sharing an active option's name),
properties a field_type does not accept, nulls, scoping rows of user_attribute fields.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.export import export_documents
from reconciler.manifest import load
from reconciler.planner import build_plan
from reconciler.resources.custom_fields.definition import (
    FIELD_TYPES,
    SELECT_VALUE_TYPES,
    VALUE_TYPES,
    accepts,
)
from reconciler.resources.custom_fields.shape import FIELD, OPTION, PROPERTIES, SCOPES, Scope, composed
from reconciler.resources.exporting import writable
from tests.builders import live

#: Names YAML or the reader could mistake for something else, plus any printable text with a non-space.
#: Only names the manifest's name rules accept: a live " lead" is left out by export (covered in
#: tests/export/test_roundtrip_property.py).
NAMES = (st.sampled_from(["Cost Center", "cost center", "null", "yes", "1.0", "a: b", "#1", "Zürich",
                          "東京", "x"]) | st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=10)).filter(writable)
KEYS = st.sampled_from(["cost_center", "null", "1", "a.b", "Zürich"]) | st.from_regex(r"[a-z_]{1,8}", fullmatch=True)
DESCRIPTIONS = st.none() | st.sampled_from(["", " ", "Two\nlines", "null", "Zürich"]) | st.text(max_size=12)


@st.composite
def trees(draw: st.DrawFn, prefix: str, first_id: int) -> list[dict[str, Any]]:
    """Departments or offices: unique names; external ids (when set) unique and never a name."""
    names = draw(st.lists(st.sampled_from(["Engineering", "Sales", "null", "R&D", "Zürich", "1"]), unique=True,
                          max_size=4))
    return [{"id": first_id + i, "name": name, "parent_id": None,
             "external_id": draw(st.sampled_from([None, "", f"{prefix}-{i}"]))} for i, name in enumerate(names)]


@st.composite
def options(draw: st.DrawFn, field_id: int, first_id: int) -> list[dict[str, Any]]:
    """A field's options: active ones with unique names and distinct sort_orders; archived ones anyhow."""
    active = draw(st.lists(NAMES, unique=True, max_size=5))
    archived = draw(st.lists(NAMES | st.sampled_from(active or ["x"]), max_size=3))
    orders = draw(st.lists(st.integers(0, 50), min_size=len(active), max_size=len(active), unique=True))
    rows = []
    for i, (name, state) in enumerate([*((n, True) for n in active), *((n, False) for n in archived)]):
        order = orders[i] if state else draw(st.sampled_from([None, 1, 2]))
        rows.append({"id": first_id + i, "custom_field_id": field_id, "name": name, "sort_order": order,
                     "active": state, "external_id": draw(st.sampled_from([None, "", f"E{i}"]))})
    return rows


@st.composite
def fields(draw: st.DrawFn, field_id: int, key: str) -> dict[str, Any]:
    field_type, value_type = draw(st.sampled_from(FIELD_TYPES)), draw(st.sampled_from(VALUE_TYPES))
    row: dict[str, Any] = {"id": field_id, "name": draw(NAMES), "name_key": key, "field_type": field_type,
                           "value_type": value_type}
    if draw(st.booleans()):
        row["active"] = draw(st.booleans())
    for prop in PROPERTIES:  # absent, null or a value, whether the field_type accepts the property or not
        choice = draw(st.integers(0, 2))
        if choice:
            row[prop] = None if choice == 1 else draw(DESCRIPTIONS if prop == "description" else st.booleans())
    return row


@st.composite
def organisations(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    """A live organisation of custom fields with their options, scoping rows, departments and offices."""
    org: dict[str, list[dict[str, Any]]] = {"departments": draw(trees("D", 10)), "offices": draw(trees("O", 100))}
    keys = draw(st.lists(KEYS, unique=True, max_size=6))
    org["custom_fields"] = []
    for i, key in enumerate(keys):
        row = draw(fields(200 + i, key))
        taken = {(f["field_type"], f["name"]) for f in org["custom_fields"] if f.get("active") is not False}
        if (row["field_type"], row["name"]) in taken:
            row["active"] = False  # active fields' names are unique within their field_type: an inactive twin
        org["custom_fields"].append(row)
    org["custom_field_options"] = [o for i, f in enumerate(org["custom_fields"]) if f["value_type"] in SELECT_VALUE_TYPES
                                   for o in draw(options(f["id"], 1000 + 100 * i))]
    for scope, pool in ((SCOPES[0], org["departments"]), (SCOPES[1], org["offices"])):
        pairs = draw(st.lists(st.tuples(st.sampled_from(org["custom_fields"]), st.sampled_from(pool)), max_size=8)
                     if org["custom_fields"] and pool else st.just([]))
        org[scope.collection] = [{"id": 5000 + j, "custom_field_id": f["id"], scope.column: r["id"]}
                                 for j, (f, r) in enumerate(pairs)]  # duplicates allowed
    return org


def references(org: dict[str, list[dict[str, Any]]]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """(name_of, resolve): export's reference writer (external_id, else name) and its inverse."""
    rows = {"department": org["departments"], "office": org["offices"]}

    def name_of(kind: str, handle: Any) -> Any:
        (row,) = [r for r in rows[kind] if r["id"] == handle]
        return row["external_id"] or row["name"]

    def resolve(kind: str, value: Any, _relative: str) -> Any:
        (found,) = [r["id"] for r in rows[kind] if value in (r["external_id"], r["name"])]
        return found

    return name_of, resolve


def scoping(org: dict[str, list[dict[str, Any]]], field_id: int) -> dict[str, list[int]]:
    return {s.key: [r[s.column] for r in org[s.collection] if r["custom_field_id"] == field_id] for s in SCOPES}


def no_references(kind: str, *_: object) -> None:
    raise AssertionError(f"an option refers to no {kind}")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(org=organisations())
def test_a_custom_field_reads_back_as_its_live_row(org: dict[str, list[dict[str, Any]]]) -> None:
    name_of, resolve = references(org)
    for row in org["custom_fields"]:
        canonical = FIELD.from_api(composed(row, scoping(org, row["id"])))
        written = FIELD.to_manifest(canonical, name_of)
        assert set(written) == {a.name for a in FIELD.attrs}
        assert FIELD.from_manifest(written, resolve) == canonical


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(org=organisations())
def test_an_option_reads_back_as_its_live_row(org: dict[str, list[dict[str, Any]]]) -> None:
    for row in org["custom_field_options"]:
        canonical = OPTION.from_api(row)
        assert canonical == {"name": row["name"], "external_id": row["external_id"]}
        assert OPTION.from_manifest(OPTION.to_manifest(canonical, no_references), no_references) == canonical


@pytest.mark.parametrize("scope", SCOPES, ids=[s.type for s in SCOPES])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(org=organisations())
def test_scoping_rows_are_the_set_of_their_references_written_once_each(
    scope: Scope, org: dict[str, list[dict[str, Any]]]
) -> None:
    name_of, resolve = references(org)
    for row in org["custom_fields"]:
        referenced = scoping(org, row["id"])[scope.key]
        canonical = FIELD.from_api(composed(row, scoping(org, row["id"])))
        assert canonical[scope.key] == tuple(sorted(set(referenced)))
        written = FIELD.to_manifest({scope.key: canonical[scope.key]}, name_of)
        assert written == {scope.key: sorted({str(name_of(scope.kind, i)) for i in referenced})}
        assert FIELD.from_manifest(written, resolve) == {scope.key: canonical[scope.key]}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(org=organisations())
def test_planning_an_export_against_the_organisation_it_came_from_changes_nothing(
    org: dict[str, list[dict[str, Any]]],
) -> None:
    organisation = live(**org)
    export = export_documents(organisation, ["custom_fields"])
    assert export.notes == []
    with tempfile.TemporaryDirectory() as directory:
        for name, text in export.documents.items():
            (Path(directory) / name).write_text(text, encoding="utf-8")
        plan = build_plan(load([directory]), organisation)
    assert plan.changes == () and plan.unmanaged == () and plan.warnings == ()
    assert plan.unchanged == expected_unchanged(org)


def expected_unchanged(org: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    """Every exported object counts once: active fields, their active options (select fields), and each
    department and office a field is scoped to, when its field_type takes scoping."""
    exported = [f for f in org["custom_fields"] if f.get("active") is not False]
    selects = {f["id"] for f in exported if f["value_type"] in SELECT_VALUE_TYPES}
    counts = {"custom_field": len(exported),
              "custom_field_option": sum(1 for o in org["custom_field_options"]
                                         if o["active"] and o["custom_field_id"] in selects)}
    for scope in SCOPES:
        counts[scope.type] = sum(len(set(scoping(org, f["id"])[scope.key])) for f in exported
                                 if accepts(scope.key, f["field_type"]))
    return {t: n for t, n in counts.items() if n}
