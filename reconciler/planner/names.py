"""Names as an admin reads them: which two names are near-duplicates, and how to show a name's invisible parts.

Two names are *near-duplicates* when they differ only in letter case, in spaces (leading, trailing, doubled
or other whitespace) or in Unicode form (`Cafe\\u0301`, decomposed, against `Café`, composed: NFC). A person
reads them as one name; Greenhouse stores them as two objects. `fold` is the key under which near-duplicates
are equal, so a planner indexes live names by it once and looks each desired name up (linear, never a
pairwise comparison). `quoted` writes a name so that every such difference shows, in any output.
"""

from __future__ import annotations

import json
import unicodedata


def fold(name: str) -> str:
    """The key under which near-duplicates are equal: NFC, case-folded (NFC again: folding can decompose),
    whitespace runs as one space, no leading or trailing whitespace."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())
    return " ".join(folded.split())


def _spaced(name: str) -> str:
    return " ".join(name.split())


def differences(a: str, b: str) -> str:
    """How two near-duplicate names differ, in words: "letter case", "spaces", "Unicode form (NFC)", or
    several of them ("letter case and spaces")."""
    kinds: list[str] = []
    a_nfc, b_nfc = unicodedata.normalize("NFC", a), unicodedata.normalize("NFC", b)
    if _spaced(a_nfc).casefold() == _spaced(b_nfc).casefold() and _spaced(a_nfc) != _spaced(b_nfc):
        kinds.append("letter case")
    if _spaced(a) != a or _spaced(b) != b:
        kinds.append("spaces")
    if a_nfc != a or b_nfc != b:
        kinds.append("Unicode form (NFC)")
    kinds = kinds or ["letter case"]  # casefold-only differences such as "ß" and "ss"
    return " and ".join(kinds)


def _escape(ch: str, decomposed: bool) -> str:
    category = unicodedata.category(ch)
    if category in ("Cc", "Cf", "Zl", "Zp", "Cs") or (category == "Zs" and ch != " ") or (
            decomposed and category.startswith("M")):
        return json.dumps(ch)[1:-1] if ord(ch) < 0x20 else f"\\u{ord(ch):04x}"
    return ch


def quoted(name: str) -> str:
    """`name` in double quotes with every invisible difference written out: control and format characters,
    non-ASCII spaces and (when the name is not in NFC) combining marks as escapes (`\\t`, `\\u0301`); a
    leading or trailing space shows inside the quotes. Quotes and backslashes in the name are escaped."""
    decomposed = unicodedata.normalize("NFC", name) != name
    body = name.replace("\\", "\\\\").replace('"', '\\"')
    if body.isprintable() and not decomposed:
        return f'"{body}"'
    return '"' + "".join(_escape(c, decomposed) for c in body) + '"'
