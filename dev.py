#!/usr/bin/env python3
"""Developer entry point: the README's quick-start and test commands, with nothing but Python >= 3.11.

    python3 dev.py demo       # set up .venv, start the seeded sandbox, plan / apply / plan examples/
    python3 dev.py test       # set up .venv, then lint (ruff), type-check (mypy) and run the test suite
    python3 dev.py test-min   # set up .venv-min with every runtime dependency at its declared floor; pytest
    python3 dev.py chaos      # the chaos suite with 50 seeds (tests/chaos; CI runs 5), then its figures

`demo` and `test` create the local virtual environment `.venv` on first use and reuse it afterwards;
`test-min` does the same with `.venv-min`. The project is (re)installed whenever `pyproject.toml`
changed. Standard library only, because this file runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BIN_DIR = "Scripts" if os.name == "nt" else "bin"
EXE = "python.exe" if os.name == "nt" else "python"
VENV = ROOT / ".venv"
BIN = VENV / BIN_DIR
PY = BIN / EXE
VENV_MIN = ROOT / ".venv-min"
"""The minimum-versions environment: runtime dependencies pinned to their declared floors."""

# Sandbox credentials for the demo. They exist only in examples/sandbox-seed.json; not a real secret.
DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 - sandbox-only credential
DEMO_USER_ID = "1001"


def ensure_venv(venv_dir: Path = VENV, pins: tuple[str, ...] = ()) -> Path:
    """Create `venv_dir` if missing and install the project with its dev extra when pyproject changed.

    `pins` (e.g. "httpx==0.27.0") are installed in the same pip run as the project, so the resolver
    keeps them. Returns the environment's python.
    """
    python = venv_dir / BIN_DIR / EXE
    if not python.exists():
        print(f"creating virtual environment {venv_dir}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=False).create(venv_dir)
        # Keeps the environment out of git without an entry in the repository's .gitignore.
        (venv_dir / ".gitignore").write_text("*\n")
    stamp = venv_dir / ".installed-pyproject-sha256"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + "\n".join(pins).encode()).hexdigest()
    if stamp.exists() and stamp.read_text().strip() == digest:
        return python
    print(f"installing greenhouse-reconciler[dev] into {venv_dir.name}", file=sys.stderr)
    quiet = ["--quiet", "--disable-pip-version-check"]
    subprocess.run([str(python), "-m", "pip", "install", *quiet, "--upgrade", "pip"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", *quiet, *pins, "-e", f"{ROOT}[dev]"], check=True)
    stamp.write_text(digest)
    return python


_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*?)\s*(;.*)?$")


def floor_pins(pyproject: Path = ROOT / "pyproject.toml") -> tuple[str, ...]:
    """`name==floor` for every runtime dependency in pyproject's `[project] dependencies`.

    The floor is the dependency's `>=` bound, read from pyproject itself so the pins never drift from
    what is declared. A dependency without a `>=` bound has no floor to test: that is an error.
    """
    import tomllib  # here, not at the top: on Python < 3.11, main()'s message must come first

    declared = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    pins: list[str] = []
    for requirement in declared:
        match = _REQUIREMENT.match(requirement)
        floors = [s.strip()[2:].strip() for s in (match.group(3) if match else "").split(",")
                  if s.strip().startswith(">=")]
        if match is None or len(floors) != 1:
            sys.exit(f"pyproject.toml: dependency {requirement!r} needs exactly one '>=' lower bound for test-min")
        name, extras, _, marker = match.groups()
        pins.append(f"{name}{extras or ''}=={floors[0]}{marker or ''}")
    return tuple(pins)


def run(*args: str, env: dict[str, str] | None = None) -> int:
    print("$ " + " ".join(args), file=sys.stderr, flush=True)
    return subprocess.run(list(args), cwd=ROOT, env=env).returncode


def cmd_test(extra: list[str]) -> int:
    """Lint, type-check, then the whole test suite. Non-zero on any failure."""
    ensure_venv()
    for step in ([str(BIN / "ruff"), "check", "reconciler", "tests", "dev.py"], [str(BIN / "mypy")]):
        if run(*step) != 0:
            return 1
    return pytest(PY, extra)


def cmd_test_min(extra: list[str]) -> int:
    """The test suite with every runtime dependency at exactly its declared floor (in .venv-min).

    Proves the lower bounds in pyproject are true. Lint and type checks are not repeated there: they
    do not depend on the runtime versions.
    """
    pins = floor_pins()
    python = ensure_venv(VENV_MIN, pins)
    names = [re.split(r"[\[=;]", pin, maxsplit=1)[0] for pin in pins]
    run(str(python), "-c", "import importlib.metadata as m, sys; "
        "print('runtime floors: ' + ', '.join(n + ' ' + m.version(n) for n in sys.argv[1:]))", *names)
    return pytest(python, extra)


def pytest(python: Path, extra: list[str]) -> int:
    code = run(str(python), "-m", "pytest", *extra)
    if code == 5:  # pytest: no tests collected. Report it loudly, but it is not a failure of the code.
        print("pytest collected no tests", file=sys.stderr)
        return 0
    return code


CHAOS_SEEDS = 50
"""Seeds `dev.py chaos` runs (`python3 dev.py test` runs the suite's default, 5)."""


def cmd_chaos(extra: list[str]) -> int:
    """The chaos suite (tests/chaos) with CHAOS_SEEDS seeds (50 unless set), then its figures.

    Each seed appends one JSON line to a report file (CHAOS_REPORT); the totals printed at the end are
    the ones docs/reliability.md ("Chaos suite") records. Extra arguments go to pytest.
    """
    import json
    import tempfile
    from collections import Counter

    ensure_venv()
    with tempfile.TemporaryDirectory(prefix="chaos-") as work:
        report = Path(work) / "report.jsonl"
        env = dict(os.environ)
        env.setdefault("CHAOS_SEEDS", str(CHAOS_SEEDS))
        env["CHAOS_REPORT"] = str(report)
        started = time.monotonic()
        code = run(str(PY), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/chaos", *extra, env=env)
        wall = time.monotonic() - started
        lines = [json.loads(line) for line in report.read_text().splitlines()] if report.exists() else []
    faults: Counter[str] = Counter()
    applies: Counter[int] = Counter()
    for line in lines:
        faults.update(line["faults"])
        applies[line["applies"]] += 1
    total = {key: sum(line[key] for line in lines) for key in ("requests", "writes", "committed", "duplicates")}
    failed = sorted(line["seed"] for line in lines if line["problems"])
    print(f"\nchaos: {len(lines)} seed(s) in {wall:.0f} s wall; seeds with problems: {failed or 'none'}")
    print("applies per seed: " + ", ".join(f"{n}: {applies[n]} seed(s)" for n in sorted(applies)))
    print("faults injected: " + ", ".join(f"{kind} {faults[kind]}" for kind in sorted(faults)))
    print(f"requests {total['requests']}, writes sent {total['writes']} (committed {total['committed']}), "
          f"duplicates {total['duplicates']}")
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
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs before anything is installed
        sys.exit(f"Python >= 3.11 is required (this is {sys.version.split()[0]})")
    commands = {"test": cmd_test, "test-min": cmd_test_min, "demo": cmd_demo, "chaos": cmd_chaos}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        return 64
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
