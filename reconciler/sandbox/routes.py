"""The `/v3` write routes: which handler answers which method and path.

A path that matches nothing (including DELETE on departments, offices and users, which do not
exist in the API `[seed]`) is a 404 with the usual error body.
"""

from __future__ import annotations

import re

from reconciler.sandbox import ops_fields as f
from reconciler.sandbox import ops_jobs as j
from reconciler.sandbox import ops_org as o
from reconciler.sandbox import ops_users as u
from reconciler.sandbox.context import Handler

_ROUTES: list[tuple[str, str, Handler]] = [
    ("POST", "/v3/departments", o.create_department),
    ("PATCH", "/v3/departments/{id}", o.update_department),
    ("POST", "/v3/offices", o.create_office),
    ("PATCH", "/v3/offices/{id}", o.update_office),
    ("POST", "/v3/custom_fields", f.create_custom_field),
    ("PATCH", "/v3/custom_fields/{id}", f.update_custom_field),
    ("DELETE", "/v3/custom_fields/{id}", f.delete_custom_field),
    ("POST", "/v3/custom_field_options", f.create_option),
    ("PATCH", "/v3/custom_field_options/{id}", f.update_option),
    ("DELETE", "/v3/custom_field_options/{id}", f.archive_option),
    ("POST", "/v3/custom_field_departments", f.create_field_department),
    ("DELETE", "/v3/custom_field_departments/{id}", f.delete_field_department),
    ("POST", "/v3/custom_field_offices", f.create_field_office),
    ("DELETE", "/v3/custom_field_offices/{id}", f.delete_field_office),
    ("POST", "/v3/candidate_tags", o.create_candidate_tag),
    ("DELETE", "/v3/candidate_tags/{id}", o.delete_candidate_tag),
    ("POST", "/v3/users", u.create_user),
    ("PATCH", "/v3/users/{id}", u.update_user),
    ("POST", "/v3/users/{id}/activate", u.activate_user),
    ("POST", "/v3/users/{id}/deactivate", u.deactivate_user),
    ("POST", "/v3/users/{id}/revoke_permissions", u.revoke_permissions),
    ("POST", "/v3/user_emails", u.create_user_email),
    ("POST", "/v3/user_job_permissions", u.create_job_permission),
    ("DELETE", "/v3/user_job_permissions/{id}", u.delete_job_permission),
    ("POST", "/v3/future_job_permissions", u.create_future_permission),
    ("DELETE", "/v3/future_job_permissions/{id}", u.delete_future_permission),
    ("POST", "/v3/jobs", j.create_job),
]

_COMPILED: list[tuple[str, re.Pattern[str], Handler]] = [
    (method, re.compile("^" + path.replace("{id}", r"(\d{1,18})") + "$"), handler)
    for method, path, handler in _ROUTES
]


def match_write(method: str, path: str) -> tuple[Handler, int | None] | None:
    """The handler and the path id (None for collection routes), or None when no route exists."""
    for route_method, pattern, handler in _COMPILED:
        if route_method != method:
            continue
        found = pattern.match(path)
        if found:
            return handler, int(found.group(1)) if found.groups() else None
    return None
