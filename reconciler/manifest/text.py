"""Small wording helpers shared by the manifest checks: JSON paths, quoting, near-miss suggestions.

Every user-facing manifest message is built from these, so the same thing is always written the same
way: values in double quotes (JSON style), paths as `$.departments[3].parent`, lists joined in prose.
"""

from __future__ import annotations

import json
import re
from collections import Counter
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
    """A value as the user should read it in a message: strings in double quotes, the rest as JSON.

    Invisible characters are shown as escapes: controls as JSON writes them (`\\t`, `\\n`, `\\u0007`), and
    every other character Python does not call printable (U+00A0 no-break space, U+200B zero width space,
    U+2028, a lone surrogate, ...) as `\\u00a0`, so "Referral" and "Referral\\u00a0" never look alike."""
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        except (TypeError, ValueError):
            return repr(value)
    return text if text.isprintable() else "".join(c if c.isprintable() else _escape(c) for c in text)


def ascii_quote(value: str) -> str:
    """A string in double quotes with every non-ASCII character escaped (`"Cafe\\u0301"`): for telling
    apart two strings that display alike."""
    return json.dumps(value, ensure_ascii=True)


def _escape(c: str) -> str:
    code = ord(c)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The choice a person would offer for a misspelt word, or None when nothing is close enough.

    Ranked by edit distance (insertions, deletions, substitutions and swaps of two neighbours, each one
    edit), compared without regard to case; ties go to the choice made of more of the word's own letters
    (a swap before a substitution: `Standrad` -> `Standard`, not `Stanbrad`), then to the one that shares
    the longer start and end with the word, then to the closer length, then to fewer case differences,
    then alphabetically. So
    `REQ-0001` suggests `REQ-1001` (one edit) rather than `REQ-2000` (two), `nmae` suggests `name` and
    `london` suggests `London`. Close enough: a case difference always; otherwise one edit for a word of
    3 to 7 characters, two for 8 to 15, three from 16 on (none for one or two characters).

    The pool may be a whole live collection (100k names): the closest distances are searched first, and
    a choice is compared character by character only when cheap bounds (its length, the characters it
    lacks or adds) allow it to be that close.
    """
    target = word.casefold()
    most = 0 if len(target) <= 2 else 1 if len(target) <= 7 else 2 if len(target) <= 15 else 3
    letters = frozenset(target)
    pool = [(c, c.casefold()) for c in choices if isinstance(c, str)]
    for budget in range(most + 1):
        best: tuple[tuple[int, int, int, int, str], str] | None = None
        for choice, folded in pool:
            if abs(len(folded) - len(target)) > budget:
                continue
            if budget == 0:
                if folded != target:
                    continue
            elif len(letters.difference(folded)) > budget or len(set(folded).difference(letters)) > budget:
                continue  # each edit adds or removes at most one distinct character
            elif _distance(target, folded, budget) is None:
                continue
            case = sum(1 for x, y in zip(word, choice, strict=False) if x != y and x.casefold() == y.casefold())
            key = (_letters_apart(target, folded), -_shared_ends(target, folded), abs(len(choice) - len(word)), case,
                   choice)
            if best is None or key < best[0]:
                best = (key, choice)
        if best is not None:
            return best[1]
    return None


def _letters_apart(a: str, b: str) -> int:
    """How many of `a`'s characters `b` lacks, counted with repeats: 0 for a swap (`Standrad`, `Standard`)."""
    return sum((Counter(a) - Counter(b)).values())


def _shared_ends(a: str, b: str) -> int:
    """Characters `a` and `b` share at the start plus at the end."""
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    return start + end


def _distance(a: str, b: str, budget: int) -> int | None:
    """The optimal-string-alignment distance of `a` and `b` when it is at most `budget`, else None.

    Only cells within `budget` of the diagonal are computed, and the scan stops as soon as a whole row is
    over budget, so comparing a word with a large pool of far-off choices stays cheap."""
    if a == b:
        return 0
    if budget == 0:
        return None
    over = budget + 1
    previous2: list[int] = []
    previous = [j if j <= budget else over for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        row = [over] * (len(b) + 1)
        if i <= budget:
            row[0] = i
        low, high = max(1, i - budget), min(len(b), i + budget)
        for j in range(low, high + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            row[j] = min(value, over)
        if min(row) > budget:
            return None
        previous2, previous = previous, row
    return previous[len(b)] if previous[len(b)] <= budget else None


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
