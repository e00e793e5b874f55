"""Making a plan for `plan` and `apply`: load the manifests, read the live organisation, plan."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from reconciler.cli.common import end_progress, load_settings, note, read_progress, read_workers, reader_for


def make_plan(paths: Sequence[str], only: Sequence[str], *, fingerprints: bool = False,
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
            settings = load_settings()
            workers = read_workers()
        except ReconcilerError:
            early = False
    if not early:
        manifest = load(targets)
        settings = load_settings()
        workers = read_workers()
        if before_read is not None:
            before_read(settings)
    hook = read_progress()
    with reader_for(settings, hook) as reader, PlanReading(
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
            end_progress(hook)
        note(f"Read the live organisation with {reader.request_count} API request(s).")
    if isinstance(planned, Exception):
        raise planned
    return planned, settings

