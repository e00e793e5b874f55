"""`github`: helpers the shipped GitHub Actions workflows call (see docs/ci.md)."""

from __future__ import annotations

import click


@click.group()
def github() -> None:
    """Helpers for the shipped GitHub Actions workflows (pull-request comment, drift issue); see docs/ci.md."""
