"""The hidden record at the top of the pull-request plan comment: which plan was reviewed.

The sticky comment starts with two HTML comments (invisible in GitHub's rendering):

    <!-- greenhouse-reconciler:pr-plan -->
    <!-- greenhouse-reconciler:reviewed manifest_digest=<hex> plan_sha256=<hex> run_id=<n> artifact=<name> -->

The first finds the comment (with its author: only comments the workflow's own identity wrote count);
the second says what the comment shows: the manifest digest the plan was made from (the plan JSON's
`manifest_digest`, docs/plan-json.md), the SHA-256 of the saved plan file's bytes, and the workflow run
and artifact holding that file. A comment whose last plan failed records `status=failed` instead, so
nothing can be applied from it. Only these first two lines are ever parsed: the plan below them is
rendered from manifests (names are escaped for HTML by reconciler/render.py, so a name cannot forge a
line like these, and it would not be read anyway).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKER = "<!-- greenhouse-reconciler:pr-plan -->"
_RECORD = re.compile(
    r"<!-- greenhouse-reconciler:reviewed (?:status=failed|manifest_digest=(?P<digest>[0-9a-f]{64}) "
    r"plan_sha256=(?P<sha>[0-9a-f]{64}) run_id=(?P<run>[0-9]{1,20}) artifact=(?P<artifact>[A-Za-z0-9._-]{1,100})) -->"
)
ARTIFACT_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


@dataclass(frozen=True)
class Reviewed:
    """What a pull request's plan comment shows: the plan file reviewed, and where it is kept."""

    manifest_digest: str
    plan_sha256: str
    run_id: int
    artifact: str

    def line(self) -> str:
        return (f"<!-- greenhouse-reconciler:reviewed manifest_digest={self.manifest_digest} "
                f"plan_sha256={self.plan_sha256} run_id={self.run_id} artifact={self.artifact} -->")


FAILED_LINE = "<!-- greenhouse-reconciler:reviewed status=failed -->"


def is_plan_comment(body: str) -> bool:
    """True when `body` is a plan comment (its first line is the marker)."""
    return body.split("\n", 1)[0].strip() == MARKER


def parse(body: str) -> Reviewed | None:
    """The record of a plan comment; None when its last plan failed or the record is missing or malformed."""
    lines = body.split("\n", 2)
    if len(lines) < 2 or lines[0].strip() != MARKER:
        return None
    match = _RECORD.fullmatch(lines[1].strip())
    if match is None or match.group("digest") is None:
        return None
    return Reviewed(match.group("digest"), match.group("sha"), int(match.group("run")), match.group("artifact"))
