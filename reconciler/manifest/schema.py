"""The manifest JSON Schema (generated from the resource registry through `sections.py`) and schema validation with located messages.

`json_schema()` is what `greenhouse-reconciler schema` prints and what `schemas/manifest.schema.json`
holds (a test fails when the committed file is stale). `validate(doc)` reports every schema error of
one file (jsonschema's `iter_errors`), each at the `file:line:col: $.path` where it was written, in
words a recruiting-ops user can act on, with a near-miss suggestion for unknown keys and bad values.
A compiled quick check (`_quick`) answers first: a document it is sure about is valid without collecting
errors; any other document gets jsonschema's full report, so the report never depends on the quick check.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

from reconciler.errors import RANK_SCHEMA, Problem
from reconciler.manifest.definitions import EMAIL_PATTERN, PATTERN_MESSAGES
from reconciler.manifest.sections import MANIFEST_VERSION, definitions, manifest_definition
from reconciler.manifest.text import PathKey, did_you_mean, prose_list, quote, suggest
from reconciler.manifest.yamlload import Document
from reconciler.resources.registry import REGISTRY

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
    import jsonschema  # noqa: PLC0415 - imported on first use: a valid folder never needs it (50 ms saved)

    return jsonschema.Draft202012Validator(json_schema())


def _quick_check() -> Callable[[Any], bool] | None:
    """`_quick(json_schema())` of the current registry, made once per registry state."""
    REGISTRY.views  # noqa: B018 - loads the catalog first
    return _quick_check_for(REGISTRY.generation)


@lru_cache(maxsize=1)
def _quick_check_for(_registry_state: int) -> Callable[[Any], bool] | None:
    try:
        return _quick(json_schema())
    except _Unsupported:  # pragma: no cover - a test asserts the manifest schema compiles
        return None


class _Unsupported(Exception):
    """The schema uses a keyword (or a form of one) that `_quick` does not compile."""


#: The keywords `_compile` checks.
_COMPILED = frozenset({
    "type", "enum", "const", "minLength", "pattern", "uniqueItems", "minimum", "maximum", "properties",
    "additionalProperties", "required", "items", "$ref",
})  # fmt: skip
#: Keywords that do not constrain an instance.
_ANNOTATIONS = frozenset({"description", "title", "$schema", "$comment", "default", "examples", "$defs"})
#: JSON Schema type names -> the Python types of loaded YAML values that have that type for sure. Exact
#: `type(...)` tests: bool is not an integer, and 2.0 (an integer to jsonschema) counts as a miss, which
#: only means the full validator runs.
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "object": (dict,),
    "array": (list,),
    "boolean": (bool,),
    "null": (type(None),),
    "integer": (int,),
    "number": (int, float),
}


def _quick(schema: Mapping[str, Any]) -> Callable[[Any], bool]:
    """A predicate over loaded documents that is True only when `schema` accepts the instance.

    It may answer False for an instance the schema accepts (then the full validator runs and finds nothing),
    never True for one it refuses: each keyword is checked conservatively, with the instance kinds a YAML
    file can produce. Raises `_Unsupported` for a keyword it does not know, so a schema change can never
    make it lenient. About ten times faster than `iter_errors` on a valid document: the common case,
    whose report is empty, costs one walk; a document with errors is still reported by jsonschema alone."""
    defs: dict[str, Callable[[Any], bool]] = {}
    for name, fragment in schema.get("$defs", {}).items():
        defs[name] = _compile(fragment, defs)
    return _compile(schema, defs)


def _compile(fragment: Mapping[str, Any], defs: Mapping[str, Callable[[Any], bool]]) -> Callable[[Any], bool]:
    if not isinstance(fragment, Mapping) or set(fragment) - _COMPILED - _ANNOTATIONS:
        raise _Unsupported(str(fragment))
    types: frozenset[type] | None = None
    if "type" in fragment:
        names = fragment["type"] if isinstance(fragment["type"], list) else [fragment["type"]]
        if any(n not in _JSON_TYPES for n in names):
            raise _Unsupported(f"type {names}")
        types = frozenset(t for n in names for t in _JSON_TYPES[n])
    enum: frozenset[str] | None = None
    if "enum" in fragment:
        if not all(isinstance(e, str) for e in fragment["enum"]):
            raise _Unsupported("enum of non-strings")
        enum = frozenset(fragment["enum"])
    has_const = "const" in fragment
    const = fragment.get("const")
    if has_const and type(const) not in (str, int):
        raise _Unsupported("const")
    min_length: int | None = fragment.get("minLength")
    search = re.compile(fragment["pattern"]).search if "pattern" in fragment else None
    unique = fragment.get("uniqueItems", False) is True
    minimum, maximum = fragment.get("minimum"), fragment.get("maximum")
    props = {key: _compile(sub, defs) for key, sub in fragment.get("properties", {}).items()}
    additional = fragment.get("additionalProperties", True)
    if additional not in (True, False):
        raise _Unsupported("additionalProperties with a schema")
    closed = frozenset(props) if additional is False else None
    required = tuple(fragment.get("required", ()))
    items = _compile(fragment["items"], defs) if "items" in fragment else None
    ref = fragment.get("$ref")
    if ref is not None and not (isinstance(ref, str) and ref.startswith("#/$defs/")):
        raise _Unsupported(f"$ref {ref}")
    ref_name = ref[len("#/$defs/") :] if ref is not None else None

    def check(value: Any) -> bool:
        kind = type(value)
        if types is not None and kind not in types:
            return False
        if enum is not None and (kind is not str or value not in enum):
            return False
        if has_const and (kind is not type(const) or value != const):
            return False
        if kind is str:
            if min_length is not None and len(value) < min_length:
                return False
            if search is not None and search(value) is None:
                return False
        elif kind is dict:
            if closed is not None and not closed.issuperset(value):
                return False
            for key in required:
                if key not in value:
                    return False
            for key, item in value.items():
                sub = props.get(key)
                if sub is not None and not sub(item):
                    return False
        elif kind is list:
            if unique and not (all(type(x) is str for x in value) and len(set(value)) == len(value)):
                return False
            if items is not None:
                for item in value:
                    if not items(item):
                        return False
        elif kind is int or kind is float:
            if minimum is not None and value < minimum:
                return False
            if maximum is not None and value > maximum:
                return False
        return ref_name is None or defs[ref_name](value)

    return check


Bad = tuple[str, int] | tuple[str, int, str] | str
"""A place `SchemaResult.bad` marks (see there)."""


@dataclass(frozen=True)
class SchemaResult:
    """The schema problems of one document, and which parts they make unusable for later checks."""

    problems: tuple[Problem, ...]
    #: Where the errors are: (section, index, key) for an error below one key of an item, (section, index)
    #: for an error of the item itself (its type, a missing required key), a bare section name when the
    #: section itself is bad, "*" when the whole document is; in the policy, "policy.<block>" or
    #: "policy.<block>.<key>" (e.g. "policy.limits.max_deletes").
    bad: frozenset[Bad]


def validate(doc: Document) -> SchemaResult:
    """Every schema error of `doc`, located and worded."""
    if doc.data is None:  # an empty file (or only comments) is a valid, empty manifest
        return SchemaResult((), frozenset())
    quick = _quick_check()
    if quick is not None and quick(doc.data):  # sure to be valid: no need to collect (no) errors
        return SchemaResult((), frozenset())
    problems: list[Problem] = []
    bad: set[Bad] = set()
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


def _mark_bad(path: PathKey, bad: set[Bad]) -> None:
    if not path:
        bad.add("*")
        return
    section = str(path[0])
    if section == "policy" and len(path) >= 2:  # "policy.limits", "policy.prune.users": the rest still counts
        bad.add(".".join(str(step) for step in path[:3]))
    elif len(path) >= 3 and isinstance(path[1], int) and isinstance(path[2], str):
        bad.add((section, path[1], path[2]))
    elif len(path) >= 2 and isinstance(path[1], int):
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


_BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "y", "n"})


def _unquote_hint(value: str, kinds: list[Any]) -> str:
    """How to write a quoted (or YAML 1.2 plain) string as the number or boolean that was expected."""
    text = value.strip()
    if "boolean" in kinds and text.lower() in _BOOLEAN_WORDS:
        return " (write true or false)"
    if "integer" in kinds and text.isascii() and text.lstrip("+-").isdigit():
        return f" (write {int(text)}, without quotes)"
    if "number" in kinds:
        try:
            number = float(text)
        except ValueError:
            return ""
        return f" (write {text}, without quotes)" if number == number else ""
    return ""


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
        elif value is None:
            message += " (write a value after the colon, or remove the key)"
        elif isinstance(value, str) and "string" not in kinds:
            message += _unquote_hint(value, kinds)
        return message
    if v == "enum":
        allowed = [str(a) for a in error.validator_value]
        hint = did_you_mean(str(value), allowed) if isinstance(value, str) else ""
        what = "prune mode" if len(path) >= 2 and path[-2] == "prune" else field
        return f"invalid {what} {quote(value)}{hint}; allowed: {', '.join(allowed)}"
    if v == "const" and path == ("version",):
        if isinstance(value, str) and value.strip() == str(MANIFEST_VERSION):
            return (f"version must be the number {MANIFEST_VERSION}, not the string {quote(value)} "
                    f"(write version: {MANIFEST_VERSION}, without quotes)")
        return (f"unsupported manifest version {quote(value)}: this program reads version {MANIFEST_VERSION} "
                f"(write version: {MANIFEST_VERSION})")
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
