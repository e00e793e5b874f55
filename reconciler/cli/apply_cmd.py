"""`apply`: make the live organisation match the manifests (or a saved plan)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click

from reconciler import console
from reconciler.cli.app import fail
from reconciler.cli.common import (
    BULK_MAX_ROWS,
    ONLY,
    check_output_path,
    end_progress,
    load_settings,
    note,
    render_plan,
    shared_for,
    warn,
)
from reconciler.cli.planning import make_plan
from reconciler.errors import ReconcilerError


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


EXAMPLES = """\b
Examples:
  greenhouse-reconciler apply org/                       # plan, show, ask for 'yes', apply
  greenhouse-reconciler apply --plan plan.json --yes     # exactly the reviewed plan (CI)
  greenhouse-reconciler apply org/ --only office --only department --yes
"""


@click.command(epilog=EXAMPLES)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False), help="Apply a plan saved by plan --out, exactly.")
@click.option("--only", "only", multiple=True, type=ONLY, metavar="TYPE",
              help="Apply only the changes of these resource types (repeatable; the plan --only types); the "
                   "other changes stay pending, with a warning. Refused when a kept change needs a dropped one.")
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
    paths: Sequence[str], plan_file: str | None, only: Sequence[str], yes: bool, allow_destructive: bool, force: bool,
    journal: str | None, bulk_max_rows: int, bulk_wait: float, lock_timeout: float, no_lock: bool,
) -> None:
    """Make the live organisation match the manifests (or a saved plan).

    The whole run (planning included) holds the organisation's apply lock (reconciler/lock.py) unless
    --no-lock. SIGINT/SIGTERM stop it between writes, never in the middle of one: exit 130/143 with
    "applied N of M; interrupted before ...". See docs/reliability.md.

    With --only, the whole plan is made (or loaded), then only the changes of those types are kept
    (reconciler/cli/targeting.py); the others are named on stderr and stay pending.
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
            check_output_path(journal, "journal")
        with stop.installed(), ExitStack() as held:

            def take_lock(settings: Any) -> None:
                if not no_lock:
                    held.enter_context(ApplyLock(settings.api_url, timeout=lock_timeout, warn=warn, notify=note))

            if plan_file:
                if paths:
                    raise click.UsageError("give either manifest paths or --plan, not both")
                result = _load_saved_plan(plan_file)
                settings = load_settings()
                if result.api_url and result.api_url != settings.api_url:
                    raise UsageError(f"the plan was made against {result.api_url}, not {settings.api_url}")
                take_lock(settings)
            else:
                result, settings = make_plan(paths, (), bulk_max_rows=bulk_max_rows, before_read=take_lock)
            if only:
                result = _keep_only(result, only)
            click.echo(render_plan(result, "text"), nl=False, color=True)  # colour decided by console
            if not result.has_changes:
                note("Nothing to apply.")
                return
            safety.check(result, allow_destructive=allow_destructive, force=force)
            hook = _ApplyProgress()
            with HarvestClient(settings, on_request=hook.request, **shared_for(settings)) as client:
                if plan_file:  # before asking: nobody should confirm a plan that is then refused
                    changed = stale_objects(result, client)
                    if changed:
                        raise StalePlanError(changed)
                _confirm(yes)
                stop.defer()  # from here on a signal is honoured between writes, never during one
                log = _open_journal(journal)
                try:
                    polling = Polling(max_wait=bulk_wait)
                    report = Executor(client, journal=log, progress=hook.change, polling=polling, stop=stop,
                                      sleep=stop.wait).apply(result)
                finally:
                    if log is not None:
                        log.close()
                    end_progress(hook)
        _report_present(report.present)
        late = f" ({signal_name(stop.signum)} came after the last write)" if stop.requested else ""
        click.echo(f"Apply complete: {report.changes} change(s), {report.writes} write request(s).{late}", err=True)
    except ApplyInterrupted as e:
        click.echo(f"Interrupted: {e}", err=True)
        sys.exit(e.exit_code)
    except Signalled as e:
        end_progress(hook)
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


def _keep_only(result: Any, only: Sequence[str]) -> Any:
    from reconciler.cli.targeting import keep_only, pending_text

    kept = keep_only(result, only)
    if kept.pending:
        total = sum(kept.pending.values())
        warn(f"--only {', '.join(dict.fromkeys(only))}: {total} change(s) of other types stay pending and are not "
             f"applied: {pending_text(kept.pending)}; run plan again to see them")
    return kept.plan


class _ApplyProgress:
    """Progress of the writes: a live line on a terminal, a plain line at most every 10 s in CI logs.

    `request` is the writing client's request hook (it counts the write requests answered), `change`
    the executor's progress hook (changes done of the total)."""

    def __init__(self) -> None:
        self._progress = console.Progress()
        self._writes = 0

    def request(self, method: str, path: str, status: int) -> None:
        if method != "GET":
            self._writes += 1

    def change(self, done: int, total: int, change: Any) -> None:
        self._progress.update(f"applied {done}/{total}: {change.type} {change.name}",
                              f"apply: {done} of {total} changes, {self._writes} write request(s) answered")

    def end(self) -> None:
        self._progress.end()
