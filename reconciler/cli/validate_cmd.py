"""`validate`: offline checks of the manifests."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import click

from reconciler.cli.app import EXIT_ERROR, fail
from reconciler.errors import ReconcilerError

EXAMPLES = """\b
Examples:
  greenhouse-reconciler validate org/
  greenhouse-reconciler validate org/ --format github   # annotations in a GitHub Actions job
  greenhouse-reconciler validate org/ --format json | jq '.problems[].message'
"""


@click.command(epilog=EXAMPLES)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(("text", "github", "json")), default="text", show_default=True,
              help="text: one 'file:line:col: $.path: message' per problem on stderr; github: one GitHub Actions "
                   "'::error file=...,line=...,col=...' annotation per problem on stdout; json: one JSON object on "
                   "stdout (see README).")
def validate(paths: Sequence[str], fmt: str) -> None:
    """Check manifests offline: YAML syntax, schema, references among the manifests. No network.

    Exit 1 when there is any error, whatever the format.
    """
    from reconciler.cli.annotations import Located, github_command, locate
    from reconciler.errors import ManifestError
    from reconciler.manifest import load

    try:
        manifest = load(list(paths) or ["."])
    except ReconcilerError as e:
        if fmt == "text":
            fail(e)
        problems = ([locate(p.where, p.message) for p in e.problems] if isinstance(e, ManifestError)
                    else [Located(str(e))])
        if fmt == "github":
            for problem in problems:
                click.echo(github_command(problem))
            click.echo(f"Error: {len(problems)} problem(s) in the manifests.", err=True)
        else:
            click.echo(json.dumps({"valid": False, "problems": [p.to_json() for p in problems]}, indent=2))
        sys.exit(EXIT_ERROR)
    counts = {s: n for s, n in manifest.count().items() if n}
    if fmt == "json":
        click.echo(json.dumps({"valid": True, "files": len(manifest.files), "counts": counts, "problems": []},
                              indent=2))
        return
    text = ", ".join(f"{n} {s}" for s, n in counts.items())
    click.echo(f"Valid: {len(manifest.files)} file(s); {text or 'no objects'}.")
