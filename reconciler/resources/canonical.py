"""One shape for desired and live: the canonical fields of a resource type, and the four converters.

A type's `Shape` lists its canonical fields (`Attr`). Each is a plain value, a reference to one object
of another type (`ref`), or a set of references (`many`). Canonical values are what the diff compares:

* plain values as written (strings, booleans, numbers, None);
* a reference as a *handle*: the live id (int) of the object, or the key (str) of the change in this
  plan that creates it (see `reconciler.planner.context`);
* a set of references as a sorted tuple of handles.

The converters:

* `from_api(row)`: a live row -> canonical (references are the row's ids);
* `from_manifest(data, resolve)`: a manifest entry -> canonical, only for the keys the entry writes
  (absent = unmanaged); references resolved by name/external id through `resolve`;
* `to_api(canonical)`: canonical -> the API body (references as ids or `{"$ref": key}`);
* `to_manifest(canonical, name_of)`: canonical -> manifest keys (references written by `name_of`).

`diff(desired, live, display)` compares the fields the desired side manages and returns the plan's
field changes and the PATCH body. Export writes `to_manifest(from_api(row))`, and `from_manifest` of
that is `from_api(row)` again: the round trip holds by construction, and a property test per type
checks it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.manifest.model import Source
from reconciler.planner.context import Diff, Handle, ref

#: (index kind, reference as written, path relative to the entry) -> handle, or None (problem recorded).
Resolve = Callable[[str, Any, str], "Handle | None"]
#: (index kind, handle) -> what a person reads in the plan (a name).
Display = Callable[[str, "Handle | None"], Any]
#: (index kind, live id) -> the reference to write in a manifest.
NameOf = Callable[[str, Any], Any]


@dataclass(frozen=True)
class Attr:
    """One canonical field. `name` is the manifest key; `api` the API key (default: the same).

    `ref` names the index kind of a reference ("department"); with `many`, the value is a set of them.
    `blank_is_none`: the API's "" means the same as null (free-form text cleared in the UI).
    `negate`: a boolean the API stores negated (`active` is the API's `deactivated`): canonical
    `not bool(api value)`, sent as `not canonical`.
    `optional`: the manifest writes None by leaving the key out (a scope's "any department"): an absent
    key reads as None (so it is never unmanaged), and `to_manifest` leaves a None out.
    """

    name: str
    api: str | None = None
    ref: str | None = None
    many: bool = False
    blank_is_none: bool = False
    negate: bool = False
    optional: bool = False

    @property
    def api_key(self) -> str:
        return self.api or self.name


def _order(handles: Iterable[Handle]) -> tuple[Handle, ...]:
    """Live ids ascending, then create keys: the order sets are compared and sent in."""
    return tuple(sorted(set(handles), key=lambda h: (isinstance(h, str), str(h) if isinstance(h, str) else h)))


@dataclass(frozen=True)
class Shape:
    """The canonical fields of one resource type, in plan order."""

    attrs: tuple[Attr, ...]

    def get(self, name: str) -> Attr | None:
        return next((a for a in self.attrs if a.name == name), None)

    # -- converters ----------------------------------------------------------------------------
    def from_api(self, row: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for a in self.attrs:
            value = row.get(a.api_key)
            if a.many:
                out[a.name] = _order(int(i) for i in value or [])
            elif a.ref is not None:
                out[a.name] = None if value is None else int(value)
            elif a.negate:
                out[a.name] = not bool(value)
            else:
                out[a.name] = None if a.blank_is_none and value == "" else value
        return out

    def from_manifest(self, data: Mapping[str, Any], resolve: Resolve) -> dict[str, Any] | None:
        """Canonical values of the keys `data` writes; None when a reference could not be resolved."""
        out: dict[str, Any] = {}
        ok = True
        for a in self.attrs:
            if a.name not in data:
                if a.optional:
                    out[a.name] = None
                continue
            value = data[a.name]
            if a.many:
                handles = [resolve(a.ref or "", v, f"{a.name}[{i}]") for i, v in enumerate(value or [])]
                ok = ok and all(h is not None for h in handles)
                out[a.name] = _order(h for h in handles if h is not None)
            elif a.ref is not None and value is not None:
                handle = resolve(a.ref, value, a.name)
                ok = ok and handle is not None
                out[a.name] = handle
            else:
                out[a.name] = value
        return out if ok else None

    def to_api(self, canonical: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for a in self.attrs:
            if a.name not in canonical:
                continue
            value = canonical[a.name]
            if a.many:
                out[a.api_key] = [ref(h) for h in value]
            elif a.ref is not None:
                out[a.api_key] = ref(value)
            else:
                out[a.api_key] = (not value) if a.negate else value
        return out

    def to_manifest(self, canonical: Mapping[str, Any], name_of: NameOf) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for a in self.attrs:
            if a.name not in canonical:
                continue
            value = canonical[a.name]
            if a.optional and value is None:
                continue
            if a.many:
                # An id reference (an int: no name names the object uniquely) stays an int, after the names.
                out[a.name] = sorted((name_of(a.ref or "", h) for h in value),
                                     key=lambda r: (isinstance(r, int), str(r)))
            elif a.ref is not None:
                out[a.name] = None if value is None else name_of(a.ref, value)
            else:
                out[a.name] = value
        return out

    # -- comparison ----------------------------------------------------------------------------
    def diff(self, desired: Mapping[str, Any], live: Mapping[str, Any], display: Display,
             names: Iterable[str] | None = None) -> Diff:
        """The managed fields (`names`, default: every key of `desired`) whose live value differs."""
        diff = Diff()
        chosen = list(desired) if names is None else [n for n in names if n in desired]
        for a in self.attrs:
            if a.name not in chosen:
                continue
            before, after = live.get(a.name), desired[a.name]
            if a.many:
                if tuple(before or ()) == tuple(after or ()):
                    continue  # the same set: no names to look up for the plan (most objects, most plans)
                shown = (sorted(str(display(a.ref or "", h)) for h in before or ()),
                         sorted(str(display(a.ref or "", h)) for h in after or ()))
                diff.compare(a.name, tuple(before or ()), tuple(after or ()), api=a.api_key,
                             send=[ref(h) for h in after], shown=shown)
            elif a.ref is not None:
                diff.compare(a.name, before, after, api=a.api_key, send=ref(after),
                             shown=(display(a.ref, before), display(a.ref, after)))
            elif a.negate:
                diff.compare(a.name, before, after, api=a.api_key, send=not after)
            else:
                diff.compare(a.name, before, after, api=a.api_key)
        return diff


def resolver(ctx: Any, at: Callable[[str], Source]) -> Resolve:
    """A `Resolve` through the plan context's indexes, locating problems with `at(relative path)`."""
    def resolve(kind: str, value: Any, relative: str) -> Handle | None:
        found: Handle | None = ctx.resolve(kind, value, at(relative))
        return found

    return resolve
