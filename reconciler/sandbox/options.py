"""The sandbox's configurable defaults for behaviour the Harvest v3 documentation does not pin down.

Every field here corresponds to an `[inferred]` item of the API reference (or a sandbox-only
mechanism). They are options, not facts: tests that depend on one should set it explicitly, and
docs/sandbox.md lists each with its reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

TOKEN_REVOCATION_SCOPES = ("per-client", "per-subject")
"""The values of `SandboxOptions.token_revocation`."""


@dataclass(frozen=True)
class SandboxOptions:
    """Knobs for undocumented behaviour; the defaults are the sandbox's best guess."""

    token_ttl_seconds: int = 3600
    """Access-token lifetime (1 h is stated for the partner flow; assumed for client credentials)."""
    single_active_token: bool = True
    """Minting a token revokes the previous one (observed live, not documented); its scope is
    `token_revocation`."""
    token_revocation: str = "per-client"
    """Which earlier token a new one revokes: `per-client` (the client's previous token, whatever its
    `sub`) or `per-subject` (only the client's previous token for the same acting user). Greenhouse
    does not document which it does."""
    reject_unknown_query_params: bool = True
    """A list request with a query parameter the endpoint does not know answers 422."""
    reject_unknown_body_keys: bool = True
    """A write whose JSON body carries a key the endpoint does not accept answers 422 naming it."""
    hide_confidential_jobs: bool = True
    """Confidential jobs never appear in `/v3/jobs` (the token user is on no hiring team)."""
    custom_fields_include_inactive: bool = True
    """`GET /v3/custom_fields` without `active` also returns inactive fields."""
    reject_duplicate_job_permission: bool = True
    """A second `user_job_permissions` row for the same (user, job) answers 422."""
    reject_duplicate_future_permission: bool = True
    """A second `future_job_permissions` row for the same (user, role, department, office) answers 422."""
    reject_duplicate_scoping_pair: bool = True
    """A second custom-field department/office row for the same pair answers 422."""
    reject_duplicate_active_option_name: bool = True
    """Creating an option whose name equals an active option of the same field answers 422."""
    unique_external_ids: bool = True
    """Department and office `external_id` values are unique per collection (else 422)."""
    bulk_polls_before_completion: int = 1
    """How many `GET /v3/bulk_requests/{uuid}` answer "in_progress" before the rows are applied
    and the request is "completed"; 0 applies the rows at submission."""
    bulk_max_rows: int = 100
    """The bulk cap (rows per request) is undocumented; larger `data` arrays answer 422."""
    bulk_expiry_seconds: int = 7 * 24 * 3600
    """Bulk request records (and their result files) disappear this long after submission."""
    results_url_ttl_seconds: int = 300
    """Result-file URLs are said to be valid 5 minutes; the sandbox reports it but does not enforce it."""
    rate_limit_retry_after_min: int = 1
    """`Retry-After` is never below this many seconds."""
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    """How the latency fault waits; tests pass a fake clock's sleep."""

    def __post_init__(self) -> None:
        if self.token_revocation not in TOKEN_REVOCATION_SCOPES:
            raise ValueError(
                f"sandbox option token_revocation must be one of {', '.join(TOKEN_REVOCATION_SCOPES)}, "
                f"got {self.token_revocation!r}"
            )
