"""`schema`: the manifest (or plan) JSON Schema."""

from __future__ import annotations

import json

import click

EXAMPLES = """\b
Examples:
  greenhouse-reconciler schema > manifest.schema.json
  greenhouse-reconciler schema --plan > plan.schema.json
"""


@click.command(epilog=EXAMPLES)
@click.option("--plan", "plan_schema", is_flag=True,
              help="Print the plan JSON Schema (plan --format json, plan --out) instead; see docs/plan-json.md.")
def schema(plan_schema: bool) -> None:
    """Print the manifest JSON Schema (draft 2020-12); with --plan, the plan JSON Schema."""
    if plan_schema:
        from reconciler.plan_schema import plan_json_schema

        click.echo(json.dumps(plan_json_schema(), indent=2, sort_keys=False))
        return
    from reconciler.manifest import json_schema

    click.echo(json.dumps(json_schema(), indent=2, sort_keys=False))
