"""`plan`: show the writes that would make the live organisation match the manifests."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from reconciler.cli.app import EXIT_CHANGES, fail
from reconciler.cli.common import (
    BULK_MAX_ROWS,
    FORMATS,
    ONLY,
    check_output_path,
    note,
    render_plan,
    write_file,
)
from reconciler.cli.planning import make_plan
from reconciler.errors import ReconcilerError
from reconciler.resources.registry import REGISTRY

EXAMPLES = """\b
Examples:
  greenhouse-reconciler plan org/
  greenhouse-reconciler plan org/ --out plan.json --format markdown > comment.md
  greenhouse-reconciler plan org/ --detailed-exitcode      # drift check: exit 2 when changes are pending
  greenhouse-reconciler -v plan org/ --only user           # each request, retry and wait on stderr
"""


@click.command(epilog=EXAMPLES)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--out", "out", type=click.Path(), help="Save the plan (JSON, with live fingerprints) for apply --plan.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when changes are pending or a warning says part of the manifests cannot be "
                   "reached (drift), 0 when none.")
@click.option("--only", "only", multiple=True, type=ONLY, metavar="TYPE",
              help=f"Plan only these resource types (repeatable): {', '.join(REGISTRY.views.types)}.")
@BULK_MAX_ROWS
def plan(paths: Sequence[str], out: str | None, fmt: str, detailed_exitcode: bool, only: Sequence[str],
         bulk_max_rows: int) -> None:
    """Show the writes that would make the live organisation match the manifests. Never writes."""
    try:
        if out:
            check_output_path(out, "plan")
        result, _ = make_plan(paths, only, fingerprints=bool(out), bulk_max_rows=bulk_max_rows)
        if out:
            write_file(out, result.dumps(include_fingerprints=True))
            note(f"Saved the plan to {out}.")
    except ReconcilerError as e:
        fail(e)
    click.echo(render_plan(result, fmt), nl=False, color=True)  # colour already decided (console.color_enabled)
    if detailed_exitcode and result.drifted:
        sys.exit(EXIT_CHANGES)


