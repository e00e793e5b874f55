"""The command line: `greenhouse-reconciler` and its commands, one module per command.

`app` holds the group, the exit codes and `fail`; `common` the pieces several commands share (settings,
the shared token and rate-limit gate, progress, output files); `planning` makes a plan for `plan` and
`apply`. Each command module defines one click command (or group); they are attached here, in the order
`--help` lists them.
"""

from __future__ import annotations

from reconciler.cli import apply_cmd, export_cmd, github_cmd, plan_cmd, sandbox_cmd, schema_cmd, validate_cmd
from reconciler.cli.app import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, EXIT_USAGE, cli, fail, main

for _command in (validate_cmd.validate, schema_cmd.schema, plan_cmd.plan, apply_cmd.apply, export_cmd.export,
                 sandbox_cmd.sandbox, github_cmd.github):
    cli.add_command(_command)

__all__ = ["EXIT_CHANGES", "EXIT_ERROR", "EXIT_OK", "EXIT_USAGE", "cli", "fail", "main"]
