"""What several commands share: settings, the process's one token and rate-limit gate, the reader,
progress lines, output formats and output files."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import click

from reconciler import console
from reconciler.resources.registry import REGISTRY

FORMATS = ("text", "json", "markdown")
ONLY = click.Choice(REGISTRY.views.types)


def load_settings() -> Any:
    from reconciler.harvest import Settings

    return Settings.from_env()


def read_workers() -> int:
    """Collections read at once (GREENHOUSE_READ_WORKERS, default 4); a UsageError when unusable."""
    from reconciler.live import workers_from_env

    return workers_from_env()


_SHARED: dict[Any, dict[str, Any]] = {}


def shared_for(settings: Any) -> dict[str, Any]:
    """The token and the rate-limit gate every client of this process uses for `settings` (one credential).

    Passed to the reader and to apply's writing client, so a command mints one token (not one per client,
    each revoking the one before: Harvest keeps one active token per client) and all its requests count
    against one rate-limit window, as the server counts them.
    """
    from reconciler.harvest.auth import ClientCredentialsAuth
    from reconciler.harvest.policy import RateLimitGate
    from reconciler.harvest.responses import Redactor

    shared = _SHARED.get(settings)
    if shared is None:
        redactor = Redactor([settings.client_secret])
        console.add_redactor(redactor)  # a second fence: every log line is redacted by the handler too
        shared = _SHARED[settings] = {"auth": ClientCredentialsAuth(settings, redact=redactor),
                                      "gate": RateLimitGate(time.time)}
    return shared


def reader_for(settings: Any, hook: Any) -> Any:
    """The GET-only reader of plan and export, sharing this process's token and gate."""
    from reconciler.harvest import HarvestReader

    return HarvestReader(settings, on_request=hook, **shared_for(settings))


def note(text: str) -> None:
    """A note on stderr (what was read, written, saved): not under -q."""
    if not console.options().quiet:
        click.echo(text, err=True)


def warn(text: str) -> None:
    """A warning on stderr, shown even under -q."""
    click.echo(f"Warning: {text}", err=True)


class ReadProgress:
    """The request hook of a read (plan, export, apply's plan phase): counts the API requests and shows
    progress (`console.Progress`: a live line on a terminal, a plain line at most every 10 s off one)."""

    def __init__(self, progress: console.Progress | None = None) -> None:
        import threading

        self._progress = progress or console.Progress()
        self._lock = threading.Lock()  # the concurrent reads call it from several threads
        self._count = 0
        self._paths: set[str] = set()

    def __call__(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._count += 1
            self._paths.add(path)
            count, lists = self._count, len(self._paths)
        self._progress.update(f"{count} API request(s): {method} {path} -> {status}",
                              f"read: {count} API request(s) so far, {lists} list endpoint(s); "
                              f"last {method} {path} -> {status}")

    def end(self) -> None:
        self._progress.end()


def read_progress() -> ReadProgress:
    return ReadProgress()


def end_progress(hook: Any) -> None:
    if hook is not None:
        hook.end()


def render_plan(plan: Any, fmt: str) -> str:
    from reconciler import render

    if fmt == "json":
        return render.to_json(plan)
    if fmt == "markdown":
        return render.to_markdown(plan)
    return render.to_text(plan, color=console.color_enabled(sys.stdout))


BULK_MAX_ROWS = click.option(
    "--bulk-max-rows", "bulk_max_rows", type=click.IntRange(min=0), default=100, show_default=True,
    envvar="GREENHOUSE_BULK_MAX_ROWS", show_envvar=True,
    help="Rows per bulk request (the API's cap is unpublished; 100 is inferred). 0 or 1: no bulk requests.")


def check_output_path(path: str, what: str) -> None:
    """Refuse an output file that cannot be written (missing directory, a directory, no permission) before
    anything is read or written, so a long plan or apply never ends in a traceback (UsageError, exit 1)."""
    from pathlib import Path

    from reconciler.errors import UsageError

    target = Path(path)
    parent = target.parent
    if target.is_dir():
        raise UsageError(f"cannot write the {what} to {path}: it is a directory")
    if not parent.exists():
        raise UsageError(f"cannot write the {what} to {path}: the directory {parent} does not exist")
    if not parent.is_dir():
        raise UsageError(f"cannot write the {what} to {path}: {parent} is not a directory")
    writable = os.access(target, os.W_OK) if target.exists() else os.access(parent, os.W_OK | os.X_OK)
    if not writable:
        raise UsageError(f"cannot write the {what} to {path}: permission denied")


def write_file(path: str, text: str) -> None:
    from reconciler.errors import UsageError

    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from None


