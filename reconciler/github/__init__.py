"""GitHub-side logic of the shipped workflows (docs/ci.md): the pull-request plan comment, the drift issue,
and finding the reviewed plan of a merge commit. Called by `greenhouse-reconciler github ...`
(reconciler/cli/github_cmd.py); talks to the GitHub REST API with httpx (`reconciler/github/api.py`)."""

from __future__ import annotations

from reconciler.github.api import GitHub, GitHubError, GitHubSettings
from reconciler.github.comment import (
    ACTIONS_BOT,
    Posted,
    add_comment,
    failed_comment_body,
    find_plan_comment,
    plan_comment_body,
    upsert_plan_comment,
)
from reconciler.github.drift import DriftOutcome, PlanFailed, find_drift_issue, sync_drift_issue
from reconciler.github.record import Reviewed, parse
from reconciler.github.reviewed import NotReviewed, ReviewedPlan, find_reviewed_plan, merged_pull_request

__all__ = [
    "ACTIONS_BOT", "DriftOutcome", "GitHub", "GitHubError", "GitHubSettings", "NotReviewed", "PlanFailed",
    "Posted", "Reviewed", "ReviewedPlan", "add_comment", "failed_comment_body", "find_drift_issue",
    "find_plan_comment", "find_reviewed_plan", "merged_pull_request", "parse", "plan_comment_body",
    "sync_drift_issue", "upsert_plan_comment",
]
