"""Running the real CLI in-process against an `AnswerServer`, with a controlled environment.

Many fuzz examples cannot each pay for a new interpreter, so `run_cli` calls `reconciler.cli.main` in
this process, with the environment of a real run (the GREENHOUSE_* settings pointing at the server,
NO_COLOR) and stdout/stderr captured. A traceback would be an exception other than `SystemExit`
escaping `main`: it is returned as `Outcome.crash`, for the test to report. The real CLI in a
subprocess is run by the e2e tests (tests/e2e/test_boundary_rows.py) and a few fuzz cases.
"""

from __future__ import annotations

import io
import os
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from reconciler.cli import main

ROOT = Path(__file__).resolve().parents[2]
SECRET = "demo-secret"


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    #: The formatted traceback of an exception other than SystemExit, if one escaped.
    crash: str | None = None


def environment(url: str) -> dict[str, str]:
    """A real run's environment: the host's, minus any GREENHOUSE_* setting, plus the server's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENHOUSE_")}
    env.update(GREENHOUSE_API_URL=url, GREENHOUSE_TOKEN_URL=f"{url}/token", GREENHOUSE_CLIENT_ID="demo-client",
               GREENHOUSE_CLIENT_SECRET=SECRET, GREENHOUSE_USER_ID="1001", NO_COLOR="1")
    return env


@contextmanager
def _environ(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_cli(args: Sequence[str], url: str) -> Outcome:
    """`greenhouse-reconciler <args>` in this process, against the server at `url` (cwd: the repository)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    crash = None
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with _environ(environment(url)), redirect_stdout(out), redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:  # noqa: BLE001 - a traceback is exactly what the fuzzers look for
                crash = traceback.format_exc()
                code = -1
    finally:
        os.chdir(cwd)
    return Outcome(code, out.getvalue(), err.getvalue(), crash)
