"""build_plan(manifest, live) -> Plan: every family's index, then every planned family's plan, in order.

Pure: no I/O; the same inputs give byte-identical plan JSON. Problems that need the live organisation
(unknown or ambiguous references, two live matches for one object, ...) are collected from every family
and raised together as one `PlanError`, in the same `file:line:col: $.path: message` format as offline
validation. The loop knows no type: each family declares its index, its plan and its phases.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reconciler.batching import DEFAULT_MAX_ROWS, batch
from reconciler.errors import PlanError, UsageError
from reconciler.live.reads import check_only, sections_to_plan
from reconciler.plan import Change, Plan
from reconciler.planner.context import Context
from reconciler.resources.registry import REGISTRY

if TYPE_CHECKING:
    from reconciler.live import LiveOrg
    from reconciler.manifest.model import Manifest


def build_plan(
    manifest: Manifest, live: LiveOrg, *, only: Iterable[str] = (), api_url: str = "", fingerprints: bool = True,
    bulk_max_rows: int = DEFAULT_MAX_ROWS, acting_user_id: int | str | None = None,
) -> Plan:
    """Compare desired with live and return the minimal, ordered plan. Raises PlanError.

    `fingerprints=False` skips digesting every live object: only a plan that is saved for a later
    `apply --plan` needs them. `bulk_max_rows` caps the rows of each bulk request (<= 1: no bulk requests).
    `acting_user_id` is the user the token acts as (GREENHOUSE_USER_ID; None for a service user's token):
    a plan that would cut that user's access is a PlanError.
    """
    views = REGISTRY.views
    chosen = check_only(only)
    sections = sections_to_plan(manifest, chosen)
    ctx = Context(manifest, live, phases=views.phase_rank, independent_phases=views.independent_phases,
                  acting_user_id=None if acting_user_id is None else int(acting_user_id))
    # Indexes first, for every family whose collections were read: other families resolve references
    # (a user's offices, a field's departments) against them even when the family itself is not planned.
    for family in views.families:
        if family.index is not None and all(live.has(c) for c in family.index_reads):
            family.index(ctx)
    for family in views.families:
        if family.section in sections:
            family.plan(ctx)
    for family in views.families:
        if family.deletable and manifest.policy.prune.get(family.section) == "enforce" \
                and family.section not in manifest.present:
            ctx.warn(f"policy.prune.{family.section} is enforce, but no manifest has a {family.section} section: "
                     f"nothing is pruned (write `{family.section}: []` to manage an empty set)")
    if ctx.problems:
        raise PlanError(ctx.problems)

    changes = ctx.ordered_changes()
    _check_capabilities(changes)
    unmanaged = list(ctx.unmanaged)
    managed_by_greenhouse = list(ctx.greenhouse_managed)
    unchanged = dict(ctx.unchanged)
    if chosen:
        changes = [c for c in changes if c.type in chosen]
        unmanaged = [u for u in unmanaged if u.type in chosen]
        managed_by_greenhouse = [g for g in managed_by_greenhouse if g.type in chosen]
        unchanged = {t: n for t, n in unchanged.items() if t in chosen}
        _check_dangling(changes)
    rank = {t: i for i, t in enumerate(views.types)}
    policy = manifest.policy
    return Plan(
        changes=tuple(changes),
        unmanaged=tuple(sorted(unmanaged, key=lambda u: (rank[u.type], u.name, u.id))),
        warnings=tuple(ctx.warnings),
        unreachable=tuple(ctx.unreachable),
        greenhouse_managed=tuple(sorted(managed_by_greenhouse, key=lambda g: (rank[g.type], g.name, g.id))),
        unchanged={t: unchanged[t] for t in views.types if unchanged.get(t)},
        live_counts={t: len(live.get(c)) for t, c in views.type_collection.items() if live.has(c)},
        max_deletes=policy.limits.max_deletes,
        max_change_percent=policy.limits.max_change_percent,
        api_url=api_url,
        manifest_digest=manifest.digest,
        only=chosen,
        bulk_requests=batch(changes, max_rows=bulk_max_rows),
        **(_saved_plan_checks(changes, live, acting_user_id) if fingerprints else {"reads": live.reads}),
    )


def _saved_plan_checks(changes: list[Change], live: LiveOrg, acting_user_id: int | str | None) -> dict[str, Any]:
    """What `apply --plan` re-checks (reconciler/staleness.py): the fingerprints of the objects the plan's
    decisions depend on, the reads of just their collections, and each create's identity probe."""
    from reconciler.staleness import identity_probes, select_fingerprints

    chosen = select_fingerprints(changes, live, None if acting_user_id is None else int(acting_user_id))
    return {
        "fingerprints": chosen,
        "reads": {c: r for c, r in live.reads.items() if c in chosen},
        "fingerprint_scope": "decisions",
        "identity_probes": identity_probes(changes),
    }


#: The capability each action needs of its resource type ("replace" is a delete and a create).
_NEEDS = {"create": ("create",), "update": ("update",), "delete": ("delete",), "replace": ("create", "delete")}


def _check_capabilities(changes: list[Change]) -> None:
    """A family may plan only what its types declare the API allows: a mismatch is a bug, not bad input."""
    types = REGISTRY.views.resource_types
    for c in changes:
        declared = types[c.type].capabilities
        missing = [n for n in _NEEDS[c.action] if n not in declared]
        if any(w.bulk for w in c.writes) and "bulk" not in declared:
            missing.append("bulk")
        if missing:
            raise AssertionError(f"{c.type} planned a {c.action} ({c.key}) but does not declare {', '.join(missing)}")


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

