"""The manifest JSON Schema (generated from the resource registry through `sections.py`) and schema validation with located messages.

`json_schema()` is what `greenhouse-reconciler schema` prints and what `schemas/manifest.schema.json`
holds (a test fails when the committed file is stale). `validate(doc)` reports every schema error of
one file (jsonschema's `iter_errors`), each at the `file:line:col: $.path` where it was written, in
words a recruiting-ops user can act on, with a near-miss suggestion for unknown keys and bad values.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonschema

from reconciler.errors import Problem
from reconciler.manifest.definitions import EMAIL_PATTERN, PATTERN_MESSAGES
from reconciler.manifest.sections import MANIFEST_VERSION, definitions, manifest_definition
from reconciler.manifest.text import PathKey, did_you_mean, prose_list, quote, suggest
from reconciler.manifest.yamlload import Document
from reconciler.resources.registry import REGISTRY

RANK_SCHEMA = 2
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    """The manifest JSON Schema (draft 2020-12), freshly built from the section definitions."""
    body = manifest_definition().schema()
    return {
        "$schema": DRAFT,
        "title": "greenhouse-reconciler manifest",
        **body,
        "$defs": {d.name: d.schema() for d in definitions()},
    }


def _validator() -> jsonschema.Draft202012Validator:
    """The compiled validator of the current registry (rebuilt only when a family is registered)."""
    REGISTRY.views  # noqa: B018 - loads the catalog first
    return _validator_for(REGISTRY.generation)


@lru_cache(maxsize=1)
def _validator_for(_registry_state: int) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema())


@dataclass(frozen=True)
class SchemaResult:
    """The schema problems of one document, and which parts they make unusable for later checks."""

    problems: tuple[Problem, ...]
    #: (section, index) of items with a schema error; a bare section name when the section itself is bad.
    bad: frozenset[tuple[str, int] | str]


def validate(doc: Document) -> SchemaResult:
    """Every schema error of `doc`, located and worded."""
    if doc.data is None:  # an empty file (or only comments) is a valid, empty manifest
        return SchemaResult((), frozenset())
    problems: list[Problem] = []
    bad: set[tuple[str, int] | str] = set()
    errors = sorted(_validator().iter_errors(doc.data), key=lambda e: [str(p) for p in e.absolute_path])
    suggested: set[tuple[PathKey, str]] = set()
    pending_required: list[tuple[PathKey, str]] = []
    for error in errors:
        path: PathKey = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            for key, message, suggestion in _unknown_keys(path, error):
                _mark_bad((*path, key), bad)
                problems.append(Problem(RANK_SCHEMA, doc.where((*path, key)), message))
                if suggestion is not None:
                    suggested.add((path, suggestion))
        elif error.validator == "required":
            _mark_bad(path, bad)
            for key in error.validator_value:
                if isinstance(error.instance, dict) and key not in error.instance:
                    pending_required.append((path, key))
        else:
            _mark_bad(path, bad)
            problems.append(Problem(RANK_SCHEMA, doc.where(path), _message(doc, path, error)))
    for path, key in pending_required:
        if (path, key) not in suggested:  # "nmae" already says "did you mean name"
            problems.append(Problem(RANK_SCHEMA, doc.where(path), f"missing required key {quote(key)}"))
    return SchemaResult(tuple(problems), frozenset(bad))


def _mark_bad(path: PathKey, bad: set[tuple[str, int] | str]) -> None:
    if not path:
        bad.add("*")
        return
    section = str(path[0])
    if len(path) >= 2 and isinstance(path[1], int):
        bad.add((section, path[1]))
    else:
        bad.add(section)


def _unknown_keys(path: PathKey, error: Any) -> list[tuple[str, str, str | None]]:
    """(key, message, suggested key) for every key the object's schema does not allow."""
    allowed = list(error.schema.get("properties", {}))
    what = "section" if not path else "key"
    out = []
    for key in error.instance:
        if key in allowed:
            continue
        best = suggest(key, allowed)
        if best is not None:
            message = f"unknown {what} {quote(key)} (did you mean {quote(best)}?)"
        else:
            message = f"unknown {what} {quote(key)} (allowed: {', '.join(allowed)})"
        out.append((key, message, best))
    return out


_KIND_WORDS = {
    "string": "a string",
    "array": "a list",
    "object": "a mapping",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _got(value: Any) -> str:
    if value is None:
        return "null (nothing)"
    if isinstance(value, bool):
        return f"the boolean {'true' if value else 'false'}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {quote(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__  # pragma: no cover - documents hold only the kinds above


def _message(doc: Document, path: PathKey, error: Any) -> str:
    v = error.validator
    value = error.instance
    field = str(path[-1]) if path and isinstance(path[-1], str) else "this value"
    if v == "type":
        kinds = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        message = f"expected {prose_list([_KIND_WORDS.get(str(k), str(k)) for k in kinds], 'or')}, got {_got(value)}"
        loc = doc.locs.get(path)
        if "string" in kinds and loc is not None and loc.raw is not None:
            message += f" (quote it: {quote(loc.raw)})"
        elif value is None and "array" in kinds:
            message += " (write [] for an empty list)"
        return message
    if v == "enum":
        allowed = [str(a) for a in error.validator_value]
        hint = did_you_mean(str(value), allowed) if isinstance(value, str) else ""
        what = "prune mode" if len(path) >= 2 and path[-2] == "prune" else field
        return f"invalid {what} {quote(value)}{hint}; allowed: {', '.join(allowed)}"
    if v == "const" and path == ("version",):
        return f"unsupported manifest version {quote(value)}: this program reads version {MANIFEST_VERSION}"
    if v in ("minLength", "pattern"):
        shown = PATTERN_MESSAGES.get(error.schema.get("pattern", ""), "is not valid")
        if shown == PATTERN_MESSAGES[EMAIL_PATTERN]:
            return f"{quote(value)} {shown}"
        if error.schema.get("type") == ["string", "object"]:  # the shorthand form of an object
            field = "name"
        elif field == "this value":
            field = "a list item"
        return f"{field} {shown}"
    if v == "uniqueItems":
        repeated = [x for x, n in Counter(quote(x) for x in value).items() if n > 1]
        return f"{field} lists {prose_list(repeated)} more than once"
    if v == "minimum":
        return f"{field} must be at least {error.validator_value}, got {quote(value)}"
    if v == "maximum":
        return f"{field} must be at most {error.validator_value}, got {quote(value)}"
    return f"{field}: {error.message}"
