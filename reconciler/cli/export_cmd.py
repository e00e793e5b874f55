"""`export`: write manifests for the live organisation."""

from __future__ import annotations

from collections.abc import Sequence

import click

from reconciler.cli.app import fail
from reconciler.cli.common import (
    ONLY,
    end_progress,
    load_settings,
    note,
    read_progress,
    read_workers,
    reader_for,
    write_file,
)
from reconciler.errors import ReconcilerError

EXAMPLES = """\b
Examples:
  greenhouse-reconciler export --out org/
  greenhouse-reconciler export --out org/ --only department --only office
"""


@click.command(epilog=EXAMPLES)
@click.option("--out", "out", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Directory to write the manifests into (created if missing; manifests of the same name are "
                   "replaced, an existing policy.yaml is kept).")
@click.option("--only", "only", multiple=True, type=ONLY, metavar="TYPE",
              help="Export only the sections of these resource types (repeatable).")
def export(out: str, only: Sequence[str]) -> None:
    """Write manifests for the live organisation, one file per section, that plan to zero changes."""
    from pathlib import Path

    from reconciler.errors import UsageError
    from reconciler.export import export_documents
    from reconciler.live import read_for_export, sections_for

    try:
        sections = sections_for(only)
        settings = load_settings()
        workers = read_workers()
        hook = read_progress()
        with reader_for(settings, hook) as reader:
            try:
                live = read_for_export(reader, sections, acting_user_id=settings.user_id, workers=workers)
            finally:
                end_progress(hook)
            note(f"Read the live organisation with {reader.request_count} API request(s).")
        result = export_documents(live, sections, api_url=settings.api_url)
        target = Path(out)
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(f"cannot create {out}: {e.strerror}") from None
        for name, text in result.documents.items():
            write_file(str(target / name), text)
            note(f"Wrote {target / name}")
        for name, text in result.starters.items():
            path = target / name
            if path.exists() or path.is_symlink():
                note(f"Kept {path} (a starter is written only where none exists)")
                continue
            write_file(str(path), text)
            note(f"Wrote {path} (a starter: edit it; export never replaces it)")
        for text in result.notes:
            note(f"Note: {text}")
    except ReconcilerError as e:
        fail(e)


