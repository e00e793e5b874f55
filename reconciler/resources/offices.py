"""Offices: a tree with names, external ids, parents, a location and a primary contact.

The API cannot delete offices. A primary contact is a user by email; when that user is created by the
same plan, the contact is set in a later phase, after the user exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.manifest.definitions import EMAIL, NAME, Prop, nullable
from reconciler.manifest.model import Entry
from reconciler.resources import tree_export, tree_manifest, trees
from reconciler.resources.base import Collection, Family, Phase, ResourceType
from reconciler.resources.exporting import Exporting
from reconciler.resources.registry import REGISTRY

SECTION = "offices"
TREE = trees.Tree(SECTION, "office", "offices", "/v3/offices", "office", unique_names=True)

OFFICE = tree_manifest.definition(
    "office",
    "An office. Identity: `external_id` when given, else `name` (or a `previously` name).",
    "The office's display name (unique among active offices).",
    Prop("location", "Free-form location text, e.g. \"Berlin, Germany\". null = none.", nullable(NAME)),
    Prop("primary_contact", "The primary in-house contact, by user email. null = none.", nullable(EMAIL)),
)


def _plan_reads(entries: Sequence[Entry]) -> frozenset[str]:
    if any("primary_contact" in e.data for e in entries):
        return frozenset({"offices", "users"})
    return frozenset({"offices"})


def _export(exporting: Exporting) -> list[Any]:
    rows = exporting.live.get("offices")
    items = tree_export.items(exporting, TREE, exporting.office)
    for item, row in zip(items, tree_export.tree_order(rows), strict=True):
        item["location"] = row.get("location") or None
        contact = row.get(trees.CONTACT)
        email = exporting.user_email(contact)
        if contact is not None and email:
            item["primary_contact"] = email
        elif contact is None:
            item["primary_contact"] = None
    return items


FAMILY = REGISTRY.register(Family(
    section=SECTION,
    help="The office tree.",
    definition=OFFICE,
    nested=(),
    types=(ResourceType("office", "offices", frozenset({"create", "update", "bulk"})),),
    phases=(Phase("office"), Phase("office_contact", after=("office", "user"))),
    collections=(Collection("offices", "/v3/offices"),),
    identity="office names or external_ids",
    export_file="offices.yaml",
    plan_reads=_plan_reads,
    export_reads=frozenset({"offices", "users"}),
    index=lambda ctx: trees.index(ctx, TREE),
    index_reads=frozenset({"offices"}),
    plan=lambda ctx: trees.plan(ctx, TREE),
    check=lambda entries, checking: tree_manifest.check(entries, checking, TREE),
    export=_export,
    deletable=False,
))
