"""The benchmark's targets (as data), the verdicts, and the table and JSON renderings.

Contract: `verdicts(results)` judges every measured size against `TARGETS` (and the 10k -> 100k growth
when both were measured); a verdict is "met: ..." or "missed: <value>, target <limit>", so a missed
target always says by how much. `figures_table` and `targets_table` render Markdown tables.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    """One target: `value <= limit`, `unit` says what the value counts ("x the floor", "s", "MB")."""

    key: str
    text: str
    limit: float
    unit: str


TARGETS: tuple[Target, ...] = (
    Target("reads", "reads <= 1.02x the floor", 1.02, "x the floor"),
    Target("writes", "writes <= the bulk floor", 1.0, "x the bulk floor"),
    Target("plan_vs_bare", "plan wall <= 2x the bare fetch loop", 2.0, "x the bare fetch"),
    Target("loading", "manifest loading (validate wall) <= 3 s", 3.0, "s"),
    Target("planning", "planning step <= 1 s (plan wall after its last API request)", 1.0, "s"),
    Target(
        "rate_limited",
        "rate-limited plan wall <= 1.1x the window floor, zero 429s",
        1.1,
        "x the window floor",
    ),
    Target("plan_rss", "plan peak RSS <= 300 MB", 300.0, "MB"),
    Target("apply_rss", "apply peak RSS <= 300 MB", 300.0, "MB"),
)
GROWTH = Target("growth", "10k -> 100k grows <= 11x in time and memory", 11.0, "x")
GROWTH_FIGURES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("plan wall", ("plan", "wall_s")),
    ("plan CPU", ("plan", "cpu_s")),
    ("validate wall", ("loading", "validate", "wall_s")),
    ("plan peak RSS", ("plan", "peak_rss_mb")),
    ("apply peak RSS", ("apply", "peak_rss_mb")),
)


def _num(value: float) -> str:
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}" if abs(value) < 100 else f"{value:.0f}"


def judge(value: float, target: Target) -> str:
    """'met: 1.00x the floor (target <= 1.02x)' or 'missed: 4.2x the floor, target 2x'."""
    unit = target.unit
    shown = f"{_num(value)}{unit}" if unit.startswith("x") else f"{_num(value)} {unit}"
    limit = f"{target.limit:g}x" if unit.startswith("x") else f"{target.limit:g} {unit}"
    if value <= target.limit:
        return f"met: {shown} (target <= {limit})"
    over = "" if unit.startswith("x") else f" ({value / target.limit:.1f}x the target)"
    return f"missed: {shown}, target {limit}{over}"


def _size_value(size: Mapping[str, Any], key: str) -> float | None:
    if key == "reads":
        return float(size["reads"]["ratio"])
    if key == "writes":
        return float(size["writes"]["ratio_to_floor"])
    if key == "plan_vs_bare":
        return float(size["plan_vs_bare"])
    if key == "loading":
        return float(size["loading"]["validate"]["wall_s"])
    if key == "planning":
        return float(size["plan_phases"]["after_reads_s"])
    if key == "plan_rss":
        return float(size["plan"]["peak_rss_mb"])
    if key == "apply_rss":
        return float(size["apply"]["peak_rss_mb"])
    raise KeyError(key)


def _rate_limited_verdict(size: Mapping[str, Any], target: Target) -> str | None:
    rl = size.get("rate_limited")
    if rl is None:
        return None
    throttled = int(rl["responses_429"])
    answers = f"{throttled} answer(s) 429" if throttled else "no 429"
    if not rl["window_floor_s"]:
        text = f"{rl['api_requests']} requests fit one window (floor 0 s, wall {_num(rl['wall_s'])} s)"
        return f"met: {text}, {answers}" if not throttled else f"missed: {answers}, target none; {text}"
    verdict = judge(float(rl["ratio"]), target)
    if throttled:
        return f"missed: {answers}, target none; and {verdict}"
    return f"{verdict}, {answers}"


def verdicts(results: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """{target key: {size: verdict}} for every measured size, plus {"growth": {figure: verdict}}."""
    out: dict[str, dict[str, str]] = {}
    for target in TARGETS:
        row: dict[str, str] = {}
        for name, size in results.items():
            if target.key == "rate_limited":
                verdict = _rate_limited_verdict(size, target)
                if verdict is not None:
                    row[name] = verdict
            else:
                value = _size_value(size, target.key)
                if value is not None:
                    row[name] = judge(value, target)
        out[target.key] = row
    growth = growth_ratios(results)
    if growth:
        out["growth"] = {figure: judge(ratio, GROWTH) for figure, ratio in growth.items()}
    return out


def _dig(data: Mapping[str, Any], path: Sequence[str]) -> float:
    value: Any = data
    for key in path:
        value = value[key]
    return float(value)


def growth_ratios(results: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """100k / 10k of each growth figure; empty unless both sizes were measured."""
    if "10k" not in results or "100k" not in results:
        return {}
    small, big = results["10k"], results["100k"]
    return {figure: round(_dig(big, path) / _dig(small, path), 2) for figure, path in GROWTH_FIGURES}


def machine() -> dict[str, Any]:
    """The machine the figures were measured on, and its load when called (other work shares it)."""
    memory = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        memory = f"{kib / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else []
    return {
        "nproc": nproc,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "memory": memory,
        "load_average_1_5_15_min": load,
    }


# -- tables ---------------------------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _s(value: float) -> str:
    return f"{_num(value)} s"


def _figure_rows(size: Mapping[str, Any]) -> list[tuple[str, str]]:
    reads, writes, plan = size["reads"], size["writes"], size["plan"]
    rows = [
        ("objects (live)", f"{size['objects']:,}"),
        ("changes (planned / generated)", f"{size['changes']['planned']} / {size['changes']['expected']}"),
        ("reads (product / floor)", f"{reads['product']} / {reads['floor']} = {reads['ratio']:.3f}x"),
        (
            "writes (product / bulk floor), for N changes",
            f"{writes['product']} / {writes['bulk_floor']} = {writes['ratio_to_floor']:.2f}x, "
            f"for {writes['changes']} changes",
        ),
        ("writes the plan announced", str(writes["planned"])),
        ("validate wall (loading)", _s(size["loading"]["validate"]["wall_s"])),
        ("plan wall", _s(plan["wall_s"])),
        ("bare fetch loop wall", f"{_s(size['bare_fetch']['wall_s'])} ({size['bare_fetch']['pages']} pages)"),
        ("plan wall / bare fetch", f"{size['plan_vs_bare']:.2f}x"),
        ("plan: start to first request (start-up, loading)", _s(size["plan_phases"]["before_reads_s"])),
        ("plan: first to last request (reads)", _s(size["plan_phases"]["reads_s"])),
        ("plan: last request to exit (planning step)", _s(size["plan_phases"]["after_reads_s"])),
        ("plan CPU (user+sys), share of wall", f"{_s(plan['cpu_s'])}, {plan['cpu_share']:.0%}"),
        ("plan peak RSS", f"{plan['peak_rss_mb']:.0f} MB"),
        (
            "plan --out wall, peak RSS",
            f"{_s(size['plan_out']['wall_s'])}, {size['plan_out']['peak_rss_mb']:.0f} MB",
        ),
        (
            "apply --plan wall, peak RSS",
            f"{_s(size['apply']['wall_s'])}, {size['apply']['peak_rss_mb']:.0f} MB",
        ),
        ("converged (plan after apply: no changes)", "yes" if size["converged"] else "NO"),
    ]
    rl = size.get("rate_limited")
    if rl is not None:
        rows += [
            ("rate-limited (75/30) plan wall", _s(rl["wall_s"])),
            ("rate-limited: API requests, window floor", f"{rl['api_requests']}, {_s(rl['window_floor_s'])}"),
            ("rate-limited: 429 answers", str(rl["responses_429"])),
        ]
    return rows


def figures_table(results: Mapping[str, Mapping[str, Any]]) -> str:
    names = list(results)
    per_size = {n: _figure_rows(results[n]) for n in names}
    labels: list[str] = []
    for rows in per_size.values():
        labels += [label for label, _ in rows if label not in labels]
    cells = {n: dict(rows) for n, rows in per_size.items()}
    return _table(
        ["figure", *names], [[label, *(cells[n].get(label, "") for n in names)] for label in labels]
    )


def targets_table(results: Mapping[str, Mapping[str, Any]], judged: Mapping[str, Mapping[str, str]]) -> str:
    names = list(results)
    rows = [[t.text, *(judged.get(t.key, {}).get(n, "not measured") for n in names)] for t in TARGETS]
    table = _table(["target", *names], rows)
    growth = judged.get("growth")
    if growth:
        table += "\n\n" + _table([GROWTH.text, "100k / 10k"], [[figure, v] for figure, v in growth.items()])
    return table
