"""The tree families' canonical shape: export is `to_manifest(from_api(row))` and reads back as the row.

For any live tree (departments; offices with locations and primary contacts), each exported item read
back through `from_manifest` is the row's `from_api` on every key it writes; the keys it leaves out are
exactly an absent external_id and a contact whose user cannot be written; and planning the export against
the same live organisation changes nothing. Also: the final-tree cycle check and depths visit each node
once, and `trees.py` names no tree.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.live import LiveOrg, by_id
from reconciler.planner import build_plan
from reconciler.resources import departments, offices, tree_export, trees
from reconciler.resources.exporting import Exporting
from tests.builders import live, manifest, user

USERS = [user(1002, "jane@acme.example"), user(1003, "raj@acme.example")]
#: Live contacts: none, a readable user, or a user id the organisation's users do not include.
CONTACTS = st.sampled_from([None, 1002, 1003, 4242])
LOCATIONS = st.sampled_from([None, "", "Berlin, Germany", "  spaced  ", "Zürich"])


@st.composite
def tree_rows(draw: st.DrawFn, office: bool) -> list[dict[str, Any]]:
    """A live tree: unique names, external ids that are unique and never someone's name, parents earlier."""
    n = draw(st.integers(0, 8))
    names = draw(st.lists(st.sampled_from(["Ops", "ops", "R&D", "Sales: EMEA", "null", "1", "Ünïcode", "a b"]),
                          min_size=n, max_size=n, unique=True))
    rows = []
    for i, name in enumerate(names):
        row: dict[str, Any] = {
            "id": 10 + i, "name": name,
            "parent_id": draw(st.sampled_from([None, *(10 + j for j in range(i))])),
            "external_id": draw(st.sampled_from([None, "", f"EXT-{i}"])),
        }
        if office:
            row["location"] = draw(LOCATIONS)
            row["primary_in_house_contact_user_id"] = draw(CONTACTS)
        rows.append(row)
    return rows


def resolver(tree: trees.Tree, rows: list[dict[str, Any]]) -> Any:
    """The inverse of export's reference writers: a tree reference by external_id or name, a user by email."""
    def resolve(kind: str, value: Any, _relative: str) -> Any:
        if kind == "user":
            (found,) = [u["id"] for u in USERS if u["primary_email"] == value]
            return found
        assert kind == tree.type
        (found,) = [r["id"] for r in rows if value in (r["external_id"], r["name"], r["id"])]
        return found

    return resolve


def exported(tree: trees.Tree, rows: list[dict[str, Any]]) -> tuple[Exporting, list[dict[str, Any]]]:
    exporting = Exporting(LiveOrg(rows={tree.collection: by_id(rows), "users": by_id(USERS)}))
    writer = exporting.department if tree is departments.TREE else exporting.office
    return exporting, tree_export.items(exporting, tree, writer)


