"""What each emulated collection looks like on the wire: its fields and its list filters.

Field sets follow the reference's section 2 (`[spec]`); filters follow the per-resource "List
filters" rows. The common list parameters (`cursor`, `per_page`, `ids`, `created_at`, `updated_at`,
`fields`) apply to every collection and are handled in `listing`.
"""

from __future__ import annotations

from dataclasses import dataclass

_TS = ("created_at", "updated_at")

FIELDS: dict[str, tuple[str, ...]] = {
    "departments": ("id", "name", "parent_id", "external_id", *_TS),
    "offices": ("id", "name", "location", "parent_id", "external_id", "primary_in_house_contact_user_id", *_TS),
    "custom_fields": (
        "id", "name", "name_key", "field_type", "value_type", "active", "private", "required",
        "require_approval", "trigger_new_version", "expose_in_job_board_api", "api_only", "description",
        "sort_order", "template_token_string", "internal_type", "application_type", "default_value",
        "placeholder", "use_for_job_approvals", "use_for_offer_approvals", "updated_by_id", *_TS,
    ),
    "custom_field_options": ("id", "custom_field_id", "name", "sort_order", "external_id", "active", *_TS),
    "custom_field_departments": ("id", "custom_field_id", "department_id", *_TS),
    "custom_field_offices": ("id", "custom_field_id", "office_id", *_TS),
    "candidate_tags": ("id", "name", *_TS),
    "user_roles": ("id", "name", "role_type", *_TS),
    "users": (
        "id", "first_name", "last_name", "name", "primary_email", "emails", "employee_id", "deactivated",
        "site_admin", "job_title", "agency_id", "office_ids", "department_ids", "linked_candidate_ids",
        "interviewer_tags", "custom_fields", *_TS,
    ),
    "user_emails": ("id", "user_id", "email", "verified", "verification_token_sent_at", *_TS),
    "user_job_permissions": ("id", "user_id", "job_id", "role_id", "automated", *_TS),
    "future_job_permissions": ("id", "user_id", "role_id", "department_id", "office_id", *_TS),
    "jobs": (
        "id", "name", "requisition_id", "status", "department_id", "office_ids", "confidential", "is_template",
        "copied_from_id", "notes", "opened_at", "closed_at", "custom_fields", *_TS,
    ),
    "bulk_requests": (
        "id", "bulk_action_uuid", "api_endpoint", "status", "record_count", "success_count", "failure_count",
        "callback_url", "callback_response", "requested_at", "requested_by_user_id", "completed_at",
        "expires_at", *_TS,
    ),
}

COLLECTIONS: tuple[str, ...] = tuple(FIELDS)
"""Every collection the sandbox stores and lists (the seed may hold any of them)."""

@dataclass(frozen=True)
class Filter:
    """One list filter.

    kind: `int` (one integer), `str` (exact string), `bool`, `enum` (one of `choices`), `ids`
    (comma-separated integers, max 50), `strs` (comma-separated strings, max 50), `date`
    (operator form on a date-time field), `ext` (an external id resolved through `ref`, then
    compared like `int`), `nested_ids` (like `ids`, matched against the `id` of the objects in a
    list-valued field), `option` (a custom-field option id, matched against the row's
    `custom_fields` value of that option's field), `special` (implemented by the listing code itself).
    A row matches when its `field` equals the value, or, for a list-valued field, contains it.
    """

    kind: str
    field: str
    choices: tuple[str, ...] = ()
    ref: str = ""


FIELD_TYPES = (
    "job", "opening", "standard", "offer", "compensation_frequency", "candidate", "referral_question",
    "application", "rejection_question", "form", "agency_question", "user_attribute",
)
VALUE_TYPES = (
    "short_text", "long_text", "yes_no", "single_select", "multi_select", "currency", "currency_range",
    "number", "number_range", "date", "url", "user", "attachment",
)
JOB_STATUSES = ("open", "draft", "closed")

FILTERS: dict[str, dict[str, Filter]] = {
    "departments": {"parent_id": Filter("int", "parent_id"), "external_id": Filter("str", "external_id")},
    "offices": {"parent_id": Filter("int", "parent_id"), "external_id": Filter("str", "external_id")},
    "custom_fields": {
        "field_type": Filter("enum", "field_type", FIELD_TYPES),
        "active": Filter("bool", "active"),
        "name": Filter("str", "name"),
        "name_key": Filter("str", "name_key"),
    },
    "custom_field_options": {
        "custom_field_ids": Filter("ids", "custom_field_id"),
        "custom_field_key": Filter("special", "custom_field_id"),
        "active": Filter("bool", "active"),
    },
    "custom_field_departments": {
        "custom_field_ids": Filter("ids", "custom_field_id"),
        "department_ids": Filter("ids", "department_id"),
    },
    "custom_field_offices": {
        "custom_field_ids": Filter("ids", "custom_field_id"),
        "office_ids": Filter("ids", "office_id"),
    },
    "candidate_tags": {},
    "user_roles": {},
    "users": {
        "agency_ids": Filter("ids", "agency_id"),
        "office_ids": Filter("ids", "office_ids"),
        "department_ids": Filter("ids", "department_ids"),
        "linked_candidate_ids": Filter("ids", "linked_candidate_ids"),
        "interviewer_tag_ids": Filter("nested_ids", "interviewer_tags"),
        "custom_field_option_id": Filter("option", "custom_fields"),
        "employee_ids": Filter("strs", "employee_id"),
        "deactivated": Filter("bool", "deactivated"),
        "primary_email": Filter("special", "primary_email"),
        "external_office_id": Filter("ext", "office_ids", ref="offices"),
        "external_department_id": Filter("ext", "department_ids", ref="departments"),
        "show_service_accounts": Filter("special", "primary_email"),
    },
    "user_emails": {
        "user_ids": Filter("ids", "user_id"),
        "email": Filter("special", "email"),
        "verified": Filter("bool", "verified"),
        "verification_token_sent_at": Filter("date", "verification_token_sent_at"),
    },
    "user_job_permissions": {
        "job_ids": Filter("ids", "job_id"),
        "user_ids": Filter("ids", "user_id"),
        "role_ids": Filter("ids", "role_id"),
    },
    "future_job_permissions": {
        "user_ids": Filter("ids", "user_id"),
        "role_ids": Filter("ids", "role_id"),
        "department_ids": Filter("ids", "department_id"),
        "office_ids": Filter("ids", "office_id"),
        "external_department_id": Filter("ext", "department_id", ref="departments"),
        "external_office_id": Filter("ext", "office_id", ref="offices"),
    },
    "jobs": {
        "requisition_id": Filter("str", "requisition_id"),
        "department_id": Filter("int", "department_id"),
        "office_id": Filter("int", "office_ids"),
        "status": Filter("enum", "status", JOB_STATUSES),
        "confidential": Filter("bool", "confidential"),
        "custom_field_option_id": Filter("option", "custom_fields"),
        "opened_at": Filter("date", "opened_at"),
        "closed_at": Filter("date", "closed_at"),
    },
    "bulk_requests": {
        "bulk_action_uuid": Filter("str", "bulk_action_uuid"),
        "active": Filter("special", "status"),
    },
}

for _name in FILTERS:
    FILTERS[_name]["created_at"] = Filter("date", "created_at")
    FILTERS[_name]["updated_at"] = Filter("date", "updated_at")
