"""Names checked like an admin would: no stray spaces, no invisible or control characters (rank 2).

Which values are names comes from the manifest definitions, not from a list here: every string whose
schema has a `pattern` is a single-line value (names, option and tag names, keys, external ids, emails,
references such as `parent`, `offices`, a grant's `role`); strings without one (a custom field's
`description`, a user's `job_title`) are free text and may hold anything. Two kinds of single-line
value are exempt, because they name live objects exactly as Greenhouse holds them, stray characters
and all: `previously` items (`previously: "Referral "` is how a live name with a trailing space is
renamed to a clean one) and `policy.protect` entries.

A single-line value is an error, said with the fix and the character shown visibly, when it has

* leading or trailing whitespace of any kind (spaces, tabs, line breaks, U+00A0 no-break space, ...);
* a control character anywhere (C0 and C1, including a line break `\\n` or a tab `\\t`);
* an invisible format character anywhere (U+200B zero width space, U+FEFF, U+2060, bidirectional
  controls such as U+202E, the soft hyphen U+00AD), except a zero width joiner or non-joiner (U+200D,
  U+200C) between two visible characters, which Persian, Indic scripts and emoji sequences need;
* a line or paragraph separator (U+2028, U+2029), or a space character other than the ordinary space
  inside it: U+00A0 and its kin look like a space and are not one (the ideographic space U+3000, at home
  in CJK text, is allowed between words).

`name_problem` is the rule on one string; the planner may use it too (export does, to know which live
names cannot be written back as they are).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from reconciler.errors import RANK_SCHEMA, Problem
from reconciler.manifest.text import PathKey, quote
from reconciler.manifest.yamlload import Document
from reconciler.resources.registry import REGISTRY

#: Keys whose values (and list items) name live objects as they are: exempt from the rules.
EXEMPT_KEYS = frozenset({"previously"})
#: Definitions whose values name live objects as they are: exempt from the rules.
EXEMPT_DEFINITIONS = frozenset({"protect"})

_JOINERS = frozenset({"\u200c", "\u200d"})
_ALLOWED_INSIDE = frozenset({" ", "\u3000"})
_WORDS = {
    " ": "space",
    "\t": "tab (\\t)",
    "\n": "line break (\\n)",
    "\r": "carriage return (\\r)",
}


def character(c: str) -> str:
    """A character as a message shows it: `space`, `tab (\\t)`, `no-break space (U+00A0)`."""
    if c in _WORDS:
        return _WORDS[c]
    name = unicodedata.name(c, "")
    code = f"U+{ord(c):04X}"
    if unicodedata.category(c) == "Cc" or not name:
        return f"control character ({code})" if unicodedata.category(c) == "Cc" else f"character {code}"
    return f"{name.lower()} ({code})"


def name_problem(value: str) -> str | None:
    """What is wrong with a single-line value, ending with how to fix it; None when nothing is.

    The text reads after the value: `"Referral " has a trailing space; remove it`."""
    if value.isprintable() and value[:1] != " " and value[-1:] != " ":
        return None  # the fast path: nothing invisible, no space at either end
    stripped = value.strip()
    if not stripped:
        return None  # blank: the schema's "must not be empty or blank" says it
    if value[0] != stripped[0]:
        lead = value[: len(value) - len(value.lstrip())]
        return f"has a leading {_run(lead)}; remove it"
    if value[-1] != stripped[-1]:
        trail = value[len(value.rstrip()) :]
        return f"has a trailing {_run(trail)}; remove it"
    for i, c in enumerate(value):
        category = unicodedata.category(c)
        if category == "Cc":
            fix = "write the value on one line" if c in "\n\r" else "remove it"
            return f"contains a {character(c)}; {fix}"
        if category == "Cf":
            if c in _JOINERS and _visible(value, i - 1) and _visible(value, i + 1):
                continue
            return f"contains an invisible {character(c)}; remove it"
        if category in ("Zl", "Zp"):
            return f"contains a {character(c)}; write the value on one line"
        if category == "Zs" and c not in _ALLOWED_INSIDE:
            return f"contains a {character(c)}, which looks like a space but is not one; type a normal space"
    return None


def _run(chars: str) -> str:
    """`space`, `tab (\\t)`, or `run of 3 characters: space, tab (\\t), ...` for a longer mixed run."""
    if len(set(chars)) == 1:
        word = character(chars[0])
        return word if len(chars) == 1 else f"{word} ×{len(chars)}"
    return f"run of {len(chars)} characters ({', '.join(character(c) for c in chars)})"


def _visible(value: str, i: int) -> bool:
    return 0 <= i < len(value) and value[i].isprintable() and not value[i].isspace()


def check(doc: Document, refused: frozenset[str] = frozenset()) -> list[Problem]:
    """The name problems of one document: each odd string (`Document.odd`) that is a single-line value.
    A value at a place in `refused` (where the schema already reported a problem) is not reported again."""
    out: list[Problem] = []
    for path in doc.odd:
        value = _value_at(doc.data, path)
        if not isinstance(value, str) or not _single_line(path):
            continue
        if refused and doc.where(path) in refused:
            continue
        problem = name_problem(value)
        if problem is not None:
            out.append(Problem(RANK_SCHEMA, doc.where(path), f"{_field(path)} {quote(value)} {problem}"))
    return out


def _field(path: PathKey) -> str:
    """The field a message names: `name` for `...options[2].name` and for a shorthand item (a bare string
    standing for `{name: ...}`), `offices entry` for `...offices[1]`."""
    last = path[-1] if path else ""
    if not isinstance(last, int):
        return str(last)
    REGISTRY.views  # noqa: B018 - loads the catalog first
    shorthand = _shorthand_for(REGISTRY.generation, path[:-1])
    if shorthand is not None:
        return shorthand
    return f"{path[-2]} entry" if len(path) >= 2 and isinstance(path[-2], str) else "list item"


@lru_cache(maxsize=256)
def _shorthand_for(_registry_state: int, list_path: PathKey) -> str | None:
    """The shorthand key of the items of the list at `list_path`, if its items have one."""
    from reconciler.manifest.sections import definitions  # noqa: PLC0415 - the families import this package

    fragment = _fragment_at(_schema(_registry_state), list_path)
    ref = str((fragment or {}).get("items", {}).get("$ref", ""))
    by_name = {d.name: d for d in definitions()}
    found = by_name.get(ref.rsplit("/", 1)[-1]) if ref else None
    return found.shorthand if found is not None else None


def _value_at(data: Any, path: PathKey) -> Any:
    for step in path:
        found = isinstance(data, list) and isinstance(step, int) and step < len(data)
        if not (found or (isinstance(data, dict) and step in data)):
            return None
        data = data[step]
    return data


def _single_line(path: PathKey) -> bool:
    """Whether the manifest schema makes the string at `path` a single-line value (see the module doc)."""
    REGISTRY.views  # noqa: B018 - loads the catalog first
    return _single_line_for(REGISTRY.generation, path)


@lru_cache(maxsize=4096)
def _single_line_for(_registry_state: int, path: PathKey) -> bool:
    fragment = _fragment_at(_schema(_registry_state), path)
    return fragment is not None and "pattern" in fragment


@lru_cache(maxsize=1)
def _schema(_registry_state: int) -> Mapping[str, Any]:
    from reconciler.manifest.schema import json_schema  # noqa: PLC0415 - schema imports this package's readers

    return json_schema()


def _fragment_at(schema: Mapping[str, Any], path: PathKey) -> Mapping[str, Any] | None:
    """The schema fragment that governs the value at `path`, or None (no such place, or exempt)."""
    defs: Mapping[str, Any] = schema.get("$defs", {})
    fragment: Mapping[str, Any] | None = schema
    for step in path:
        fragment = _resolve(fragment, defs)
        if fragment is None:
            return None
        if isinstance(step, int):
            fragment = fragment.get("items")
        else:
            if step in EXEMPT_KEYS:
                return None
            fragment = fragment.get("properties", {}).get(step)
    return _resolve(fragment, defs)


def _resolve(fragment: Mapping[str, Any] | None, defs: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Follow `$ref`s to a definition; None for an exempt definition."""
    while fragment is not None and "$ref" in fragment:
        name = str(fragment["$ref"]).rsplit("/", 1)[-1]
        if name in EXEMPT_DEFINITIONS:
            return None
        fragment = defs.get(name)
    return fragment

