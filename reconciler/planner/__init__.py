"""The planner: plan(desired, live) -> Plan (see `build.build_plan`); `context` and `renames` are the
toolkit the resource families plan with."""

from __future__ import annotations

from reconciler.planner.build import build_plan

__all__ = ["build_plan"]
