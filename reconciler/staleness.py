"""Is a saved plan still true? Re-read what its decisions depend on and compare.

The rule (docs/planning.md, "Saved plans"). A plan saved by `plan --out` records:

* `fingerprints` for the objects that matter to it, selected by `select_fingerprints`:
  (a) every object a change writes (its `id` in its type's collection); (b) every live object, of any
  collection read, whose id appears as a number anywhere in a change's writes (path segments, bodies,
  bulk items, settle probe params and matches) — the objects its writes refer to — and the acting user
  (in the collection of the family with the acting-user check). Choosing by number across every
  collection is deliberately generous: an object fingerprinted by coincidence can only make the check
  stricter, never miss a dependency.
* `identity_probes`: for each create, its first write's settle probe (list path, params, match). A row
  matching it at apply time means an object with that identity appeared, and the create would clash.

`fingerprint_scope` says which rule made the fingerprints: "decisions" (the rule above: only the recorded
ids are compared, so an unrelated new object never makes the plan stale) or "all" (a plan saved by an
earlier version, which fingerprinted every live object read: any object appearing is stale, as before).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from reconciler.executor import _matches
from reconciler.live import LiveOrg, Reader, read_live
from reconciler.live.org import fingerprint
from reconciler.live.reads import label as row_label
from reconciler.live.rows import CheckedReader
from reconciler.plan import Change, IdentityProbe, Plan


def stale_objects(plan: Plan, reader: Reader) -> list[str]:
    """Describe every recorded object that changed or vanished since the plan was made, every object that
    appeared (scope "all") and every row that now matches a create's identity probe (empty = fresh).

    Each line names the collection, the id and, when the row has one, its label.
    """
    live = read_live(reader, plan.reads)
    now = live.fingerprints()
    out: list[str] = []
    for collection in sorted(plan.fingerprints):
        before = plan.fingerprints[collection]
        after = now.get(collection, {})
        rows = live.get(collection)
        keys = set(before) | set(after) if plan.fingerprint_scope == "all" else set(before)
        for key in sorted(keys, key=int):
            if before.get(key) == after.get(key):
                continue
            label = row_label(collection, rows.get(int(key), {}))
            what = "appeared" if key not in before else "vanished" if key not in after else "changed"
            out.append(f"{collection} id {key}{f' ({label})' if label else ''} {what}")
    out.extend(_identity_conflicts(plan, reader))
    return out


def _identity_conflicts(plan: Plan, reader: Reader) -> Iterator[str]:
    """One line per live row that matches a create's identity probe: an object with that identity appeared."""
    from reconciler.resources.registry import REGISTRY

    types = {c.key: c.type for c in plan.changes}
    for probe in plan.identity_probes:
        collection = REGISTRY.views.type_collection.get(types.get(probe.change, ""), probe.path.rsplit("/", 1)[-1])
        for row in CheckedReader(reader).list_all(probe.path, dict(probe.params)):  # rows checked like any list
            if _matches(row, probe.match, probe.casefold):
                label = row_label(collection, row)
                yield (f"{collection} id {row.get('id')}{f' ({label})' if label else ''} appeared with the identity "
                       f"of the planned create {probe.change}")


def select_fingerprints(changes: Sequence[Change], live: LiveOrg,
                        acting_user_id: int | None = None) -> dict[str, dict[str, str]]:
    """The fingerprints a saved plan records: (a) the objects `changes` write, (b) every live object whose id
    appears as a number in their writes, and the acting user (see the module docstring). Only read
    collections are considered; a collection with nothing selected is left out."""
    from reconciler.resources.registry import REGISTRY

    wanted: dict[str, set[int]] = {}
    numbers: set[int] = set()
    for c in changes:
        collection = REGISTRY.views.type_collection.get(c.type)
        if c.id is not None and collection is not None:
            wanted.setdefault(collection, set()).add(int(c.id))
        if c.id is not None:
            numbers.add(int(c.id))
        numbers.update(ids_in_writes(c))
    if acting_user_id is not None:  # in the collection of the family that checks the acting user
        for family in REGISTRY.views.families:
            if family.acting_user_check is not None and family.types:
                wanted.setdefault(family.types[0].collection, set()).add(int(acting_user_id))
    out: dict[str, dict[str, str]] = {}
    for collection, rows in live.rows.items():
        chosen = (numbers | wanted.get(collection, set())) & set(rows)
        if chosen:
            out[collection] = {str(i): fingerprint(rows[i]) for i in sorted(chosen)}
    return out


def ids_in_writes(change: Change) -> set[int]:
    """Every number in `change`'s writes: all-digit path segments, and integers or all-digit strings in
    bodies, bulk items and settle probes (params and match). Booleans are not numbers."""
    found: set[int] = set()
    for w in change.writes:
        paths = [w.path] + ([w.settle.path] if w.settle is not None else [])
        for path in paths:
            found.update(int(s) for s in path.split("?", 1)[0].split("/") if _decimal(s))
        values: list[Any] = [w.body, w.bulk_item]
        if w.settle is not None:
            values += [dict(w.settle.params), dict(w.settle.match)]
        found.update(_numbers(values))
    return found


def _decimal(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts "²" and other digits int() refuses."""
    return text.isascii() and text.isdigit()


def _numbers(value: Any) -> Iterator[int]:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield value
    elif isinstance(value, str) and _decimal(value):
        yield int(value)
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _numbers(v)


def identity_probes(changes: Iterable[Change]) -> tuple[IdentityProbe, ...]:
    """For each create whose first write is a POST settled by a row being present, that probe: the identity
    that must still be absent at apply time. Probes that refer to objects the plan creates (`$ref`) are
    left out: no live row can match them before the referred create ran, and that create has its own."""
    out: list[IdentityProbe] = []
    for c in changes:
        if c.action != "create" or not c.writes:
            continue
        first = c.writes[0]
        s = first.settle
        if first.method != "POST" or s is None or s.committed_if != "present":
            continue
        if "$ref" in s.path + json.dumps([dict(s.params), dict(s.match)], default=str):
            continue
        out.append(IdentityProbe(c.key, s.path, dict(s.params), dict(s.match), tuple(s.casefold)))
    return tuple(out)
