"""Read exactly the live collections a manifest needs, each with one paginated list.

Two stages: every collection without a `filter_param` first; then those with one (the job-permission
lists), filtered to the managed objects' ids when that fits one filter (a handful of users in an org of
thousands costs one request).

`PlanReading` does it concurrently and early (see `reconciler/live/pending.py`): stage-one collections
may be started while the manifests are still being checked (`prefetch`, from the sections of the parsed
YAML: `early_collections`), are read several at once, and the `LiveOrg` that `finish` returns holds
futures, so planning starts on the collections that are in. The identity guard and stage two run on a
thread of their own once their inputs are in; `settle` waits for everything and raises the first
failure in a fixed order (stage one in registry order, then the guard, then stage two), so what is
reported does not depend on timing.

Between the stages, the acting identity is checked, because Harvest answers an empty list (not an
error) to a token whose user is not a Site Admin [2nd] and a plan made on empty lists would create
the whole organisation again:
- with GREENHOUSE_USER_ID, that user must be a Site Admin (the families' `acting_user_check`);
- without it (the token acts as the credential's service user, whose id the product cannot know
  without parsing the token, which it never does), `check_not_all_empty` refuses when every list
  read came back empty while the manifests name objects.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from reconciler.errors import UsageError
from reconciler.live.org import LiveOrg, Reader
from reconciler.live.pending import DEFAULT_WORKERS, Pending, Reading, ReadStopped, Requests, Rows, done
from reconciler.live.reads import (
    MAX_IDS,
    for_export,
    for_plan,
    is_filtered,
    requests,
    sections_for,
    sections_to_plan,
)
from reconciler.live.rows import CheckedReader
from reconciler.manifest.model import Entry, Source
from reconciler.resources.registry import REGISTRY

if TYPE_CHECKING:
    from reconciler.manifest.model import Manifest


def early_collections(sections: Mapping[str, Sequence[Any]], only: Iterable[str] = ()) -> list[str]:
    """The stage-one collections that planning these raw (parsed, unchecked) sections will read.

    `sections` maps a section name to its items as the YAML gave them. Each family's `plan_reads` is asked
    about those items: when the manifests then pass every check, their entries are these items (only
    shorthand strings are expanded, and `plan_reads` looks at mapping keys only), so the answer is the
    one `for_plan` gives later. It is a head start, not a promise: `PlanReading.finish` reads whatever is
    still missing and uses only what the checked manifests need.
    """
    where = Source("", 0, 0, "$")
    needed: set[str] = set()
    for section in sections_for(only):
        items = sections.get(section)
        if items is None:
            continue
        entries = [Entry(section, item, where) for item in items if isinstance(item, Mapping)]
        needed |= REGISTRY.family(section).plan_reads(entries)
    order = list(REGISTRY.views.collections)
    return sorted((c for c in needed if not is_filtered(c)), key=order.index)


class PlanReading:
    """The live reads of one plan: started early, read concurrently, planned on as they arrive.

    Use: `prefetch(collections)` any number of times (stage-one collections; optional), then once
    `finish(manifest, only)`, which returns a `LiveOrg` at once (its rows are futures: `get(c)` waits for
    `c`), then `settle()` before the plan is shown: it returns when every read and the identity guard
    are done, or raises the first failure. `close()` (or leaving the `with`) stops what is still running.

    `acting_user_id`: the token's `sub`, checked to be a Site Admin. `service_user`: the token has no
    `sub`, so the generic empty-lists guard runs instead. With neither, nothing is checked.
    """

    def __init__(self, reader: Reader, *, workers: int = DEFAULT_WORKERS, acting_user_id: str | None = None,
                 service_user: bool = False) -> None:
        self._reader = reader
        self._reading = Reading(reader, workers=workers)
        self._acting_user_id = acting_user_id
        self._service_user = service_user
        self._first: dict[str, Future[Rows]] = {}
        self._second: dict[str, Future[Rows]] = {}
        self._second_reads: dict[str, Future[Requests]] = {}
        self._guard: Future[None] | None = None
        # The early start of stage two (see `parsed`).
        self._early_lock = threading.Lock()
        self._early_changed = threading.Condition(self._early_lock)
        self._raw: dict[str, list[Entry]] = {}
        self._raw_version = 0
        self._finished = False
        self._early: Future[None] | None = None

    def prefetch(self, collections: Iterable[str]) -> None:
        """Start reading these collections now (second-stage ones are left for `finish`)."""
        for c in collections:
            if not is_filtered(c):
                self._reading.start(c, requests([c])[c])

    def parsed(self, file: str, sections: Mapping[str, Sequence[Any]], only: Iterable[str] = ()) -> None:
        """The `load_early` callback: start the stage-one reads these raw sections need (`early_collections`).

        Acting as a user (`acting_user_id`), stage two may start early too, on a thread of its own, once it
        is certain: when the identity guard passes on the lists already read (without a request of its
        own) and the managed users already named match more live users than one filter takes, the
        second-stage lists are read whole whatever the remaining files say (more users can only add ids),
        so they are started at once. Otherwise stage two waits for `finish`, as without a head start.
        """
        chosen = tuple(only)
        self.prefetch(early_collections(sections, chosen))
        if self._acting_user_id is None:
            return
        where = Source(file, 0, 0, "$")
        wanted = set(sections_for(chosen))
        with self._early_lock:
            for section, items in sections.items():
                if section in wanted:
                    self._raw.setdefault(section, []).extend(
                        Entry(section, item, where) for item in items if isinstance(item, Mapping))
            self._raw_version += 1
            self._early_changed.notify_all()
            if self._early is None and not self._finished:
                self._early = self._reading.after(self._early_stage_two)

    def finish(self, manifest: Manifest, only: Iterable[str] = ()) -> LiveOrg:
        """Start what planning `manifest` (restricted to `only`) still needs; the live org, as futures."""
        if self._guard is not None:
            raise UsageError("PlanReading.finish may be called once")
        self._end_early()
        chosen = tuple(only)
        needed = for_plan(manifest, chosen)
        first = [c for c in needed if not is_filtered(c)]
        second = [c for c in needed if is_filtered(c)]
        first_reads = requests(first)
        self._first = {c: self._reading.start(c, first_reads[c]) for c in first}
        stage_one = LiveOrg(rows=Pending(self._first), reads=first_reads)
        self._second = {c: Future() for c in second}
        self._second_reads = {c: Future() for c in second}
        self._guard = self._reading.after(lambda: self._guard_then_stage_two(manifest, chosen, stage_one))
        rows: dict[str, Future[Rows]] = {**self._first, **self._second}
        reads: dict[str, Future[Requests]] = {**{c: done(first_reads[c]) for c in first}, **self._second_reads}
        return LiveOrg(rows=Pending(rows), reads=Pending(reads))

    def settle(self) -> None:
        """Wait for every read and the guard; raise the first failure (stage one, guard, stage two)."""
        if self._guard is None:
            raise UsageError("PlanReading.settle needs finish first")
        stopped: BaseException | None = None
        ordered: list[Future[Any]] = [*self._first.values(), self._guard, *self._second.values()]
        for future in ordered:
            error = future.exception()
            if error is None:
                continue
            if not isinstance(error, ReadStopped):
                raise error
            stopped = stopped or error
        if stopped is not None:
            raise stopped

    def close(self) -> None:
        self._end_early()
        self._reading.close()
        unresolved: list[Future[Any]] = [*self._second.values(), *self._second_reads.values()]
        for future in unresolved:
            if not future.done():
                future.set_exception(ReadStopped("not read: the run stopped"))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _end_early(self) -> None:
        with self._early_lock:
            self._finished = True
            self._early_changed.notify_all()

    def _early_stage_two(self) -> None:
        """Start the second-stage lists whole as soon as that is certain (see `parsed`); else do nothing."""
        assert self._acting_user_id is not None
        seen = 0
        while True:
            with self._early_lock:
                while self._raw_version == seen and not self._finished and not self._reading.stopped:
                    self._early_changed.wait(1.0)
                if self._finished or self._reading.stopped:
                    return
                seen = self._raw_version
                raw = {s: list(entries) for s, entries in self._raw.items()}
            needed: set[str] = set()
            for section, entries in raw.items():
                needed |= REGISTRY.family(section).plan_reads(entries)
            second = [c for c in REGISTRY.views.collections if c in needed and is_filtered(c)]
            if not second:
                continue
            live = LiveOrg(rows=Pending(self._reading.started()))
            try:
                for family in REGISTRY.families:
                    if family.acting_user_check is not None:
                        family.acting_user_check(_NO_READS, live, self._acting_user_id)
                ids: set[int] = set()
                for section, entries in raw.items():
                    family = REGISTRY.family(section)
                    if family.read_filter is not None and {c.name for c in family.collections}.intersection(second):
                        ids.update(family.read_filter(entries, live))
            except _WouldRead:
                continue  # the lists the guard looks at are not started yet: try again after the next file
            except Exception:
                return  # refused or failed: the guard after `finish` reports it
            if len(ids) > MAX_IDS:
                reads = requests(second, filter_ids=ids)
                for c in second:
                    self._reading.start(c, reads[c])
                return

    def _guard_then_stage_two(self, manifest: Manifest, only: tuple[str, ...], live: LiveOrg) -> None:
        try:
            if self._acting_user_id is not None:
                for family in REGISTRY.families:
                    if family.acting_user_check is not None:
                        family.acting_user_check(CheckedReader(self._reader), live, self._acting_user_id)
            elif self._service_user:
                # The filtered lists of stage two are filtered by the objects read here; with none read they
                # are not requested at all, so stage one decides "every list came back empty".
                named = sum(len(manifest.entries.get(s, ())) for s in sections_to_plan(manifest, only))
                check_not_all_empty(live, "plan", expected=named)
            if not self._second:
                return
            ids: set[int] = set()
            for section in sections_to_plan(manifest, only):
                family = REGISTRY.family(section)
                owned = {c.name for c in family.collections}
                if family.read_filter is not None and owned.intersection(self._second):
                    ids.update(family.read_filter(manifest.entries.get(section, ()), live))
            second_reads = requests(list(self._second), filter_ids=ids)
        except BaseException:
            for c in self._second:
                self._second_reads[c].set_exception(ReadStopped(f"{c} was not read: the run stopped"))
                self._second[c].set_exception(ReadStopped(f"{c} was not read: the run stopped"))
            raise
        for c, target in self._second.items():
            self._second_reads[c].set_result(second_reads[c])
            _forward(self._reading.start(c, second_reads[c]), target)


class _WouldRead(Exception):
    """The early identity guard needed a request of its own: it only looks at lists being read anyway."""


class _NoReads:
    """A reader that sends nothing (for the early guard): any request is a `_WouldRead`."""

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        raise _WouldRead(path)


_NO_READS = _NoReads()


def _forward(source: Future[Rows], target: Future[Rows]) -> None:
    def copy(f: Future[Rows]) -> None:
        error = f.exception()
        if error is not None:
            target.set_exception(error)
        else:
            target.set_result(f.result())

    source.add_done_callback(copy)


def read_for_manifest(
    reader: Reader, manifest: Manifest, only: Iterable[str] = (), *, acting_user_id: str | None = None,
    service_user: bool = False, workers: int = 1,
) -> LiveOrg:
    """The live collections planning `manifest` (restricted to `only`) needs, every one read.

    `acting_user_id`: the token's `sub`, checked to be a Site Admin. `service_user`: the token has no
    `sub` (it acts as the credential's service user), so the generic empty-lists guard runs instead.
    With neither (tests that drive the reader directly), nothing is checked. `workers`: collections read
    at once (1: one after the other, in registry order).
    """
    with PlanReading(reader, workers=workers, acting_user_id=acting_user_id, service_user=service_user) as reading:
        live = reading.finish(manifest, only)
        reading.settle()
        return LiveOrg(rows=dict(live.rows), reads=dict(live.reads))


def read_for_export(reader: Reader, sections: Sequence[str], *, acting_user_id: str | None = None,
                    workers: int = 1) -> LiveOrg:
    """The live collections exporting `sections` reads (`workers` at once), with the same identity guards as plan."""
    reads = requests(for_export(sections))
    with Reading(reader, workers=workers) as reading:
        futures = {c: reading.start(c, r) for c, r in reads.items()}
        for future in futures.values():
            error = future.exception()
            if error is not None and not isinstance(error, ReadStopped):
                raise error
        live = LiveOrg(rows={c: f.result() for c, f in futures.items()}, reads=dict(reads))
    if acting_user_id is not None:
        for family in REGISTRY.families:
            if family.acting_user_check is not None:
                family.acting_user_check(CheckedReader(reader), live, acting_user_id)
    else:
        check_not_all_empty(live, "export", expected=1)
    return live


def check_not_all_empty(live: LiveOrg, action: str, *, expected: int) -> None:
    """Refuse to `action` ("plan", "export") on lists that all came back empty, when objects are expected.

    Used when the token acts as the credential's service user (no GREENHOUSE_USER_ID), whose permission
    level cannot be looked up. Generic on purpose: it looks at whatever collections were read, none by
    name. `expected` is the number of manifest entries in the sections being planned (export passes 1:
    an organisation worth exporting holds something). A truly empty organisation can still be planned
    (or exported) with GREENHOUSE_USER_ID set to a Site Admin, whose identity is then checked directly.
    """
    if expected <= 0 or not live.rows or any(live.rows.values()):
        return
    read = ", ".join(sorted(live.rows))
    why = (f", although the manifests name {expected} object(s): the plan would create them all again"
           if action == "plan" else ": the export would describe an empty organisation")
    raise UsageError(
        f"refusing to {action}: every list read from the Harvest API came back empty ({read}){why}. "
        "Harvest answers empty lists, not an error, to a token whose user is not a Site Admin, and GREENHOUSE_USER_ID "
        "is unset, so the token acts as the credential's own service user: check that credential in Greenhouse "
        "(its service user's permission level must be Site Admin), or set GREENHOUSE_USER_ID to a Site Admin's "
        "user id (that user is then checked directly, and an organisation that is really empty can be planned)"
    )
