"""plan(desired, live) -> Plan. Pure: no I/O; the same inputs give byte-identical plan JSON.

The desired state is the validated `Manifest`; the live state is the `LiveOrg` read through the list
endpoints. Problems that need the live organisation (unknown or ambiguous references, two live matches
for one object, `site_admin: true` on a user who is not one, ...) are collected and raised together as
one `PlanError`, in the same `file:line:col: $.path: message` format as offline validation.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.batching import DEFAULT_MAX_ROWS, batch
from reconciler.errors import PlanError, UsageError
from reconciler.live import LiveOrg
from reconciler.manifest.model import Manifest
from reconciler.plan import TYPES, Change, Plan
from reconciler.planner.context import Context
from reconciler.planner.fields import plan_custom_fields
from reconciler.planner.org import DEPARTMENTS, OFFICES, index_tree, plan_tree
from reconciler.planner.tags import plan_candidate_tags
from reconciler.planner.users import plan_users

#: Which resource types each manifest section produces.
SECTION_TYPES: dict[str, tuple[str, ...]] = {
    "departments": ("department",),
    "offices": ("office",),
    "custom_fields": ("custom_field", "custom_field_option", "custom_field_department", "custom_field_office"),
    "candidate_tags": ("candidate_tag",),
    "users": ("user", "user_job_permission", "future_job_permission"),
}

#: Live collection counted as the base of max_change_percent, per type.
TYPE_COLLECTION: dict[str, str] = {
    "department": "departments",
    "office": "offices",
    "custom_field": "custom_fields",
    "custom_field_option": "custom_field_options",
    "custom_field_department": "custom_field_departments",
    "custom_field_office": "custom_field_offices",
    "candidate_tag": "candidate_tags",
    "user": "users",
    "user_job_permission": "user_job_permissions",
    "future_job_permission": "future_job_permissions",
}


def check_only(only: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(only))
    unknown = [t for t in chosen if t not in TYPES]
    if unknown:
        raise UsageError(f"unknown resource type(s) for --only: {', '.join(unknown)} (known: {', '.join(TYPES)})")
    return chosen


def sections_to_plan(manifest: Manifest, only: Iterable[str] = ()) -> list[str]:
    chosen = set(check_only(only))
    return [
        s for s, types in SECTION_TYPES.items()
        if s in manifest.present and (not chosen or chosen.intersection(types))
    ]


def collections_needed(manifest: Manifest, only: Iterable[str] = ()) -> list[str]:
    """The live collections planning these sections must read (references included)."""
    sections = sections_to_plan(manifest, only)
    needed: set[str] = set()
    if sections and set(sections) != {"candidate_tags"}:
        needed |= {"departments", "offices"}
    if "offices" in sections and any("primary_contact" in e.data for e in manifest.entries.get("offices", ())):
        needed.add("users")
    if "custom_fields" in sections:
        needed |= {"custom_fields", "custom_field_options", "custom_field_departments", "custom_field_offices"}
    if "candidate_tags" in sections:
        needed.add("candidate_tags")
    if "users" in sections:
        needed |= {"users", "user_roles"}
        users = manifest.entries.get("users", ())
        if any("job_permissions" in e.data for e in users):
            needed |= {"jobs", "user_job_permissions"}
        if any("future_job_permissions" in e.data for e in users):
            needed.add("future_job_permissions")
    return sorted(needed)


def build_plan(
    manifest: Manifest, live: LiveOrg, *, only: Iterable[str] = (), api_url: str = "", fingerprints: bool = True,
    bulk_max_rows: int = DEFAULT_MAX_ROWS,
) -> Plan:
    """Compare desired with live and return the minimal, ordered plan. Raises PlanError.

    `fingerprints=False` skips digesting every live object: only a plan that is saved for a later
    `apply --plan` needs them. `bulk_max_rows` caps the rows of each bulk request (<= 1: no bulk requests).
    """
    chosen = check_only(only)
    sections = sections_to_plan(manifest, chosen)
    ctx = Context(manifest, live)
    trees = {}
    if live.has("departments"):
        trees["departments"] = index_tree(ctx, DEPARTMENTS)
    if live.has("offices"):
        trees["offices"] = index_tree(ctx, OFFICES)
    if "departments" in sections:
        plan_tree(ctx, DEPARTMENTS, trees["departments"])
    if "offices" in sections:
        plan_tree(ctx, OFFICES, trees["offices"])
    if "custom_fields" in sections:
        plan_custom_fields(ctx)
    if "candidate_tags" in sections:
        plan_candidate_tags(ctx)
    if "users" in sections:
        plan_users(ctx)
    for section in ("custom_fields", "candidate_tags"):
        if manifest.policy.prune.get(section) == "enforce" and section not in manifest.present:
            ctx.warn(f"policy.prune.{section} is enforce, but no manifest has a {section} section: nothing is "
                     f"pruned (write `{section}: []` to manage an empty set)")
    if ctx.problems:
        raise PlanError(ctx.problems)

    changes = ctx.ordered_changes()
    unmanaged = list(ctx.unmanaged)
    managed_by_greenhouse = list(ctx.greenhouse_managed)
    unchanged = dict(ctx.unchanged)
    if chosen:
        changes = [c for c in changes if c.type in chosen]
        unmanaged = [u for u in unmanaged if u.type in chosen]
        managed_by_greenhouse = [g for g in managed_by_greenhouse if g.type in chosen]
        unchanged = {t: n for t, n in unchanged.items() if t in chosen}
        _check_dangling(changes)
    policy = manifest.policy
    return Plan(
        changes=tuple(changes),
        unmanaged=tuple(sorted(unmanaged, key=lambda u: (TYPES.index(u.type), u.name, u.id))),
        warnings=tuple(ctx.warnings),
        greenhouse_managed=tuple(sorted(managed_by_greenhouse, key=lambda g: (TYPES.index(g.type), g.name, g.id))),
        unchanged={t: unchanged[t] for t in TYPES if unchanged.get(t)},
        live_counts={t: len(live.get(c)) for t, c in TYPE_COLLECTION.items() if live.has(c)},
        max_deletes=policy.limits.max_deletes,
        max_change_percent=policy.limits.max_change_percent,
        api_url=api_url,
        manifest_digest=manifest.digest,
        only=chosen,
        fingerprints=live.fingerprints() if fingerprints else {},
        reads=live.reads,
        bulk_requests=batch(changes, max_rows=bulk_max_rows),
    )


def _check_dangling(changes: list[Change]) -> None:
    """With --only, a kept change may not depend on an object that only a dropped change would create."""
    keys = {c.key for c in changes}
    for c in changes:
        for w in c.writes:
            for target in w.references():
                if target not in keys:
                    raise UsageError(
                        f'--only leaves out "{target}", which {c.type} "{c.name}" needs to exist first; '
                        "add its type to --only or plan without --only"
                    )

