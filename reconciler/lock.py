"""One apply at a time per organisation on this host: an exclusive `fcntl.flock` on a lock file.

Contract (docs/reliability.md, "The apply lock"):

* The file is `<dir>/apply-<first 20 hex digits of sha256(API URL)>.lock`: one per organisation (the API
  URL names it; the URL itself never carries credentials, `reconciler/harvest/settings.py` refuses
  them, and the name is a hash anyway). `<dir>` is `$GREENHOUSE_LOCK_DIR` when set, else
  `$XDG_RUNTIME_DIR/greenhouse-reconciler`, else `$XDG_CACHE_HOME/greenhouse-reconciler/locks`
  (`~/.cache/...` when XDG_CACHE_HOME is unset). It is created (mode 0700) if missing.
* The lock is a `flock(LOCK_EX)` on that file, held through an open file descriptor. The kernel drops it
  when the descriptor is closed, which happens however the process ends (`kill -9` included): a dead
  process can never keep the lock. The descriptor is close-on-exec, so no child inherits it.
* While it holds the lock, the holder keeps a one-line JSON record in the file (`pid`, `host`,
  `started`, `api_url`), so that a refused run can name it. A clean release empties the file first; a
  record found by a process that *did* get the lock was left by a holder that ended without releasing
  it (killed, crashed): that stale lock is taken over with a warning naming the old holder.
* `timeout` 0 refuses at once (LockError naming the holder); a positive timeout polls every
  `POLL_SECONDS` until it is free or the timeout has passed.

POSIX only (`fcntl`). A lock covers one host only (and one user, unless `GREENHOUSE_LOCK_DIR` points
several users at one directory): runs on different machines are kept apart by the CI's concurrency
group, and anything that slips past both is caught by the executor's re-read before its first create.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from reconciler.errors import ReconcilerError

#: How often a waiting run retries the lock.
POLL_SECONDS = 0.2
#: The record is one short JSON line; anything longer is not ours.
_RECORD_MAX = 4096


class LockError(ReconcilerError):
    """The apply lock could not be taken (held by another run, or its file cannot be used)."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) the lock, as its record in the lock file says."""

    pid: int | None
    host: str
    started: str

    def describe(self) -> str:
        if self.pid is None:
            return "a run that has not recorded itself yet (it is starting or just finishing)"
        host = f" on {self.host}" if self.host else ""
        started = f", started {self.started}" if self.started else ""
        return f"pid {self.pid}{host}{started}"


def lock_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The directory for lock files (see the module docstring)."""
    env = os.environ if environ is None else environ
    if env.get("GREENHOUSE_LOCK_DIR"):
        return Path(env["GREENHOUSE_LOCK_DIR"])
    if env.get("XDG_RUNTIME_DIR"):
        return Path(env["XDG_RUNTIME_DIR"]) / "greenhouse-reconciler"
    cache = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return cache / "greenhouse-reconciler" / "locks"


def lock_path(api_url: str, directory: Path) -> Path:
    """The lock file of the organisation at `api_url`: its name is a hash, never the URL itself."""
    digest = hashlib.sha256(api_url.encode("utf-8")).hexdigest()[:20]
    return directory / f"apply-{digest}.lock"


class ApplyLock:
    """The exclusive apply lock of one organisation; a context manager (see the module docstring).

    `warn` receives the stale-lock warning, `notify` the "waiting for ..." line of a positive timeout;
    `clock`/`sleep` time the waiting (injectable for tests); `now` stamps the record's `started`.
    """

    def __init__(
        self,
        api_url: str,
        *,
        directory: Path | None = None,
        timeout: float = 0.0,
        warn: Callable[[str], None] | None = None,
        notify: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.api_url = api_url
        self.directory = directory if directory is not None else lock_dir()
        self.path = lock_path(api_url, self.directory)
        self.timeout = max(0.0, timeout)
        self.warn = warn
        self.notify = notify
        self.clock = clock
        self.sleep = sleep
        self.now = now
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> ApplyLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, waiting up to `timeout` seconds. Raises LockError when it cannot."""
        if self._fd is not None:
            return
        fd = self._open()
        try:
            self._wait(fd)
            previous = _read(fd)
            if previous is not None:
                self._warn_stale(previous)
            record = {"pid": os.getpid(), "host": socket.gethostname(), "api_url": self.api_url,
                      "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.now()))}
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(record, sort_keys=True) + "\n").encode("utf-8"), 0)
        except BaseException:
            os.close(fd)  # closing drops the flock too, if it was taken
            raise
        self._fd = fd

    def release(self) -> None:
        """Empty the record (a clean release leaves nothing stale) and drop the lock. Idempotent."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass  # the lock is dropped by the close below all the same
        finally:
            os.close(fd)

    # -- internals -----------------------------------------------------------------------------------
    def _open(self) -> int:
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as e:
            raise LockError(
                f"cannot use the apply lock file {self.path}: {e.strerror or e}; set GREENHOUSE_LOCK_DIR to a "
                "writable directory"
            ) from None

    def _wait(self, fd: int) -> None:
        deadline = self.clock() + self.timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as e:
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise LockError(f"cannot lock {self.path}: {e.strerror or e}") from None
            holder = _read(fd) or Holder(None, "", "")
            left = deadline - self.clock()
            if left <= 0:
                waited = f" after waiting {self.timeout:g} s" if self.timeout > 0 else ""
                raise LockError(
                    f"another apply against {self.api_url} is running on this host{waited}: "
                    f"{holder.describe()} holds the lock {self.path}; wait for it to finish and plan again, "
                    "or pass --lock-timeout SECONDS to wait for it"
                )
            if not told and self.notify is not None:
                self.notify(f"Waiting up to {self.timeout:g} s for another apply against {self.api_url} "
                            f"({holder.describe()}) to finish")
                told = True
            self.sleep(min(POLL_SECONDS, left))

    def _warn_stale(self, previous: Holder) -> None:
        if self.warn is None or previous.pid is None:
            return
        if previous.host in ("", socket.gethostname()) and not _alive(previous.pid):
            why = "is no longer running and did not release it"
        else:
            why = "no longer holds it"
        self.warn(f"took over a stale apply lock {self.path}: its holder, {previous.describe()}, {why}")


def _read(fd: int) -> Holder | None:
    """The record in the lock file: None when the file is empty, a Holder with pid None when unreadable."""
    try:
        raw = os.pread(fd, _RECORD_MAX, 0)
    except OSError:
        return Holder(None, "", "")
    if not raw.strip():
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
        pid = data.get("pid")
        return Holder(pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
                      str(data.get("host") or ""), str(data.get("started") or ""))
    except (UnicodeDecodeError, ValueError, AttributeError):
        return Holder(None, "", "")


def _alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (another user's process counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


__all__ = ["ApplyLock", "Holder", "LockError", "lock_dir", "lock_path"]
