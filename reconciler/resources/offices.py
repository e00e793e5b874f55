"""Offices: a tree with names, external ids, parents, a location and a primary contact.

The API cannot delete offices. Office names are unique [inferred: office-names-unique] (the sandbox
enforces it), so renames that wait for each other are ordered (`Tree.unique_names`).

Canonical fields beyond the tree's: `location`, free text (the API's "" and null both mean none), and
`primary_contact`, a user by email (any of the user's addresses, case-insensitively). When that user is
created by the same plan, the contact is set in the `office_contact` phase, after the user exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.manifest.definitions import EMAIL, NAME, Prop, nullable
from reconciler.manifest.model import Entry, Source
from reconciler.planner.context import Context, Handle
from reconciler.resources import tree_export, tree_manifest, trees
from reconciler.resources.base import Collection, Family, Phase, ResourceType
from reconciler.resources.canonical import Attr
from reconciler.resources.exporting import Exporting
from reconciler.resources.registry import REGISTRY

SECTION = "offices"
CONTACT = "primary_in_house_contact_user_id"


def _user_id(ctx: Context, email: Any, where: Source) -> Handle | None:
    """The live id of the user with `email`, or the key of the user's create in this plan, or a problem."""
    wanted = str(email).lower()
    found = list(ctx.rows_keyed("users", "every email, lower-case", _emails).get(wanted, ()))
    if len(found) == 1:
        return found[0]
    if not found and any(str(e.data.get("email", "")).lower() == wanted for e in ctx.entries("users")):
        return f"user:{wanted}"  # created by this plan (users come after offices): set in a later change
    if not found:
        ctx.problem(where, f'unknown user "{email}" (the primary contact must be an existing Greenhouse user)')
    else:
        ctx.problem(where, f'ambiguous user "{email}": ids {sorted(found)}')
    return None


def _emails(user: Mapping[str, Any]) -> list[str]:
    """A user's primary and other email addresses, lower-cased (the index key of primary contacts)."""
    return [str(e).lower() for e in [user.get("primary_email"), *(user.get("emails") or [])] if e]


def _email_of(ctx: Context, user_id: Any) -> Any:
    """How the plan shows a live contact: the user's primary email (or "user <id>" when not read)."""
    if user_id is None:
        return None
    row = ctx.live_rows("users").get(int(user_id))
    return row.get("primary_email") if row else f"user {user_id}"


PRIMARY_CONTACT = trees.Foreign(
    "user",
    resolve=_user_id,
    show=_email_of,
    export=lambda exporting, user_id: exporting.user_email(user_id),
    deferred=trees.Deferred("office_contact", "contact",
                            "the contact is a user created by this apply, so it is set after the user exists"),
)

TREE = trees.Tree(
    SECTION, "office", "offices", "/v3/offices", "office", unique_names=True,
    extra=(Attr("location", blank_is_none=True), Attr("primary_contact", api=CONTACT, ref="user")),
    foreign=(PRIMARY_CONTACT,),
)

OFFICE = tree_manifest.definition(
    "office",
    "An office. Identity: `id` (its Harvest id) when given, else `external_id` when given, else `name` "
    "(or a `previously` name).",
    "The office's display name (unique among active offices).",
    Prop("location", "Free-form location text, e.g. \"Berlin, Germany\". null = none.", nullable(NAME)),
    Prop("primary_contact", "The primary in-house contact, by user email. null = none.", nullable(EMAIL)),
)


def _plan_reads(entries: Sequence[Entry]) -> frozenset[str]:
    if any("primary_contact" in e.data for e in entries):
        return frozenset({"offices", "users"})
    return frozenset({"offices"})


def _export(exporting: Exporting) -> list[Any]:
    return tree_export.items(exporting, TREE, exporting.office)


FAMILY = REGISTRY.register(Family(
    section=SECTION,
    help="The office tree.",
    definition=OFFICE,
    nested=(),
    types=(ResourceType("office", "offices", frozenset({"create", "update", "bulk"})),),
    phases=(Phase("office"), Phase("office_contact", after=("office", "user"))),
    collections=(Collection("offices", "/v3/offices", shape=TREE.shape, definition=OFFICE),),
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
