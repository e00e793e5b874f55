"""The canonical shapes of a custom field and of an option: what the plan, the export and the tests convert through.

A custom field's canonical fields are its manifest keys other than `options` and `previously`, in the
definition's order: `name`, `key` (the API's `name_key`), `field_type`, `value_type`, the pass-through
properties, and its scoping `departments` / `offices` (sets of references). Greenhouse keeps scoping as
join rows (custom_field_departments, custom_field_offices), not as columns of the field, so
`FIELD.from_api` reads a *composed* row (`composed`): the field row plus the referenced ids of its join rows
under `department_ids` / `office_ids`. The shape is derived from the definition (`definition.CUSTOM_FIELD`),
so a key added there is compared, sent and exported without further code.

An option's canonical fields are `name` and `external_id` (`OPTION`). Its place in the list (sort_order)
and its active flag are not canonical: ordering, archiving and reactivating options is the family's
explicit code (`plan.py`), as are replacing a field and planning join rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.resources.canonical import Attr, Shape
from reconciler.resources.custom_fields.definition import CUSTOM_FIELD


@dataclass(frozen=True)
class Scope:
    """One kind of visibility scoping: the manifest key, the index kind its references resolve in, the join
    collection (and its column naming the referenced object) that realises it, and its resource type."""

    key: str
    kind: str
    collection: str
    column: str
    type: str

    @property
    def path(self) -> str:
        return f"/v3/{self.collection}"


SCOPES: tuple[Scope, ...] = (
    Scope("departments", "department", "custom_field_departments", "department_id", "custom_field_department"),
    Scope("offices", "office", "custom_field_offices", "office_id", "custom_field_office"),
)

#: The custom field's manifest keys, in definition order (an ObjectDef is not a dict).
_KEYS: tuple[str, ...] = CUSTOM_FIELD.keys()

#: Manifest keys of a custom field that are not pass-through properties of the API object.
STRUCTURAL = frozenset({"name", "key", "field_type", "value_type", "departments", "offices", "options", "previously"})

#: Properties compared with the live field's key of the same name and sent as-is ("type-specific properties
#: pass through as the API names them"): every other key of the manifest's custom-field definition.
PROPERTIES: tuple[str, ...] = tuple(k for k in _KEYS if k not in STRUCTURAL)

#: What a POST of a new field sends (its options aside): the key is not sent, the API derives name_key itself.
CREATED: tuple[str, ...] = ("name", "field_type", "value_type", *PROPERTIES)

_SPECIAL: dict[str, Attr] = {
    "key": Attr("key", api="name_key"),
    **{s.key: Attr(s.key, api=f"{s.column}s", ref=s.kind, many=True) for s in SCOPES},
}

#: The canonical custom field: every manifest key but `options` (their own shape) and `previously` (identity).
FIELD = Shape(tuple(_SPECIAL.get(k, Attr(k)) for k in _KEYS if k not in ("options", "previously")))
#: The canonical option. Its sort_order and active flag are the plan's explicit code, not canonical fields.
OPTION = Shape((Attr("name"), Attr("external_id")))


def composed(row: Mapping[str, Any], scoping: Mapping[str, Iterable[int]]) -> dict[str, Any]:
    """The live field row as `FIELD.from_api` reads it: `scoping` maps each scope key to the ids its join rows
    reference (`{"departments": [10, 40]}`)."""
    out = dict(row)
    for scope in SCOPES:
        attr = FIELD.get(scope.key)
        assert attr is not None
        out[attr.api_key] = list(scoping.get(scope.key, ()))
    return out
