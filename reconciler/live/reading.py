"""Read exactly the live collections a manifest needs, each with one paginated list.

Two stages: every collection without a `filter_param` first; then those with one (the job-permission
lists), filtered to the managed objects' ids when that fits one filter (a handful of users in an org of
thousands costs one request).

Between the stages, the acting identity is checked, because Harvest answers an empty list (not an
error) to a token whose user is not a Site Admin [2nd] and a plan made on empty lists would create
the whole organisation again:
- with GREENHOUSE_USER_ID, that user must be a Site Admin (the families' `acting_user_check`);
- without it (the token acts as the credential's service user, whose id the product cannot know
  without parsing the token, which it never does), `check_not_all_empty` refuses when every list
  read came back empty while the manifests name objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from reconciler.errors import UsageError
from reconciler.live.org import LiveOrg, Reader
from reconciler.live.reads import for_export, for_plan, is_filtered, read_live, requests, sections_to_plan
from reconciler.resources.registry import REGISTRY

if TYPE_CHECKING:
    from reconciler.manifest.model import Manifest


def read_for_manifest(
    reader: Reader, manifest: Manifest, only: Iterable[str] = (), *, acting_user_id: str | None = None,
    service_user: bool = False,
) -> LiveOrg:
    """The live collections planning `manifest` (restricted to `only`) needs.

    `acting_user_id`: the token's `sub`, checked to be a Site Admin. `service_user`: the token has no
    `sub` (it acts as the credential's service user), so the generic empty-lists guard runs instead.
    With neither (tests that drive the reader directly), nothing is checked.
    """
    needed = for_plan(manifest, only)
    first = [c for c in needed if not is_filtered(c)]
    live = read_live(reader, requests(first))
    if acting_user_id is not None:
        for family in REGISTRY.families:
            if family.acting_user_check is not None:
                family.acting_user_check(reader, live, acting_user_id)
    elif service_user:
        # The filtered lists of stage two are filtered by the objects read here; with none read they are
        # not requested at all, so stage one decides "every list came back empty".
        named = sum(len(manifest.entries.get(s, ())) for s in sections_to_plan(manifest, only))
        check_not_all_empty(live, "plan", expected=named)
    second = [c for c in needed if is_filtered(c)]
    if not second:
        return live
    ids: set[int] = set()
    for section in sections_to_plan(manifest, only):
        family = REGISTRY.family(section)
        owned = {c.name for c in family.collections}
        if family.read_filter is not None and owned.intersection(second):
            ids.update(family.read_filter(manifest.entries.get(section, ()), live))
    more = read_live(reader, requests(second, filter_ids=ids))
    return LiveOrg(rows={**live.rows, **more.rows}, reads={**live.reads, **more.reads})


def read_for_export(reader: Reader, sections: Sequence[str], *, acting_user_id: str | None = None) -> LiveOrg:
    """The live collections exporting `sections` reads, with the same acting-identity guards as plan."""
    live = read_live(reader, requests(for_export(sections)))
    if acting_user_id is not None:
        for family in REGISTRY.families:
            if family.acting_user_check is not None:
                family.acting_user_check(reader, live, acting_user_id)
    else:
        check_not_all_empty(live, "export", expected=1)
    return live


def check_not_all_empty(live: LiveOrg, action: str, *, expected: int) -> None:
    """Refuse to `action` ("plan", "export") on lists that all came back empty, when objects are expected.

    Used when the token acts as the credential's service user (no GREENHOUSE_USER_ID), whose permission
    level cannot be looked up. Generic on purpose: it looks at whatever collections were read, none by
    name. `expected` is the number of manifest entries in the sections being planned (export passes 1:
    an organisation worth exporting holds something). A truly empty organisation can still be planned
    (or exported) with GREENHOUSE_USER_ID set to a Site Admin, whose identity is then checked directly.
    """
    if expected <= 0 or not live.rows or any(live.rows.values()):
        return
    read = ", ".join(sorted(live.rows))
    why = (f", although the manifests name {expected} object(s): the plan would create them all again"
           if action == "plan" else ": the export would describe an empty organisation")
    raise UsageError(
        f"refusing to {action}: every list read from the Harvest API came back empty ({read}){why}. "
        "Harvest answers empty lists, not an error, to a token whose user is not a Site Admin, and GREENHOUSE_USER_ID "
        "is unset, so the token acts as the credential's own service user: check that credential in Greenhouse "
        "(its service user's permission level must be Site Admin), or set GREENHOUSE_USER_ID to a Site Admin's "
        "user id (that user is then checked directly, and an organisation that is really empty can be planned)"
    )
