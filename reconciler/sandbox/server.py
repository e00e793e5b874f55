"""`greenhouse-reconciler sandbox serve`: the sandbox over real HTTP (stdlib ThreadingHTTPServer).

Prints exactly one line, `Sandbox listening on http://HOST:PORT`, to stderr once the socket
listens (with port 0, the port the OS chose); serves until SIGINT/SIGTERM; then persists the
state when a state path was given. A drop fault closes the socket without an answer.

No latency of its own: the handler sets TCP_NODELAY and buffers its writes, so the status line,
the headers and the body leave in one `send` (flushed by `handle_one_request`). Without this a
kept-alive request took about 40 ms: headers and body went out as two small packets, and Nagle's
algorithm held the second until the client's delayed ACK for the first.
"""

from __future__ import annotations

import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from reconciler.sandbox.core import Sandbox, load_seed_file
from reconciler.sandbox.errors import DroppedConnection
from reconciler.sandbox.options import SandboxOptions


def make_handler(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "HarvestSandbox/1"
        disable_nagle_algorithm = True
        wbufsize = 1 << 16  # a buffered wfile: one write per response (see the module docstring)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            headers = {k: v for k, v in self.headers.items()}
            try:
                status, response_headers, payload = sandbox.handle(self.command, self.path, headers, body)
            except DroppedConnection:
                self.close_connection = True
                return
            self.send_response(status)
            for key, value in response_headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if payload:
                self.wfile.write(payload)
            self.wfile.flush()

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the request log is the record
            return

    return Handler


def run(host: str, port: int, seed_path: str | None, state_path: str | None, rate_limit: str | None,
        faults: str | None, options: SandboxOptions | None = None) -> None:
    """Serve until SIGINT/SIGTERM. Raises ValueError for a bad rate-limit, faults spec, seed or
    option value, or when the address cannot be bound."""
    seed = load_seed_file(seed_path) if seed_path else None
    state = Path(state_path) if state_path else None
    sandbox = Sandbox(seed, rate_limit=rate_limit, faults=faults, state_path=state, options=options)
    try:
        server = ThreadingHTTPServer((host, port), make_handler(sandbox))
    except OSError as e:  # port in use, unknown host: a clear message, not a traceback
        raise ValueError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    server.daemon_threads = True
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    worker = threading.Thread(target=server.serve_forever, name="sandbox-http", daemon=True)
    worker.start()
    bound_port = server.server_address[1]
    print(f"Sandbox listening on http://{host}:{bound_port}", file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        server.server_close()
        sandbox.save()
