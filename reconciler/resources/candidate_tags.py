"""Candidate tags: the organisation's tag dictionary. Identity is the exact (case-sensitive) name.

The canonical shape is the name alone, so a matched tag never differs: planning is creates and deletes.
There is no rename endpoint: `previously:` on a tag plans a create of the new name and a delete of the
old one, and deleting a tag strips it from every candidate, so that delete is destructive.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.errors import Problem
from reconciler.manifest.checks import Checking, by_field, duplicates, renames
from reconciler.manifest.definitions import NAME, PREVIOUSLY, ObjectDef, Prop
from reconciler.manifest.model import Entry, Source
from reconciler.plan import Change, FieldChange, Settle, Write
from reconciler.planner.context import Context
from reconciler.planner.names import quoted
from reconciler.resources.base import Collection, Family, Phase, ResourceType
from reconciler.resources.canonical import Attr, Shape
from reconciler.resources.exporting import Exporting
from reconciler.resources.registry import REGISTRY

PATH = "/v3/candidate_tags"
SHAPE = Shape((Attr("name"),))

CANDIDATE_TAG = ObjectDef(
    "candidate_tag",
    "A candidate tag: its name as a string, or a mapping with previously. Names are case-sensitive.",
    (
        Prop("name", "The tag's name.", NAME, required=True),
        Prop(
            "previously",
            "Earlier names (a string or a list). Tags cannot be renamed through the API: the old tag is "
            "deleted and the new one created, which removes it from every candidate (destructive).",
            PREVIOUSLY,
        ),
    ),
    shorthand="name",
)


def plan_candidate_tags(ctx: Context) -> None:
    """Match each entry to the live tag with its exact name; create the missing ones; delete renamed-away
    and (under `prune: enforce`) unlisted ones. Warns about names a person would read as a live or another
    listed tag's name (case, spaces, Unicode form), `previously` names that name no live tag, and protect
    entries that match no tag."""
    live = ctx.live_rows("candidate_tags")
    by_name: dict[str, list[int]] = defaultdict(list)
    for live_id, row in live.items():
        by_name[_identity(SHAPE.from_api(row))].append(live_id)
    claimed: set[int] = set()
    written: list[tuple[str, Source | str, int | None]] = []
    for entry in ctx.entries("candidate_tags"):
        desired = SHAPE.from_manifest(entry.data, _no_references)
        assert desired is not None  # only an unresolved reference gives None, and a tag has none
        name = _identity(desired)
        ids = by_name.get(name, [])
        if len(ids) > 1:
            ctx.problem(entry.source, f'{len(ids)} live candidate tags are named "{name}" (ids {sorted(ids)})')
            continue
        written.append((name, entry.source, ids[0] if ids else None))
        if ids:
            claimed.add(ids[0])
            ctx.same("candidate_tag")
        else:
            ctx.add("candidate_tag", _create(desired, entry.data.get("previously", []), by_name))
        for old in entry.data.get("previously", []):
            if not by_name.get(str(old)):
                done = f"the rename is done (the {quoted(name)} tag exists)" if ids else "nothing is deleted"
                ctx.warn(f"{entry.at('previously')}: previously {quoted(str(old))} names no live candidate tag, so "
                         f"it is ignored: {done}; the `previously` entry can go")
            for live_id in by_name.get(str(old), []):
                if live_id in claimed:
                    continue
                claimed.add(live_id)
                if ctx.protected("candidate_tags", str(old)):
                    ctx.warn(f'candidate tag "{old}" is protected: it is kept although "{name}" replaces it',
                             unreachable=True)
                    ctx.add_unmanaged("candidate_tag", str(old), live_id, protected=True)
                    continue
                ctx.add("candidate_tag_delete", _delete(live_id, str(old), f'renamed to "{name}": the old tag is deleted and removed from every candidate'))
    live_names = {i: _identity(SHAPE.from_api(r)) for i, r in live.items()}
    ctx.near_duplicates("candidate tag", live_names, written)
    ctx.check_protect("candidate_tags", "candidate tag",
                      [*([n] for n in live_names.values()), *([n] for n, _, _ in written)])

    if "candidate_tags" not in ctx.manifest.present:
        return
    mode = ctx.prune_mode("candidate_tags")
    if mode == "off":
        return
    for live_id, row in sorted(live.items()):
        if live_id in claimed:
            continue
        name = str(row.get("name"))
        if mode != "enforce":
            ctx.add_unmanaged("candidate_tag", name, live_id)
        elif ctx.protected("candidate_tags", name):
            ctx.add_unmanaged("candidate_tag", name, live_id, protected=True)
        else:
            ctx.add("candidate_tag_delete", _delete(live_id, name, "not in any manifest (prune: enforce); removed from every candidate"))


def _identity(canonical: Mapping[str, Any]) -> str:
    """A tag's identity: its exact name (case-sensitive, no trimming)."""
    return str(canonical["name"])


