"""`sandbox serve`: the local Harvest v3 emulator."""

from __future__ import annotations

from collections.abc import Sequence

import click

from reconciler.cli.app import fail

SERVE_EXAMPLES = """\b
Examples:
  greenhouse-reconciler sandbox serve --seed examples/sandbox-seed.json --port 8765
  greenhouse-reconciler sandbox serve --port 8765 --rate-limit 75/30 --faults 'seed=7,rate429=0.05'
"""


@click.group(epilog=SERVE_EXAMPLES)
def sandbox() -> None:
    """The local Harvest v3 emulator used by the demo, the tests and the benchmarks."""


@sandbox.command("serve", epilog=SERVE_EXAMPLES)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port to listen on (0 = any free port).")
@click.option("--seed", "seed", type=click.Path(exists=True, dir_okay=False), help="Seed JSON file.")
@click.option("--state", "state", type=click.Path(dir_okay=False), help="Persist changes to this JSON file.")
@click.option("--rate-limit", "rate_limit", metavar="N/SECONDS", help="Fixed-window rate limit, e.g. 75/30.")
@click.option("--faults", "faults", metavar="SPEC", help="Fault injection spec (see docs/sandbox.md).")
@click.option("--option", "option", multiple=True, metavar="NAME=VALUE",
              help="Set a SandboxOptions field, e.g. bulk_processing_seconds=0 (repeatable; see docs/sandbox.md).")
def sandbox_serve(
    host: str, port: int, seed: str | None, state: str | None, rate_limit: str | None, faults: str | None,
    option: Sequence[str],
) -> None:
    """Serve the Harvest v3 emulator over HTTP until interrupted."""
    from reconciler.sandbox.option_args import options_from_assignments
    from reconciler.sandbox.server import run

    try:
        options = options_from_assignments(option)
        run(host=host, port=port, seed_path=seed, state_path=state, rate_limit=rate_limit, faults=faults,
            options=options)
    except ValueError as e:  # bad --rate-limit / --faults / --option / seed content
        fail(str(e))


