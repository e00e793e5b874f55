"""`validate`: offline checks of the manifests."""

from __future__ import annotations

from collections.abc import Sequence

import click

from reconciler.cli.app import fail
from reconciler.errors import ReconcilerError


@click.command()
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
