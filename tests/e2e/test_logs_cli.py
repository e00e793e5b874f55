"""Logs a person can follow, through the real sandbox server and the real CLI in a subprocess.

-v shows each request and every wait, and never a secret or a token (the tokens the CLI really got are
recorded by a pass-through stand-in for the token endpoint); a long wait is said even without -v;
connection failures retrying cannot fix fail at once, naming the host; a GREENHOUSE_API_URL ending in
/v3 gets a hint; progress lines off a terminal; the colour switches.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.e2e.conftest import Server, cli, start_server

pytestmark = pytest.mark.e2e

SECRET = "demo-secret"


class TokenRecorder:
    """A stand-in token endpoint on its own loopback port: forwards POST /token to the sandbox unchanged
    and records every access token the sandbox issued, so a test can look for them in the CLI's output."""

    def __init__(self, upstream: str) -> None:
        self.tokens: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                request = urllib.request.Request(f"{upstream}/token", data=body, headers=headers, method="POST")
                with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback sandbox
                    status, payload = answer.status, answer.read()
                token = json.loads(payload).get("access_token")
                if isinstance(token, str):
                    recorder.tokens.append(token)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/token"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def limited() -> Iterator[Server]:
    srv = start_server("--rate-limit", "5/2")
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.parametrize("verbose", ["-v", "-vv"])
def test_verbose_plan_under_a_rate_limit_shows_requests_and_waits_and_no_secret(limited: Server, verbose: str
                                                                                ) -> None:
    recorder = TokenRecorder(limited.url)
    try:
        run = cli(verbose, "plan", "examples/", env=limited.env(GREENHOUSE_TOKEN_URL=recorder.url))
    finally:
        recorder.close()
    assert run.code == 0, run.stderr
    assert len(recorder.tokens) == 1  # one token per process
    out = run.stdout + run.stderr
    assert SECRET not in out
    for token in recorder.tokens:
        assert token not in out
        for part in token.split("."):  # nor any part of the JWT-shaped token
            assert len(part) < 8 or part not in out
    assert "Authorization" not in out and "Bearer" not in out
    assert "POST /token -> 200 (" in run.stderr
    assert re.search(r"^GET /v3/departments -> 200 \(\d+\.\d\d s\)$", run.stderr, re.M)
    waits = re.findall(r"^Waiting [\d.]+ s: rate limit \(the window is spent; until X-RateLimit-Reset\) on GET /v3/",
                       run.stderr, re.M)
    assert waits, run.stderr  # 13 requests through a 5-per-2-s window must wait at least twice
    api_requests = [r for r in limited.requests() if r["path"] != "/token"]
    logged = re.findall(r"^GET /v3/\S+ -> \d{3} \(", run.stderr, re.M)
    assert len(logged) == len(api_requests)  # one line per request the sandbox saw
    assert not [r for r in api_requests if r["status"] == 429]
    if verbose == "-vv":  # the query and the rate-limit budget of each answer
        assert re.search(r"^  GET /v3/departments\?per_page=500; X-RateLimit-Remaining \d+, X-RateLimit-Reset \d+",
                         run.stderr, re.M), run.stderr


def test_without_verbose_the_requests_are_not_logged(limited: Server) -> None:
    run = cli("plan", "examples/", env=limited.env())
    assert run.code == 0, run.stderr
    assert "GET /v3/departments -> 200" not in run.stderr
    assert "Read the live organisation with 13 API request(s)." in run.stderr


def test_a_long_retry_after_wait_is_said_without_verbose_and_not_with_quiet() -> None:
    srv = start_server("--faults", "retry_after=3,429@GET /v3/departments")
    try:
        run = cli("plan", "examples/", env=srv.env())
        assert run.code == 0, run.stderr
        assert ("Waiting 3 s: rate limit (429 with Retry-After) on GET /v3/departments (retry 1 of at most 6)"
                in run.stderr.splitlines())
        assert sum(1 for r in srv.requests() if r["path"] == "/v3/departments" and r["status"] == 429) == 1
    finally:
        srv.stop()
    srv = start_server("--faults", "retry_after=3,429@GET /v3/departments")
    try:
        run = cli("-q", "plan", "examples/", env=srv.env())
        assert run.code == 0, run.stderr
        assert run.stderr == ""  # -q: no wait, no note, no progress
        assert "Plan: 7 to create" in run.stdout
    finally:
        srv.stop()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: connecting is refused


