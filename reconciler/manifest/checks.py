"""Semantic checks that need nothing but the manifests (rank 3). Checks that need the live organisation
(does "Enginering" exist? is REQ-2000 ambiguous?) run in `plan`, not here.

Each resource family checks its own section (`Family.check`); this module runs them in section order
and supplies the shared tools: duplicate identities (each reported at the later place, naming the
first), free `previously` names, and `Checking`, the state one run shares so a family can look at
another section's entries (a custom field's `departments` refer to the departments section). The
policy is checked here: `prune: enforce` where the API cannot delete.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from reconciler.errors import RANK_SEMANTIC, Problem
from reconciler.manifest.model import Entry, Policy, Source
from reconciler.manifest.text import ascii_quote, quote
from reconciler.resources.registry import REGISTRY

#: (identity value compared, path relative to the entry, value as written)
Key = tuple[Any, str, Any]

T = TypeVar("T")


class Checking:
    """What one check run shares between families: every section's entries, and objects built from them."""

    def __init__(self, entries: Mapping[str, Sequence[Entry]]) -> None:
        self._entries = entries
        self._shared: dict[str, Any] = {}

    def entries(self, section: str) -> Sequence[Entry]:
        return self._entries.get(section, ())

    def shared(self, name: str, build: Callable[[], T]) -> T:
        """The object `build` makes, built once per run under `name` (e.g. a tree's reference index)."""
        if name not in self._shared:
            self._shared[name] = build()
        found: T = self._shared[name]
        return found


def check(entries: Mapping[str, Sequence[Entry]], policy: Policy) -> list[Problem]:
    """Every semantic problem of the merged manifests."""
    checking = Checking(entries)
    problems: list[Problem] = []
    for family in REGISTRY.families:
        problems += family.check(checking.entries(family.section), checking)
    return problems + _policy(policy)


def place(source: Source) -> str:
    return f"{source.file}:{source.line}:{source.column}"


def duplicates(
    entries: Iterable[Entry], keys: Callable[[Entry], Iterable[Key]], what: str, note: str = ""
) -> list[Problem]:
    """Identities that occur twice: reported at the second place, naming the first. Strings are compared
    after Unicode NFC normalisation (`composed`)."""
    first: dict[Any, tuple[Entry, str, Any]] = {}
    out: list[Problem] = []
    for entry in entries:
        for raw, rel, shown in keys(entry):
            key = raw if type(raw) is str and raw.isascii() else composed(raw)  # the common case, without a call
            if key not in first:
                first[key] = (entry, rel, shown)
                continue
            prior, prior_rel, prior_shown = first[key]
            where = place(prior.at(prior_rel))
            if prior_shown == shown:
                same = f"first at {where}"
            elif composed(prior_shown) == composed(shown):
                same = (
                    f"same as {ascii_quote(prior_shown)} at {where}, written here as {ascii_quote(shown)}: the two "
                    "display alike and differ only in how accents are encoded (Unicode normalisation); retype one"
                )
            else:
                same = f"same as {quote(prior_shown)} at {where}"
            same += f"; {note}" if note else ""
            out.append(Problem(RANK_SEMANTIC, str(entry.at(rel)), f"duplicate {what} {quote(shown)} ({same})"))
    return out


def composed(key: Any) -> Any:
    """An identity key with its strings in Unicode NFC: "Cafe\u0301" and "Caf\u00e9" are one name to a
    person (they display alike), so they are one identity for the duplicate checks. ASCII is left as is."""
    if isinstance(key, str):
        return key if key.isascii() else unicodedata.normalize("NFC", key)
    if isinstance(key, tuple):
        return tuple(composed(k) for k in key)
    return key


def by_field(name: str) -> Callable[[Entry], Iterable[Key]]:
    """The identity key of `duplicates` that is the value of one field (entries without it have none)."""
    def keys(entry: Entry) -> Iterable[Key]:
        value = entry.data.get(name)
        return [(value, name, value)] if value is not None else []

    return keys


def renames(entries: Sequence[Entry], what: str, group: Callable[[Entry], Any] = lambda e: None) -> list[Problem]:
    """`previously` names must be free: not another object's name, not claimed twice, not the own name
    (compared after Unicode NFC normalisation, as `duplicates` does)."""
    names = {(group(e), composed(e.data["name"])): e for e in reversed(entries)}
    claimed: dict[tuple[Any, str], Entry] = {}
    out: list[Problem] = []
    for entry in entries:
        for j, old in enumerate(entry.data.get("previously", [])):
            at = str(entry.at(f"previously[{j}]"))
            key = (group(entry), composed(old))
            owner = names.get(key)
            other = claimed.get(key)
            if composed(old) == composed(entry.data["name"]):
                out.append(Problem(RANK_SEMANTIC, at, f"previously lists the {what}'s own name {quote(old)}"))
            elif owner is not None:
                out.append(
                    Problem(
                        RANK_SEMANTIC,
                        at,
                        f"previously name {quote(old)} is the name of another {what} (at {place(owner.source)}); "
                        "the rename would be ambiguous",
                    )
                )
            elif other is not None and other is not entry:
                out.append(
                    Problem(
                        RANK_SEMANTIC,
                        at,
                        f"previously name {quote(old)} is also claimed by {what} {quote(other.data['name'])} "
                        f"(at {place(other.source)})",
                    )
                )
            else:
                claimed[key] = entry
    return out


def _policy(policy: Policy) -> list[Problem]:
    out: list[Problem] = []
    for family in sorted(REGISTRY.families, key=lambda f: f.section):
        if family.deletable or policy.prune.get(family.section) != "enforce":
            continue
        at = policy.sources.get(f"prune.{family.section}")
        extra = f"; {family.prune_hint}" if family.prune_hint else ""
        out.append(
            Problem(
                RANK_SEMANTIC,
                str(at) if at else "",
                f"prune: enforce is not possible for {family.section}: the API cannot delete them (use report or off)"
                f"{extra}",
            )
        )
    return out