@pytest.mark.parametrize("tree", [departments.TREE, offices.TREE], ids=["departments", "offices"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_exported_item_reads_back_as_its_live_row(tree: trees.Tree, data: st.DataObject) -> None:
    rows = data.draw(tree_rows(tree is offices.TREE))
    exporting, items = exported(tree, rows)
    unwritable = [r for r in rows if isinstance(r.get("location"), str) and r["location"] != r["location"].strip()]
    assert len(exporting.notes) == len(unwritable)  # a location the name rules refuse is left out, said once each
    assert all(n.startswith("the location of office") for n in exporting.notes)
    by_name = {r["name"]: r for r in rows}
    for item in items:
        row = by_name[item["name"]]
        canonical = tree.shape.from_api(row)
        back = tree.shape.from_manifest(item, resolver(tree, rows))
        assert back == {k: canonical[k] for k in item}
        left_out = set(canonical) - set(item)
        expected = {"external_id"} if not row["external_id"] else set()
        if tree is offices.TREE and row[offices.CONTACT] == 4242:
            expected.add("primary_contact")
        if row in unwritable:
            expected.add("location")
        assert left_out == expected


@pytest.mark.parametrize("tree", [departments.TREE, offices.TREE], ids=["departments", "offices"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_planning_an_export_against_the_organisation_it_came_from_changes_nothing(
    tree: trees.Tree, data: st.DataObject
) -> None:
    rows = data.draw(tree_rows(tree is offices.TREE))
    _, items = exported(tree, rows)
    plan = build_plan(manifest(**{tree.section: items}), live(**{tree.collection: rows}, users=USERS))
    assert plan.changes == () and plan.unmanaged == ()
    assert sum(plan.unchanged.values()) == len(rows)


def test_an_office_blank_location_reads_as_none_and_exports_as_null() -> None:
    row = {"id": 1, "name": "Berlin", "parent_id": None, "external_id": None, "location": "",
           offices.CONTACT: None}
    assert offices.TREE.shape.from_api(row)["location"] is None
    _, (item,) = exported(offices.TREE, [row])
    assert item == {"name": "Berlin", "parent": None, "location": None, "primary_contact": None}


def test_the_office_shape_is_the_tree_shape_plus_its_declared_fields() -> None:
    assert [a.name for a in departments.TREE.shape.attrs] == ["name", "external_id", "parent"]
    assert [(a.name, a.api_key, a.ref) for a in offices.TREE.shape.attrs] == [
        ("name", "name", None), ("external_id", "external_id", None), ("parent", "parent_id", "office"),
        ("location", "location", None), ("primary_contact", offices.CONTACT, "user")]


def test_trees_py_names_no_tree() -> None:
    """Office- or department-specific behaviour is a declaration of that family, not a branch in trees.py."""
    source = ast.parse(Path(trees.__file__).read_text(encoding="utf-8"))
    docstrings = {id(n.body[0].value) for n in ast.walk(source)
                  if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    literals = [n.value for n in ast.walk(source)
                if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]
    assert [s for s in literals if any(w in s.lower() for w in ("office", "department", "contact", "location"))] == []


# -- the final tree: one visit per node ------------------------------------------------------------------


class Counting(dict[Any, Any]):
    """A parent map that counts its lookups."""

    lookups = 0

    def get(self, key: Any, default: Any = None) -> Any:
        self.lookups += 1
        return super().get(key, default)


def deep_chain(n: int) -> Counting:
    """1 (top level) <- 2 <- ... <- n, listed deepest first (the worst order for a walk per node)."""
    return Counting({i: i - 1 or None for i in range(n, 0, -1)})


def test_depths_of_a_3000_deep_chain_visit_each_node_once() -> None:
    parents = deep_chain(3000)
    assert trees.depths(parents) == {i: i for i in range(1, 3001)}
    assert parents.lookups == 3000


def test_the_cycle_check_of_a_3000_deep_chain_visits_each_node_once() -> None:
    parents = deep_chain(3000)
    assert trees.find_cycle(parents) is None
    assert parents.lookups == 3000


def test_a_cycle_hanging_off_a_deep_chain_is_found_from_its_least_member_in_one_pass() -> None:
    parents = deep_chain(3000)
    parents[1] = 2000  # 1 -> 2000 -> 1999 -> ... -> 2 -> 1; 2001..3000 hang off it
    assert trees.find_cycle(parents) == [1, *range(2000, 1, -1)]
    assert parents.lookups == 3000


@pytest.mark.parametrize(
    ("parents", "cycle"),
    [
        ({"b": "a", "a": None}, None),
        ({"a": "a"}, ["a"]),
        ({"c": "b", "b": "c", "a": None}, ["b", "c"]),
        ({"z": "y", "y": "z", "q": "p", "p": "q"}, ["p", "q"]),
        ({"a": "outside"}, None),
    ],
    ids=["tree", "self-parent", "two-cycle", "least-of-two-cycles", "parent-outside-the-map"],
)
def test_find_cycle_returns_the_cycle_holding_the_least_member_rotated_to_start_there(
    parents: Mapping[str, str | None], cycle: list[str] | None
) -> None:
    assert trees.find_cycle(parents) == cycle


def test_depths_refuses_a_cycle() -> None:
    with pytest.raises(ValueError, match="cycle"):
        trees.depths({"a": "b", "b": "a"})
