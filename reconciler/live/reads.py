"""What to read: the one owner of which live collections a run needs and which list requests read them.

Plan, export and the staleness check of a saved plan all go through here: plan and export ask for the
collections of the sections they handle (`for_plan`, `for_export`); `requests` turns collections into
list requests; a saved plan records those requests and replays them (`read_live`) to detect staleness.
Each collection is read with one paginated list per declared parameter set, never one GET per object.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reconciler.errors import UsageError
from reconciler.live.org import LiveOrg, Reader
from reconciler.live.rows import rules_for
from reconciler.resources.registry import REGISTRY

if TYPE_CHECKING:
    from reconciler.manifest.model import Manifest

#: The `ids`/`*_ids` filters accept at most this many ids per request [2nd].
MAX_IDS = 50

Reads = Mapping[str, tuple[tuple[str, Mapping[str, Any]], ...]]


def check_only(only: Iterable[str]) -> tuple[str, ...]:
    """The `--only` resource types, de-duplicated; UsageError for an unknown one."""
    chosen = tuple(dict.fromkeys(only))
    types = REGISTRY.views.types
    unknown = [t for t in chosen if t not in types]
    if unknown:
        raise UsageError(f"unknown resource type(s) for --only: {', '.join(unknown)} (known: {', '.join(types)})")
    return chosen


def sections_for(only: Iterable[str] = ()) -> list[str]:
    """Every section that produces one of the `only` types (every section when `only` is empty)."""
    chosen = set(check_only(only))
    return [s for s, types in REGISTRY.views.section_types.items() if not chosen or chosen.intersection(types)]


def sections_to_plan(manifest: Manifest, only: Iterable[str] = ()) -> list[str]:
    """The manifest's sections that planning (restricted to `only`) covers."""
    return [s for s in sections_for(only) if s in manifest.present]


def for_plan(manifest: Manifest, only: Iterable[str] = ()) -> list[str]:
    """The live collections planning these sections must read (references included)."""
    needed: set[str] = set()
    for section in sections_to_plan(manifest, only):
        needed |= REGISTRY.family(section).plan_reads(manifest.entries.get(section, ()))
    return _ordered(needed)


def for_export(sections: Sequence[str]) -> list[str]:
    """The live collections exporting these sections reads."""
    return _ordered({c for s in sections for c in REGISTRY.family(s).export_reads})


def _ordered(collections: Iterable[str]) -> list[str]:
    order = list(REGISTRY.views.collections)
    return sorted(set(collections), key=order.index)


def requests(collections: Iterable[str], *, filter_ids: Iterable[int] | None = None) -> dict[str, tuple[tuple[str, Mapping[str, Any]], ...]]:
    """The list requests that read `collections`: one per declared parameter set of each.

    A collection with a `filter_param` (e.g. grants by `user_ids`), when `filter_ids` is given, is read
    filtered when the ids fit one filter (<= 50 ids, never more pages than the whole list), not at all
    when there are none, and whole otherwise.
    """
    declared = REGISTRY.views.collections
    ids = sorted(set(filter_ids)) if filter_ids is not None else None
    out: dict[str, tuple[tuple[str, Mapping[str, Any]], ...]] = {}
    for name in collections:
        c = declared[name]
        if c.filter_param is not None and ids is not None:
            if not ids:
                out[name] = ()
            elif len(ids) <= MAX_IDS:
                out[name] = ((c.path, {c.filter_param: ids}),)
            else:
                out[name] = ((c.path, {}),)
        else:
            out[name] = tuple((c.path, dict(p)) for p in c.params)
    return out


def read_live(reader: Reader, reads: Reads) -> LiveOrg:
    """Perform the reads (collections in the registry's fixed order) and merge each collection's rows by id,
    each row checked as it enters (`reconciler/live/rows.py`)."""
    rows: dict[str, dict[int, Mapping[str, Any]]] = {}
    order = [c for c in REGISTRY.views.collections if c in reads] + [c for c in reads if c not in REGISTRY.views.collections]
    for c in order:
        merged: dict[int, Mapping[str, Any]] = {}
        rules = rules_for(c)
        for path, params in reads[c]:
            check = rules.checker("GET", path)
            for row in reader.list_all(path, dict(params)):
                merged[check(row)] = row
            check.report()
        rows[c] = merged
    return LiveOrg(rows=rows, reads=dict(reads))


def is_filtered(collection: str) -> bool:
    """Whether the collection is read in the second stage, filtered by the managed objects' ids."""
    return REGISTRY.views.collections[collection].filter_param is not None


def label(collection: str, row: Mapping[str, Any]) -> str:
    """How a person recognises a row of `collection` (empty when the collection declares nothing)."""
    declared = REGISTRY.views.collections.get(collection)
    fields = declared.label if declared is not None else ("name",)
    return next((str(row[f]) for f in fields if row.get(f)), "")
