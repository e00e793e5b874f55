"""`github`: helpers the shipped GitHub Actions workflows call (see docs/ci.md).

Each subcommand talks to the GitHub REST API as the workflow's job token (`GITHUB_TOKEN`,
`GITHUB_REPOSITORY`, `GITHUB_API_URL`, as GitHub Actions sets them; the token is never printed) and
holds no workflow logic beyond one decision each: the logic is in `reconciler/github/`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from reconciler.cli.app import fail
from reconciler.errors import ReconcilerError

AUTHOR = click.option(
    "--author", default="github-actions[bot]", show_default=True,
    help="Login that writes (and so owns) the comment or issue; only its comments or issues are ever edited.")


def _client() -> Any:
    from reconciler.github import GitHub, GitHubSettings

    return GitHub(GitHubSettings.from_env())


def _run_url() -> str:
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    return f"{server}/{os.environ.get('GITHUB_REPOSITORY', '')}/actions/runs/{os.environ.get('GITHUB_RUN_ID', '')}"


def _event_pr() -> int | None:
    """The pull request number of the triggering event (GITHUB_EVENT_PATH), when it is a pull-request event."""
    path = os.environ.get("GITHUB_EVENT_PATH", "")
    if not path:
        return None
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    number = (event.get("pull_request") or {}).get("number") if isinstance(event, dict) else None
    return number if isinstance(number, int) else None


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        fail(f"cannot read the {what} {path}: {e.strerror or e}")


def _write_atomically(path: str, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (a temporary file in the same folder, then a rename)."""
    target = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent if str(target.parent) else ".")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except OSError as e:
        Path(temporary).unlink(missing_ok=True)
        fail(f"cannot write {path}: {e.strerror or e}")


@click.group(epilog="""\b
Examples:
  greenhouse-reconciler github pr-comment --plan plan.json --markdown plan.md
  greenhouse-reconciler github drift-issue --plan-exit-code 2 --report drift.md
""")
def github() -> None:
    """Helpers for the shipped GitHub Actions workflows (pull-request comment, reviewed plan, drift issue).

    They read GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL from the environment, as GitHub Actions sets
    them (the workflow passes the token: `env: GITHUB_TOKEN: ${{ github.token }}`). See docs/ci.md.
    """


@github.command("pr-comment", epilog="""\b
Examples:
  greenhouse-reconciler github pr-comment --plan plan.json --markdown plan.md --artifact greenhouse-plan
  greenhouse-reconciler github pr-comment --failed "validate or plan failed"
""")
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False), help="The saved plan (plan --out).")
@click.option("--markdown", "markdown_file", type=click.Path(dir_okay=False),
              help="The Markdown plan of the same run (plan --format markdown).")
@click.option("--artifact", default="greenhouse-plan", show_default=True,
              help="Name of the artifact this run uploads the plan file as (actions/upload-artifact).")
@click.option("--failed", "failed", metavar="MESSAGE", help="Record that this run has no plan (and why) instead.")
@click.option("--pr", "pr", type=click.IntRange(min=1), help="Pull request number [default: from GITHUB_EVENT_PATH].")
@click.option("--run-id", "run_id", type=click.IntRange(min=1), envvar="GITHUB_RUN_ID", show_envvar=True,
              help="This workflow run's id (where the artifact is).")
@AUTHOR
def pr_comment(plan_file: str | None, markdown_file: str | None, artifact: str, failed: str | None, pr: int | None,
               run_id: int | None, author: str) -> None:
    """Create or update the pull request's ONE plan comment (never a second one).

    The files come from `plan org/ --out plan.json --format markdown > plan.md`.

    The comment shows the Markdown plan and records, hidden, the manifest digest, the plan file's SHA-256 and
    the run and artifact that hold it: what the apply workflow checks after the merge. With --failed it says
    there is no plan, so merging applies nothing.
    """
    from reconciler.github import failed_comment_body, plan_comment_body, upsert_plan_comment

    number = pr or _event_pr()
    if number is None:
        fail("no pull request: pass --pr N, or run this in a pull_request workflow (GITHUB_EVENT_PATH)")
    if failed is not None:
        if plan_file or markdown_file:
            fail("--failed takes no --plan or --markdown")
        body = failed_comment_body(failed, _run_url())
    else:
        if not plan_file or not markdown_file:
            fail("pass --plan and --markdown (or --failed MESSAGE)")
        if run_id is None:
            fail("no workflow run id: pass --run-id, or run this in GitHub Actions (GITHUB_RUN_ID)")
        markdown = _read(markdown_file, "Markdown plan").decode("utf-8", errors="replace")
        try:
            body = plan_comment_body(markdown, _read(plan_file, "plan file"), run_id=run_id, artifact=artifact,
                                     run_url=_run_url())
        except ReconcilerError as e:
            fail(e)
    try:
        with _client() as gh:
            posted = upsert_plan_comment(gh, number, body, author=author)
    except ReconcilerError as e:
        fail(e)
    click.echo(f"{posted.action.capitalize()} the plan comment of pull request #{number}: {posted.url}")


