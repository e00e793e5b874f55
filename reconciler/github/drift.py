"""One drift issue: opened when a scheduled plan finds changes, updated while they last, closed when gone.

The issue is found by its first line, `MARKER`, among the open issues that the workflow's identity opened
(`creator=` filter, pull requests left out), so a person's issue is never edited or closed. The plan's exit
code decides (`plan --detailed-exitcode`): 2 opens or updates the issue with the Markdown report, 0 closes
it (with a comment saying so), anything else is an error: the issue is left as it is and the command fails,
so an error is never reported as drift, nor as drift gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.github.api import GitHub, GitHubError
from reconciler.github.comment import ACTIONS_BOT, BODY_LIMIT, Posted, posted_from

MARKER = "<!-- greenhouse-reconciler:drift -->"
TITLE = "Greenhouse drift: the live organisation differs from the manifests"


class PlanFailed(GitHubError):
    """The drift check's plan failed: an error, never drift."""


@dataclass(frozen=True)
class DriftOutcome:
    """What the drift step did: `opened`, `updated`, `closed` or `none` (clean, no open issue), and the issue."""

    action: str
    issue: Posted | None


def find_drift_issue(gh: GitHub, author: str) -> dict[str, Any] | None:
    """The open drift issue `author` opened, or None."""
    for issue in gh.pages(gh.repo_path("/issues"), {"state": "open", "creator": author}):
        if "pull_request" in issue:
            continue
        if str(issue.get("body") or "").split("\n", 1)[0].strip() == MARKER:
            return dict(issue)
    return None


def drift_body(report: str, run_url: str) -> str:
    body = (f"{MARKER}\nA scheduled `plan --detailed-exitcode` found changes pending: the live organisation no "
            f"longer matches the manifests ([workflow run]({run_url})). Either apply the manifests (merge a pull "
            f"request that changes them, or re-run the apply workflow) or change the manifests to match. This "
            f"issue is updated by each check and closed by the first one that finds no drift.\n\n{report.rstrip()}\n")
    if len(body) > BODY_LIMIT:
        raise GitHubError(f"the drift issue would be {len(body)} characters; GitHub takes at most {BODY_LIMIT}")
    return body


def sync_drift_issue(gh: GitHub, plan_exit_code: int, report: str, *, run_url: str,
                     author: str = ACTIONS_BOT, title: str = TITLE) -> DriftOutcome:
    """Act on the exit code of `plan --detailed-exitcode` (see the module docstring)."""
    if plan_exit_code not in (0, 2):
        raise PlanFailed(f"the drift check's plan failed (exit {plan_exit_code}): that is an error, not drift; "
                         "the drift issue was left as it is (see the plan step's log)")
    existing = find_drift_issue(gh, author)
    if plan_exit_code == 2:
        body = drift_body(report, run_url)
        if existing is None:
            return DriftOutcome("opened", posted_from("opened", gh.call(
                "POST", gh.repo_path("/issues"), json={"title": title, "body": body})))
        number = int(existing["number"])
        return DriftOutcome("updated", posted_from("updated", gh.call(
            "PATCH", gh.repo_path(f"/issues/{number}"), json={"title": title, "body": body})))
    if existing is None:
        return DriftOutcome("none", None)
    number = int(existing["number"])
    gh.call("POST", gh.repo_path(f"/issues/{number}/comments"),
            json={"body": f"No drift any more: the live organisation matches the manifests ([workflow run]({run_url}))."})
    return DriftOutcome("closed", posted_from("closed", gh.call(
        "PATCH", gh.repo_path(f"/issues/{number}"), json={"state": "closed", "state_reason": "completed"})))
