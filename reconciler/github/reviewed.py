"""After a merge: find the plan that was reviewed for it, or refuse.

`find_reviewed_plan(gh, commit, manifest_digest)` walks from the merge commit to what reviewers saw:

1. the pull request the commit merged (`GET /repos/{r}/commits/{sha}/pulls`, the one whose
   `merge_commit_sha` is the commit): a push that merged no pull request was reviewed by nobody;
2. its plan comment (`reconciler/github/comment.py`), written by the workflow's identity, and the record at
   its top (`reconciler/github/record.py`): none, or `status=failed`, means there is no reviewed plan;
3. the manifest digest of the merged tree (computed by the caller with the same loader `plan` uses) must
   equal the recorded one: otherwise the merged manifests are not the ones the plan was made from (the base
   branch moved after the last plan, or the last push was never planned) and nobody saw what applying
   them would do;
4. the plan file: the recorded artifact of the recorded workflow run (`actions: read`), whose bytes must
   have the recorded SHA-256 and whose `manifest_digest` must be the recorded one.

Every refusal is a `NotReviewed` naming the pull request (when there is one) and what to do. Staleness of
the live organisation is not checked here: `apply --plan` re-reads and refuses a stale plan itself.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from reconciler.github.api import GitHub, GitHubError
from reconciler.github.comment import ACTIONS_BOT, find_plan_comment
from reconciler.github.record import Reviewed, parse

#: Largest plan file taken out of an artifact (bytes).
MAX_PLAN_BYTES = 200 * 1024 * 1024


class NotReviewed(GitHubError):
    """There is no reviewed plan for the commit; `pr` is the merged pull request's number, when known."""

    def __init__(self, message: str, pr: int | None = None) -> None:
        super().__init__(message)
        self.pr = pr


@dataclass(frozen=True)
class ReviewedPlan:
    """The plan file reviewed in pull request `pr`, with its record."""

    pr: int
    record: Reviewed
    plan: bytes


def merged_pull_request(gh: GitHub, commit: str) -> int:
    """The number of the pull request `commit` merged; NotReviewed when it merged none."""
    pulls = gh.call("GET", gh.repo_path(f"/commits/{commit}/pulls"))
    for pull in pulls if isinstance(pulls, list) else []:
        if isinstance(pull, dict) and pull.get("merge_commit_sha") == commit and pull.get("merged_at"):
            return int(pull["number"])
    raise NotReviewed(f"commit {commit} did not merge a pull request, so no plan of it was reviewed; nothing was "
                      "applied. Change the manifests through a pull request (docs/ci.md).")


def find_reviewed_plan(gh: GitHub, commit: str, manifest_digest: str, *, author: str = ACTIONS_BOT) -> ReviewedPlan:
    """The reviewed plan file for merge commit `commit` (see the module docstring), or NotReviewed."""
    pr = merged_pull_request(gh, commit)
    comment = find_plan_comment(gh, pr, author)
    if comment is None:
        raise NotReviewed(f"pull request #{pr} has no plan comment by {author}: its plan was never shown, so "
                          "nothing was applied. Open a pull request so the plan workflow comments the plan.", pr)
    record = parse(str(comment.get("body") or ""))
    if record is None:
        raise NotReviewed(f"the last plan of pull request #{pr} failed (or its plan comment has no record), so no "
                          "plan was reviewed; nothing was applied.", pr)
    if record.manifest_digest != manifest_digest:
        raise NotReviewed(
            f"the merged manifests (digest {manifest_digest[:12]}) are not the ones the plan reviewed in pull request "
            f"#{pr} was made from (digest {record.manifest_digest[:12]}): the default branch changed after that plan, "
            "or a later push was never planned. Nothing was applied: open a pull request (an empty commit will do) "
            "so the plan of the merged manifests is shown and reviewed, then merge it.", pr)
    plan = _artifact_plan(gh, record, pr)
    if hashlib.sha256(plan).hexdigest() != record.plan_sha256:
        raise NotReviewed(f"the plan file in artifact {record.artifact!r} of run {record.run_id} is not the one "
                          f"pull request #{pr} shows (SHA-256 differs); nothing was applied.", pr)
    try:
        digest = json.loads(plan).get("manifest_digest")
    except (ValueError, AttributeError):
        digest = None
    if digest != record.manifest_digest:
        raise NotReviewed(f"the plan file of pull request #{pr} was not made from the recorded manifests; nothing "
                          "was applied.", pr)
    return ReviewedPlan(pr, record, plan)


def _artifact_plan(gh: GitHub, record: Reviewed, pr: int) -> bytes:
    artifacts: list[Any] = [
        a for a in gh.pages(gh.repo_path(f"/actions/runs/{record.run_id}/artifacts"), {"name": record.artifact})
        if isinstance(a, dict) and a.get("name") == record.artifact
    ]
    live = [a for a in artifacts if not a.get("expired")]
    if not live:
        state = "has expired" if artifacts else "is missing"
        raise NotReviewed(f"the reviewed plan of pull request #{pr} (artifact {record.artifact!r} of run "
                          f"{record.run_id}) {state}; nothing was applied. Re-run the plan (a new pull request) to "
                          "review a fresh one.", pr)
    data = gh.download(gh.repo_path(f"/actions/artifacts/{int(live[0]['id'])}/zip"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir() and m.filename.endswith(".json")]
            if len(members) != 1:
                raise NotReviewed(f"artifact {record.artifact!r} of run {record.run_id} holds {len(members)} JSON "
                                  "files; expected exactly the plan file", pr)
            if members[0].file_size > MAX_PLAN_BYTES:
                raise NotReviewed(f"the plan file in artifact {record.artifact!r} is larger than {MAX_PLAN_BYTES} "
                                  "bytes", pr)
            return archive.read(members[0])
    except zipfile.BadZipFile:
        raise GitHubError(f"artifact {record.artifact!r} of run {record.run_id} is not a zip file") from None
