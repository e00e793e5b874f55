"""Every command's --help ends with examples (click epilogs kept as written with \\b)."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from reconciler.cli import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield prefix
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


COMMANDS = list(_commands(cli))


def test_the_walk_finds_every_command() -> None:
    assert {" ".join(c) for c in COMMANDS} >= {"", "validate", "schema", "plan", "apply", "export", "sandbox",
                                               "sandbox serve", "github", "github pr-comment",
                                               "github reviewed-plan", "github pr-notice", "github drift-issue"}


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "(group)")
def test_every_help_has_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "\n  Examples:\n" in result.output
    examples = [line for line in result.output.split("\n  Examples:\n", 1)[1].splitlines() if line.strip()]
    # \b kept each example on its own line, unwrapped, and each is a whole command line of this command
    assert examples and all(line.startswith("    greenhouse-reconciler ") for line in examples)
    if len(path) == 2 or path[:1] not in (("sandbox",), ()):
        assert all(f" {' '.join(path)}" in line for line in examples)