def _create(desired: Mapping[str, Any], previously: Sequence[Any], by_name: Mapping[str, list[int]]) -> Change:
    name = _identity(desired)
    diff = SHAPE.diff(desired, {}, _no_references)
    write = Write("POST", PATH, diff.body, Settle(PATH, {}, {"name": name}))
    olds = [o for o in previously if by_name.get(str(o))]
    reasons = (f'renamed from "{olds[0]}": tags cannot be renamed, so this is a create and a delete',) if olds else ()
    return Change("create", "candidate_tag", name, f"candidate_tag:{name}", fields=diff.fields, reasons=reasons,
                  writes=(write,))


def _no_references(kind: str, *_: Any) -> None:
    """The resolver, display and name writer of a shape without references: never called."""
    raise AssertionError(f"a candidate tag has no references ({kind})")


def _delete(live_id: int, name: str, reason: str) -> Change:
    write = Write("DELETE", f"{PATH}/{live_id}", None, Settle(PATH, {}, {"id": live_id}, "absent"))
    return Change("delete", "candidate_tag", name, f"candidate_tag:{live_id}", live_id, destructive=True,
                  removal=True, fields={"name": FieldChange(name, None)}, reasons=(reason,), writes=(write,))


def _check(entries: Sequence[Entry], _checking: Checking) -> list[Problem]:
    return duplicates(entries, by_field("name"), "candidate tag") + renames(entries, "candidate tag")


def export_item(row: Mapping[str, Any]) -> str:
    """A live tag's manifest item: `to_manifest(from_api(row))` in its shorthand, the bare name."""
    return str(SHAPE.to_manifest(SHAPE.from_api(row), _no_references)["name"])


def _export(exporting: Exporting) -> list[Any]:
    """The live tags a manifest can hold (`Exporting.named_rows`: writable names that display unlike every
    other's); the rest are left out, with a note, and plan as unmanaged."""
    rows = exporting.named_rows("candidate tag", exporting.live.get("candidate_tags"))
    return sorted(export_item(t) for t in rows)


def _plan_reads(_entries: Sequence[Entry]) -> frozenset[str]:
    return frozenset({"candidate_tags"})


FAMILY = REGISTRY.register(Family(
    section="candidate_tags",
    help="The candidate-tag dictionary.",
    definition=CANDIDATE_TAG,
    nested=(),
    types=(ResourceType("candidate_tag", "candidate_tags", frozenset({"create", "delete"})),),
    # Configuration runs in section order: the tag dictionary after the custom fields.
    phases=(Phase("candidate_tag", after=("custom_field_scope_delete",)), Phase("candidate_tag_delete", after=("candidate_tag",))),
    collections=(Collection("candidate_tags", PATH, shape=SHAPE, definition=CANDIDATE_TAG),),
    identity="tag names",
    export_file="candidate-tags.yaml",
    plan_reads=_plan_reads,
    export_reads=frozenset({"candidate_tags"}),
    plan=plan_candidate_tags,
    check=_check,
    export=_export,
))
