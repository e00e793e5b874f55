"""End-to-end fixtures: the real sandbox server in a subprocess, and the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "sandbox-seed.json"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GREENHOUSE_")}
        env.update(
            GREENHOUSE_API_URL=self.url,
            GREENHOUSE_TOKEN_URL=f"{self.url}/token",
            GREENHOUSE_CLIENT_ID="demo-client",
            GREENHOUSE_CLIENT_SECRET="demo-secret",
            GREENHOUSE_USER_ID="1001",
            NO_COLOR="1",
        )
        env.update(extra)
        return env

    def admin(self, method: str, path: str) -> Any:
        req = urllib.request.Request(f"{self.url}{path}", method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback sandbox
            body = resp.read()
        return json.loads(body) if body else None

    def requests(self) -> list[dict[str, Any]]:
        return list(self.admin("GET", "/_sandbox/requests"))

    def writes(self) -> list[tuple[str, str]]:
        return [(r["method"], r["path"]) for r in self.requests() if r["method"] != "GET" and r["path"] != "/token"]

    def clear(self) -> None:
        self.admin("DELETE", "/_sandbox/requests")

    def state(self) -> dict[str, Any]:
        return dict(self.admin("GET", "/_sandbox/state"))

    def stop(self) -> None:
        """Terminate the server and close its pipes (an open pipe is a ResourceWarning, i.e. an error)."""
        self.process.terminate()
        self.process.wait(timeout=10)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


def start_server(*args: str) -> Server:
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0", "--seed", str(SEED), *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    if "listening on" not in line:
        process.kill()
        raise RuntimeError(f"sandbox did not start: {line}{process.stderr.read()}")
    return Server(line.strip().rsplit(" ", 1)[-1], process)


@pytest.fixture
def server() -> Iterator[Server]:
    srv = start_server()
    try:
        yield srv
    finally:
        srv.stop()


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


def cli(*args: str, env: dict[str, str], stdin: str | None = None) -> Run:
    proc = subprocess.run([sys.executable, "-m", "reconciler", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)
    return Run(proc.returncode, proc.stdout, proc.stderr)
