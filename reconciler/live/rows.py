"""The boundary check of live rows: every list row is checked where it enters, before anything plans on it.

Planning and export trust the rows they read (`row["id"]`, `int(row["parent_id"])`, an enum compared with
a manifest value). A row that does not fit would otherwise surface as a traceback deep in a family's
plan, or worse, as a plan built on a misread object. So each row is checked once, as it is read (one
pass per collection, linear in the rows), against what its collection needs (`RowRules`):

- derived for every collection: an integer `id` (required) and its `label` fields (strings or null);
- from the collection's `shape` (the canonical shape that reads its rows): each attribute by its API key;
  a reference is an integer or null, a set of references a list of integers, a negated flag a boolean,
  `name` a string (required: without it the object could not be matched); the kinds and enums of plain
  attributes come from the collection's manifest `definition` (the JSON Schema fragment of the same key);
- the collection's own `fields` (`RowField`), which add to or override the derived ones.

A row that does not fit raises `LiveDataError`, naming the request, the row (its position in the list,
counted from 0 across pages, and its id when it has a usable one) and the field:
`GET /v3/<list>: row 3 (id 17): field "parent_id" must be an integer or null, got "x"`. Nothing is
planned on a failed read and nothing is written: `plan` and `apply` settle every read before showing or
applying a plan (`reconciler/live/reading.py`).

Tolerated, and reported at INFO level (`-v`) once per list read: fields the rules do not name (a newer
API may add any), and enum values outside a field's known ones when the planner does not act on them
(`RowField.acted_on` false); an unknown value of an acted-on enum is an error like a wrong type.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.errors import HarvestError
from reconciler.resources.base import Collection, RowField
from reconciler.resources.registry import REGISTRY

log = logging.getLogger(__name__)

_MISSING = object()
#: How many distinct unknown fields or values one INFO line names before "and N more".
_NOTE_LIMIT = 10
_SHOWN = 60


class LiveDataError(HarvestError):
    """A list answer the program cannot use: a row without a usable id, a field of the wrong kind, an
    unknown value of an enum the planner acts on. The message names method, path, row and field."""

    def __init__(self, method: str, path: str, where: str, problem: str) -> None:
        self.method = method
        self.path = path
        super().__init__(f"{method} {path}: {where}: {problem}")


#: Each kind as (the value's exact type, its items' exact type): exact, so a JSON `true` is not an integer.
#: None = anything. Plain type comparisons, not calls, keep the pass at about 2 us a row.
_KIND_TYPES: Mapping[str, tuple[type | None, type | None]] = {
    "integer": (int, None),
    "string": (str, None),
    "boolean": (bool, None),
    "integers": (list, int),
    "strings": (list, str),
    "any": (None, None),
}

_KIND_WORDS: Mapping[str, str] = {
    "integer": "an integer",
    "string": "a string",
    "boolean": "a boolean",
    "integers": "a list of integers",
    "strings": "a list of strings",
    "any": "a value",
}


def expectation(spec: RowField) -> str:
    """What a field must hold, in words: 'an integer or null'."""
    words = _KIND_WORDS[spec.kind]
    return f"{words} or null" if spec.nullable else words


@dataclass(frozen=True)
class RowRules:
    """What every row of one collection must hold: its fields by API key (id first)."""

    fields: tuple[RowField, ...]

    @property
    def known(self) -> frozenset[str]:
        return frozenset(f.key for f in self.fields)

    def checker(self, method: str, path: str) -> RowCheck:
        """A checker for one list read (`method path`): call it on each row in order, then `report()`."""
        return RowCheck(self, method, path)


class RowCheck:
    """Checks the rows of one list read in order; returns each row's id; collects what it tolerated.

    Every row is checked in full. The fields no rule names are collected from the first row and from each
    row whose number of fields differs from the row before it (the rows of one list share their fields,
    and comparing every row's keys would cost a quarter of the pass): they are only reported.
    Not thread-safe: one list read, one checker (each collection is read on one thread).
    """

    def __init__(self, rules: RowRules, method: str, path: str) -> None:
        self._method = method
        self._path = path
        self._tests = tuple((f.key, *_KIND_TYPES[f.kind], f) for f in rules.fields if f.key != "id")
        self._known = rules.known
        self._index = 0
        self._last_size = -1
        self._extra: set[str] = set()
        self._unknown: dict[tuple[str, str], int] = {}

    def __call__(self, row: Mapping[str, Any]) -> int:
        index = self._index
        self._index += 1
        raw_id = row.get("id", _MISSING)
        if type(raw_id) is not int:
            problem = 'field "id" is missing' if raw_id is _MISSING else f'field "id" must be an integer, got {_show(raw_id)}'
            raise LiveDataError(self._method, self._path, f"row {index}", problem)
        get = row.get
        for key, kind, item, spec in self._tests:
            value = get(key, _MISSING)
            if value is _MISSING:
                if spec.required:
                    self._fail(index, raw_id, f'field "{key}" is missing')
                continue
            if value is None:
                if not spec.nullable:
                    self._fail(index, raw_id, f'field "{key}" must be {expectation(spec)}, got null')
                continue
            if (kind is not None and type(value) is not kind) or (item is not None and any(type(i) is not item for i in value)):
                self._fail(index, raw_id, f'field "{key}" must be {expectation(spec)}, got {_show(value)}')
            if spec.values and value not in spec.values:
                if spec.acted_on:
                    known = ", ".join(sorted(spec.values))
                    self._fail(index, raw_id, f'field "{key}" has the unknown value {_show(value)}, which '
                                              f"the planner would act on (known: {known})")
                seen = (key, value)
                self._unknown[seen] = self._unknown.get(seen, 0) + 1
        if len(row) != self._last_size:  # rows of one list share their fields: look only when the count changes
            self._last_size = len(row)
            self._extra.update(row.keys() - self._known)
        return raw_id

    def report(self) -> None:
        """Log what was tolerated in this read (INFO): unknown enum values, fields the rules do not name."""
        by_key: dict[str, list[tuple[str, int]]] = {}
        for (key, value), count in sorted(self._unknown.items()):
            by_key.setdefault(key, []).append((value, count))
        for key, seen in by_key.items():
            shown = ", ".join(f"{_show(value)} ({count} row(s))" for value, count in seen[:_NOTE_LIMIT])
            more = f" and {len(seen) - _NOTE_LIMIT} more" if len(seen) > _NOTE_LIMIT else ""
            log.info('%s %s: field "%s" has values this program does not know: %s%s; tolerated (the planner '
                     "does not act on them)", self._method, self._path, key, shown, more)
        if self._extra:
            names = sorted(self._extra)
            more = f" and {len(names) - _NOTE_LIMIT} more" if len(names) > _NOTE_LIMIT else ""
            log.info("%s %s: field(s) not checked, tolerated: %s%s", self._method, self._path,
                     ", ".join(names[:_NOTE_LIMIT]), more)

    def _fail(self, index: int, row_id: int, problem: str) -> None:
        raise LiveDataError(self._method, self._path, f"row {index} (id {row_id})", problem)


def _show(value: Any) -> str:
    """A value as the API sent it (JSON), shortened: what `got ...` shows."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


# -- deriving the rules from what a collection declares ------------------------------------------

_ID = RowField("id", "integer", nullable=False, required=True)
_SCHEMA_KINDS = {"string": "string", "boolean": "boolean", "integer": "integer"}


def derive(collection: Collection | None) -> RowRules:
    """The rules of `collection` (None: a collection nobody declares; only the id is checked)."""
    if collection is None:
        return RowRules((_ID,))
    fields: dict[str, RowField] = {"id": _ID}
    for key in collection.label:
        fields[key] = RowField(key, "string")
    definition = collection.definition
    for attr in getattr(collection.shape, "attrs", ()):
        prop = definition.get(attr.name) if definition is not None else None
        fields[attr.api_key] = _from_attr(attr, prop.schema if prop is not None else None)
    for spec in collection.fields:
        fields[spec.key] = spec
    fields["id"] = _ID
    return RowRules(tuple(fields.values()))


def _from_attr(attr: Any, schema: Mapping[str, Any] | None) -> RowField:
    """One canonical attribute (`reconciler.resources.canonical.Attr`) as a row field, by its API key."""
    key = attr.api_key
    if attr.many:
        return RowField(key, "integers")
    if attr.ref is not None:
        return RowField(key, "integer")
    if attr.negate:
        return RowField(key, "boolean")
    if attr.name == "name":
        # The identity of most objects: a row without one would be planned as "not there" (and created again).
        return RowField(key, "string", nullable=False, required=True)
    if schema is None:
        return RowField(key, "any")
    kinds = schema.get("type")
    named = [kinds] if isinstance(kinds, str) else [k for k in kinds or () if k != "null"]
    kind = _SCHEMA_KINDS.get(named[0], "any") if len(named) == 1 else "any"
    values = frozenset(str(v) for v in schema.get("enum", ())) if kind == "string" else frozenset()
    return RowField(key, kind, values=values)


_cache: dict[tuple[int, str], RowRules] = {}
_cache_lock = threading.Lock()


def rules_for(collection: str) -> RowRules:
    """The rules of a registered collection by name (derived once per registry generation)."""
    views = REGISTRY.views  # loads the catalog first: its registrations move the generation
    key = (REGISTRY.generation, collection)
    with _cache_lock:
        found = _cache.get(key)
    if found is not None:
        return found
    rules = derive(views.collections.get(collection))
    with _cache_lock:
        _cache[key] = rules
    return rules


class CheckedReader:
    """A reader whose every list is checked like the collection read from the same path (`rules_for`).

    For the requests made outside the collection reads (the acting-identity guard's filtered user list):
    a row that does not fit is the same `LiveDataError`, never a traceback in the guard.
    """

    def __init__(self, reader: Any) -> None:
        self._reader = reader

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        views = REGISTRY.views
        name = next((c.name for c in views.collections.values() if c.path == path), None)
        rules = rules_for(name) if name is not None else derive(None)
        check = rules.checker("GET", path)
        rows: list[dict[str, Any]] = self._reader.list_all(path, params)
        for row in rows:
            check(row)
        check.report()
        return rows
