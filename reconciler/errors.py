"""The one exception tree of greenhouse-reconciler.

Every error a user can cause or meet is one of these; `cli` is the only module that catches them,
prints their text and turns them into exit code 1. Their text never contains a secret or a token.

    ReconcilerError                      base; str(e) is the complete user-facing message
    ├── UsageError                       bad settings or environment (missing GREENHOUSE_CLIENT_ID, http:// to a
    │                                    non-loopback host, unreadable file, ...)
    ├── ManifestError                    invalid manifests: carries every Problem, ranked, one per line
    ├── PlanError                        the manifests cannot be planned against the live organisation
    │                                    (unresolvable or ambiguous references, two live matches for one object,
    │                                    site_admin: true on a user who is not one, ...): carries Problems too
    ├── SafetyError                      apply refused: destructive changes without --allow-destructive, limits
    │                                    exceeded without --force, non-interactive without --yes
    ├── StalePlanError                   a saved plan's live objects changed since it was made
    ├── ApplyError                       a write failed mid-apply: says what was done, what failed, what was not tried
    └── HarvestError                     anything from the Harvest v3 API or the network
        ├── ApiError                     the API answered with an error status: "PATCH /v3/departments/4 -> 422: ..."
        │   └── AuthError                401/403, or the token endpoint refused the credentials
        ├── TransportError               no answer at all after the allowed retries (GETs) or at once (writes)
        ├── OutcomeUnknownError          a write was sent and its answer lost (timeout, dropped connection): the
        │                                server may or may not have committed it; never retried blindly
        ├── LiveDataError                a list row that does not fit what planning needs (reconciler/live/rows.py):
        │                                "GET /v3/departments: row 3 (id 17): field "parent_id" must be ..."
        └── BulkPendingError             a bulk request was (or may have been) accepted but its outcome cannot be
                                         learnt now (still pending, lost reply not found, status unreadable): its
                                         rows are never sent again; plan again later
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class ReconcilerError(Exception):
    """Base of every error the product raises on purpose."""


class UsageError(ReconcilerError):
    """Settings, environment or command-line input that cannot be used."""


#: Problem ranks: lower is more fundamental, and a report lists the lowest ranks first.
RANK_FILE = 0  # a file refused before parsing (size, encoding, unsafe YAML constructs)
RANK_SYNTAX = 1  # YAML syntax, duplicate keys
RANK_SCHEMA = 2  # the JSON Schema
RANK_SEMANTIC = 3  # offline checks across entries and files
PLAN_RANK = 4  # references and matches that need the live organisation


@dataclass(frozen=True, order=True)
class Problem:
    """One located complaint about the manifests.

    `where` is "file:line:col: $.json.path" (or just "file" / "$.path" when nothing finer is known);
    `rank` orders problems: lower is more fundamental (syntax < schema < semantic < live reference).
    """

    rank: int
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class _ProblemsError(ReconcilerError):
    """An error made of many located problems, printed ranked, one per line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(set(problems), key=_problem_order))
        super().__init__("\n".join(str(p) for p in self.problems))


def _problem_order(p: Problem) -> tuple[int, str, int, int, str]:
    file, line, col = _split_where(p.where)
    return (p.rank, file, line, col, p.message)


def _split_where(where: str) -> tuple[str, int, int]:
    parts = where.split(":")
    if len(parts) >= 3 and parts[1].isascii() and parts[1].isdigit() and parts[2].isascii() and parts[2].isdigit():
        return parts[0], int(parts[1]), int(parts[2])
    return where, 0, 0


class ManifestError(_ProblemsError):
    """The manifests are invalid (offline checks)."""


class PlanError(_ProblemsError):
    """The manifests cannot be planned against the live organisation (checks that need live data)."""


class SafetyError(ReconcilerError):
    """Apply refused by a safety rule; the text names the numbers and the flag that overrides it."""


class StalePlanError(ReconcilerError):
    """A saved plan no longer matches the live organisation; the text names the changed objects."""

    def __init__(self, changed: Sequence[str]) -> None:
        self.changed = tuple(changed)
        lines = "\n".join(f"  {c}" for c in self.changed)
        super().__init__(
            f"the saved plan is stale: {len(self.changed)} live object(s) changed since it was made:\n{lines}\n"
            "run plan again and review the new plan"
        )


class ApplyError(ReconcilerError):
    """A write failed during apply. The message says what was applied, what failed and what was not tried."""


class HarvestError(ReconcilerError):
    """Anything that went wrong talking to the Harvest v3 API."""


class ApiError(HarvestError):
    """The API answered with an error status.

    str(e) reads `METHOD /v3/path -> STATUS: <the API's message>[; field: message ...]`.
    """

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        message: str,
        errors: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.errors = tuple(errors)
        detail = message or "(no message)"
        if self.errors:
            detail += "; " + "; ".join(f"{f}: {m}" if f else m for f, m in self.errors)
        super().__init__(f"{method} {path} -> {status}: {detail}")


class AuthError(ApiError):
    """Authentication or authorisation failed (401/403, or the token endpoint refused the credentials)."""


class TransportError(HarvestError):
    """No usable answer from the server (connection refused, timeouts, dropped connections)."""


class OutcomeUnknownError(HarvestError):
    """A write was sent but its answer was lost; whether it was committed is unknown.

    The caller must re-read the object before deciding anything: repeating the write blindly is how
    duplicates are born.
    """

    def __init__(self, method: str, path: str, cause: str) -> None:
        self.method = method
        self.path = path
        super().__init__(f"{method} {path} -> outcome unknown ({cause})")


class BulkPendingError(HarvestError):
    """A bulk request was or may have been accepted, and its outcome cannot be learnt now.

    Its rows may still be applied by Greenhouse in the background, so nothing is sent again: the apply
    stops, and a later `plan` shows what is left. `uuid` is the bulk request's id when known.
    """

    def __init__(self, method: str, path: str, uuid: str | None, detail: str) -> None:
        self.method = method
        self.path = path
        self.uuid = uuid
        what = f"bulk request {uuid}" if uuid else f"the bulk request {method} {path}"
        super().__init__(f"{what} still pending; run plan again later ({detail})")
