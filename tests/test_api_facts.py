"""Every `[inferred]` Harvest v3 behaviour in the product's code is listed in docs/api-facts.md.

The code marks each guess about the API as `[inferred: key]`; the key must be a row of the facts page,
which says what the guess is and which setting changes it. (The sandbox's guesses are its options,
documented in docs/sandbox.md, and are not checked here.)
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAG = re.compile(r"\[inferred(?::\s*([a-z0-9-]+))?\]")


def product_tags() -> list[tuple[str, int, str | None]]:
    found = []
    for path in sorted((ROOT / "reconciler").rglob("*.py")):
        if "sandbox" in path.relative_to(ROOT / "reconciler").parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in TAG.finditer(line):
                found.append((f"{path.relative_to(ROOT)}:{number}", number, match.group(1)))
    return found


def documented_keys() -> set[str]:
    text = (ROOT / "docs" / "api-facts.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([a-z0-9-]+)` \|", text, flags=re.MULTILINE))


def test_every_inferred_tag_in_the_code_names_a_key() -> None:
    unkeyed = [where for where, _, key in product_tags() if key is None]
    assert unkeyed == [], "write [inferred: key] and add the key to docs/api-facts.md"


def test_every_inferred_key_in_the_code_is_a_row_of_the_facts_page() -> None:
    keys = documented_keys()
    missing = sorted({f"{where}: {key}" for where, _, key in product_tags() if key is not None and key not in keys})
    assert missing == []


def test_the_facts_page_has_inferred_rows_and_the_code_uses_them() -> None:
    used = {key for _, _, key in product_tags() if key}
    assert len(documented_keys()) >= 10 and len(used) >= 8
