"""The workflows' GitHub-side logic (reconciler/github/) against a local stand-in of the GitHub REST API.

Each test drives the real client over real HTTP (tests/ci/standin.py) and asserts the exact requests:
the plan comment is created once and then PATCHed, the drift issue is opened, updated and closed, and a
merge whose manifests do not match the reviewed plan is refused with a comment on the pull request.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.github import (
    GitHub,
    GitHubError,
    GitHubSettings,
    NotReviewed,
    PlanFailed,
    find_reviewed_plan,
    parse,
    plan_comment_body,
    sync_drift_issue,
    upsert_plan_comment,
)
from reconciler.github.record import MARKER
from tests.ci.standin import BOT, TOKEN, StandIn

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
DIGEST = "ab" * 32
OTHER = "cd" * 32
RUN = "https://github.example/run/1"


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn()
    try:
        yield server
    finally:
        server.stop()


def client(standin: StandIn) -> GitHub:
    return GitHub(GitHubSettings.from_env(standin.env()))


def plan_bytes(digest: str = DIGEST) -> bytes:
    return json.dumps({"format_version": 1, "manifest_digest": digest, "changes": []}, sort_keys=True).encode()


def markdown(digest: str = DIGEST) -> str:
    return f"### greenhouse-reconciler plan\n<!-- greenhouse-reconciler plan manifest_digest={digest} -->\n\n**1 change**\n"


def comment_body(run_id: int = 77, digest: str = DIGEST) -> str:
    return plan_comment_body(markdown(digest), plan_bytes(digest), run_id=run_id, artifact="greenhouse-plan",
                             run_url=RUN)


# -- the plan comment -----------------------------------------------------------------------------------------


def test_the_first_run_creates_one_comment_and_the_second_updates_it(standin: StandIn) -> None:
    standin.add_comment(7, f"{MARKER}\nsomeone else pasted our marker", login="mallory")
    with client(standin) as gh:
        first = upsert_plan_comment(gh, 7, comment_body(run_id=77))
        second = upsert_plan_comment(gh, 7, comment_body(run_id=78))
    assert (first.action, second.action, first.id) == ("created", "updated", second.id)
    repo = "/repos/acme/people-config"
    assert standin.writes() == [("POST", f"{repo}/issues/7/comments"),
                                ("PATCH", f"{repo}/issues/comments/{first.id}")]
    ours = [c for c in standin.comments_on(7) if c["user"]["login"] == BOT]
    assert len(ours) == 1
    record = parse(ours[0]["body"])
    assert record is not None and record.run_id == 78 and record.manifest_digest == DIGEST
    assert record.plan_sha256 == hashlib.sha256(plan_bytes()).hexdigest()
    assert "someone else pasted our marker" in standin.comments_on(7)[0]["body"]  # never edited
    assert all(r.authorized for r in standin.state.requests)


def test_the_comment_is_found_on_a_later_page(standin: StandIn) -> None:
    for n in range(150):
        standin.add_comment(9, f"review comment {n}")
    with client(standin) as gh:
        created = upsert_plan_comment(gh, 9, comment_body())
        updated = upsert_plan_comment(gh, 9, comment_body(run_id=80))
    assert updated.id == created.id and updated.action == "updated"
    reads = [r for r in standin.state.requests if r.method == "GET"]
    assert [r.query.get("page", ["1"])[0] for r in reads] == ["1", "2", "1", "2"]
    assert len([c for c in standin.comments_on(9) if c["user"]["login"] == BOT]) == 1


def test_a_markdown_plan_of_other_manifests_is_refused_before_anything_is_sent(standin: StandIn) -> None:
    with pytest.raises(GitHubError, match="not made from the same manifests"):
        plan_comment_body(markdown(OTHER), plan_bytes(DIGEST), run_id=1, artifact="greenhouse-plan", run_url=RUN)


def test_refusals_name_method_path_and_status_and_never_the_token(standin: StandIn) -> None:
    env = {**standin.env(), "GITHUB_TOKEN": "ghs_wrong_token_value"}
    with GitHub(GitHubSettings.from_env(env)) as gh, pytest.raises(GitHubError) as caught:
        upsert_plan_comment(gh, 7, comment_body())
    text = str(caught.value)
    assert "GET /repos/acme/people-config/issues/7/comments -> 401: Bad credentials" in text
    assert "ghs_wrong_token_value" not in text and "ghs_wrong_token_value" not in repr(GitHubSettings.from_env(env))


def test_plain_http_is_refused_for_a_remote_api() -> None:
    with pytest.raises(GitHubError, match="https"):
        GitHubSettings.from_env({"GITHUB_TOKEN": "x", "GITHUB_REPOSITORY": "a/b",
                                 "GITHUB_API_URL": "http://api.github.example"})


# -- the drift issue ------------------------------------------------------------------------------------------


def test_drift_opens_one_issue_updates_it_and_closes_it_when_gone(standin: StandIn) -> None:
    person = standin.add_issue("Drift?", "<!-- greenhouse-reconciler:drift -->\na person's issue")
    with client(standin) as gh:
        opened = sync_drift_issue(gh, 2, "report one", run_url=RUN)
        updated = sync_drift_issue(gh, 2, "report two", run_url=RUN)
        closed = sync_drift_issue(gh, 0, "", run_url=RUN)
        nothing = sync_drift_issue(gh, 0, "", run_url=RUN)
    assert [o.action for o in (opened, updated, closed, nothing)] == ["opened", "updated", "closed", "none"]
    assert opened.issue is not None and updated.issue is not None and opened.issue.id == updated.issue.id
    number = opened.issue.id
    repo = "/repos/acme/people-config"
    assert standin.writes() == [("POST", f"{repo}/issues"), ("PATCH", f"{repo}/issues/{number}"),
                                ("POST", f"{repo}/issues/{number}/comments"), ("PATCH", f"{repo}/issues/{number}")]
    ours = next(i for i in standin.state.issues if i["number"] == number)
    assert ours["state"] == "closed" and "report two" in ours["body"]
    assert person["state"] == "open" and person["body"].endswith("a person's issue")


def test_a_failed_plan_is_never_drift_and_leaves_the_issue_alone(standin: StandIn) -> None:
    with client(standin) as gh:
        sync_drift_issue(gh, 2, "report", run_url=RUN)
        before = list(standin.state.requests)
        with pytest.raises(PlanFailed, match="exit 1.*not drift"):
            sync_drift_issue(gh, 1, "", run_url=RUN)
    assert standin.state.requests == before
    assert [i["state"] for i in standin.state.issues] == ["open"]


# -- the reviewed plan ----------------------------------------------------------------------------------------


def reviewed_setup(standin: StandIn, *, digest: str = DIGEST, artifact_plan: bytes | None = None) -> None:
    standin.add_merged_pull(12, "f" * 40)
    standin.add_artifact(77, "greenhouse-plan", {"plan.json": plan_bytes(digest) if artifact_plan is None
                                                 else artifact_plan})
    with client(standin) as gh:
        upsert_plan_comment(gh, 12, comment_body(run_id=77, digest=digest))


def test_the_reviewed_plan_is_found_when_the_merged_manifests_match(standin: StandIn) -> None:
    reviewed_setup(standin)
    with client(standin) as gh:
        found = find_reviewed_plan(gh, "f" * 40, DIGEST)
    assert (found.pr, found.plan) == (12, plan_bytes())
    blob = [r for r in standin.state.requests if r.path.startswith("/_blob/")]
    assert len(blob) == 1 and not blob[0].authorized  # the token never goes to the blob's origin


def test_a_mismatching_manifest_digest_is_refused(standin: StandIn) -> None:
    reviewed_setup(standin)
    with client(standin) as gh, pytest.raises(NotReviewed, match="not the ones the plan reviewed") as caught:
        find_reviewed_plan(gh, "f" * 40, OTHER)
    assert caught.value.pr == 12
    assert not any("/actions/" in r.path for r in standin.state.requests)  # refused before any download


def test_a_swapped_artifact_is_refused(standin: StandIn) -> None:
    reviewed_setup(standin, artifact_plan=plan_bytes(DIGEST) + b" ")
    with client(standin) as gh, pytest.raises(NotReviewed, match="SHA-256 differs"):
        find_reviewed_plan(gh, "f" * 40, DIGEST)


def test_a_push_that_merged_no_pull_request_is_refused(standin: StandIn) -> None:
    with client(standin) as gh, pytest.raises(NotReviewed, match="did not merge a pull request") as caught:
        find_reviewed_plan(gh, "e" * 40, DIGEST)
    assert caught.value.pr is None


def test_a_pull_request_whose_last_plan_failed_is_refused(standin: StandIn) -> None:
    from reconciler.github import failed_comment_body

    reviewed_setup(standin)
    with client(standin) as gh:
        upsert_plan_comment(gh, 12, failed_comment_body("plan failed", RUN))
        with pytest.raises(NotReviewed, match="last plan of pull request #12 failed"):
            find_reviewed_plan(gh, "f" * 40, DIGEST)


def test_an_expired_artifact_is_refused(standin: StandIn) -> None:
    standin.add_merged_pull(12, "f" * 40)
    standin.add_artifact(77, "greenhouse-plan", {"plan.json": plan_bytes()}, expired=True)
    with client(standin) as gh:
        upsert_plan_comment(gh, 12, comment_body(run_id=77))
        with pytest.raises(NotReviewed, match="has expired"):
            find_reviewed_plan(gh, "f" * 40, DIGEST)


def test_the_cli_refuses_a_mismatch_comments_on_the_pull_request_and_writes_no_plan(
        standin: StandIn, tmp_path: Path) -> None:
    reviewed_setup(standin)  # reviewed digest DIGEST; the examples/ folder has another
    env = {**standin.env(), "PATH": str(Path(sys.executable).parent), "GITHUB_RUN_ID": "90"}
    proc = subprocess.run([sys.executable, "-m", "reconciler", "github", "reviewed-plan", str(ROOT / "examples"),
                           "--commit", "f" * 40, "--out", str(tmp_path / "plan.json")],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "are not the ones the plan reviewed in pull request #12" in proc.stderr
    assert "Traceback" not in proc.stderr and TOKEN not in proc.stdout + proc.stderr
    assert not (tmp_path / "plan.json").exists()
    notice = standin.comments_on(12)[-1]
    assert notice["user"]["login"] == BOT and "did not apply this merge" in notice["body"]


def test_the_cli_outside_a_pull_request_event_says_what_is_missing(standin: StandIn, tmp_path: Path) -> None:
    (tmp_path / "plan.json").write_bytes(plan_bytes())
    (tmp_path / "plan.md").write_text(markdown())
    env = {**standin.env(), "PATH": str(Path(sys.executable).parent), "GITHUB_RUN_ID": "5"}
    proc = subprocess.run([sys.executable, "-m", "reconciler", "github", "pr-comment", "--plan",
                           str(tmp_path / "plan.json"), "--markdown", str(tmp_path / "plan.md")],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "no pull request: pass --pr N" in proc.stderr
    assert standin.state.requests == []
    created = subprocess.run([sys.executable, "-m", "reconciler", "github", "pr-comment", "--pr", "4", "--plan",
                              str(tmp_path / "plan.json"), "--markdown", str(tmp_path / "plan.md")],
                             env=env, capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("Created the plan comment of pull request #4")
    assert TOKEN not in created.stdout + created.stderr
