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


# -- what each list row must hold: the facts page's table is the one the registry derives -------------------


def row_rules_table() -> list[str]:
    """The rows of the facts page's "What a list row must hold" table, from `reconciler.live.rows`."""
    from reconciler.live.rows import expectation, rules_for
    from reconciler.resources.registry import REGISTRY

    lines = []
    for name, collection in REGISTRY.views.collections.items():
        fields, enums = [], []
        for spec in rules_for(name).fields:
            words = expectation(spec).replace("a list of ", "list of ").replace("an ", "").replace("a ", "")
            fields.append(f"`{spec.key}` {words}{', required' if spec.required else ''}")
            if spec.values:
                verdict = "an error" if spec.acted_on else "tolerated"
                enums.append(f"`{spec.key}`: {len(spec.values)} known values, an unknown one is {verdict}")
        lines.append(f"| `GET {collection.path}` | {'; '.join(fields)} | {'; '.join(enums) or '-'} |")
    return lines


def test_the_facts_page_lists_what_each_list_row_must_hold_as_the_code_checks_it() -> None:
    text = (ROOT / "docs" / "api-facts.md").read_text(encoding="utf-8")
    section = text.split("\n## What a list row must hold", 1)[1].split("\n## ", 1)[0]
    documented = [line for line in section.splitlines() if line.startswith("| `GET /v3/")]
    assert documented == row_rules_table()
