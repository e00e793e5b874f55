"""The manifest definition of a custom field and its options (the JSON Schema fragment)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.manifest.definitions import (
    BOOLEAN,
    KEY_PATTERN,
    NAME,
    REFERENCE,
    ObjectDef,
    Prop,
    harvest_id,
    list_of,
    nullable,
    one_of_words,
    previously,
    ref,
)
from reconciler.manifest.text import prose_list

#: Custom field `field_type` values (the v3 list filter's enum).
FIELD_TYPES: tuple[str, ...] = (
    "job", "opening", "standard", "offer", "compensation_frequency", "candidate", "referral_question",
    "application", "rejection_question", "form", "agency_question", "user_attribute",
)  # fmt: skip
#: Custom field `value_type` values.
VALUE_TYPES: tuple[str, ...] = (
    "short_text", "long_text", "yes_no", "single_select", "multi_select", "currency", "currency_range",
    "number", "number_range", "date", "url", "user", "attachment",
)  # fmt: skip
#: Value types whose fields have options.
SELECT_VALUE_TYPES: frozenset[str] = frozenset({"single_select", "multi_select"})
#: user_attribute fields accept only these keys (besides field_type, value_type and the identity keys).
USER_ATTRIBUTE_KEYS: tuple[str, ...] = ("name", "key", "description", "required")

_ALL_BUT_USER_ATTRIBUTE = frozenset(FIELD_TYPES) - {"user_attribute"}


def _scoped(name: str, description: str, schema: Mapping[str, Any], field_types: frozenset[str]) -> Prop:
    """A custom-field key that only some field_types accept; the description says which."""
    if field_types == _ALL_BUT_USER_ATTRIBUTE:
        note = "Not accepted on user_attribute fields."
    else:
        note = f"Only for {prose_list(sorted(field_types), 'and')} fields."
    return Prop(name, f"{description} {note}", schema, field_types=field_types)


CUSTOM_FIELD_OPTION = ObjectDef(
    "custom_field_option",
    "An option of a select field: its name as a string, or a mapping with external_id/previously (or id). "
    "Listed options are active, in display order; unlisted live options are archived.",
    (
        Prop("name", "The option's label, unique within its field (unless the options sharing it have ids).", NAME,
             required=True),
        harvest_id("option"),
        Prop("external_id", "The option's external id (e.g. a cost center code). null = none.", nullable(NAME),
             identity=True),
        previously("option"),
    ),
    shorthand="name",
)

CUSTOM_FIELD = ObjectDef(
    "custom_field",
    "A custom field. Identity: `key` when given, else `name` within its field_type (or a `previously` name).",
    (
        Prop("name", "The field's display name.", NAME, required=True),
        Prop(
            "key",
            "The API's name_key: fixed when the field is created. The identity when given (exports write it).",
            {"type": "string", "minLength": 1, "pattern": KEY_PATTERN},
            identity=True,
        ),
        Prop(
            "field_type",
            "What the field attaches to. Immutable: changing it replaces the field (destructive).",
            one_of_words(FIELD_TYPES),
            required=True,
        ),
        Prop(
            "value_type",
            "The kind of value. Immutable: changing it replaces the field (destructive).",
            one_of_words(VALUE_TYPES),
            required=True,
        ),
        Prop("description", "Help text shown with the field. null = none.", nullable({"type": "string"})),
        Prop("required", "Whether a value is required.", BOOLEAN),
        _scoped("private", "Values visible only to users allowed to see private fields.", BOOLEAN,
                _ALL_BUT_USER_ATTRIBUTE),
        _scoped("api_only", "Editable only through the API.", BOOLEAN, _ALL_BUT_USER_ATTRIBUTE),
        _scoped("expose_in_job_board_api", "Expose the value through the Job Board API.", BOOLEAN,
                frozenset({"job"})),
        _scoped("require_approval", "Changing the value re-triggers approval.", BOOLEAN,
                frozenset({"job", "opening"})),
        _scoped("trigger_new_version", "Changing the value creates a new offer version.", BOOLEAN,
                frozenset({"offer"})),
        _scoped(
            "departments",
            "Visibility scoping, by department name or external_id: present = exactly these; [] = everywhere.",
            list_of(REFERENCE),
            _ALL_BUT_USER_ATTRIBUTE,
        ),
        _scoped(
            "offices",
            "Visibility scoping, by office name or external_id: present = exactly these; [] = everywhere.",
            list_of(REFERENCE),
            _ALL_BUT_USER_ATTRIBUTE,
        ),
        Prop(
            "options",
            "single_select and multi_select fields only: the exact list of active options, in display order.",
            {"type": "array", "items": ref("custom_field_option")},
        ),
        previously("custom field"),
    ),
)  # fmt: skip


def accepts(key: str, field_type: str) -> bool:
    """Whether a custom field of `field_type` accepts the manifest key `key`."""
    prop = CUSTOM_FIELD.get(key)
    return prop is not None and (prop.field_types is None or field_type in prop.field_types)