@github.command("reviewed-plan", epilog="""\b
Examples:
  greenhouse-reconciler github reviewed-plan org/ --commit "$GITHUB_SHA" --out plan.json
""")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--commit", envvar="GITHUB_SHA", show_envvar=True, required=True, help="The merge commit.")
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True, help="Where to write the plan file.")
@click.option("--comment/--no-comment", default=True, show_default=True,
              help="On a refusal, say why in a comment on the merged pull request.")
@AUTHOR
def reviewed_plan(paths: Sequence[str], commit: str, out: str, comment: bool, author: str) -> None:
    """Write the plan reviewed in the pull request that COMMIT merged, or refuse (exit 1, nothing written).

    Refused unless: the commit merged a pull request; its plan comment records a plan; the manifests under
    PATHS (as checked out, the merged tree) have exactly the recorded manifest digest (pass the same PATHS as
    the plan workflow's `plan`); and the recorded artifact holds the recorded plan file. On a refusal the
    pull request gets a comment asking for a new review. Then `apply --plan plan.json --yes` applies it
    (and refuses it if the organisation changed since the review).
    """
    from reconciler.github import NotReviewed, add_comment, find_reviewed_plan
    from reconciler.manifest import load

    try:
        digest = load(list(paths) or ["."]).digest
    except ReconcilerError as e:
        fail(e)
    with _client() as gh:
        try:
            found = find_reviewed_plan(gh, commit, digest, author=author)
        except NotReviewed as e:
            if comment and e.pr is not None:
                try:
                    add_comment(gh, e.pr, f"**greenhouse-reconciler did not apply this merge.** {e}\n\n"
                                          f"([workflow run]({_run_url()}))")
                except ReconcilerError as posting:
                    fail(f"{e}\n(and the comment saying so could not be posted: {posting})")
            fail(e)
        except ReconcilerError as e:
            fail(e)
    _write_atomically(out, found.plan)
    click.echo(f"Wrote the plan reviewed in pull request #{found.pr} (run {found.record.run_id}, manifest digest "
               f"{found.record.manifest_digest[:12]}) to {out}.")


@github.command("pr-notice", epilog="""\b
Examples:
  greenhouse-reconciler github pr-notice --commit "$GITHUB_SHA" --message "apply failed: see the run"
""")
@click.option("--commit", envvar="GITHUB_SHA", show_envvar=True, required=True, help="The merge commit.")
@click.option("--message", required=True, help="The comment's text (Markdown).")
def pr_notice(commit: str, message: str) -> None:
    """Comment on the pull request that COMMIT merged (e.g. that its apply failed or was refused)."""
    from reconciler.github import add_comment, merged_pull_request

    try:
        with _client() as gh:
            number = merged_pull_request(gh, commit)
            posted = add_comment(gh, number, f"{message}\n\n([workflow run]({_run_url()}))")
    except ReconcilerError as e:
        fail(e)
    click.echo(f"Commented on pull request #{number}: {posted.url}")


@github.command("drift-issue", epilog="""\b
Examples:
  greenhouse-reconciler github drift-issue --plan-exit-code "$code" --report drift.md
  greenhouse-reconciler github drift-issue --plan-exit-code 0
""")
@click.option("--plan-exit-code", "code", type=int, required=True,
              help="The exit code of `plan --detailed-exitcode`: 2 drift, 0 none, anything else an error.")
@click.option("--report", type=click.Path(dir_okay=False), help="The Markdown plan (needed for exit code 2).")
@AUTHOR
def drift_issue(code: int, report: str | None, author: str) -> None:
    """Open or update the ONE drift issue (exit code 2), close it (0), or fail (an error is never drift).

    Exit 1, and the issue untouched, when the plan failed: a broken check must not look like drift, nor like
    drift gone. In a scheduled job, `code` is the exit code of
    `plan org/ --detailed-exitcode --format markdown > drift.md` (run under `set +e`).
    """
    from reconciler.github import sync_drift_issue

    if code == 2 and not report:
        fail("--report is needed when the plan found drift (exit code 2)")
    text = _read(report, "report").decode("utf-8", errors="replace") if code == 2 and report else ""
    try:
        with _client() as gh:
            outcome = sync_drift_issue(gh, code, text, run_url=_run_url(), author=author)
    except ReconcilerError as e:
        fail(e)
    if outcome.issue is None:
        click.echo("No drift, and no open drift issue.")
    else:
        click.echo(f"Drift issue {outcome.action}: {outcome.issue.url}")
