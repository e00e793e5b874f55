"""Harvest v3 HTTP client: OAuth client credentials, Link pagination, throttling, safe retries, bulk.

`HarvestReader` (GET-only, for planning) and `HarvestClient` (adds writes, for applying) are the
only ways the rest of the product talks to Greenhouse. See docs/harvest-client.md.
"""

from __future__ import annotations

from .bulk import BulkOutcome, Polling
from .client import HarvestClient, HarvestReader
from .results import WriteResult
from .settings import USER_AGENT, Settings

__all__ = ["USER_AGENT", "BulkOutcome", "HarvestClient", "HarvestReader", "Polling", "Settings", "WriteResult"]
