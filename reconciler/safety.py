"""Apply-time safety rules, judged from the plan alone: destructive changes and policy limits.

* Destructive changes (lost data that no later apply restores) need --allow-destructive.
* `max_deletes`: deletes, archives, deactivations and revokes, all types together; over it needs --force.
* `max_change_percent`: per type with at least 10 live objects, the changes to existing objects
  (update, delete, replace) as a percentage of that type's live objects; over it needs --force. Changes
  that share a `counts_as` (the renumbered options of one field: a pure reorder) count as one.
"""

from __future__ import annotations

from collections import Counter

from reconciler.errors import SafetyError
from reconciler.limits import MIN_OBJECTS_FOR_PERCENT
from reconciler.plan import Plan
from reconciler.resources.registry import REGISTRY


def limit_violations(plan: Plan) -> list[str]:
    """Human-readable lines, one per exceeded limit, with the numbers; empty when within limits."""
    out: list[str] = []
    removals = Counter(c.type for c in plan.removals())
    total = sum(removals.values())
    if total > plan.max_deletes:
        per_type = ", ".join(f"{t}: {removals[t]}" for t in REGISTRY.views.types if removals[t])
        out.append(f"{total} deletes/archives/deactivations/revokes exceed max_deletes {plan.max_deletes} ({per_type})")
    touched = changed_objects(plan)
    grouped = Counter(t for t, _ in {(c.type, c.counts_as) for c in plan.changes if c.counts_as is not None})
    for type_ in REGISTRY.views.types:
        live = plan.live_counts.get(type_, 0)
        if live < MIN_OBJECTS_FOR_PERCENT or not touched[type_]:
            continue
        percent = 100.0 * touched[type_] / live
        if percent > plan.max_change_percent:
            once = f"; {grouped[type_]} reorder(s) counted once each" if grouped[type_] else ""
            out.append(f"{type_}: {touched[type_]} of {live} live objects change ({percent:.1f}%{once}), "
                       f"over max_change_percent {plan.max_change_percent:g}")
    return out


def changed_objects(plan: Plan) -> Counter[str]:
    """Per type, what `max_change_percent` counts: updates, deletes and replaces of existing objects; the
    changes that share a `counts_as` once (a pure reorder of one list is one change), creates not at all."""
    counted: Counter[str] = Counter()
    groups: set[tuple[str, str]] = set()
    for c in plan.changes:
        if c.action not in ("update", "delete", "replace"):
            continue
        if c.counts_as is not None:
            if (c.type, c.counts_as) in groups:
                continue
            groups.add((c.type, c.counts_as))
        counted[c.type] += 1
    return counted


def check(plan: Plan, *, allow_destructive: bool, force: bool) -> None:
    """Raise SafetyError naming the numbers and the flag, unless the plan may be applied."""
    problems: list[str] = []
    destructive = plan.destructive()
    if destructive and not allow_destructive:
        shown = "\n".join(f"  {c.action} {c.type} {c.name}: {'; '.join(c.reasons)}" for c in destructive)
        problems.append(f"the plan has {len(destructive)} destructive change(s); re-run with --allow-destructive "
                        f"to apply them:\n{shown}")
    limits = limit_violations(plan)
    if limits and not force:
        shown = "\n".join(f"  {line}" for line in limits)
        problems.append(f"the plan exceeds policy.limits; re-run with --force to apply it anyway:\n{shown}")
    if problems:
        raise SafetyError("apply refused, nothing was written: " + "\n".join(problems))
