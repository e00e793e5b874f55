"""The command line: the only module that prints to the terminal or exits.

Everything below it raises `reconciler.errors.ReconcilerError`; here such errors become one clear
message on stderr and exit code 1 (never a traceback). Usage errors exit 64, because 2 is reserved
for "changes pending" under --detailed-exitcode.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import click

from reconciler import __version__
from reconciler.errors import ReconcilerError
from reconciler.resources.registry import REGISTRY

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_USAGE = 64


def fail(error: ReconcilerError | str) -> NoReturn:
    """Print an error and exit 1."""
    text = str(error)
    click.echo(f"Error: {text}" if "\n" not in text else f"Error:\n{text}", err=True)
    sys.exit(EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="greenhouse-reconciler")
def cli() -> None:
    """Greenhouse Recruiting configuration as code, through the Harvest v3 API."""


@cli.command()
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


@cli.command()
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


FORMATS = ("text", "json", "markdown")
ONLY = click.Choice(REGISTRY.views.types)


def _settings() -> Any:
    from reconciler.harvest import Settings

    return Settings.from_env()


def _read_workers() -> int:
    """Collections read at once (GREENHOUSE_READ_WORKERS, default 4); a UsageError when unusable."""
    from reconciler.live import workers_from_env

    return workers_from_env()


_SHARED: dict[Any, dict[str, Any]] = {}


def _shared(settings: Any) -> dict[str, Any]:
    """The token and the rate-limit gate every client of this process uses for `settings` (one credential).

    Passed to the reader and to apply's writing client, so a command mints one token (not one per client,
    each revoking the one before: Harvest keeps one active token per client) and all its requests count
    against one rate-limit window, as the server counts them.
    """
    from reconciler.harvest.auth import ClientCredentialsAuth
    from reconciler.harvest.policy import RateLimitGate

    shared = _SHARED.get(settings)
    if shared is None:
        shared = _SHARED[settings] = {"auth": ClientCredentialsAuth(settings), "gate": RateLimitGate(time.time)}
    return shared


def _reader(settings: Any, hook: Any) -> Any:
    """The GET-only reader of plan and export, sharing this process's token and gate."""
    from reconciler.harvest import HarvestReader

    return HarvestReader(settings, on_request=hook, **_shared(settings))


