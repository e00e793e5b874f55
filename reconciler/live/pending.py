"""Concurrent reads: independent collections are read at once, and each collection's rows are a future.

A plan reads up to a dozen list endpoints. They do not depend on each other (only the second-stage
lists, filtered by the managed users' ids, depend on the users list), so `Reading` reads them on a
small pool of threads, and a `LiveOrg` built on `Pending` mappings lets planning start as soon as the
collections it looks at are in: `live.get("departments")` waits for the departments only.

What stays as it was, so the plan is the same byte for byte:
- each collection's list requests are read one after the other, in their declared order, and each list
  page by page (a page's `Link: rel="next"` names the next one, so pages cannot be fetched ahead);
- rows are merged by id in that order (`read_live` merges the same way);
- the keys of the pending mappings are fixed when the read starts, in the order the caller gives.

The rate limit is the HTTP client's business: the threads share one reader, hence one rate-limit gate
that counts the requests in flight against the window's remaining budget (`reconciler/harvest/policy.py`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar, runtime_checkable

from reconciler.errors import ReconcilerError, UsageError
from reconciler.live.org import Reader
from reconciler.live.rows import rules_for

DEFAULT_WORKERS = 4
"""Collections read at once (`GREENHOUSE_READ_WORKERS`). Four keep a connection busy while another page
is parsed, without a burst the rate limit would only hold back anyway."""
MAX_WORKERS = 16
WORKERS_ENV = "GREENHOUSE_READ_WORKERS"

Rows = Mapping[int, Mapping[str, Any]]
Requests = tuple[tuple[str, Mapping[str, Any]], ...]
V = TypeVar("V")


class ReadStopped(ReconcilerError):
    """A read was not made, or not finished, because the run stopped first (another read failed, the
    manifests were invalid, or the caller stopped). Never the cause to report: `settle` finds the cause."""


@runtime_checkable
class PagedReader(Protocol):
    """A reader that yields rows lazily, page by page (the Harvest reader): a stopped read ends after a page."""

    def list(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]: ...


def workers_from_env(env: Mapping[str, str] = os.environ) -> int:
    """The read pool size from GREENHOUSE_READ_WORKERS (1 = one collection at a time); UsageError when unusable."""
    raw = env.get(WORKERS_ENV, "").strip()
    if not raw:
        return DEFAULT_WORKERS
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_WORKERS:
        raise UsageError(f"{WORKERS_ENV} must be a whole number from 1 to {MAX_WORKERS} (collections read at once), "
                         f"got {raw!r}")
    return int(raw)


def done(value: V) -> Future[V]:
    """A future that already holds `value`."""
    future: Future[V] = Future()
    future.set_result(value)
    return future


class Pending(Mapping[str, V]):
    """A mapping whose keys are known now and whose values arrive later.

    `m[key]` (and `m.get(key)`) waits for that key's value only and raises what its producer raised;
    `key in m`, `len(m)` and iteration over the keys never wait.
    """

    def __init__(self, futures: Mapping[str, Future[V]]) -> None:
        self._futures = dict(futures)

    def __getitem__(self, key: str) -> V:
        return self._futures[key].result()

    def __contains__(self, key: object) -> bool:
        return key in self._futures

    def __iter__(self) -> Iterator[str]:
        return iter(self._futures)

    def __len__(self) -> int:
        return len(self._futures)

    def __repr__(self) -> str:
        ready = sum(1 for f in self._futures.values() if f.done())
        return f"Pending({len(self._futures)} keys, {ready} ready)"


class Reading:
    """Reads collections on a pool of `workers` threads; `start` returns the collection's future rows.

    Contract:
    - a collection is read once: starting it again with the same requests returns the same future (with
      other requests, it is read anew and the new future replaces the old one);
    - collections start in the order `start` was called, at most `workers` at a time;
    - the first read that fails stops the others: reads not yet begun are not made, reads under way stop
      after their current page; they raise `ReadStopped`. `stop()` does the same from outside;
    - `close()` stops and returns once no worker runs any more (the reader may be closed after it);
    - `after(fn)` runs `fn` on a thread of its own (never one of the pool's, so it may wait for the pool's
      futures however small the pool), stopping the reads when it fails; it returns fn's future.
    """

    def __init__(self, reader: Reader, *, workers: int = DEFAULT_WORKERS) -> None:
        if not 1 <= workers <= MAX_WORKERS:
            raise UsageError(f"read workers must be from 1 to {MAX_WORKERS}, got {workers}")
        self._reader = reader
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="harvest-read")
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Rows]] = {}
        self._requests: dict[str, Requests] = {}
        self._threads: list[threading.Thread] = []

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def started(self) -> dict[str, Future[Rows]]:
        """The collections started so far, with their futures."""
        with self._lock:
            return dict(self._futures)

    def start(self, collection: str, requests: Requests) -> Future[Rows]:
        with self._lock:
            known = self._futures.get(collection)
            if known is not None and self._requests[collection] == requests:
                return known
            future: Future[Rows] = Future()
            self._futures[collection] = future
            self._requests[collection] = requests
            if self._stopped.is_set():
                future.set_exception(ReadStopped(f"{collection} was not read: the run stopped"))
            else:
                self._pool.submit(self._run, future, lambda: self._read(collection, requests))
            return future

    def after(self, fn: Callable[[], V]) -> Future[V]:
        future: Future[V] = Future()
        thread = threading.Thread(target=self._run, args=(future, fn), name="harvest-read-stage", daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()
        return future

    def stop(self) -> None:
        self._stopped.set()

    def close(self) -> None:
        self.stop()
        self._pool.shutdown(wait=True)
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------------

    def _run(self, future: Future[V], fn: Callable[[], V]) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            if self._stopped.is_set():
                raise ReadStopped("not read: the run stopped")
            future.set_result(fn())
        except ReadStopped as exc:
            future.set_exception(exc)
        except BaseException as exc:  # every failure is the caller's to see, through the future
            self._stopped.set()
            future.set_exception(exc)

    def _read(self, collection: str, requests: Requests) -> Rows:
        """Each row is checked as it arrives (`reconciler/live/rows.py`): a row that does not fit fails the read."""
        merged: dict[int, Mapping[str, Any]] = {}
        rules = rules_for(collection)
        for path, params in requests:
            check = rules.checker("GET", path)
            for row in self._rows(path, dict(params)):
                if self._stopped.is_set():
                    raise ReadStopped(f"{collection}: reading stopped")
                merged[check(row)] = row
            check.report()
        return merged

    def _rows(self, path: str, params: dict[str, Any]) -> Iterable[Mapping[str, Any]]:
        if isinstance(self._reader, PagedReader):
            return self._reader.list(path, params)
        return self._reader.list_all(path, params)
