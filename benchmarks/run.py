"""The benchmark: generated 10k and 100k organisations through the real sandbox server and CLI.

    .venv/bin/python benchmarks/run.py [--sizes 10k,100k] [--skip-rate-limited] [--json PATH] [--seed N]

For each size: generate the seeded org (sandbox seed + manifests, under benchmarks/.work/SIZE/), start
`sandbox serve`, run `validate`, `plan`, a bare httpx fetch loop over the same pages, `plan --out`,
`apply --plan --yes`, a convergence `plan`, and (unless --skip-rate-limited) a plan against a fresh
server limited to 75 requests / 30 s. Prints the figures and the targets as Markdown tables, then the
JSON, which is also written to PATH (default benchmarks/results/latest.json, not committed).
Speed and memory are measured here, never asserted; tests/benchmarks asserts the request counts.
Exit code: 0 when every step ran (missed targets are reported, not failures), 1 when a step failed (the
sizes measured before and after it are still reported; the JSON names the failed ones under "failed").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import orgs, report, runner  # noqa: E402

DEFAULT_JSON = ROOT / "benchmarks" / "results" / "latest.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="10k,100k",
        help=f"comma-separated sizes to run, of {', '.join(orgs.SCALES)} (default 10k,100k)",
    )
    parser.add_argument(
        "--skip-rate-limited",
        action="store_true",
        help="skip the rate-limited plan (at 100k it takes minutes)",
    )
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, help=f"write the JSON here (default {DEFAULT_JSON})"
    )
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    args = parser.parse_args(argv)
    args.sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in args.sizes if s not in orgs.SCALES]
    if unknown or not args.sizes:
        parser.error(
            f"unknown size(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(orgs.SCALES)}"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    load_at_start = report.machine()["load_average_1_5_15_min"]

    def progress(step: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {step}", file=sys.stderr, flush=True)

    results = {}
    failed: dict[str, str] = {}
    for name in args.sizes:
        try:
            measured = runner.measure(
                orgs.SCALES[name], rate_limited=not args.skip_rate_limited, seed=args.seed, progress=progress
            )
        except runner.BenchmarkError as e:
            print(f"benchmark step failed at size {name}: {e}", file=sys.stderr)
            failed[name] = str(e)
            continue
        results[name] = measured.to_json()
    judged = report.verdicts(results)
    output = {
        "date": time.strftime("%Y-%m-%d"),
        "command": "benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": {**report.machine(), "load_average_at_start": load_at_start},
        "targets": [
            {"key": t.key, "text": t.text, "limit": t.limit, "unit": t.unit}
            for t in (*report.TARGETS, report.GROWTH)
        ],
        "sizes": results,
        "growth": report.growth_ratios(results),
        "verdicts": judged,
        "failed": failed,
    }
    print(report.figures_table(results))
    print()
    print(report.targets_table(results, judged))
    print()
    text = json.dumps(output, indent=2)
    print(text)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.json}", file=sys.stderr)
    if failed:
        print(f"not measured (a step failed): {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
