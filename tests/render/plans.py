"""Plans shared by the render, safety and plan-JSON tests."""

from __future__ import annotations

from reconciler.plan import Plan
from reconciler.planner import build_plan
from tests.builders import live, manifest

TAGS = [{"id": 300 + i, "name": f"tag-{i}"} for i in range(12)]


def pruning(max_deletes: int = 10, max_change_percent: float = 30.0, keep: int = 0) -> Plan:
    """A plan that prunes 12 - keep of 12 live tags (deletes are destructive removals)."""
    m = manifest(prune={"candidate_tags": "enforce"}, max_deletes=max_deletes, max_change_percent=max_change_percent,
                 candidate_tags=[f"tag-{i}" for i in range(keep)])
    return build_plan(m, live(candidate_tags=TAGS))
