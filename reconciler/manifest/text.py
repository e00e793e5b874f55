"""Small wording helpers shared by the manifest checks: JSON paths, quoting, near-miss suggestions.

Every user-facing manifest message is built from these, so the same thing is always written the same
way: values in double quotes (JSON style), paths as `$.departments[3].parent`, lists joined in prose.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

#: One step of a path into a YAML document: a mapping key or a list index.
Step = str | int
PathKey = tuple[Step, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def json_path(path: Sequence[Step], root: str = "$") -> str:
    """`("departments", 3, "parent")` -> `$.departments[3].parent`; odd keys as `["a b"]`."""
    out = [root]
    for step in path:
        if isinstance(step, int):
            out.append(f"[{step}]")
        elif _PLAIN_KEY.match(step):
            out.append(f".{step}" if out != [""] else step)
        else:
            out.append(f"[{json.dumps(step, ensure_ascii=False)}]")
    return "".join(out)


def relative_path(path: Sequence[Step]) -> str:
    """The path of a value relative to its entry: `("options", 2, "name")` -> `options[2].name`."""
    return json_path(path, root="")


def quote(value: Any) -> str:
    """A value as the user should read it in a message: strings in double quotes, the rest as JSON."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice to a misspelt word, or None when nothing is close enough."""
    pool = [c for c in choices if isinstance(c, str)]
    found = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not found:
        lowered = {c.lower(): c for c in pool}
        found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        found = [lowered[f] for f in found]
    return found[0] if found else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean "name"?)` or the empty string."""
    best = suggest(word, choices)
    return f" (did you mean {quote(best)}?)" if best is not None else ""


def prose_list(items: Iterable[str], last: str = "and") -> str:
    """`a`, `a and b`, `a, b and c`."""
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"
