"""No per-object scan of a collection: planning and checking grow linearly with the organisation.

Times are never asserted (the machine is shared); work is. A line tracer counts the lines of
`reconciler/` code executed while the checks and the planner run, for a generated organisation and
for one three times its size (benchmarks/orgs.py, the same generator the benchmark uses, with the
same 1% of differences). Linear code does about three times the work; a lookup that scans a collection
once per object does about nine times. The bound leaves room for n log n sorting, nothing more.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import reconciler
from benchmarks.orgs import SCALES, generate, write
from reconciler.live import read_for_manifest
from reconciler.manifest import load
from reconciler.manifest.checks import check
from reconciler.planner import build_plan
from tests.harness import Rig

PRODUCT = str(Path(reconciler.__file__).parent)
FACTOR = 3
#: Allowed growth of the work for FACTOR times the objects: linear is FACTOR, quadratic FACTOR ** 2.
BOUND = FACTOR * 1.35


def _lines(work: Callable[[], Any]) -> int:
    """Lines of product code executed by `work()` (deterministic for the same inputs)."""
    count = 0

    def tracer(frame: FrameType, event: str, _arg: Any) -> Any:
        nonlocal count
        if not frame.f_code.co_filename.startswith(PRODUCT):
            return None
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        work()
    finally:
        sys.settrace(None)
    return count


def _measure(tmp: Path, factor: int) -> tuple[int, int, int]:
    base = SCALES["small"]
    scale = replace(base, name=f"small-x{factor}", **{
        k: getattr(base, k) * factor
        for k in ("departments", "offices", "custom_fields", "options", "tags", "users", "grants", "future")})
    org = generate(scale)
    _, manifests = write(org, tmp / scale.name)
    manifest = load([str(manifests)])
    with Rig(seed_data=org.seed).reader() as reader:
        live = read_for_manifest(reader, manifest)
    checking = _lines(lambda: check(manifest.entries, manifest.policy))
    planning = _lines(lambda: build_plan(manifest, live, fingerprints=False))
    return scale.objects, checking, planning


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[int, int, int]]:
    tmp = tmp_path_factory.mktemp("complexity")
    return {f: _measure(tmp, f) for f in (1, FACTOR)}


def test_the_larger_org_really_is_the_factor_larger(measured: dict[int, tuple[int, int, int]]) -> None:
    assert measured[FACTOR][0] == pytest.approx(FACTOR * measured[1][0], rel=0.02)


def test_checking_grows_linearly_with_the_organisation(measured: dict[int, tuple[int, int, int]]) -> None:
    small, large = measured[1][1], measured[FACTOR][1]
    assert large / small <= BOUND, f"checks: {small} -> {large} lines ({large / small:.2f}x for {FACTOR}x objects)"


def test_planning_grows_linearly_with_the_organisation(measured: dict[int, tuple[int, int, int]]) -> None:
    small, large = measured[1][2], measured[FACTOR][2]
    assert large / small <= BOUND, f"planning: {small} -> {large} lines ({large / small:.2f}x for {FACTOR}x objects)"


def test_the_line_count_tells_quadratic_work_from_linear_work() -> None:
    """The instrument itself: one pass over n entries, against one pass per entry (a per-object scan)."""
    from reconciler.manifest.checks import by_field, duplicates
    from reconciler.manifest.model import Entry, Source

    def entries(n: int) -> list[Entry]:
        return [Entry("widgets", {"name": f"w{i}"}, Source("m.yaml", i + 1, 3, f"$.widgets[{i}]")) for i in range(n)]

    def linear(n: int) -> int:
        rows = entries(n)
        return _lines(lambda: duplicates(rows, by_field("name"), "widget"))

    def quadratic(n: int) -> int:
        rows = entries(n)
        return _lines(lambda: [duplicates(rows[:i], by_field("name"), "widget") for i in range(n)])

    assert linear(300) / linear(100) <= BOUND
    assert quadratic(300) / quadratic(100) > BOUND
