"""`apply --only TYPE`: keep the changes of some resource types, leave the others pending.

Contract:
- The kept plan is the plan's changes of those types, in the plan's order, with the bulk requests of
  those changes (a bulk request holds changes of one endpoint, so it is kept or dropped whole; its
  kept rows stay consecutive), the identity probes of the kept creates, and `only` set to the types.
- A kept change may refer to a change the filter drops: `{"$ref": key}` in a body, bulk row or settle
  probe, "{$ref:key}" in a path (e.g. a grant on an office created by the same plan). Applying it
  alone cannot work (the id it needs is never created), so that is refused, naming both changes.
- Staleness: the kept plan keeps every fingerprint the saved plan recorded, a superset of what the
  kept changes depend on (reconciler/staleness.py), so the check before applying a filtered saved
  plan covers at least what it covered for the whole plan's kept changes.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from reconciler.errors import UsageError
from reconciler.plan import Change, Plan

_MARKERS = (('{"$ref": "', '"'), ("{$ref:", "}"))


@dataclasses.dataclass(frozen=True)
class Kept:
    """The kept plan, and how many changes of each other type stay pending (type -> count)."""

    plan: Plan
    pending: dict[str, int]


def keep_only(plan: Plan, types: Sequence[str]) -> Kept:
    """The changes of `types` only (see the module docstring); UsageError when a kept change refers to a
    dropped one."""
    wanted = set(types)
    kept = tuple(c for c in plan.changes if c.type in wanted)
    dropped = {c.key: c for c in plan.changes if c.type not in wanted}
    for change in kept:
        for key in sorted(references(change)):
            if key in dropped:
                other = dropped[key]
                raise UsageError(
                    f"apply --only {','.join(sorted(wanted))}: the change {change.key} ({change.action} {change.type} "
                    f"{change.name}) depends on {other.key} ({other.action} {other.type} {other.name}), which --only "
                    f"leaves out; add --only {other.type}, or apply without --only")
    keys = {c.key for c in kept}
    bulks = []
    for b in plan.bulk_requests:
        rows = tuple(k for k in b.changes if k in keys)
        if rows:
            bulks.append(dataclasses.replace(b, changes=rows))
    filtered = dataclasses.replace(
        plan, changes=kept, bulk_requests=tuple(bulks),
        identity_probes=tuple(p for p in plan.identity_probes if p.change in keys),
        only=tuple(t for t in types if t in wanted))
    pending = Counter(c.type for c in dropped.values())
    return Kept(filtered, dict(sorted(pending.items())))


def references(change: Change) -> set[str]:
    """The change keys `change` refers to, in its write paths, bodies, bulk rows and settle probes."""
    found: set[str] = set()
    for w in change.writes:
        parts: list[Any] = [w.body, w.bulk_item]
        paths = [w.path]
        if w.settle is not None:
            parts += [dict(w.settle.params), dict(w.settle.match)]
            paths.append(w.settle.path)
        text = " ".join(paths) + json.dumps(parts, default=str)
        if "$ref" not in text:
            continue
        for marker, closing in _MARKERS:
            start = 0
            while (i := text.find(marker, start)) >= 0:
                j = i + len(marker)
                start = text.find(closing, j)
                if start < 0:
                    break
                found.add(text[j:start])
    return found


def pending_text(pending: dict[str, int]) -> str:
    """"3 department, 1 user_job_permission" for the warning."""
    return ", ".join(f"{n} {t}" for t, n in pending.items())
