"""A scripted local Harvest server for the API-answer fuzzers and the boundary e2e tests.

`AnswerServer` is a real HTTP server (threaded, on 127.0.0.1, port chosen by the OS) in front of an
upstream Harvest: an in-process `reconciler.sandbox.Sandbox` (fast, for the many fuzz examples) or
the real sandbox server started by `tests/e2e/conftest.py` (for the e2e tests). Every request is
passed on as it came, Host header included, so the sandbox's `Link` headers point back here; the
answer to a GET of a `/v3` list may then be changed by the one `Corruption` the test set. Every
request is recorded (method, path), so a test asserts exactly which requests were sent, and that no
write was. The corruption stands for a bad answer to the reads a plan is made from, so it applies only
until the first write: re-reads after a write (settling) get the upstream's answers.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from reconciler.sandbox import Sandbox

#: (status, headers, body) as the upstream answered or as a corruption leaves it.
Answer = tuple[int, dict[str, str], bytes]
#: (method, request target (path and query), answer, server base URL) -> the answer to send instead.
#: Applied to the 200 answers of GET /v3/... only.
Corruption = Callable[[str, str, Answer, str], Answer]
#: (method, path with query, headers, body) -> answer.
Upstream = Callable[[str, str, Mapping[str, str], bytes], Answer]


def sandbox_upstream(sandbox: Sandbox) -> Upstream:
    """Answers from an in-process sandbox."""
    def send(method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        status, out, payload = sandbox.handle(method, target, headers, body)
        return status, dict(out), payload
    return send


def http_upstream(url: str) -> Upstream:
    """Answers from a sandbox server at `url` (http://127.0.0.1:port)."""
    parts = urlsplit(url)

    def send(method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        try:
            connection.request(method, target, body=body or None, headers=dict(headers))
            response = connection.getresponse()
            payload = response.read()
            out = {k: v for k, v in response.getheaders()
                   if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server")}
            return response.status, out, payload
        finally:
            connection.close()
    return send


@dataclass
class AnswerServer:
    """The HTTP server; `url` is its base; `corruption` may be set (or replaced) between runs."""

    upstream: Upstream
    corruption: Corruption | None = None
    requests: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def record(self, method: str, path: str) -> None:
        with self._lock:
            self.requests.append((method, path))

    def writes(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(m, p) for m, p in self.requests if m not in ("GET", "HEAD") and p != "/token"]

    def reset(self, corruption: Corruption | None = None, upstream: Upstream | None = None) -> None:
        with self._lock:
            self.requests.clear()
            self.corruption = corruption
            if upstream is not None:
                self.upstream = upstream

    def answer(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        path = urlsplit(target).path
        self.record(method, path)
        answer = self.upstream(method, target, headers, body)
        corruption = None if self.writes() else self.corruption
        if corruption is not None and method == "GET" and path.startswith("/v3/") and answer[0] == 200:
            answer = corruption(method, target, answer, self.url)
        return answer


def _handler(server: AnswerServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = server.answer(self.command, self.path, dict(self.headers.items()), body)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            """Quiet: the test asserts on `requests`, not on a log."""

    return Handler


@contextmanager
def serving(upstream: Upstream, corruption: Corruption | None = None, host: str = "127.0.0.1") -> Iterator[AnswerServer]:
    """An `AnswerServer` listening on `host` (a loopback address) for the duration of the `with` block."""
    server = AnswerServer(upstream, corruption)
    httpd = ThreadingHTTPServer((host, 0), _handler(server))
    httpd.daemon_threads = True
    server.url = f"http://{host}:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, name="answer-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)
