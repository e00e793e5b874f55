"""apply and plan in a real terminal (a pty): the interactive confirmation, colour, NO_COLOR and --no-color,
the live progress line."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import pytest

from tests.e2e.conftest import ROOT, Server

pytestmark = pytest.mark.e2e

PROMPT = b"Only 'yes' is accepted"


def in_terminal(args: list[str], env: dict[str, str], answer: str | None) -> tuple[int, bytes]:
    """Run the CLI on a pseudo-terminal; type `answer` at the confirmation prompt."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "reconciler", *args], cwd=ROOT, env=env,
                            stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    output = b""
    answered = answer is None
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            if not answered and PROMPT in output:
                os.write(master, (answer or "").encode() + b"\n")
                answered = True
            if proc.poll() is not None and not ready:
                break
        return proc.wait(timeout=30), output
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()


def test_apply_asks_and_applies_after_yes_in_colour(server: Server) -> None:
    env = server.env()
    del env["NO_COLOR"]
    code, out = in_terminal(["apply", "examples/"], env, "yes")
    assert code == 0, out.decode(errors="replace")
    assert PROMPT in out
    assert b"\x1b[32m" in out  # creates in green
    assert b"Apply complete" in out
    assert len(server.writes()) == 13  # 12 planned writes; the role change's create is refused once


def test_any_answer_but_yes_cancels_without_writing(server: Server) -> None:
    code, out = in_terminal(["apply", "examples/"], server.env(), "y")
    assert code == 1
    assert b"apply cancelled; nothing was written" in out
    assert server.writes() == []


def test_no_color_turns_colour_off_on_a_terminal(server: Server) -> None:
    code, out = in_terminal(["plan", "examples/"], server.env(NO_COLOR="1"), None)
    assert code == 0
    assert b"Plan: 7 to create" in out
    assert b"\x1b[3" not in out


def test_no_color_option_turns_colour_off_on_a_terminal(server: Server) -> None:
    env = server.env()
    del env["NO_COLOR"]
    code, out = in_terminal(["--no-color", "plan", "examples/"], env, None)
    assert code == 0
    assert b"Plan: 7 to create" in out
    assert b"\x1b[3" not in out


def test_progress_on_a_terminal_is_one_live_line(server: Server) -> None:
    code, out = in_terminal(["plan", "examples/"], server.env(), None)
    assert code == 0
    assert b"\r  1 API request(s): GET /v3/" in out  # rewritten in place ...
    assert b"read: " not in out  # ... not the plain lines of CI logs
    code, out = in_terminal(["-q", "plan", "examples/"], server.env(), None)
    assert code == 0
    assert b"API request(s)" not in out
