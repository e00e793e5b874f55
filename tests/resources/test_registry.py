"""The registry: tables derive from the families, names are unique, and a new type is one module.

The last test follows docs/architecture.md's "Adding a resource type" guide with a throwaway family
(widgets): once registered, the schema accepts its section, validation checks it, the reader reads
its collection, the planner plans it, export writes it; nothing else in the program changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import ManifestError, Problem
from reconciler.export import export_documents
from reconciler.live import LiveOrg, by_id, for_plan, read_live, requests
from reconciler.manifest import json_schema, load
from reconciler.manifest.checks import Checking, by_field, duplicates
from reconciler.manifest.definitions import NAME, ObjectDef, Prop, nullable
from reconciler.manifest.model import Entry
from reconciler.plan import Change, Settle, Write
from reconciler.planner import build_plan
from reconciler.planner.context import Context
from reconciler.resources.base import Collection, Family, Phase, ResourceType
from reconciler.resources.canonical import Attr, Shape
from reconciler.resources.exporting import Exporting
from reconciler.resources.registry import REGISTRY, Registry

WIDGETS = "/v3/widgets"
SHAPE = Shape((Attr("name"), Attr("colour")))
WIDGET = ObjectDef(
    "widget",
    "A widget (a throwaway type for the registry test).",
    (Prop("name", "The widget's name.", NAME, required=True), Prop("colour", "Its colour.", nullable(NAME))),
    shorthand="name",
)


def _plan(ctx: Context) -> None:
    by_name = ctx.rows_by("widgets", "name")
    for entry in ctx.entries("widgets"):
        desired = SHAPE.from_manifest(entry.data, lambda *_: None)
        assert desired is not None
        ids = by_name.get(desired["name"], ())
        if not ids:
            body = SHAPE.to_api(desired)
            write = Write("POST", WIDGETS, body, Settle(WIDGETS, {}, {"name": desired["name"]}))
            ctx.add("widget", Change("create", "widget", str(desired["name"]), f"widget:{desired['name']}",
                                     writes=(write,)))
            continue
        live = SHAPE.from_api(ctx.live_rows("widgets")[ids[0]])
        diff = SHAPE.diff(desired, live, lambda _kind, handle: handle)
        if diff.body:
            write = Write("PATCH", f"{WIDGETS}/{ids[0]}", diff.body, Settle(WIDGETS, {}, {"id": ids[0], **diff.body}))
            ctx.add("widget", Change("update", "widget", str(desired["name"]), f"widget:{ids[0]}", ids[0],
                                     fields=diff.fields, writes=(write,)))
        else:
            ctx.same("widget")


def _check(entries: Sequence[Entry], _checking: Checking) -> list[Problem]:
    return duplicates(entries, by_field("name"), "widget name")


def _export(exporting: Exporting) -> list[Any]:
    rows = sorted(exporting.live.get("widgets").values(), key=lambda r: str(r["name"]))
    return [SHAPE.to_manifest(SHAPE.from_api(r), lambda _kind, value: value) for r in rows]


FAMILY = Family(
    section="widgets",
    help="Widgets.",
    definition=WIDGET,
    nested=(),
    types=(ResourceType("widget", "widgets", frozenset({"create", "update"})),),
    phases=(Phase("widget", after=("department",)),),
    collections=(Collection("widgets", WIDGETS),),
    identity="widget names",
    export_file="widgets.yaml",
    plan_reads=lambda _entries: frozenset({"widgets"}),
    export_reads=frozenset({"widgets"}),
    plan=_plan,
    check=_check,
    export=_export,
)


class Reader:
    """A reader over fixed pages, recording each list request."""

    def __init__(self, rows: Mapping[str, list[dict[str, Any]]]) -> None:
        self.rows = rows
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        self.requests.append((path, dict(params or {})))
        return list(self.rows.get(path, []))


def test_every_table_derives_from_the_families() -> None:
    views = REGISTRY.views
    assert views.sections == tuple(f.section for f in REGISTRY.families)
    assert views.types == tuple(t.name for f in REGISTRY.families for t in f.types)
    assert set(views.type_collection.values()) <= set(views.collections)
    assert views.undeletable_sections == {"departments", "offices", "users"}
    assert list(json_schema()["properties"]) == ["version", *views.sections, "policy"]


def test_registering_a_taken_name_raises() -> None:
    registry = Registry()
    registry.register(FAMILY)
    for clash, what in (
        (replace(FAMILY, types=(ResourceType("gadget", "gadgets"),), collections=(), phases=(),
                 export_file="g.yaml"), "section"),
        (replace(FAMILY, section="gadgets", collections=(), phases=(), export_file="g.yaml"), "resource type"),
        (replace(FAMILY, section="gadgets", types=(ResourceType("gadget", "gadgets"),), phases=(),
                 export_file="g.yaml"), "collection"),
        (replace(FAMILY, section="gadgets", types=(ResourceType("gadget", "gadgets"),), collections=(),
                 export_file="g.yaml"), "phase"),
        (replace(FAMILY, section="gadgets", types=(ResourceType("gadget", "gadgets"),), collections=(),
                 phases=()), "export file"),
    ):
        with pytest.raises(ValueError, match=f"^{what} .* is already registered"):
            registry.register(clash)


def test_a_phase_after_an_unknown_phase_or_a_cycle_is_refused_when_the_catalog_is_sealed() -> None:
    registry = Registry()
    registry.register(replace(FAMILY, phases=(Phase("widget", after=("nowhere",)),)))
    with pytest.raises(ValueError, match="runs after unknown phase nowhere"):
        registry.seal()
    registry = Registry()
    registry.register(replace(FAMILY, phases=(Phase("a", after=("b",)), Phase("b", after=("a",)))))
    with pytest.raises(ValueError, match="in a cycle"):
        registry.seal()


def test_an_unknown_capability_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown capabilities"):
        ResourceType("widget", "widgets", frozenset({"teleport"}))


def test_a_family_may_plan_only_what_its_types_declare(tmp_path: Path) -> None:
    update_only = replace(FAMILY, types=(ResourceType("widget", "widgets", frozenset({"update"})),))
    (tmp_path / "m.yaml").write_text("widgets: [Sprocket]\n", encoding="utf-8")
    with REGISTRY.registered(update_only):
        manifest = load([str(tmp_path)])
        with pytest.raises(AssertionError, match="does not declare create"):
            build_plan(manifest, LiveOrg(rows={"widgets": {}}))


def test_a_throwaway_type_registered_in_one_module_is_validated_read_planned_and_exported(tmp_path: Path) -> None:
    live_rows = {WIDGETS: [{"id": 1, "name": "Sprocket", "colour": "red"}, {"id": 2, "name": "Cog", "colour": None}]}
    (tmp_path / "widgets.yaml").write_text(
        "widgets:\n  - Sprocket\n  - {name: Cog, colour: blue}\n  - {name: Gear, colour: green}\n", encoding="utf-8")
    with REGISTRY.registered(FAMILY):
        assert "widgets" in json_schema()["properties"]
        assert "widget" in json_schema()["$defs"]
        manifest = load([str(tmp_path)])
        assert [e.data for e in manifest.entries["widgets"]] == [
            {"name": "Sprocket"}, {"name": "Cog", "colour": "blue"}, {"name": "Gear", "colour": "green"}]

        assert for_plan(manifest) == ["widgets"]
        reader = Reader(live_rows)
        live = read_live(reader, requests(for_plan(manifest)))
        assert reader.requests == [(WIDGETS, {})]

        plan = build_plan(manifest, live)
        assert [(c.action, c.type, c.name) for c in plan.changes] == [("update", "widget", "Cog"),
                                                                      ("create", "widget", "Gear")]
        assert plan.changes[0].writes[0].body == {"colour": "blue"}
        assert plan.changes[1].writes[0].body == {"name": "Gear", "colour": "green"}
        assert plan.unchanged == {"widget": 1}
        assert plan.live_counts == {"widget": 2}

        exported = export_documents(LiveOrg(rows={"widgets": by_id(live_rows[WIDGETS])}), ["widgets"])
        assert "- name: Cog\n  colour: null\n- name: Sprocket\n  colour: red\n" in exported.documents["widgets.yaml"]

        (tmp_path / "widgets.yaml").write_text("widgets: [Cog, Cog]\n", encoding="utf-8")
        with pytest.raises(ManifestError, match='duplicate widget name "Cog"'):
            load([str(tmp_path)])
    assert "widgets" not in json_schema()["properties"]


def test_the_catalog_order_decides_the_section_order_whatever_order_the_families_registered_in() -> None:
    registry = Registry()
    gadgets = replace(FAMILY, section="gadgets", types=(ResourceType("gadget", "gadgets"),),
                      collections=(Collection("gadgets", "/v3/gadgets"),), phases=(Phase("gadget"),),
                      export_file="gadgets.yaml")
    registry.register(gadgets)
    registry.register(replace(FAMILY, phases=(Phase("widget"),)))
    registry.seal(("widgets", "gadgets"))
    assert registry.views.sections == ("widgets", "gadgets")
    assert registry.views.types == ("widget", "gadget")
    with pytest.raises(ValueError, match="does not match the registered sections"):
        Registry().seal(("widgets",))


def test_the_real_catalog_is_in_dependency_order() -> None:
    from reconciler.resources.catalog import ORDER

    assert REGISTRY.views.sections == ORDER == ("departments", "offices", "custom_fields", "candidate_tags", "users")
