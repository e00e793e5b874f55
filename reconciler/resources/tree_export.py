"""Export of the two tree families: parents before children, siblings by name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.resources.exporting import Exporting
from reconciler.resources.trees import Tree


def tree_order(rows: Mapping[int, Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Parents before children; siblings by name (iterative: trees may be thousands of levels deep)."""
    children: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows.values():
        parent = row.get("parent_id")
        children[parent if parent in rows else None].append(row)
    ordered: list[Mapping[str, Any]] = []
    stack = list(reversed(sorted(children.get(None, []), key=_sibling_order)))
    while stack:
        row = stack.pop()
        ordered.append(row)
        stack.extend(reversed(sorted(children.get(row["id"], []), key=_sibling_order)))
    return ordered


def _sibling_order(row: Mapping[str, Any]) -> tuple[str, Any]:
    return (str(row.get("name")), row["id"])


def items(exporting: Exporting, tree: Tree, ref: Callable[[Any], Any]) -> list[dict[str, Any]]:
    """The tree's manifest items (name, external_id, parent written by `ref`), in tree order."""
    out = []
    for row in tree_order(exporting.live.get(tree.collection)):
        item: dict[str, Any] = {"name": row["name"]}
        if row.get("external_id"):
            item["external_id"] = row["external_id"]
        item["parent"] = ref(row.get("parent_id"))
        out.append(item)
    return out
