"""What the CLI tells a person on stderr: log lines by verbosity, progress, and whether to use colour.

Contract (docs/harvest-client.md section 9, README "Logs and progress"):

- Every module logs through `logging.getLogger(__name__)`, i.e. under the `reconciler` logger. The CLI
  installs ONE stderr handler on that logger (`configure`), whose level comes from `-v`/`-q`:

  | flags | level | shows |
  |---|---|---|
  | `-q` | WARNING | warnings and errors; no progress, no notes |
  | (none) | NOTICE (25) | notes a person should see: long waits (>= `LONG_WAIT` s), hints |
  | `-v` | INFO | also each HTTP request (method, path, status, duration), every retry and wait with its reason and length, tolerated oddities of the API |
  | `-vv` | DEBUG | also details meant for debugging |

  Nothing logged under `reconciler` may carry a secret: messages are built from paths, statuses and
  texts already passed through the client's `Redactor`, and the handler runs every line through the
  process's redactors once more (`add_redactor`), as a second fence.
- Progress (`Progress`): on a terminal, one live line rewritten in place; off a terminal (CI logs), a
  plain line with counts at most every `PLAIN_INTERVAL` seconds (GREENHOUSE_PROGRESS_SECONDS), the first
  one that long after the start, so a short run prints none. None under `-q`.
- Colour (`color_enabled`): off with `--no-color` or a non-empty `NO_COLOR` (https://no-color.org);
  else on with `FORCE_COLOR` set, non-empty and not "0", even off a terminal; else on only when the
  stream is a terminal.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO

NOTICE = 25
"""Between INFO and WARNING: what every run shows unless -q (long waits, hints)."""
logging.addLevelName(NOTICE, "NOTICE")

LONG_WAIT = 3.0
"""A wait at least this long (seconds: rate limit, Retry-After, back-off) is always said (NOTICE)."""
PLAIN_INTERVAL = 10.0
"""Off a terminal, one progress line per this many seconds at most, the first this long after the start (so a
short run prints none); GREENHOUSE_PROGRESS_SECONDS changes it (0: a line per event)."""
PROGRESS_VARIABLE = "GREENHOUSE_PROGRESS_SECONDS"
WIDTH = 78
"""Width of the live progress line on a terminal."""

ROOT_LOGGER = "reconciler"

_PREFIX = {logging.WARNING: "Warning: ", logging.ERROR: "Error: ", logging.CRITICAL: "Error: "}


@dataclass(frozen=True)
class Options:
    """The global CLI options: `verbosity` -1 (-q), 0, 1 (-v), 2+ (-vv); `no_color` (--no-color)."""

    verbosity: int = 0
    no_color: bool = False

    @property
    def level(self) -> int:
        if self.verbosity < 0:
            return logging.WARNING
        if self.verbosity == 0:
            return NOTICE
        return logging.INFO if self.verbosity == 1 else logging.DEBUG

    @property
    def quiet(self) -> bool:
        return self.verbosity < 0


_options = Options()
_redactors: list[Callable[[str], str]] = []
_live_lock = threading.Lock()
_live_line = [""]  # the live progress line now on the terminal ("" = none)


def options() -> Options:
    """The options the CLI was started with (defaults before `configure`)."""
    return _options


def add_redactor(redact: Callable[[str], str]) -> None:
    """Run every log line through `redact` too (the CLI registers its shared client's `Redactor`)."""
    if redact not in _redactors:
        _redactors.append(redact)


def redact(text: str) -> str:
    for r in list(_redactors):
        text = r(text)
    return text


class _StderrHandler(logging.Handler):
    """Writes to the `sys.stderr` of the moment (click's test runner swaps it), clearing a live progress line."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = redact(_PREFIX.get(record.levelno, "") + record.getMessage())
            stream = sys.stderr
            with _live_lock:
                if _live_line[0]:
                    stream.write("\r" + " " * WIDTH + "\r")
                stream.write(text + "\n")
                if _live_line[0]:
                    stream.write(_live_line[0])
                stream.flush()
        except Exception:  # a log line must never break a run
            self.handleError(record)


_handler: logging.Handler | None = None


def configure(opts: Options) -> None:
    """Install (or replace) the one stderr handler on the `reconciler` logger, at `opts.level`."""
    global _options, _handler
    _options = opts
    logger = logging.getLogger(ROOT_LOGGER)
    if _handler is not None:
        logger.removeHandler(_handler)
    _handler = _StderrHandler()
    logger.addHandler(_handler)
    logger.setLevel(opts.level)


def reset() -> None:
    """Remove the handler and forget the options (tests that run the CLI in-process call this)."""
    global _options, _handler
    if _handler is not None:
        logging.getLogger(ROOT_LOGGER).removeHandler(_handler)
        _handler = None
    logging.getLogger(ROOT_LOGGER).setLevel(logging.NOTSET)
    _options = Options()


def color_enabled(stream: IO[str], env: Mapping[str, str] | None = None) -> bool:
    """Colour for `stream`: --no-color or NO_COLOR off; FORCE_COLOR (not "0") on; else only on a terminal."""
    env = os.environ if env is None else env
    if _options.no_color or env.get("NO_COLOR", ""):
        return False
    force = env.get("FORCE_COLOR", "")
    if force and force != "0":
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """Progress of a long read or apply on stderr: a live line on a terminal, plain lines in CI logs.

    `update(live, plain)` is called per event (thread-safe); `live` is the text of the live line,
    `plain` the text of a plain line (it should carry the counts). `end()` clears the live line.
    Silent under -q. `clock` and `interactive` are injectable for tests.
    """

    def __init__(self, *, interactive: bool | None = None, clock: Callable[[], float] = time.monotonic,
                 interval: float | None = None) -> None:
        self._interactive = sys.stderr.isatty() if interactive is None else interactive
        self._clock = clock
        self._interval = progress_interval() if interval is None else interval
        self._lock = threading.Lock()
        self._last_plain = clock()
        self._silent = _options.quiet

    def update(self, live: str, plain: str) -> None:
        if self._silent:
            return
        with self._lock:
            if self._interactive:
                line = ("\r  " + live).ljust(WIDTH + 1)[: WIDTH + 1]
                with _live_lock:
                    _live_line[0] = line
                    sys.stderr.write(line)
                    sys.stderr.flush()
                return
            now = self._clock()
            if now - self._last_plain < self._interval:
                return
            self._last_plain = now
        with _live_lock:
            sys.stderr.write(plain + "\n")
            sys.stderr.flush()

    def end(self) -> None:
        if self._silent or not self._interactive:
            return
        with _live_lock:
            if _live_line[0]:
                sys.stderr.write("\r" + " " * WIDTH + "\r")
                sys.stderr.flush()
            _live_line[0] = ""


def progress_interval(env: Mapping[str, str] | None = None) -> float:
    """Seconds between plain progress lines: GREENHOUSE_PROGRESS_SECONDS (a number >= 0), else `PLAIN_INTERVAL`.
    An unusable value is a UsageError naming the variable."""
    from reconciler.errors import UsageError

    raw = (os.environ if env is None else env).get(PROGRESS_VARIABLE, "").strip()
    if not raw:
        return PLAIN_INTERVAL
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise UsageError(f"{PROGRESS_VARIABLE} must be a number of seconds >= 0, got {raw!r}")
    return value


def seconds(value: float) -> str:
    """A wait as people read it: "15 s", "2.5 s", "0.25 s"."""
    if value >= 10 or value == int(value):
        return f"{value:.0f} s"
    return f"{value:.1f} s" if value >= 1 else f"{value:.2f} s"
