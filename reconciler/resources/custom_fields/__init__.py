"""Custom fields, their options, and their department/office visibility rows (one family, four types).

The knowledge is split by concern: `definition` (the manifest keys), `checks` (offline), `plan`, `export`.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.manifest.model import Entry
from reconciler.resources.base import Collection, Family, Phase, ResourceType, RowField
from reconciler.resources.custom_fields import checks, export, plan
from reconciler.resources.custom_fields.definition import CUSTOM_FIELD, CUSTOM_FIELD_OPTION, VALUE_TYPES
from reconciler.resources.custom_fields.shape import FIELD, OPTION, SCOPES
from reconciler.resources.registry import REGISTRY

SECTION = "custom_fields"
COLLECTIONS = ("custom_fields", "custom_field_options", *(s.collection for s in SCOPES))


def _reads(_entries: Sequence[Entry]) -> frozenset[str]:
    # Scoping refers to departments and offices by name or external id.
    return frozenset({*COLLECTIONS, "departments", "offices"})


FAMILY = REGISTRY.register(Family(
    section=SECTION,
    help="Custom fields with their options and department/office visibility.",
    definition=CUSTOM_FIELD,
    nested=(CUSTOM_FIELD_OPTION,),
    types=(
        ResourceType("custom_field", "custom_fields", frozenset({"create", "update", "delete"})),
        ResourceType("custom_field_option", "custom_field_options", frozenset({"create", "update", "delete", "bulk"})),
        *(ResourceType(s.type, s.collection, frozenset({"create", "delete"})) for s in SCOPES),
    ),
    phases=(
        # People before configuration: users and the office contacts they complete come first (the apply
        # order is part of what a plan's reviewer reads, and this is the order plans have always had).
        Phase("custom_field", after=("office_contact",)),
        Phase("custom_field_option", after=("custom_field",)),
        # New options after every rename: a rename may free the name a new option takes, and the creates of
        # all fields then form one run of bulk rows instead of alternating with the renames field by field.
        Phase("custom_field_option_create", after=("custom_field_option",)),
        Phase("custom_field_scope_create", after=("custom_field", "department", "office")),
        Phase("custom_field_option_archive", after=("custom_field_option",)),
        # Extra scoping rows go only after the new ones exist: never visible everywhere in between.
        Phase("custom_field_scope_delete", after=("custom_field_scope_create",)),
        # A replaced field's old copy (and its stored values) goes only when everything else succeeded.
        Phase("custom_field_delete", after=("custom_field",), final=True),
    ),
    collections=(
        Collection("custom_fields", plan.PATH, shape=FIELD, definition=CUSTOM_FIELD,
                   # field_type's enum comes from the definition, tolerated when unknown (a manifest can only
                   # name known field_types, so such a field is never matched); an unknown value_type on a
                   # matched field would plan a destructive replace, so it is an error.
                   fields=(RowField("active", "boolean"),
                           RowField("value_type", "string", values=frozenset(VALUE_TYPES), acted_on=True))),
        Collection("custom_field_options", plan.OPTIONS, shape=OPTION, definition=CUSTOM_FIELD_OPTION,
                   fields=(RowField("custom_field_id", "integer", nullable=False, required=True),
                           RowField("sort_order", "integer"), RowField("active", "boolean"))),
        *(Collection(s.collection, s.path, label=(),
                     fields=(RowField("custom_field_id", "integer", nullable=False, required=True),
                             RowField(s.column, "integer", nullable=False, required=True)))
          for s in SCOPES),
    ),
    identity="custom field keys or names",
    export_file="custom-fields.yaml",
    plan_reads=_reads,
    export_reads=frozenset({*COLLECTIONS, "departments", "offices"}),
    plan=plan.plan_custom_fields,
    check=checks.check,
    export=export.items,
))

__all__ = ["FAMILY", "SECTION"]
