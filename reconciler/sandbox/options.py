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
    """A second `user_job_permissions` row with another role for the same (user, job) answers 422
    (the same user, job and role twice is always a 422); also, a new job gets at most one automated
    grant per user. Both 422 messages contain "already"."""
    reject_duplicate_future_permission: bool = True
    """A second `future_job_permissions` row for the same (user, role, department, office) answers 422."""
    reject_duplicate_scoping_pair: bool = True
    """A second custom-field department/office row for the same pair answers 422."""
    reject_duplicate_active_option_name: bool = True
    """Creating an option whose name equals an active option of the same field answers 422."""
    unique_external_ids: bool = True
    """Department and office `external_id` values are unique per collection (else 422)."""
    bulk_processing_seconds: float = 0.5
    """How long a bulk request takes in the background, on the sandbox's clock: `pending`, then
    `in_progress` with its rows applied one by one, `completed` exactly this long after submission
    (0: applied before the 202 is answered). The real duration is undocumented."""
    bulk_shuffle: bool = True
    """Bulk rows run in a seeded shuffled order (each row is its own background job, so Greenhouse
    guarantees no order); False keeps submission order."""
    bulk_seed: int = 0
    """Seed of the sandbox's one bulk-order RNG: the same seed and submissions give the same orders."""
    bulk_max_rows: int = 100
    """The bulk cap (rows per request) is undocumented; larger `data` arrays answer 422."""
    bulk_expiry_seconds: int = 7 * 24 * 3600
    """Bulk request records (and their result files) disappear this long after submission."""
    results_url_ttl_seconds: int = 300
    """Result-file URLs are said to be valid 5 minutes; the sandbox reports it but does not enforce it."""
    rate_limit_retry_after_min: int = 1
    """`Retry-After` is never below this many seconds."""
    default_rate_limit: str = "10000/30"
    """The limit (N/SECONDS) in force without `--rate-limit`: high, but the `X-RateLimit-*` headers
    are always sent, as the real API sends them on every response."""
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    """How the latency fault waits; tests pass a fake clock's sleep."""

    def __post_init__(self) -> None:
        if self.token_revocation not in TOKEN_REVOCATION_SCOPES:
            raise ValueError(
                f"sandbox option token_revocation must be one of {', '.join(TOKEN_REVOCATION_SCOPES)}, "
                f"got {self.token_revocation!r}"
            )
