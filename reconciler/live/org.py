"""The live organisation: rows by collection, by id, as the Harvest v3 list endpoints return them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class Reader(Protocol):
    """What the live read needs: the GET-only Harvest client satisfies it."""

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class LiveOrg:
    """Rows by collection, by id. A collection that was not read is absent (not empty)."""

    rows: Mapping[str, Mapping[int, Mapping[str, Any]]] = field(default_factory=dict)
    #: How each collection was read: {collection: [(path, params), ...]}; replaying them re-reads the same objects.
    reads: Mapping[str, tuple[tuple[str, Mapping[str, Any]], ...]] = field(default_factory=dict)

    def get(self, collection: str) -> Mapping[int, Mapping[str, Any]]:
        return self.rows.get(collection, {})

    def has(self, collection: str) -> bool:
        return collection in self.rows

    def fingerprints(self) -> dict[str, dict[str, str]]:
        return {c: {str(i): fingerprint(r) for i, r in rows.items()} for c, rows in self.rows.items()}


def fingerprint(row: Mapping[str, Any]) -> str:
    """A short stable digest of one live object's content."""
    text = json.dumps(row, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def by_id(rows: Iterable[Mapping[str, Any]]) -> dict[int, Mapping[str, Any]]:
    """Rows keyed by their id, for building a `LiveOrg` from rows at hand (tests, tools; the reads build
    theirs from checked rows). The id must be an integer, as the row check (`reconciler/live/rows.py`)
    requires: a row without one raises ValueError naming its position, rather than a KeyError or a
    string id silently turned into a number."""
    out: dict[int, Mapping[str, Any]] = {}
    for index, r in enumerate(rows):
        raw = r.get("id")
        if type(raw) is not int:
            got = "it is missing" if "id" not in r else f"got {raw!r}"
            raise ValueError(f'row {index}: field "id" must be an integer; {got}')
        out[raw] = r
    return out
