"""The manifest format, one declarative definition per section: the single source of the JSON Schema.

Everything a manifest may contain is written down here once. `schema.json_schema()` turns these
definitions into `schemas/manifest.schema.json`; unknown-key suggestions and the custom-field
type-specific checks read the same definitions. Keys are optional unless `required`; an omitted key
is unmanaged (never compared, never written).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.manifest.definitions import (
    BOOLEAN,
    EMAIL_PATTERN,
    KEY_PATTERN,
    NAME,
    ObjectDef,
    Prop,
    list_of,
    nullable,
    one_of_words,
    ref,
)
from reconciler.manifest.model import PRUNE_MODES, SECTIONS, UNDELETABLE_SECTIONS
from reconciler.manifest.text import prose_list

#: The manifest format version this program reads.
FORMAT_VERSION = 1

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

REFERENCE = NAME
PREVIOUSLY: Mapping[str, Any] = {
    "type": ["string", "array"],
    "minLength": 1,
    "pattern": NAME["pattern"],
    "items": dict(NAME),
    "uniqueItems": True,
}
EMAIL: Mapping[str, Any] = {"type": "string", "minLength": 3, "pattern": EMAIL_PATTERN}


def _previously(what: str) -> Prop:
    return Prop(
        "previously",
        f"Earlier names of this {what} (a string or a list): a live {what} with one of these names is "
        "renamed to `name` instead of a new one being created.",
        PREVIOUSLY,
    )


def _scoped(name: str, description: str, schema: Mapping[str, Any], field_types: frozenset[str]) -> Prop:
    """A custom-field key that only some field_types accept; the description says which."""
    if field_types == _ALL_BUT_USER_ATTRIBUTE:
        note = "Not accepted on user_attribute fields."
    else:
        note = f"Only for {prose_list(sorted(field_types), 'and')} fields."
    return Prop(name, f"{description} {note}", schema, field_types=field_types)


def _tree_identity(noun: str) -> tuple[Prop, Prop]:
    """The `external_id` and `parent` keys that departments and offices share."""
    return (
        Prop(
            "external_id",
            "The HRIS id. When given it is the identity, so renames are safe. null = none.",
            nullable(NAME),
        ),
        Prop(
            "parent",
            f"The parent {noun}, by name or external_id. null = top level; omitted = unmanaged.",
            nullable(REFERENCE),
        ),
    )


DEPARTMENT = ObjectDef(
    "department",
    "A department. Identity: `external_id` when given, else `name` (or a `previously` name).",
    (
        Prop("name", "The department's display name.", NAME, required=True),
        *_tree_identity("department"),
        _previously("department"),
    ),
)

OFFICE = ObjectDef(
    "office",
    "An office. Identity: `external_id` when given, else `name` (or a `previously` name).",
    (
        Prop("name", "The office's display name (unique among active offices).", NAME, required=True),
        *_tree_identity("office"),
        Prop("location", "Free-form location text, e.g. \"Berlin, Germany\". null = none.", nullable(NAME)),
        Prop(
            "primary_contact",
            "The primary in-house contact, by user email. null = none.",
            nullable(EMAIL),
        ),
        _previously("office"),
    ),
)

CUSTOM_FIELD_OPTION = ObjectDef(
    "custom_field_option",
    "An option of a select field: its name as a string, or a mapping with external_id/previously. "
    "Listed options are active, in display order; unlisted live options are archived.",
    (
        Prop("name", "The option's label, unique within its field.", NAME, required=True),
        Prop("external_id", "The option's external id (e.g. a cost center code). null = none.", nullable(NAME)),
        _previously("option"),
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
        _previously("custom field"),
    ),
)  # fmt: skip

CANDIDATE_TAG = ObjectDef(
    "candidate_tag",
    "A candidate tag: its name as a string, or a mapping with previously. Names are case-sensitive.",
    (
        Prop("name", "The tag's name.", NAME, required=True),
        Prop(
            "previously",
            "Earlier names (a string or a list). Tags cannot be renamed through the API: the old tag is "
            "deleted and the new one created, which removes it from every candidate (destructive).",
            PREVIOUSLY,
        ),
    ),
    shorthand="name",
)

JOB_PERMISSION = ObjectDef(
    "job_permission",
    "A per-job grant: the user holds `role` on `job`.",
    (
        Prop(
            "job",
            "The job: its id, requisition_id, or name. A reference matching several jobs is an error.",
            {"type": ["string", "integer"], "minLength": 1, "pattern": NAME["pattern"]},
            required=True,
        ),
        Prop("role", "A job_admin user role, by name (e.g. Standard).", NAME, required=True),
    ),
)

FUTURE_JOB_PERMISSION = ObjectDef(
    "future_job_permission",
    "A grant on jobs created later, optionally limited to a department and/or an office.",
    (
        Prop("role", "A job_admin user role, by name (e.g. Standard).", NAME, required=True),
        Prop("department", "Only future jobs of this department (name or external_id).", REFERENCE),
        Prop("office", "Only future jobs of this office (name or external_id).", REFERENCE),
    ),
)

USER = ObjectDef(
    "user",
    "A user. Identity: `email` (case-insensitive).",
    (
        Prop("email", "The user's primary email: the identity (case-insensitive).", EMAIL, required=True),
        Prop("employee_id", "The HRIS employee id. null = none.", nullable(NAME)),
        Prop("first_name", "Needed when the user does not exist yet (it is created).", NAME),
        Prop("last_name", "Needed when the user does not exist yet (it is created).", NAME),
        Prop("job_title", "Free-form job title. null = none.", nullable({"type": "string"})),
        Prop("active", "false = deactivate (reversible); true = activate.", BOOLEAN),
        Prop(
            "site_admin",
            "false on a live site admin revokes it (destructive: clears job permissions); "
            "true cannot be granted through the API.",
            BOOLEAN,
        ),
        Prop("offices", "The user's offices (names or external_ids): present = exactly these.", list_of(REFERENCE)),
        Prop(
            "departments",
            "The user's departments (names or external_ids): present = exactly these.",
            list_of(REFERENCE),
        ),
        Prop(
            "job_permissions",
            "present = the user's exact set of per-job grants.",
            {"type": "array", "items": ref("job_permission")},
        ),
        Prop(
            "future_job_permissions",
            "present = the user's exact set of grants on future jobs.",
            {"type": "array", "items": ref("future_job_permission")},
        ),
    ),
)

#: The definition of each section's items.
SECTION_DEFS: Mapping[str, ObjectDef] = {
    "departments": DEPARTMENT,
    "offices": OFFICE,
    "custom_fields": CUSTOM_FIELD,
    "candidate_tags": CANDIDATE_TAG,
    "users": USER,
}
assert tuple(SECTION_DEFS) == SECTIONS

_IDENTITIES = {
    "departments": "department names or external_ids",
    "offices": "office names or external_ids",
    "custom_fields": "custom field keys or names",
    "candidate_tags": "tag names",
    "users": "user emails",
}


def _prune_note(section: str) -> str:
    if section in UNDELETABLE_SECTIONS:
        return f"The API cannot delete {section.replace('_', ' ')}: enforce is not allowed."
    return "enforce deletes them."


PRUNE = ObjectDef(
    "prune",
    "Per section, what to do with live objects no manifest mentions: off (ignore), report (list them as "
    "unmanaged; the default) or enforce (delete them, where the API can).",
    tuple(
        Prop(s, f"Live {s.replace('_', ' ')} no manifest mentions: off | report (default) | enforce. {_prune_note(s)}",
             one_of_words(PRUNE_MODES))
        for s in SECTIONS
    ),
)  # fmt: skip

PROTECT = ObjectDef(
    "protect",
    "Per section, objects that are never deleted, archived, deactivated or revoked, whatever the plan says.",
    tuple(Prop(s, f"Protected {_IDENTITIES[s]}.", list_of(NAME)) for s in SECTIONS),
)

LIMITS = ObjectDef(
    "limits",
    "Safety limits: apply refuses a plan over them unless --force.",
    (
        Prop(
            "max_deletes",
            "Most deletes, archives, deactivations and revokes one apply may do (default 10).",
            {"type": "integer", "minimum": 0},
        ),
        Prop(
            "max_change_percent",
            "Most changes, as a percentage of the live objects of a type with at least 10 objects (default 30).",
            {"type": "number", "minimum": 0, "maximum": 100},
        ),
    ),
)

POLICY = ObjectDef(
    "policy",
    "How the plan treats unmanaged and protected objects, and the apply safety limits. May be split across "
    "files; setting the same value in two files is an error.",
    (
        Prop("prune", PRUNE.description, ref("prune")),
        Prop("protect", PROTECT.description, ref("protect")),
        Prop("limits", LIMITS.description, ref("limits")),
    ),
)

_SECTION_HELP = {
    "departments": "The department tree.",
    "offices": "The office tree.",
    "custom_fields": "Custom fields with their options and department/office visibility.",
    "candidate_tags": "The candidate-tag dictionary.",
    "users": "Users, their offices/departments and job permissions.",
}

MANIFEST = ObjectDef(
    "manifest",
    "A greenhouse-reconciler manifest file. Every key is optional; all files under the given paths are "
    "merged, and a section may be split across files.",
    (
        Prop("version", f"The manifest format version: {FORMAT_VERSION}.", {"const": FORMAT_VERSION}),
        *(
            Prop(s, f"{_SECTION_HELP[s]} A list; items from several files are concatenated.",
                 {"type": "array", "items": ref(d.name)})
            for s, d in SECTION_DEFS.items()
        ),
        Prop("policy", POLICY.description, ref("policy")),
    ),
)  # fmt: skip

#: Every definition that becomes a `$defs` entry, in schema order.
DEFINITIONS: tuple[ObjectDef, ...] = (
    DEPARTMENT, OFFICE, CUSTOM_FIELD, CUSTOM_FIELD_OPTION, CANDIDATE_TAG, USER, JOB_PERMISSION,
    FUTURE_JOB_PERMISSION, POLICY, PRUNE, PROTECT, LIMITS,
)  # fmt: skip
