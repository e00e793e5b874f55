"""The command group, the exit codes and the one way a command fails.

The CLI package is the only code that prints to the terminal or exits. Everything below it raises
`reconciler.errors.ReconcilerError`; here such errors become one clear message on stderr and exit code 1
(never a traceback). Usage errors exit 64, because 2 is reserved for "changes pending" under
--detailed-exitcode.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from reconciler import __version__, console
from reconciler.errors import ReconcilerError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_USAGE = 64

EPILOG = """\b
Examples:
  greenhouse-reconciler validate org/
  greenhouse-reconciler plan org/ --out plan.json
  greenhouse-reconciler -v apply --plan plan.json --yes
"""


def fail(error: ReconcilerError | str) -> NoReturn:
    """Print an error and exit 1."""
    text = str(error)
    click.echo(f"Error: {text}" if "\n" not in text else f"Error:\n{text}", err=True)
    sys.exit(EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.version_option(__version__, prog_name="greenhouse-reconciler")
@click.option("-v", "--verbose", count=True,
              help="More detail on stderr: -v each HTTP request (method, path, status, duration) and every retry "
                   "and wait with its reason; -vv debugging detail. Never a secret or token.")
@click.option("-q", "--quiet", is_flag=True,
              help="Only errors, warnings and the command's main output: no progress, no notes.")
@click.option("--no-color", "no_color", is_flag=True,
              help="No colour (also NO_COLOR=1). FORCE_COLOR=1 turns colour on even off a terminal.")
def cli(verbose: int, quiet: bool, no_color: bool) -> None:
    """Greenhouse Recruiting configuration as code, through the Harvest v3 API.

    Global options go before the command: greenhouse-reconciler -v plan org/
    """
    if verbose and quiet:
        raise click.UsageError("give either -v/--verbose or -q/--quiet, not both")
    console.configure(console.Options(verbosity=-1 if quiet else verbose, no_color=no_color))


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
