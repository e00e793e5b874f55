"""The apply lock (reconciler/lock.py), in-process and in temporary directories.

Two ApplyLock objects of one process conflict like two processes do: a flock belongs to an open file
description, and each ApplyLock opens the file itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reconciler.lock import ApplyLock, LockError, lock_dir, lock_path

URL = "https://harvest.greenhouse.io"


class Clock:
    """A fake monotonic clock whose sleep advances it, and that can act at the n-th sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.at_sleep: dict[int, object] = {}

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        action = self.at_sleep.get(len(self.sleeps))
        if callable(action):
            action()


def test_the_lock_file_is_named_by_a_hash_of_the_url_and_lives_in_the_chosen_directory(tmp_path: Path) -> None:
    path = lock_path(URL, tmp_path)
    assert path.parent == tmp_path and path.name.startswith("apply-") and path.suffix == ".lock"
    assert "greenhouse" not in path.name and lock_path(URL, tmp_path) == path
    assert lock_path("http://127.0.0.1:8765", tmp_path) != path
    assert lock_dir({"GREENHOUSE_LOCK_DIR": str(tmp_path), "XDG_RUNTIME_DIR": "/run/user/1"}) == tmp_path
    assert lock_dir({"XDG_RUNTIME_DIR": "/run/user/1"}) == Path("/run/user/1/greenhouse-reconciler")
    assert lock_dir({"XDG_CACHE_HOME": "/c"}) == Path("/c/greenhouse-reconciler/locks")


def test_a_held_lock_refuses_a_second_run_naming_the_holder_and_a_release_frees_it(tmp_path: Path) -> None:
    first = ApplyLock(URL, directory=tmp_path / "locks")
    with first:
        record = json.loads(first.path.read_text())
        assert record["pid"] == os.getpid() and record["api_url"] == URL and record["started"].endswith("Z")
        with pytest.raises(LockError) as e:
            ApplyLock(URL, directory=tmp_path / "locks").acquire()
        text = str(e.value)
        assert f"another apply against {URL} is running on this host: pid {os.getpid()} on " in text
        assert f"started {record['started']} holds the lock {first.path}" in text
        assert "--lock-timeout SECONDS" in text
        ApplyLock("https://other.example", directory=tmp_path / "locks").acquire()  # another org: its own lock
    assert first.path.read_text() == ""  # a clean release leaves no record, so nothing looks stale
    warnings: list[str] = []
    with ApplyLock(URL, directory=tmp_path / "locks", warn=warnings.append) as again:
        assert again.held
    assert warnings == []


def test_a_positive_timeout_waits_and_takes_the_lock_when_it_is_released(tmp_path: Path) -> None:
    holder = ApplyLock(URL, directory=tmp_path)
    holder.acquire()
    clock = Clock()
    clock.at_sleep[3] = holder.release
    notes: list[str] = []
    waiting = ApplyLock(URL, directory=tmp_path, timeout=10, clock=clock.time, sleep=clock.sleep, notify=notes.append)
    waiting.acquire()
    assert waiting.held and len(clock.sleeps) == 3
    [note] = notes  # said once, not at every retry
    assert note.startswith(f"Waiting up to 10 s for another apply against {URL} (pid {os.getpid()} on ")
    assert note.endswith(") to finish")
    assert json.loads(waiting.path.read_text())["pid"] == os.getpid()
    waiting.release()


def test_a_positive_timeout_gives_up_when_the_lock_stays_held(tmp_path: Path) -> None:
    with ApplyLock(URL, directory=tmp_path):
        clock = Clock()
        with pytest.raises(LockError, match=r"is running on this host after waiting 1\.5 s: pid "):
            ApplyLock(URL, directory=tmp_path, timeout=1.5, clock=clock.time, sleep=clock.sleep).acquire()
        assert clock.now == pytest.approx(1.5) and len(clock.sleeps) > 1


def test_a_lock_left_by_a_dead_process_is_taken_over_with_a_warning(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    pid = int(dead.stdout)
    path = lock_path(URL, tmp_path)
    path.write_text(json.dumps({"pid": pid, "host": os.uname().nodename, "started": "2026-01-01T00:00:00Z"}))
    warnings: list[str] = []
    with ApplyLock(URL, directory=tmp_path, warn=warnings.append) as lock:
        assert json.loads(path.read_text())["pid"] == os.getpid()
        assert lock.held
    assert warnings == [f"took over a stale apply lock {path}: its holder, pid {pid} on {os.uname().nodename}, "
                        "started 2026-01-01T00:00:00Z, is no longer running and did not release it"]


def test_a_killed_holder_never_keeps_the_lock(tmp_path: Path) -> None:
    script = ("import sys, time; from pathlib import Path; from reconciler.lock import ApplyLock; "
              f"lock = ApplyLock({URL!r}, directory=Path({str(tmp_path)!r})); lock.acquire(); "
              "print('held', flush=True); time.sleep(120)")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[1])
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        with pytest.raises(LockError, match=f"pid {child.pid} on "):
            ApplyLock(URL, directory=tmp_path).acquire()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
    warnings: list[str] = []
    deadline = time.monotonic() + 30  # the kernel drops the flock as the process goes
    while True:
        try:
            ApplyLock(URL, directory=tmp_path, warn=warnings.append).acquire()
            break
        except LockError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    assert len(warnings) == 1 and f"pid {child.pid} " in warnings[0] and "is no longer running" in warnings[0]


def test_a_lock_directory_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(LockError, match="cannot use the apply lock file .*: Not a directory; set GREENHOUSE_LOCK_DIR"):
        ApplyLock(URL, directory=blocker / "locks").acquire()
