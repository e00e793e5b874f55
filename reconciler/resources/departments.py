"""Departments: a tree with names, external ids and parents. The API cannot delete departments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.manifest.model import Entry
from reconciler.resources import tree_export, tree_manifest, trees
from reconciler.resources.base import Collection, Family, ResourceType
from reconciler.resources.exporting import Exporting
from reconciler.resources.registry import REGISTRY, phases

SECTION = "departments"
#: Canonical fields: name, external_id, parent (the tree's own; no extra fields).
TREE = trees.Tree(SECTION, "department", "departments", "/v3/departments", "department")

DEPARTMENT = tree_manifest.definition(
    "department",
    "A department. Identity: `id` (its Harvest id) when given, else `external_id` when given, else `name` "
    "(or a `previously` name).",
    "The department's display name.",
)


def _plan_reads(_entries: Sequence[Entry]) -> frozenset[str]:
    return frozenset({"departments"})


def _export(exporting: Exporting) -> list[Any]:
    return tree_export.items(exporting, TREE, exporting.department)


FAMILY = REGISTRY.register(Family(
    section=SECTION,
    help="The department tree.",
    definition=DEPARTMENT,
    nested=(),
    types=(ResourceType("department", "departments", frozenset({"create", "update", "bulk"})),),
    phases=phases("department"),
    collections=(Collection("departments", "/v3/departments", shape=TREE.shape, definition=DEPARTMENT),),
    identity="department names or external_ids",
    export_file="departments.yaml",
    plan_reads=_plan_reads,
    export_reads=frozenset({"departments"}),
    index=lambda ctx: trees.index(ctx, TREE),
    index_reads=frozenset({"departments"}),
    plan=lambda ctx: trees.plan(ctx, TREE),
    check=lambda entries, checking: tree_manifest.check(entries, checking, TREE),
    export=_export,
    deletable=False,
))