def _env(api: str, token: str) -> dict[str, str]:
    """The CLI's environment towards `api` (no sandbox there), with the sandbox's credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENHOUSE_")}
    env.update(GREENHOUSE_API_URL=api, GREENHOUSE_TOKEN_URL=token, GREENHOUSE_CLIENT_ID="demo-client",
               GREENHOUSE_CLIENT_SECRET=SECRET, GREENHOUSE_USER_ID="1001", NO_COLOR="1")
    return env


def test_connection_refused_fails_at_once_naming_the_host() -> None:
    port = _closed_port()
    base = f"http://127.0.0.1:{port}"
    run = cli("plan", "examples/", env=_env(base, f"{base}/token"))
    assert run.code == 1
    assert run.stderr.startswith(f"Error: POST {base}/token (the token request for GET /v3/"), run.stderr
    assert f"cannot connect to 127.0.0.1:{port} (connection refused); check GREENHOUSE_TOKEN_URL" in run.stderr
    assert "not retried, as retrying cannot fix this (1 attempt(s))" in run.stderr
    assert "Traceback" not in run.stderr and "Waiting" not in run.stderr


def test_connection_refused_by_the_api_names_the_api_url(server: Server) -> None:
    port = _closed_port()
    run = cli("plan", "examples/", env=server.env(GREENHOUSE_API_URL=f"http://127.0.0.1:{port}"))
    assert run.code == 1
    assert f"cannot connect to 127.0.0.1:{port} (connection refused); check GREENHOUSE_API_URL" in run.stderr
    assert re.search(rf"Error: GET http://127\.0\.0\.1:{port}/v3/\w+: cannot connect", run.stderr), run.stderr
    assert "(1 attempt(s))" in run.stderr


def test_a_host_name_that_does_not_resolve_fails_at_once() -> None:
    base = "https://nonexistent.invalid"
    run = cli("plan", "examples/", env=_env(base, f"{base}/token"))
    assert run.code == 1
    assert "cannot connect to nonexistent.invalid:443 (DNS: the host name does not resolve" in run.stderr, run.stderr
    assert "(1 attempt(s))" in run.stderr and "Waiting" not in run.stderr


class PlainListener:
    """A TCP listener that answers anything with a plain-text HTTP line: TLS spoken to it fails the handshake.
    Counts the connections it accepted."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            with conn:
                try:
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


def test_https_to_a_server_that_does_not_speak_tls_fails_at_once() -> None:
    listener = PlainListener()
    try:
        base = f"https://127.0.0.1:{listener.port}"
        # One reading thread: several would each send their first request before any failure is known.
        run = cli("plan", "examples/", env={**_env(base, f"{base}/token"), "GREENHOUSE_READ_WORKERS": "1"})
    finally:
        listener.close()
    assert run.code == 1
    assert f"cannot connect to 127.0.0.1:{listener.port} (TLS handshake failed: " in run.stderr, run.stderr
    assert "(1 attempt(s))" in run.stderr
    assert listener.accepted == 1  # one attempt, no retry round


def test_an_api_url_ending_in_v3_gets_a_hint(server: Server) -> None:
    run = cli("plan", "examples/", env=server.env(GREENHOUSE_API_URL=f"{server.url}/v3"))
    assert run.code == 1
    assert (f"Warning: GREENHOUSE_API_URL ({server.url}/v3) ends in /v3, but paths are /v3/... under it: set it "
            "without /v3, e.g. https://harvest.greenhouse.io") in run.stderr
    assert re.search(r"Error: GET /v3/v3/\w+ -> 404: .*\(GREENHOUSE_API_URL ends in /v3, but paths are /v3/\.\.\. "
                     r"under it: set it without /v3", run.stderr), run.stderr


def test_progress_off_a_terminal_is_plain_lines_with_counts(server: Server) -> None:
    run = cli("plan", "examples/", env=server.env())
    assert run.code == 0, run.stderr
    assert "read: " not in run.stderr  # a run shorter than 10 s prints none
    progress = server.env(GREENHOUSE_PROGRESS_SECONDS="0")  # a line per event
    run = cli("plan", "examples/", env=progress)
    assert run.code == 0, run.stderr
    assert "\r" not in run.stderr
    assert re.search(r"^read: \d+ API request\(s\) so far, \d+ list endpoint\(s\); last GET /v3/\w+ -> 200$",
                     run.stderr, re.M), run.stderr
    assert len(re.findall(r"^read: ", run.stderr, re.M)) == 13  # one per request
    run = cli("apply", "examples/", "--yes", env=progress)
    assert run.code == 0, run.stderr
    assert [line for line in run.stderr.splitlines() if line.startswith("apply: ")][-1] == (
        "apply: 10 of 10 changes, 13 write request(s) answered")
    assert re.search(r"^apply: 1 of 10 changes, 1 write request\(s\) answered$", run.stderr, re.M), run.stderr
    assert "Apply complete: 10 change(s), 13 write request(s)." in run.stderr


def test_quiet_shows_no_progress_and_no_notes_but_the_outcome(server: Server) -> None:
    run = cli("-q", "apply", "examples/", "--yes", env=server.env(GREENHOUSE_PROGRESS_SECONDS="0"))
    assert run.code == 0, run.stderr
    assert run.stderr.splitlines() == ["Apply complete: 10 change(s), 13 write request(s)."]
    assert "Plan: 7 to create" in run.stdout


def test_verbose_and_quiet_together_are_a_usage_error(server: Server) -> None:
    run = cli("-v", "-q", "plan", "examples/", env=server.env())
    assert run.code == 64
    assert "give either -v/--verbose or -q/--quiet, not both" in run.stderr


@pytest.mark.parametrize(("extra", "args", "coloured"), [
    ({"FORCE_COLOR": "1"}, [], True),                       # forced on, off a terminal
    ({"FORCE_COLOR": "0"}, [], False),                      # "0" does not force
    ({"FORCE_COLOR": "1"}, ["--no-color"], False),          # --no-color wins
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, [], False),     # NO_COLOR wins
    ({}, [], False),                                        # off a terminal: none
])
def test_colour_switches_on_the_text_plan(server: Server, extra: dict[str, str], args: list[str],
                                          coloured: bool) -> None:
    env = server.env(**extra)
    if "NO_COLOR" not in extra:
        del env["NO_COLOR"]
    run = cli(*args, "plan", "examples/", env=env)
    assert run.code == 0, run.stderr
    assert "Plan: 7 to create" in run.stdout
    assert ("\x1b[32m" in run.stdout) is coloured
    assert ("\x1b[" in run.stdout) is coloured
