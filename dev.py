#!/usr/bin/env python3
"""Developer entry point: the README's two quick-start commands, with nothing but Python >= 3.11.

    python3 dev.py demo   # set up .venv, start the seeded sandbox, plan / apply / plan examples/
    python3 dev.py test   # set up .venv, then lint (ruff), type-check (mypy) and run the test suite

Both create the local virtual environment `.venv` on first use and reuse it afterwards; the
project is (re)installed into it whenever `pyproject.toml` changed. Standard library only, because
this file runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed-pyproject-sha256"

# Sandbox credentials for the demo. They exist only in examples/sandbox-seed.json; not a real secret.
DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 - sandbox-only credential
DEMO_USER_ID = "1001"


def ensure_venv() -> None:
    """Create .venv if missing and install the project with its dev extra when pyproject changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs before anything is installed
        sys.exit(f"Python >= 3.11 is required (this is {sys.version.split()[0]})")
    if not PY.exists():
        print(f"creating virtual environment {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    print("installing greenhouse-reconciler[dev] into .venv", file=sys.stderr)
    quiet = ["--quiet", "--disable-pip-version-check"]
    subprocess.run([str(PY), "-m", "pip", "install", *quiet, "--upgrade", "pip"], check=True)
    subprocess.run([str(PY), "-m", "pip", "install", *quiet, "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(digest)


def run(*args: str, env: dict[str, str] | None = None) -> int:
    print("$ " + " ".join(args), file=sys.stderr, flush=True)
    return subprocess.run(list(args), cwd=ROOT, env=env).returncode


def cmd_test(extra: list[str]) -> int:
    """Lint, type-check, then the whole test suite. Non-zero on any failure."""
    ensure_venv()
    for step in ([str(BIN / "ruff"), "check", "reconciler", "tests", "dev.py"], [str(BIN / "mypy")]):
        if run(*step) != 0:
            return 1
    code = run(str(PY), "-m", "pytest", *extra)
    if code == 5:  # pytest: no tests collected. Report it loudly, but it is not a failure of the code.
        print("pytest collected no tests", file=sys.stderr)
        return 0
    return code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cmd_demo(_extra: list[str]) -> int:
    """Start the seeded sandbox, then plan, apply and plan again on examples/ (convergence)."""
    ensure_venv()
    port = free_port()
    state = ROOT / ".demo" / "sandbox-state.json"
    state.parent.mkdir(exist_ok=True)
    state.unlink(missing_ok=True)
    cli = str(BIN / "greenhouse-reconciler")
    server = subprocess.Popen(
        [cli, "sandbox", "serve", "--port", str(port), "--seed", "examples/sandbox-seed.json", "--state", str(state)],
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    print("the sandbox did not start", file=sys.stderr)
                    return 1
                time.sleep(0.1)
        env = dict(os.environ)
        env.update(
            GREENHOUSE_API_URL=f"http://127.0.0.1:{port}",
            GREENHOUSE_TOKEN_URL=f"http://127.0.0.1:{port}/token",
            GREENHOUSE_CLIENT_ID=DEMO_CLIENT_ID,
            GREENHOUSE_CLIENT_SECRET=DEMO_CLIENT_SECRET,
            GREENHOUSE_USER_ID=DEMO_USER_ID,
        )
        steps = [
            [cli, "validate", "examples/"],
            [cli, "plan", "examples/"],
            [cli, "apply", "examples/", "--yes"],
            [cli, "plan", "examples/", "--detailed-exitcode"],
        ]
        for step in steps:
            print(f"\n=== {' '.join(step[1:])}", flush=True)
            code = run(*step, env=env)
            if code != 0:
                print(f"demo step failed with exit code {code}", file=sys.stderr)
                return 1
        print("\nDemo complete: the second plan shows no changes (converged).")
        return 0
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> int:
    commands = {"test": cmd_test, "demo": cmd_demo}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        return 64
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
