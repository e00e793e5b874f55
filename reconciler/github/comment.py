"""One plan comment per pull request: found by its marker and author, created once, then edited in place.

`upsert_plan_comment` lists the pull request's comments, takes the first one that the workflow's identity
wrote and that starts with `record.MARKER`, and PATCHes it; only when there is none does it POST one. So a
pull request has one plan comment, whatever the number of pushes (the plan workflow's `concurrency:`
group keeps two runs of one pull request from racing to create it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from reconciler.github.api import GitHub, GitHubError
from reconciler.github.record import ARTIFACT_NAME, FAILED_LINE, MARKER, Reviewed, is_plan_comment

#: GitHub refuses comment and issue bodies longer than this (characters).
BODY_LIMIT = 65_536
#: The login of the job token's identity in GitHub Actions, which writes the comments it later looks for.
ACTIONS_BOT = "github-actions[bot]"


@dataclass(frozen=True)
class Posted:
    """What was done: `created` or `updated`, and the comment's (or issue's) id and address."""

    action: str
    id: int
    url: str


def plan_comment_body(markdown: str, plan_bytes: bytes, *, run_id: int, artifact: str, run_url: str) -> str:
    """The comment for a successful plan: the record, the Markdown plan, and where the plan file is kept.

    Refuses (GitHubError) a Markdown plan and a plan file of different runs (their manifest digests differ),
    a plan file that is not a plan, and a body GitHub would refuse for its size.
    """
    try:
        data = json.loads(plan_bytes)
    except ValueError:
        raise GitHubError("the plan file is not JSON (write it with `plan --out plan.json`)") from None
    digest = data.get("manifest_digest") if isinstance(data, dict) else None
    if not isinstance(digest, str) or len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
        raise GitHubError("the plan file has no manifest_digest (write it with `plan --out plan.json`)")
    head = markdown.split("\n", 5)[:5]  # the Markdown plan records its digest in its first lines
    if f"<!-- greenhouse-reconciler plan manifest_digest={digest} -->" not in (line.strip() for line in head):
        raise GitHubError("the Markdown plan and the plan file were not made from the same manifests "
                          "(their manifest digests differ): render both from one `plan --out ... --format markdown`")
    if not ARTIFACT_NAME.fullmatch(artifact):
        raise GitHubError(f"artifact name {artifact!r}: use letters, digits, '.', '_' and '-' only")
    sha = hashlib.sha256(plan_bytes).hexdigest()
    record = Reviewed(manifest_digest=digest, plan_sha256=sha, run_id=run_id, artifact=artifact)
    footer = (f"\n\n---\nThe plan file shown here is the artifact `{artifact}` of [workflow run {run_id}]({run_url}) "
              f"(SHA-256 `{sha[:12]}`). After the merge, the apply workflow applies exactly this file, and only if "
              f"the merged manifests are the ones it was made from (manifest digest `{digest[:12]}`).\n")
    return _checked(f"{MARKER}\n{record.line()}\n{markdown.rstrip()}{footer}")


def failed_comment_body(message: str, run_url: str) -> str:
    """The comment when validate or plan failed: no record, so nothing can be applied from this pull request."""
    text = message.replace("<", "&lt;").replace(">", "&gt;").strip()[:2000]
    return _checked(f"{MARKER}\n{FAILED_LINE}\n### greenhouse-reconciler plan\n\n**No plan: {text}**\n\n"
                    f"See the log of [the workflow run]({run_url}). Until a plan succeeds, merging this pull request "
                    "applies nothing (the apply workflow refuses a pull request without a reviewed plan).\n")


def find_plan_comment(gh: GitHub, pr: int, author: str) -> dict[str, Any] | None:
    """The pull request's plan comment written by `author`, or None (the first, if a race ever made two)."""
    for comment in gh.pages(gh.repo_path(f"/issues/{pr}/comments")):
        if _login(comment) == author and is_plan_comment(str(comment.get("body") or "")):
            return dict(comment)
    return None


def upsert_plan_comment(gh: GitHub, pr: int, body: str, *, author: str = ACTIONS_BOT) -> Posted:
    """Edit the pull request's plan comment to `body`, or create it when there is none."""
    existing = find_plan_comment(gh, pr, author)
    if existing is not None:
        answer = gh.call("PATCH", gh.repo_path(f"/issues/comments/{int(existing['id'])}"), json={"body": body})
        return posted_from("updated", answer)
    return posted_from("created", gh.call("POST", gh.repo_path(f"/issues/{pr}/comments"), json={"body": body}))


def add_comment(gh: GitHub, number: int, body: str) -> Posted:
    """A new comment on issue or pull request `number` (notices, never the plan comment)."""
    return posted_from("created", gh.call("POST", gh.repo_path(f"/issues/{number}/comments"), json={"body": _checked(body)}))


def _checked(body: str) -> str:
    if len(body) > BODY_LIMIT:
        raise GitHubError(f"the comment would be {len(body)} characters; GitHub takes at most {BODY_LIMIT}")
    return body


def _login(item: Any) -> str:
    """The login of the account that wrote a comment or issue (GitHub's `user.login`), or ""."""
    return str(pointer(item, "/user/login") or "")


def pointer(item: Any, path: str) -> Any:
    """The value at a JSON pointer (RFC 6901, without escapes) in a GitHub answer; None when absent."""
    for part in path.split("/")[1:]:
        item = item.get(part) if isinstance(item, dict) else None
    return item


def posted_from(action: str, answer: Any) -> Posted:
    if not isinstance(answer, dict) or not isinstance(answer.get("id"), int):
        raise GitHubError(f"GitHub's answer to the {action} comment has no id")
    return Posted(action, int(answer["id"]), str(answer.get("html_url", "")))