def _progress_hook() -> Any:
    """A request counter on stderr while reading, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None
    import threading

    count = [0]
    lock = threading.Lock()  # the concurrent reads call it from several threads

    def hook(method: str, path: str, status: int) -> None:
        with lock:
            count[0] += 1
            click.echo(f"\r  {count[0]} API request(s): {method} {path} -> {status}".ljust(78)[:78], err=True,
                       nl=False)

    return hook


def _end_progress(hook: Any) -> None:
    if hook is not None:
        click.echo("\r" + " " * 78 + "\r", err=True, nl=False)


def _make_plan(paths: Sequence[str], only: Sequence[str], *, fingerprints: bool = False,
               bulk_max_rows: int = 100, before_read: Callable[[Any], None] | None = None) -> tuple[Any, Any]:
    """Load and validate manifests, read the settings and the live org (GETs only), and plan.
    Returns (plan, settings). `before_read(settings)` runs between the settings and the first read
    (apply takes its lock there).

    The reads overlap the loading and the planning: when the settings are usable and there is no
    `before_read`, each manifest file's sections start the reads they need as soon as its YAML is parsed,
    before the checks (`load_early`); collections are read several at once (GREENHOUSE_READ_WORKERS);
    and planning starts on the collections that are in. What is reported stays in today's order:
    manifest errors first (settings that cannot be read start nothing early: the manifests are loaded
    first, then the settings error is raised); then a failed read or the identity guard, before any plan
    error; the plan is returned only once every read and the guard are done.
    """
    from reconciler.errors import ReconcilerError
    from reconciler.live import PlanReading, check_only
    from reconciler.manifest import load
    from reconciler.manifest.loader import load_early
    from reconciler.planner import build_plan

    chosen = check_only(only)
    targets = list(paths) or ["."]
    early = before_read is None
    manifest = None
    if early:
        try:
            settings = _settings()
            workers = _read_workers()
        except ReconcilerError:
            early = False
    if not early:
        manifest = load(targets)
        settings = _settings()
        workers = _read_workers()
        if before_read is not None:
            before_read(settings)
    hook = _progress_hook()
    with _reader(settings, hook) as reader, PlanReading(
            reader, workers=workers, acting_user_id=settings.user_id,
            service_user=settings.acts_as_service_user) as reading:
        try:
            if manifest is None:
                manifest = load_early(targets, lambda file, sections: reading.parsed(file, sections, chosen))
            live = reading.finish(manifest, chosen)
            try:
                plan = build_plan(manifest, live, only=chosen, api_url=settings.api_url, fingerprints=fingerprints,
                                  bulk_max_rows=bulk_max_rows, acting_user_id=settings.user_id)
            except Exception as e:
                planned: Any = e
            else:
                planned = plan
            # A failed read or the identity guard is what to report (before a plan error that followed from it).
            reading.settle()
        finally:
            _end_progress(hook)
        click.echo(f"Read the live organisation with {reader.request_count} API request(s).", err=True)
    if isinstance(planned, Exception):
        raise planned
    return planned, settings


def _render(plan: Any, fmt: str) -> str:
    from reconciler import render

    if fmt == "json":
        return render.to_json(plan)
    if fmt == "markdown":
        return render.to_markdown(plan)
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    return render.to_text(plan, color=color)


BULK_MAX_ROWS = click.option(
    "--bulk-max-rows", "bulk_max_rows", type=click.IntRange(min=0), default=100, show_default=True,
    envvar="GREENHOUSE_BULK_MAX_ROWS", show_envvar=True,
    help="Rows per bulk request (the API's cap is unpublished; 100 is inferred). 0 or 1: no bulk requests.")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--out", "out", type=click.Path(), help="Save the plan (JSON, with live fingerprints) for apply --plan.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when changes are pending, 0 when none.")
@click.option("--only", "only", multiple=True, type=ONLY, metavar="TYPE",
              help=f"Plan only these resource types (repeatable): {', '.join(REGISTRY.views.types)}.")
@BULK_MAX_ROWS
def plan(paths: Sequence[str], out: str | None, fmt: str, detailed_exitcode: bool, only: Sequence[str],
         bulk_max_rows: int) -> None:
    """Show the writes that would make the live organisation match the manifests. Never writes."""
    try:
        if out:
            _check_output_path(out, "plan")
        result, _ = _make_plan(paths, only, fingerprints=bool(out), bulk_max_rows=bulk_max_rows)
        if out:
            _write_file(out, result.dumps(include_fingerprints=True))
            click.echo(f"Saved the plan to {out}.", err=True)
    except ReconcilerError as e:
        fail(e)
    click.echo(_render(result, fmt), nl=False)
    if detailed_exitcode and result.has_changes:
        sys.exit(EXIT_CHANGES)


def _check_output_path(path: str, what: str) -> None:
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


def _write_file(path: str, text: str) -> None:
    from reconciler.errors import UsageError

    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from None


def _load_saved_plan(path: str) -> Any:
    from reconciler.errors import UsageError
    from reconciler.plan import Plan

    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return Plan.from_json(data)
    except OSError as e:
        raise UsageError(f"cannot read the plan file {path}: {e.strerror}") from None
    except ValueError as e:
        raise UsageError(f"{path} is not a saved plan: {e}") from None


def _confirm(yes: bool) -> None:
    from reconciler.errors import SafetyError

    if yes:
        return
    if not sys.stdin.isatty():
        raise SafetyError("apply refused: there is no terminal to confirm on; review the plan and pass --yes")
    answer = click.prompt("Apply these changes? Only 'yes' is accepted", default="", show_default=False)
    if answer.strip() != "yes":
        raise SafetyError("apply cancelled; nothing was written")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False), help="Apply a plan saved by plan --out, exactly.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--allow-destructive", is_flag=True, help="Allow changes that lose data (field/tag deletes, replaces, revokes).")
@click.option("--force", is_flag=True, help="Apply even when the plan exceeds policy.limits.")
@click.option("--journal", type=click.Path(),
              help="Append to this file one JSON line before each write (intent) and one after (outcome); "
                   "see docs/reliability.md.")
@BULK_MAX_ROWS
@click.option("--bulk-wait", "bulk_wait", type=click.FloatRange(min=0), default=600.0, show_default=True,
              envvar="GREENHOUSE_BULK_WAIT", show_envvar=True,
              help="Seconds to wait for a bulk request to finish before stopping (its rows are never re-sent).")
@click.option("--lock-timeout", "lock_timeout", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Seconds to wait for another apply against the same organisation on this host to finish "
                   "(0: refuse at once, naming it).")
@click.option("--no-lock", "no_lock", is_flag=True,
              help="Do not take the per-organisation apply lock. For tests that stand for two hosts; see "
                   "docs/reliability.md.")
def apply(
    paths: Sequence[str], plan_file: str | None, yes: bool, allow_destructive: bool, force: bool, journal: str | None,
    bulk_max_rows: int, bulk_wait: float, lock_timeout: float, no_lock: bool,
) -> None:
    """Make the live organisation match the manifests (or a saved plan).

    The whole run (planning included) holds the organisation's apply lock (reconciler/lock.py) unless
    --no-lock. SIGINT/SIGTERM stop it between writes, never in the middle of one: exit 130/143 with
    "applied N of M; interrupted before ...". See docs/reliability.md.
    """
    from contextlib import ExitStack

    from reconciler import safety
    from reconciler.errors import StalePlanError, UsageError
    from reconciler.executor import ApplyInterrupted, Executor, Signalled, StopSignal, signal_name
    from reconciler.harvest import HarvestClient, Polling
    from reconciler.lock import ApplyLock
    from reconciler.staleness import stale_objects

    stop = StopSignal()
    hook = None
    try:
        if journal:
            _check_output_path(journal, "journal")
        with stop.installed(), ExitStack() as held:

            def take_lock(settings: Any) -> None:
                if not no_lock:
                    held.enter_context(ApplyLock(
                        settings.api_url, timeout=lock_timeout,
                        warn=lambda text: click.echo(f"Warning: {text}", err=True),
                        notify=lambda text: click.echo(text, err=True)))

            if plan_file:
                if paths:
                    raise click.UsageError("give either manifest paths or --plan, not both")
                result = _load_saved_plan(plan_file)
                settings = _settings()
                if result.api_url and result.api_url != settings.api_url:
                    raise UsageError(f"the plan was made against {result.api_url}, not {settings.api_url}")
                take_lock(settings)
            else:
                result, settings = _make_plan(paths, (), bulk_max_rows=bulk_max_rows, before_read=take_lock)
            click.echo(_render(result, "text"), nl=False)
            if not result.has_changes:
                click.echo("Nothing to apply.", err=True)
                return
            safety.check(result, allow_destructive=allow_destructive, force=force)
            with HarvestClient(settings, **_shared(settings)) as client:
                if plan_file:  # before asking: nobody should confirm a plan that is then refused
                    changed = stale_objects(result, client)
                    if changed:
                        raise StalePlanError(changed)
                _confirm(yes)
                hook = _apply_progress()
                stop.defer()  # from here on a signal is honoured between writes, never during one
                log = _open_journal(journal)
                try:
                    polling = Polling(max_wait=bulk_wait)
                    report = Executor(client, journal=log, progress=hook, polling=polling, stop=stop,
                                      sleep=stop.wait).apply(result)
                finally:
                    if log is not None:
                        log.close()
                    _end_progress(hook)
        _report_present(report.present)
        late = f" ({signal_name(stop.signum)} came after the last write)" if stop.requested else ""
        click.echo(f"Apply complete: {report.changes} change(s), {report.writes} write request(s).{late}", err=True)
    except ApplyInterrupted as e:
        click.echo(f"Interrupted: {e}", err=True)
        sys.exit(e.exit_code)
    except Signalled as e:
        _end_progress(hook)
        click.echo(f"\nInterrupted by {signal_name(e.signum)} before any write; nothing was written.", err=True)
        sys.exit(128 + e.signum)
    except ReconcilerError as e:
        fail(e)


def _open_journal(path: str | None) -> Any:
    from reconciler.errors import UsageError

    if not path:
        return None
    try:
        return open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by apply
    except OSError as e:
        raise UsageError(f"cannot write the journal to {path}: {e.strerror}") from None


def _report_present(present: Sequence[Any]) -> None:
    """Name the planned creates found already made since planning (by an overlapping apply, or by hand)."""
    if not present:
        return
    click.echo(f"{len(present)} planned create(s) already present (they appeared since planning, e.g. made by "
               "an overlapping apply): used, not created again:", err=True)
    for p in present:
        click.echo(f"  already present: {p.type} {p.name} (id {p.id})", err=True)


def _apply_progress() -> Any:
    if not sys.stderr.isatty():
        return None

    def hook(done: int, total: int, change: Any) -> None:
        click.echo(f"\r  applied {done}/{total}: {change.type} {change.name}".ljust(78)[:78], err=True, nl=False)

    return hook


@cli.command()
@click.option("--out", "out", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Directory to write the manifests into (created if missing; files of the same name are replaced).")
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
        settings = _settings()
        workers = _read_workers()
        hook = _progress_hook()
        with _reader(settings, hook) as reader:
            try:
                live = read_for_export(reader, sections, acting_user_id=settings.user_id, workers=workers)
            finally:
                _end_progress(hook)
            click.echo(f"Read the live organisation with {reader.request_count} API request(s).", err=True)
        result = export_documents(live, sections, api_url=settings.api_url)
        target = Path(out)
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(f"cannot create {out}: {e.strerror}") from None
        for name, text in result.documents.items():
            _write_file(str(target / name), text)
            click.echo(f"Wrote {target / name}", err=True)
        for note in result.notes:
            click.echo(f"Note: {note}", err=True)
    except ReconcilerError as e:
        fail(e)


@cli.group()
def sandbox() -> None:
    """The local Harvest v3 emulator used by the demo, the tests and the benchmarks."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port to listen on (0 = any free port).")
