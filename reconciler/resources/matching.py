"""Matching desired entries to live objects by identity: id, or external_id, then name, then previous names.

Shared by the families whose objects have names, optional external ids and `previously` (departments,
offices, custom field options): `LiveNames` indexes live rows once; `match_one` applies the rules to one
entry and never guesses (two candidates are an error).

An entry's `id` (the live object's Harvest id, the identity of last resort that export writes when nothing
else names an object uniquely) is the whole identity when given: it matches that live object or nothing,
and nothing is a problem at the entry (an id names an object of one organisation; creating a new object
instead would be a guess).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.manifest.model import Entry
from reconciler.planner.context import Context


class IdRule(str):
    """The label of an `id` rule: a rule that must match (no candidate is a problem, not a create)."""

    __slots__ = ()


@dataclass(frozen=True)
class LiveNames:
    """Live objects by external_id and by name: what entries with `external_id`/`name`/`previously` match."""

    by_ext: Mapping[str, list[int]]
    by_name: Mapping[str, list[int]]
    ids: frozenset[int] = frozenset()

    @classmethod
    def of(cls, rows: Mapping[int, Mapping[str, Any]]) -> LiveNames:
        by_ext: dict[str, list[int]] = defaultdict(list)
        by_name: dict[str, list[int]] = defaultdict(list)
        for oid, row in rows.items():
            if row.get("external_id"):
                by_ext[str(row["external_id"])].append(oid)
            by_name[str(row.get("name"))].append(oid)
        return cls(by_ext, by_name, frozenset(rows))

    def rules(
        self, data: Mapping[str, Any], prefer: Callable[[list[int]], list[int]] = list
    ) -> list[tuple[str, list[int]]]:
        """The match rules for `match_one`: the id alone (when given); else external_id (when given), name,
        then each previous name.

        `prefer` narrows name candidates (e.g. active options before archived ones).
        """
        if data.get("id") is not None:
            wanted = int(data["id"])
            return [(IdRule(f"id {wanted}"), [wanted] if wanted in self.ids else [])]
        rules: list[tuple[str, list[int]]] = []
        if data.get("external_id"):
            rules.append((f'external_id "{data["external_id"]}"', self.by_ext.get(str(data["external_id"]), [])))
        rules.append((f'name "{data["name"]}"', prefer(self.by_name.get(str(data["name"]), []))))
        for old in data.get("previously", []):
            rules.append((f'previous name "{old}"', prefer(self.by_name.get(str(old), []))))
        return rules


def match_one(
    ctx: Context,
    noun: str,
    entry: Entry,
    candidates: list[tuple[str, list[int]]],
    claimed: dict[int, Entry],
) -> tuple[bool, int | None]:
    """Pick the live object an entry denotes, trying each (rule, ids) in order.

    Returns (ok, live id or None when nothing matches). The first rule with any candidate decides:
    exactly one candidate matches; two or more are an error (never a guess), reported as (False, None).
    A live object claimed by an earlier entry is an error too, and so is an `id` rule (`IdRule`) that
    matches nothing.
    """
    for rule, ids in candidates:
        distinct = sorted(set(ids))
        if not distinct and isinstance(rule, IdRule):
            ctx.problem(entry.at("id"), f"{rule} matches no live {noun}: a Harvest id names an object of one "
                        "organisation (this manifest may come from another one); remove the id to match by "
                        "external_id or name, or correct it")
            return False, None
        if not distinct:
            continue
        if len(distinct) > 1:
            ctx.problem(
                entry.source,
                f"{rule} matches {len(distinct)} live {noun}s (ids {', '.join(map(str, distinct))}); "
                "give an external_id/key to say which one; if they are duplicates (e.g. made by two overlapping "
                "applies), merge or rename them in Greenhouse, then plan again",
            )
            return False, None
        live_id = distinct[0]
        other = claimed.get(live_id)
        if other is not None:
            ctx.problem(entry.source, f"matches the same live {noun} (id {live_id}) as {other.source}")
            return False, None
        claimed[live_id] = entry
        return True, live_id
    return True, None
