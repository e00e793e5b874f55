"""Export of the tree families: parents before children, siblings by name.

An item is `to_manifest(from_api(row))` of the tree's shape, with two keys left out so that planning the
export is a no-op without managing more than the live object says: `external_id` when the object has none
or shares it with another object (absent = unmanaged), and a foreign reference whose target cannot be
written (a contact whose user is not readable or not unique): leaving it out keeps it as it is, where
writing null would clear it. An object that neither its external_id nor its name identifies gets `id:`,
right after its name (`Exporting.tree_identity` decides, and notes it).
"""

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


def item(exporting: Exporting, tree: Tree, ref: Callable[[Any], Any], row: Mapping[str, Any]) -> dict[str, Any]:
    """One live object's manifest item; `ref` writes a reference to an object of the same tree."""
    canonical = tree.shape.from_api(row)

    def name_of(kind: str, live_id: Any) -> Any:
        foreign = tree.foreign_by_kind.get(kind)
        return ref(live_id) if foreign is None else foreign.export(exporting, live_id)

    written = tree.shape.to_manifest(canonical, name_of)
    keep_external_id, needs_id = exporting.tree_identity(tree.collection, row)
    out = {"name": written.pop("name"), **({"id": int(row["id"])} if needs_id else {}), **written}
    if not keep_external_id:
        del out["external_id"]
    for attr in tree.extra:
        unwritten = attr.ref in tree.foreign_by_kind and canonical[attr.name] is not None and out[attr.name] is None
        if unwritten or (attr.ref is None and not exporting.value(tree.noun, row, attr.name, out[attr.name])):
            del out[attr.name]
    return out


def items(exporting: Exporting, tree: Tree, ref: Callable[[Any], Any]) -> list[dict[str, Any]]:
    """The tree's manifest items, in tree order (see `item`); objects whose name cannot be written are left out."""
    return [item(exporting, tree, ref, row) for row in tree_order(exporting.live.get(tree.collection))
            if exporting.writable_name(tree.noun, row)]
