"""reconciler/console.py: levels from -v/-q, the colour decision, progress lines, the redacting handler."""

from __future__ import annotations

import io
import logging

import pytest

from reconciler import console
from reconciler.console import NOTICE, Options, Progress, color_enabled
from reconciler.errors import UsageError


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("verbosity", "level"), [(-1, logging.WARNING), (0, NOTICE), (1, logging.INFO),
                                                  (2, logging.DEBUG), (5, logging.DEBUG)])
def test_levels(verbosity: int, level: int) -> None:
    assert Options(verbosity).level == level


@pytest.mark.parametrize(("no_color", "env", "tty", "expected"), [
    (False, {}, True, True),
    (False, {}, False, False),
    (True, {}, True, False),
    (False, {"NO_COLOR": "1"}, True, False),
    (False, {"NO_COLOR": ""}, True, True),            # empty: not set (no-color.org)
    (False, {"FORCE_COLOR": "1"}, False, True),
    (False, {"FORCE_COLOR": "0"}, False, False),
    (False, {"FORCE_COLOR": ""}, False, False),
    (False, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
    (True, {"FORCE_COLOR": "1"}, False, False),
])
def test_colour_decision(no_color: bool, env: dict[str, str], tty: bool, expected: bool) -> None:
    console.configure(Options(no_color=no_color))
    assert color_enabled(Tty() if tty else io.StringIO(), env) is expected


def test_plain_progress_is_throttled(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    now = [0.0]
    progress = Progress(interactive=False, clock=lambda: now[0], interval=10.0)  # started at 0
    for i in range(1, 30):
        now[0] = i * 1.0
        progress.update(f"live {i}", f"plain {i}")
    progress.end()
    assert err.getvalue().splitlines() == ["plain 10", "plain 20"]  # none in the first 10 s


def test_live_progress_rewrites_one_line_and_log_lines_clear_it(monkeypatch: pytest.MonkeyPatch) -> None:
    err = Tty()
    monkeypatch.setattr("sys.stderr", err)
    console.configure(Options(verbosity=1))
    progress = Progress(interactive=True)
    progress.update("12 API request(s)", "unused")
    logging.getLogger("reconciler.test").info("a line")
    progress.end()
    text = err.getvalue()
    assert text.startswith("\r  12 API request(s)")
    assert "\r" + " " * console.WIDTH + "\ra line\n" in text
    assert text.endswith("\r" + " " * console.WIDTH + "\r")


def test_quiet_shows_no_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    console.configure(Options(verbosity=-1))
    Progress(interactive=False).update("x", "y")
    assert err.getvalue() == ""


def test_the_handler_prefixes_and_redacts(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    console.configure(Options())
    console.add_redactor(lambda text: text.replace("s3cr3t-token", "***"))
    log = logging.getLogger("reconciler.harvest.example")
    log.info("hidden at the default level")
    log.log(NOTICE, "Waiting 5 s: because of s3cr3t-token")
    log.warning("careful")
    assert err.getvalue().splitlines() == ["Waiting 5 s: because of ***", "Warning: careful"]


def test_the_progress_interval_comes_from_the_environment() -> None:
    assert console.progress_interval({}) == 10.0
    assert console.progress_interval({"GREENHOUSE_PROGRESS_SECONDS": "0"}) == 0.0
    assert console.progress_interval({"GREENHOUSE_PROGRESS_SECONDS": "2.5"}) == 2.5
    for bad in ("-1", "soon", "nan", "inf"):
        with pytest.raises(UsageError, match="GREENHOUSE_PROGRESS_SECONDS must be a number of seconds >= 0"):
            console.progress_interval({"GREENHOUSE_PROGRESS_SECONDS": bad})


def test_seconds() -> None:
    assert [console.seconds(x) for x in (15.0, 12.4, 3.0, 2.5, 0.25)] == ["15 s", "12 s", "3 s", "2.5 s", "0.25 s"]
