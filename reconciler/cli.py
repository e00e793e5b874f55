"""The command line: the only module that prints to the terminal or exits.

Everything below it raises `reconciler.errors.ReconcilerError`; here such errors become one clear
message on stderr and exit code 1 (never a traceback). Usage errors exit 64, because 2 is reserved
for "changes pending" under --detailed-exitcode.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from reconciler import __version__
from reconciler.errors import ReconcilerError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_USAGE = 64


def fail(error: ReconcilerError | str) -> NoReturn:
    """Print an error and exit 1."""
    text = str(error)
    click.echo(f"Error: {text}" if "\n" not in text else f"Error:\n{text}", err=True)
    sys.exit(EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="greenhouse-reconciler")
def cli() -> None:
    """Greenhouse Recruiting configuration as code, through the Harvest v3 API."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
def validate(paths: Sequence[str]) -> None:
    """Check manifests offline: YAML syntax, schema, references among the manifests. No network."""
    from reconciler.manifest import load

    try:
        manifest = load(list(paths) or ["."])
    except ReconcilerError as e:
        fail(e)
    counts = ", ".join(f"{n} {s}" for s, n in manifest.count().items() if n)
    click.echo(f"Valid: {len(manifest.files)} file(s); {counts or 'no objects'}.")


@cli.command()
def schema() -> None:
    """Print the manifest JSON Schema (draft 2020-12)."""
    from reconciler.manifest import json_schema

    click.echo(json.dumps(json_schema(), indent=2, sort_keys=False))


@cli.group()
def sandbox() -> None:
    """The local Harvest v3 emulator used by the demo, the tests and the benchmarks."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port to listen on (0 = any free port).")
@click.option("--seed", "seed", type=click.Path(exists=True, dir_okay=False), help="Seed JSON file.")
@click.option("--state", "state", type=click.Path(dir_okay=False), help="Persist changes to this JSON file.")
@click.option("--rate-limit", "rate_limit", metavar="N/SECONDS", help="Fixed-window rate limit, e.g. 75/30.")
@click.option("--faults", "faults", metavar="SPEC", help="Fault injection spec (see docs/sandbox.md).")
def sandbox_serve(
    host: str, port: int, seed: str | None, state: str | None, rate_limit: str | None, faults: str | None
) -> None:
    """Serve the Harvest v3 emulator over HTTP until interrupted."""
    from reconciler.sandbox.server import run

    try:
        run(host=host, port=port, seed_path=seed, state_path=state, rate_limit=rate_limit, faults=faults)
    except ValueError as e:  # bad --rate-limit / --faults / seed content
        fail(str(e))


def main(argv: Sequence[str] | None = None) -> Any:
    """Console-script entry point. Maps click's usage errors to exit 64."""
    try:
        return cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_ERROR)
    except click.exceptions.UsageError as e:
        e.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.ClickException as e:
        e.show()
        sys.exit(EXIT_ERROR)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except ReconcilerError as e:
        fail(e)
