"""Export of custom fields: active fields with their key, properties, scoping and active options.

Each field is written as `FIELD.to_manifest(FIELD.from_api(row))` (the row composed with its join rows), so
planning the export reads back the canonical value the export was made from: the inverse by construction.
What the section adds is structure: which keys are written (the properties the field_type accepts and that
have a value; scoping where the field_type accepts it; options on select fields), the order of fields and
options, and the option shorthand (a bare name when the option has no external_id).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from reconciler.manifest.checks import composed as nfc
from reconciler.manifest.names import name_problem
from reconciler.resources.custom_fields.definition import SELECT_VALUE_TYPES, accepts
from reconciler.resources.custom_fields.shape import FIELD, OPTION, PROPERTIES, SCOPES, composed
from reconciler.resources.exporting import Exporting, writable


def items(exporting: Exporting) -> list[dict[str, Any]]:
    live = exporting.live
    options: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for o in live.get("custom_field_options").values():
        if o.get("active", True):
            options[int(o["custom_field_id"])].append(o)
    scoped: dict[str, dict[int, list[int]]] = {s.key: defaultdict(list) for s in SCOPES}
    # Every join row's reference is written out once, in row order, before any field: the notes about
    # ambiguous names come in the order (and number) they always have.
    references = {"department": exporting.department, "office": exporting.office}
    written: dict[tuple[str, int], Any] = {}
    for scope in SCOPES:
        for r in live.get(scope.collection).values():
            scoped[scope.key][int(r["custom_field_id"])].append(int(r[scope.column]))
            written.setdefault((scope.kind, int(r[scope.column])), references[scope.kind](r[scope.column]))

    def name_of(kind: str, handle: Any) -> Any:
        return written[(kind, handle)]

    out = []
    active = {i: r for i, r in live.get("custom_fields").items() if r.get("active") is not False}
    named = exporting.named_rows("custom field", active, lambda r: r.get("field_type"))  # names unique per field_type
    for row in sorted(named, key=lambda r: (str(r.get("field_type")), str(r.get("name")))):
        if not exporting.writable_name("custom field", row, "name_key"):
            continue
        field_id = int(row["id"])
        canonical = FIELD.from_api(composed(row, {s.key: scoped[s.key].get(field_id, []) for s in SCOPES}))
        field_type = str(canonical["field_type"])
        item = FIELD.to_manifest({k: v for k, v in canonical.items() if _written(k, v, field_type)}, name_of)
        for scope in SCOPES:
            if scope.key in item:  # a Harvest id reference stays an integer (to_manifest writes strings)
                item[scope.key] = sorted((name_of(scope.kind, h) for h in canonical[scope.key]), key=_reference_order)
        if canonical["value_type"] in SELECT_VALUE_TYPES:
            ordered = sorted(options.get(field_id, []), key=lambda o: (o.get("sort_order") or 0, o["id"]))
            bad = next((o for o in ordered if not writable(o.get("name"))), None)
            if bad is None:
                shared = _shared_option_names(exporting, row, ordered)
                exts = Counter(o.get("external_id") for o in ordered if o.get("external_id"))
                item["options"] = [_option(exporting, OPTION.to_manifest(OPTION.from_api(o), name_of), o, shared, exts)
                                   for o in ordered]
            else:  # leaving one option out would archive it: the list stays unmanaged instead
                why = name_problem(str(bad.get("name"))) or "is blank"
                exporting.note(f'the options of custom field "{row.get("name")}" (id {field_id}) are left out '
                               f"(unmanaged): option {json.dumps(bad.get('name'), ensure_ascii=True)} (id {bad['id']}) "
                               f"{why} in Greenhouse, and leaving one option out of the list would archive it",
                               ("options", field_id))
        out.append(item)
    return out


def _written(key: str, value: Any, field_type: str) -> bool:
    """Whether the export writes canonical `key`: identity and types always; a property the field_type accepts
    when it has a value (an absent or null one stays unmanaged); scoping wherever the field_type accepts it."""
    if key in PROPERTIES:
        return value is not None and accepts(key, field_type)
    return accepts(key, field_type)


def _reference_order(written: Any) -> tuple[bool, Any]:
    """Names (sorted) before Harvest ids (ascending)."""
    return (isinstance(written, int), written if isinstance(written, int) else str(written))


def _shared_option_names(exporting: Exporting, field: Mapping[str, Any], ordered: list[Mapping[str, Any]]) -> set[str]:
    """Names that several of the field's active options have: those options are written with their `id`."""
    counts = Counter(nfc(str(o.get("name"))) for o in ordered)  # names that display alike are one
    shared = {n for n, c in counts.items() if c > 1}
    for name in sorted(shared):
        ids = ", ".join(str(o["id"]) for o in ordered if nfc(str(o.get("name"))) == name)
        exporting.note(f'options {ids} of custom field "{field.get("name")}" are all named "{name}": they are '
                       "exported with `id:` (their Harvest ids), which ties the manifest to this organisation",
                       ("option", field["id"], name))
    return shared


def _option(exporting: Exporting, written: Mapping[str, Any], row: Mapping[str, Any], shared: set[str],
            exts: Counter[Any]) -> Any:
    """An option: its bare name when that says all, else a mapping (with `id` when its name is shared).

    An external_id the manifest rules refuse, or that another option of the field has, is left out (unmanaged)."""
    ext = written.get("external_id")
    if ext and exts[ext] > 1:
        exporting.note(f'options of custom field id {row.get("custom_field_id")} share the external_id '
                       f"{json.dumps(ext, ensure_ascii=True)}: it is left out (unmanaged)", ("option ext", row.get("custom_field_id"), ext))
        written = {"name": written["name"]}
    elif ext and not exporting.value("option", row, "external_id", ext):
        written = {"name": written["name"]}
    if nfc(str(written["name"])) in shared:
        out = {"name": written["name"], "id": int(row["id"])}
        return {**out, **({"external_id": written["external_id"]} if written.get("external_id") else {})}
    return dict(written) if written.get("external_id") else written["name"]
