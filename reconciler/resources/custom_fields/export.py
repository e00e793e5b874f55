"""Export of custom fields: active fields with their key, properties, scoping and active options."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from reconciler.resources.custom_fields.definition import SELECT_VALUE_TYPES, accepts
from reconciler.resources.custom_fields.plan import PROPERTIES
from reconciler.resources.exporting import Exporting


def items(exporting: Exporting) -> list[dict[str, Any]]:
    live = exporting.live
    options: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for o in live.get("custom_field_options").values():
        if o.get("active", True):
            options[int(o["custom_field_id"])].append(o)
    scoped: dict[str, dict[int, list[Any]]] = {"departments": defaultdict(list), "offices": defaultdict(list)}
    for r in live.get("custom_field_departments").values():
        scoped["departments"][int(r["custom_field_id"])].append(exporting.department(r["department_id"]))
    for r in live.get("custom_field_offices").values():
        scoped["offices"][int(r["custom_field_id"])].append(exporting.office(r["office_id"]))
    out = []
    for row in sorted(live.get("custom_fields").values(), key=lambda r: (str(r.get("field_type")), str(r.get("name")))):
        if row.get("active") is False:
            continue
        ftype = str(row.get("field_type"))
        item: dict[str, Any] = {"name": row["name"], "key": row["name_key"], "field_type": ftype,
                                "value_type": row["value_type"]}
        for prop in PROPERTIES:
            if accepts(prop, ftype) and prop in row and row[prop] is not None:
                item[prop] = row[prop]
        for key in ("departments", "offices"):
            if accepts(key, ftype):
                item[key] = sorted(map(str, scoped[key].get(int(row["id"]), [])))
        if row.get("value_type") in SELECT_VALUE_TYPES:
            ordered = sorted(options.get(int(row["id"]), []), key=lambda o: (o.get("sort_order") or 0, o["id"]))
            item["options"] = [
                {"name": o["name"], "external_id": o["external_id"]} if o.get("external_id") else o["name"]
                for o in ordered
            ]
        out.append(item)
    return out
