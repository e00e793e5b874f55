"""Candidate tags' canonical shape: the name alone, compared exactly.

For any live tag dictionary, export writes each tag as `to_manifest(from_api(row))` in its shorthand (the
bare name), `from_manifest` of that is `from_api(row)` again, and planning the export against the same
organisation changes nothing, however the names differ only in case, spacing or script. A live name the
manifest cannot hold (one the name rules refuse, or one of two names that display alike) is left out and
plans as unmanaged.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.live import LiveOrg, by_id
from reconciler.planner import build_plan
from reconciler.resources import candidate_tags
from reconciler.resources.exporting import Exporting, writable
from reconciler.resources.registry import REGISTRY
from tests.builders import live, manifest

NAMES = st.sampled_from(["Referral", "referral", "REFERRAL", "Silver Medalist", "Silver  Medalist", "2026-grad",
                         "null", "yes", "1.0", "Zürich", "東京", "x"]) | st.text(min_size=1, max_size=12).filter(str.strip)


@st.composite
def dictionaries(draw: st.DrawFn) -> list[dict[str, object]]:
    names = draw(st.lists(NAMES, unique=True, max_size=10))
    return [{"id": 300 + i, "name": n} for i, n in enumerate(names)]


def no_references(kind: str, *_: object) -> None:
    raise AssertionError(kind)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=dictionaries())
def test_each_exported_tag_reads_back_as_its_live_row(rows: list[dict[str, object]]) -> None:
    shape = candidate_tags.SHAPE
    for row in rows:
        item = candidate_tags.export_item(row)
        assert item == row["name"]
        assert shape.from_manifest({"name": item}, no_references) == shape.from_api(row)


def holdable(rows: list[dict[str, object]]) -> list[str]:
    """The names a manifest can hold: writable, and no other name of the dictionary displays alike (NFC)."""
    folded = Counter(unicodedata.normalize("NFC", str(r["name"])) for r in rows)
    return sorted(str(r["name"]) for r in rows
                  if writable(r["name"]) and folded[unicodedata.normalize("NFC", str(r["name"]))] == 1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=dictionaries() | st.just([{"id": 300, "name": "Caf\u00e9"}, {"id": 301, "name": "Cafe\u0301"},
                                      {"id": 302, "name": " Boomerang"}, {"id": 303, "name": "Referral"}]))
def test_planning_an_export_against_the_dictionary_it_came_from_changes_nothing(rows: list[dict[str, object]]) -> None:
    exporting = Exporting(LiveOrg(rows={"candidate_tags": by_id(rows)}))
    items = REGISTRY.family("candidate_tags").export(exporting)
    assert items == holdable(rows)
    plan = build_plan(manifest(candidate_tags=items), live(candidate_tags=rows))
    assert plan.changes == ()
    assert sorted(u.name for u in plan.unmanaged) == sorted(str(r["name"]) for r in rows if r["name"] not in items)
    assert len(exporting.notes) == len({n for n in exporting.notes})  # each once
    assert plan.unchanged.get("candidate_tag", 0) == len(items)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(live_names=st.lists(NAMES, unique=True, max_size=8), desired=st.lists(NAMES, unique=True, max_size=8))
def test_a_tag_is_created_exactly_when_no_live_tag_has_its_exact_name(live_names: list[str], desired: list[str]) -> None:
    rows = [{"id": 300 + i, "name": n} for i, n in enumerate(live_names)]
    plan = build_plan(manifest(candidate_tags=desired), live(candidate_tags=rows))
    created = [c for c in plan.changes if c.action == "create"]
    assert [c.name for c in created] == [n for n in desired if n not in live_names]
    assert [c.writes[0].body for c in created] == [candidate_tags.SHAPE.to_api({"name": c.name}) for c in created]
    assert sorted(u.name for u in plan.unmanaged) == sorted(n for n in live_names if n not in desired)
