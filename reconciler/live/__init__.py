"""The live side: what the Harvest v3 list endpoints return, and which of them a run reads.

`org` holds the rows (`LiveOrg`); `reads` owns "what to read" for plan, export and staleness;
`reading` reads for a manifest, with the acting-identity guards; `pending` reads collections
concurrently, as futures; `rows` checks every row as it enters (`LiveDataError` when one does not fit).
"""

from __future__ import annotations

from reconciler.live.org import LiveOrg, Reader, by_id, fingerprint
from reconciler.live.pending import DEFAULT_WORKERS, WORKERS_ENV, ReadStopped, workers_from_env
from reconciler.live.reading import (
    PlanReading,
    check_not_all_empty,
    early_collections,
    read_for_export,
    read_for_manifest,
)
from reconciler.live.reads import (
    MAX_IDS,
    check_only,
    for_export,
    for_plan,
    read_live,
    requests,
    sections_for,
    sections_to_plan,
)
from reconciler.live.rows import LiveDataError, RowRules, rules_for

__all__ = [
    "DEFAULT_WORKERS",
    "MAX_IDS",
    "WORKERS_ENV",
    "LiveDataError",
    "LiveOrg",
    "PlanReading",
    "ReadStopped",
    "Reader",
    "RowRules",
    "by_id",
    "check_not_all_empty",
    "check_only",
    "early_collections",
    "fingerprint",
    "for_export",
    "for_plan",
    "read_for_export",
    "read_for_manifest",
    "read_live",
    "requests",
    "rules_for",
    "sections_for",
    "sections_to_plan",
    "workers_from_env",
]
