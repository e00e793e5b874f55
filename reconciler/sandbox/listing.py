"""List endpoints: query validation, filters, keyset pagination and the opaque cursor.

Contract (reference 1.4, 1.6, 1.7): a bare JSON array ordered by id descending; `per_page` 1..500
(default 100); a `Link: <...?cursor=...>; rel="next"` header only when more rows exist; the cursor
is URL-safe base64 of the collection, the filters, `per_page` and the last id, and must be the only
query parameter when present; `ids` and `*_ids` take at most 50 comma-separated values; date
filters accept `created_at=gte|2024-01-01T00:00:00Z` (several `op|value` pairs may be chained with
`|` or repeated) and `created_at[gte]=...`. Every violation is a 422.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reconciler.sandbox import timeutil
from reconciler.sandbox.errors import ApiError
from reconciler.sandbox.schema import FIELDS, FILTERS, Filter
from reconciler.sandbox.store import Store

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 500
MAX_IDS = 50
MAX_FIELDS = 50
_DATE_OPS = ("gte", "lte", "gt", "lt")
_BRACKET = re.compile(r"^([a-z_]+)\[(gte|lte|gt|lt)\]$")
_LIST_KINDS = ("ids", "strs", "nested_ids")

Row = dict[str, Any]
Predicate = Callable[[Row], bool]


def bad_param(name: str, message: str) -> ApiError:
    return ApiError(422, f"Invalid query parameter {name}: {message}", [{"field": name, "message": message}])


@dataclass(frozen=True)
class Page:
    """One page of a list answer: the rows (already projected) and the next cursor, if any."""

    rows: list[Row]
    next_cursor: str | None


def normalise_query(pairs: Iterable[tuple[str, str]], collection: str) -> dict[str, str]:
    """Fold repeated parameters: list filters and `fields` join with ",", date filters with "|";
    any other repeated parameter is a 422."""
    out: dict[str, str] = {}
    for key, value in pairs:
        if key not in out:
            out[key] = value
            continue
        flt = FILTERS.get(collection, {}).get(key)
        if key in ("ids", "fields") or (flt is not None and flt.kind in _LIST_KINDS):
            out[key] = f"{out[key]},{value}"
        elif flt is not None and flt.kind == "date":
            out[key] = f"{out[key]}|{value}"
        else:
            raise bad_param(key, "given more than once")
    return out


def encode_cursor(collection: str, params: dict[str, str], per_page: int, last_id: int) -> str:
    raw = json.dumps({"c": collection, "q": params, "p": per_page, "a": last_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, collection: str) -> tuple[dict[str, str], int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        params, per_page, last_id = data["q"], data["p"], data["a"]
        valid = (
            data["c"] == collection
            and isinstance(params, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
            and isinstance(per_page, int)
            and isinstance(last_id, int)
        )
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        valid = False
    if not valid:
        raise bad_param("cursor", "is not a valid cursor for this endpoint")
    return params, per_page, last_id


def _int(name: str, text: str) -> int:
    if not re.fullmatch(r"-?\d+", text.strip()):
        raise bad_param(name, "must be an integer")
    return int(text)


def _bool(name: str, text: str) -> bool:
    if text not in ("true", "false"):
        raise bad_param(name, "must be true or false")
    return text == "true"


def _items(name: str, text: str) -> list[str]:
    items = [v.strip() for v in text.split(",")]
    if any(not v for v in items):
        raise bad_param(name, "must be a comma-separated list without empty entries")
    if len(items) > MAX_IDS:
        raise bad_param(name, f"accepts at most {MAX_IDS} values")
    return items


def _date_ops(name: str, text: str) -> list[tuple[str, datetime]]:
    parts = text.split("|")
    if len(parts) % 2 != 0:
        raise bad_param(name, "must be operator|date-time, e.g. gte|2024-01-01T00:00:00Z")
    ops = []
    for op, value in zip(parts[::2], parts[1::2], strict=True):
        if op not in _DATE_OPS:
            raise bad_param(name, f"unknown operator {op!r} (use gte, lte, gt or lt)")
        ops.append((op, _date(name, value)))
    return ops


def _date(name: str, value: str) -> datetime:
    try:
        return timeutil.parse(value)
    except ValueError:
        raise bad_param(name, f"{value!r} is not an ISO 8601 date-time") from None


def _compare(op: str, left: datetime, right: datetime) -> bool:
    if op == "gte":
        return left >= right
    if op == "lte":
        return left <= right
    if op == "gt":
        return left > right
    return left < right


def _holds_option(value: Any, option: Row) -> bool:
    """Whether a `custom_fields` entry (or its `value`) names the option (see `_option_predicate`)."""
    if isinstance(value, Mapping):
        if "value" in value:
            return _holds_option(value["value"], option)
        return bool(value.get("id") == option["id"] or value.get("name") == option["name"])
    if isinstance(value, list):
        return any(_holds_option(v, option) for v in value)
    if isinstance(value, bool):
        return False
    return bool(value == option["id"] or value == option["name"])


def _match(value: Any, wanted: set[Any]) -> bool:
    if isinstance(value, list):
        return any(v in wanted for v in value)
    return value in wanted


class ListQuery:
    """A validated list request for one collection: predicates, page size and the resume point."""

    def __init__(self, store: Store, collection: str, query: dict[str, str], strict: bool) -> None:
        self.store = store
        self.collection = collection
        self.after: int | None = None
        if "cursor" in query:
            others = sorted(k for k in query if k != "cursor")
            if others:
                raise bad_param(others[0], "cannot be combined with cursor (send the Link URL as given)")
            params, per_page, self.after = decode_cursor(query["cursor"], collection)
        else:
            params, per_page = dict(query), DEFAULT_PER_PAGE
            if "per_page" in params:
                per_page = _int("per_page", params["per_page"])
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise bad_param("per_page", f"must be between 1 and {MAX_PER_PAGE}")
        self.params = {k: v for k, v in params.items() if k != "per_page"}
        self.per_page = per_page
        self.predicates: list[Predicate] = []
        self.ids: list[int] | None = None
        self.fields: list[str] | None = None
        self.special: dict[str, str] = {}
        for name, text in self.params.items():
            self._parse(name, text, strict)

    def _parse(self, name: str, text: str, strict: bool) -> None:
        filters = FILTERS[self.collection]
        bracket = _BRACKET.match(name)
        if name == "ids":
            self.ids = sorted({_int(name, v) for v in _items(name, text)}, reverse=True)
        elif name == "fields":
            wanted = [v.strip() for v in text.split(",") if v.strip()]
            if len(wanted) > MAX_FIELDS:
                raise bad_param(name, f"accepts at most {MAX_FIELDS} fields")
            for f in wanted:
                if f not in FIELDS[self.collection]:
                    raise bad_param(name, f"unknown field {f!r}")
            self.fields = wanted
        elif bracket and bracket.group(1) in filters and filters[bracket.group(1)].kind == "date":
            field, op = filters[bracket.group(1)].field, bracket.group(2)
            self._date_predicate(field, [(op, _date(name, text))])
        elif name in filters:
            self._filter(name, filters[name], text)
        elif strict:
            raise bad_param(name, "is not a supported parameter for this endpoint")

    def _date_predicate(self, field: str, ops: list[tuple[str, datetime]]) -> None:
        def pred(row: Row) -> bool:
            value = row.get(field)
            if not isinstance(value, str):
                return False
            try:
                stamp = timeutil.parse(value)
            except ValueError:
                return False
            return all(_compare(op, stamp, bound) for op, bound in ops)

        self.predicates.append(pred)

    def _filter(self, name: str, flt: Filter, text: str) -> None:
        field = flt.field
        wanted: set[Any]
        if flt.kind == "special":
            self.special[name] = text
            self._special(name, field, text)
            return
        if flt.kind == "date":
            self._date_predicate(field, _date_ops(name, text))
            return
        if flt.kind == "int":
            wanted = {_int(name, text)}
        elif flt.kind == "str":
            wanted = {text}
        elif flt.kind == "bool":
            wanted = {_bool(name, text)}
        elif flt.kind == "enum":
            if text not in flt.choices:
                raise bad_param(name, f"must be one of {', '.join(flt.choices)}")
            wanted = {text}
        elif flt.kind == "ids":
            wanted = {_int(name, v) for v in _items(name, text)}
        elif flt.kind == "strs":
            wanted = set(_items(name, text))
        elif flt.kind == "nested_ids":
            nested = {_int(name, v) for v in _items(name, text)}
            self.predicates.append(lambda row: any(
                isinstance(item, Mapping) and item.get("id") in nested for item in row.get(field) or []))
            return
        elif flt.kind == "option":
            self.predicates.append(self._option_predicate(field, _int(name, text)))
            return
        else:  # "ext": resolve external ids to internal ids
            wanted = {r["id"] for r in self.store.find(flt.ref, "external_id", text)}
        self.predicates.append(lambda row: _match(row.get(field), wanted))

    def _option_predicate(self, field: str, option_id: int) -> Predicate:
        """Rows whose `custom_fields` value for the option's field holds the option.

        How Harvest v3 spells a select value inside `custom_fields` is undocumented (reference 2.8,
        2.11 give only `{name, type, value}`), so a value naming the option by id or by name, alone,
        in a list, or as an `{id, name}` object, all count. An unknown option id matches nothing
        `[inferred]`.
        """
        option = self.store.get("custom_field_options", option_id)
        custom_field = self.store.get("custom_fields", option["custom_field_id"]) if option else None
        if option is None or custom_field is None:
            return lambda row: False
        key = custom_field["name_key"]

        def pred(row: Row) -> bool:
            values = row.get(field)
            return isinstance(values, Mapping) and key in values and _holds_option(values[key], option)

        return pred

    def _special(self, name: str, field: str, text: str) -> None:
        if name == "custom_field_key":
            keys = {r["id"] for r in self.store.find("custom_fields", "name_key", text)}
            self.predicates.append(lambda row: row.get(field) in keys)
        elif name in ("primary_email", "email"):
            emails = {e.lower() for e in (_items(name, text) if name == "email" else [text])}
            self.predicates.append(lambda row: str(row.get(field) or "").lower() in emails)
        elif name == "show_service_accounts":
            _bool(name, text)
        elif name == "active":
            active = _bool(name, text)
            self.predicates.append(lambda row: (row.get(field) != "completed") == active)

    def page(self, visible: Predicate | None = None) -> Page:
        """Walk ids downward from the resume point, keep matching rows, stop after one extra."""
        rows_by_id = self.store.rows[self.collection]
        if self.ids is not None:
            candidates: Iterable[int] = (i for i in self.ids if self.after is None or i < self.after)
        else:
            candidates = self.store.ids_desc(self.collection, self.after)
        found: list[Row] = []
        for row_id in candidates:
            row = rows_by_id.get(row_id)
            if row is None or (visible is not None and not visible(row)):
                continue
            if all(p(row) for p in self.predicates):
                found.append(row)
                if len(found) > self.per_page:
                    break
        more = len(found) > self.per_page
        found = found[: self.per_page]
        cursor = None
        if more:
            cursor = encode_cursor(self.collection, self.params, self.per_page, found[-1]["id"])
        if self.fields is not None:
            wanted = self.fields
            return Page([{f: row.get(f) for f in wanted} for row in found], cursor)
        return Page(found, cursor)
