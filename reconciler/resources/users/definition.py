"""The manifest definition of a user and its job and future-job permissions (JSON Schema fragments), and
their canonical shapes (`reconciler.resources.canonical`): what the plan compares and the export writes."""

from __future__ import annotations

from reconciler.manifest.definitions import (
    BOOLEAN,
    EMAIL,
    NAME,
    REFERENCE,
    ObjectDef,
    Prop,
    list_of,
    nullable,
    ref,
)
from reconciler.resources.canonical import Attr, Shape

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
        Prop("email", "The user's primary email: the identity (case-insensitive).", EMAIL, required=True,
             identity=True),
        Prop("employee_id", "The HRIS employee id. null = none.", nullable(NAME), identity=True),
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


# -- the canonical shapes (desired and live compare in these) ------------------------------------------

#: A user. `email` is the identity (compared case-insensitively by the planner, not by `Shape.diff`);
#: `active` and `site_admin` change through actions (activate/deactivate, revoke_permissions), not PATCH.
USER_SHAPE = Shape((
    Attr("email", api="primary_email"),
    Attr("first_name"),
    Attr("last_name"),
    Attr("employee_id"),
    Attr("job_title"),
    Attr("active", api="deactivated", negate=True),
    Attr("site_admin"),
    Attr("offices", api="office_ids", ref="office", many=True),
    Attr("departments", api="department_ids", ref="department", many=True),
))

#: A per-job grant of the user it is listed under (the user is the structure, not a field).
JOB_PERMISSION_SHAPE = Shape((
    Attr("job", api="job_id", ref="job"),
    Attr("role", api="role_id", ref="role"),
))

#: A grant on future jobs: the scope is the whole value; an absent department/office means any.
FUTURE_JOB_PERMISSION_SHAPE = Shape((
    Attr("role", api="role_id", ref="role"),
    Attr("department", api="department_id", ref="department", optional=True),
    Attr("office", api="office_id", ref="office", optional=True),
))
