"""Writers that wrap the real client so a test can act between the executor's steps.

`Meddling` calls `before(method, path, body)` just before each write reaches the client: what another
user (or another apply) does in Greenhouse at that moment, after the executor's re-read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reconciler.harvest import HarvestClient
from reconciler.harvest.bulk import BulkOutcome, Polling
from reconciler.harvest.results import WriteResult

Before = Callable[[str, str, Any], None]


class Meddling:
    """A `reconciler.executor.Writer` over `client` that runs `before` ahead of every write."""

    def __init__(self, client: HarvestClient, before: Before) -> None:
        self.client = client
        self.before = before

    def post(self, path: str, json: Any = None) -> WriteResult:
        self.before("POST", path, json)
        return self.client.post(path, json)

    def patch(self, path: str, json: Any) -> WriteResult:
        self.before("PATCH", path, json)
        return self.client.patch(path, json)

    def delete(self, path: str, json: Any = None) -> WriteResult:
        self.before("DELETE", path, json)
        return self.client.delete(path, json)

    def bulk(self, method: str, path: str, data: Sequence[Any], *, polling: Polling | None = None) -> BulkOutcome:
        self.before(method, path, list(data))
        return self.client.bulk(method, path, data, polling=polling)

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.client.list_all(path, params)