@click.option("--seed", "seed", type=click.Path(exists=True, dir_okay=False), help="Seed JSON file.")
@click.option("--state", "state", type=click.Path(dir_okay=False), help="Persist changes to this JSON file.")
@click.option("--rate-limit", "rate_limit", metavar="N/SECONDS", help="Fixed-window rate limit, e.g. 75/30.")
@click.option("--faults", "faults", metavar="SPEC", help="Fault injection spec (see docs/sandbox.md).")
@click.option("--option", "option", multiple=True, metavar="NAME=VALUE",
              help="Set a SandboxOptions field, e.g. bulk_processing_seconds=0 (repeatable; see docs/sandbox.md).")
def sandbox_serve(
    host: str, port: int, seed: str | None, state: str | None, rate_limit: str | None, faults: str | None,
    option: Sequence[str],
) -> None:
    """Serve the Harvest v3 emulator over HTTP until interrupted."""
    from reconciler.sandbox.option_args import options_from_assignments
    from reconciler.sandbox.server import run

    try:
        options = options_from_assignments(option)
        run(host=host, port=port, seed_path=seed, state_path=state, rate_limit=rate_limit, faults=faults,
            options=options)
    except ValueError as e:  # bad --rate-limit / --faults / --option / seed content
        fail(str(e))


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
