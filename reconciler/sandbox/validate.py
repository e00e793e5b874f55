"""Request-body validation shared by every write handler (and so by every bulk row).

Each helper either returns the value or raises a 422 `ApiError` naming the field, so handlers read
as a list of the keys they accept.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reconciler.sandbox.errors import ApiError, invalid


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Marks a key that is absent from the body (as opposed to present with null)."""


def body_object(data: Any, allowed: Iterable[str], strict: bool) -> dict[str, Any]:
    """The body as a dict; with `strict`, a key outside `allowed` is a 422 naming it."""
    if not isinstance(data, dict):
        raise ApiError(422, "Validation failed: the request body must be a JSON object",
                       [{"field": "body", "message": "must be a JSON object"}])
    if strict:
        allowed_set = set(allowed)
        for key in data:
            if key not in allowed_set:
                raise invalid(key, "is not a recognised attribute for this endpoint")
    return data


def _present(data: dict[str, Any], key: str, required: bool, nullable: bool) -> tuple[bool, Any]:
    """(True, value) when there is a non-null value to check; (False, MISSING or None) otherwise.

    Absent is MISSING (a 422 when `required`); null is None only when `nullable` and not `required`.
    """
    if key not in data:
        if required:
            raise invalid(key, "is required")
        return False, MISSING
    value = data[key]
    if value is None:
        if nullable and not required:
            return False, None
        raise invalid(key, "must not be null")
    return True, value


def string(data: dict[str, Any], key: str, *, required: bool = False, nullable: bool = False,
           non_empty: bool = True) -> Any:
    """A string value, MISSING when absent (or a 422 when `required`), None only when `nullable`."""
    present, value = _present(data, key, required, nullable)
    if not present:
        return value
    if not isinstance(value, str):
        raise invalid(key, "must be a string")
    if non_empty and not value.strip():
        raise invalid(key, "must not be blank")
    return value


def integer(data: dict[str, Any], key: str, *, required: bool = False, nullable: bool = False) -> Any:
    """An integer value (booleans refused), MISSING when absent, None only when `nullable`."""
    present, value = _present(data, key, required, nullable)
    if not present:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(key, "must be an integer")
    return value


def boolean(data: dict[str, Any], key: str) -> Any:
    """A boolean value or MISSING."""
    if key not in data:
        return MISSING
    value = data[key]
    if not isinstance(value, bool):
        raise invalid(key, "must be a boolean")
    return value


def integer_list(data: dict[str, Any], key: str) -> Any:
    """A list of distinct integers (order kept) or MISSING."""
    if key not in data:
        return MISSING
    value = data[key]
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise invalid(key, "must be an array of integers")
    return list(dict.fromkeys(value))


def exclusive(data: dict[str, Any], first: str, second: str) -> None:
    """At most one of two keys may be given."""
    if first in data and second in data:
        raise invalid(second, f"cannot be combined with {first}")
