"""Benchmark: read + plan a large organisation against the in-process sandbox.

    .venv/bin/python benchmarks/bench_plan.py [--tags N] [--users N] [--departments N] [--options N]

Prints wall time, peak Python memory (tracemalloc) and the number of API requests for the live read and
for planning. Measured here, never asserted in tests: this machine is shared and noisy; only request
counts are exact (and those are asserted in the test suite).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reconciler.harvest import HarvestReader, Settings  # noqa: E402
from reconciler.manifest.model import SECTIONS, Entry, Manifest, Policy, Source  # noqa: E402
from reconciler.planner import build_plan  # noqa: E402
from reconciler.reading import read_for_manifest  # noqa: E402
from reconciler.sandbox import Sandbox  # noqa: E402

TS = "2026-01-01T00:00:00.000Z"


def big_seed(tags: int, users: int, departments: int, options: int) -> dict[str, Any]:
    seed: dict[str, Any] = json.loads((ROOT / "examples" / "sandbox-seed.json").read_text())
    seed["candidate_tags"] += [{"id": 10_000 + i, "name": f"tag-{i}", "created_at": TS, "updated_at": TS} for i in range(tags)]
    seed["departments"] += [{"id": 100_000 + i, "name": f"dept-{i}", "parent_id": 10, "external_id": f"D{i}",
                             "created_at": TS, "updated_at": TS} for i in range(departments)]
    seed["custom_field_options"] += [{"id": 200_000 + i, "custom_field_id": 201, "name": f"level-{i}", "sort_order": 10 + i,
                                      "external_id": None, "active": True, "created_at": TS, "updated_at": TS}
                                     for i in range(options)]
    template = seed["users"][1]
    seed["users"] += [{**template, "id": 300_000 + i, "first_name": "U", "last_name": str(i), "name": f"U {i}",
                       "primary_email": f"user{i}@acme.example", "emails": [f"user{i}@acme.example"],
                       "employee_id": f"X{i}"} for i in range(users)]
    seed.pop("user_emails", None)
    return seed


def desired(tags: int, users: int, departments: int, options: int) -> Manifest:
    src = Source("bench.yaml", 1, 1, "$")

    def entries(section: str, items: list[dict[str, Any]]) -> tuple[Entry, ...]:
        return tuple(Entry(section, d, src) for d in items)

    sections = {s: () for s in SECTIONS}
    # every live object, plus 1% new ones, so the plan has work to do
    sections["candidate_tags"] = entries("candidate_tags", [{"name": f"tag-{i}"} for i in range(tags + tags // 100)])
    sections["departments"] = entries("departments", [{"name": f"dept-{i}", "external_id": f"D{i}", "parent": "Engineering"}
                                                      for i in range(departments)])
    sections["users"] = entries("users", [{"email": f"user{i}@acme.example", "offices": ["San Francisco"]}
                                          for i in range(users)])
    sections["custom_fields"] = entries("custom_fields", [{
        "name": "Seniority", "key": "seniority", "field_type": "job", "value_type": "single_select",
        "options": [{"name": n} for n in ["Junior", "Mid", "Senior", "Staff", *[f"level-{i}" for i in range(options)]]]}])
    return Manifest(entries=sections, policy=Policy(), files=("bench.yaml",), digest="0" * 64,
                    present=frozenset(SECTIONS))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tags", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--departments", type=int, default=5_000)
    parser.add_argument("--options", type=int, default=5_000)
    args = parser.parse_args()
    counts = (args.tags, args.users, args.departments, args.options)

    t0 = time.perf_counter()
    sandbox = Sandbox(big_seed(*counts))
    print(f"seeded sandbox with {sum(counts)} extra objects in {time.perf_counter() - t0:.2f}s")
    manifest = desired(*counts)
    settings = Settings("demo-client", "demo-secret", "1001", "http://127.0.0.1", "http://127.0.0.1/token")

    for trace in (False, True):  # time without tracing (tracemalloc slows Python down), then measure memory
        if trace:
            tracemalloc.start()
        t0 = time.perf_counter()
        with HarvestReader(settings, transport=sandbox.transport()) as reader:
            live = read_for_manifest(reader, manifest, acting_user_id="1001")
            requests = reader.request_count
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        plan = build_plan(manifest, live)
        t_plan = time.perf_counter() - t0
        if trace:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"peak traced memory (read + plan, client side and sandbox answers): {peak / 2**20:.0f} MiB")
        else:
            print(f"live read: {requests} API requests, {t_read:.2f}s (includes the in-process sandbox's own work)")
            print(f"plan: {t_plan:.2f}s; {plan.summary()}")


if __name__ == "__main__":
    main()
