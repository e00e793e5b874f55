"""Proxies and CA certificates come from the environment, through httpx's own handling (`trust_env`).

Behavioural tests: a real client against a real local proxy (a CONNECT tunnel in a thread) and a real
local origin (TLS, with a test CA in tests/harvest/tls/ that only SSL_CERT_FILE makes trusted). The API
is addressed as `https://api.example.test:<port>`: the proxy tunnels every CONNECT to the origin, and
for the cases that must go direct, name resolution is patched so that `*.example.test` is the origin.
Both routes therefore succeed; only the proxy's log tells them apart. Everything stays on loopback,
so the tests are offline; they open real sockets, hence the `e2e` marker (tests/conftest.py lets
only those connect, and only to loopback).
"""

from __future__ import annotations

import base64
import json
import logging
import select
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.errors import TransportError, UsageError
from reconciler.harvest import HarvestReader, Settings

TLS = Path(__file__).parent / "tls"
TOKEN = "tok-proxy-test-41"
SECRET = "client-secret-Xy7"
PROXY_USER = "proxy-user"
PROXY_PASSWORD = "pr0xy-Pa55-Qw3"  # distinctive, so a leak is easy to spot in any text
ROWS = [{"id": 1, "name": "Engineering"}]
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                   "NO_PROXY", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# -- the local origin: the token endpoint and one list endpoint ------------------------------------


class _OriginHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5
    server: _Origin

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append(("POST", self.path, self.headers.get("Host", "")))
        if self.path != "/token":
            self._answer(404, {"message": "not found"})
        else:
            self._answer(200, {"access_token": TOKEN, "expires_in": 3600})

    def do_GET(self) -> None:
        self.server.seen.append(("GET", self.path, self.headers.get("Host", "")))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._answer(401, {"message": "unauthorized"})
        elif self.path.startswith("/v3/departments"):
            self._answer(200, ROWS)
        else:
            self._answer(404, {"message": "not found"})

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: `seen` is the record
        return


class _Origin(HTTPServer):
    daemon_threads = False  # server_close() joins every handler: no thread outlives the test

    def __init__(self, host: str, tls: bool) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, 0), _OriginHandler)
        self.seen: list[tuple[str, str, str]] = []
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(TLS / "server.pem", TLS / "server.key")
            self.socket = context.wrap_socket(self.socket, server_side=True)

    def handle_error(self, request: Any, client_address: Any) -> None:  # a client that hung up: not news
        return

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _ThreadedOrigin(socketserver.ThreadingMixIn, _Origin):
    pass


# -- the local proxy: CONNECT tunnels to the origin, or a 407 for everything ----------------------------


@dataclass(frozen=True)
class ProxyRequest:
    line: str
    proxy_authorization: str | None


class _ProxyHandler(socketserver.BaseRequestHandler):
    server: _Proxy

    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        text, _, rest = head.partition(b"\r\n\r\n")
        line, *header_lines = text.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
        self.server.seen.append(ProxyRequest(line, headers.get("proxy-authorization")))
        if self.server.upstream is None or not line.startswith("CONNECT "):
            self.request.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                                 b"Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n"
                                 b"Connection: close\r\n\r\n")
            return
        with socket.create_connection(self.server.upstream, timeout=5) as upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            self._pipe(upstream)

    def _pipe(self, upstream: socket.socket) -> None:
        ends = {self.request: upstream, upstream: self.request}
        while not self.server.stopping.is_set():
            readable, _, _ = select.select(list(ends), [], [], 0.1)
            for end in readable:
                data = end.recv(65536)
                if not data:
                    return
                ends[end].sendall(data)


class _Proxy(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = False
    allow_reuse_address = True

    def __init__(self, upstream: tuple[str, int] | None) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.upstream = upstream
        self.seen: list[ProxyRequest] = []
        self.stopping = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        return

    def url(self, credentials: bool = False) -> str:
        auth = f"{PROXY_USER}:{PROXY_PASSWORD}@" if credentials else ""
        return f"http://{auth}127.0.0.1:{self.server_address[1]}"


def _serve(server: socketserver.BaseServer) -> Callable[[], None]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def stop() -> None:
        if isinstance(server, _Proxy):
            server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop


@pytest.fixture
def origin() -> Iterator[_Origin]:
    server = _ThreadedOrigin("127.0.0.1", tls=True)
    stop = _serve(server)
    yield server
    stop()


@pytest.fixture
def proxy(origin: _Origin) -> Iterator[_Proxy]:
    server = _Proxy(upstream=("127.0.0.1", origin.port))
    stop = _serve(server)
    yield server
    stop()


@pytest.fixture
def refusing_proxy() -> Iterator[_Proxy]:
    server = _Proxy(upstream=None)
    stop = _serve(server)
    yield server
    stop()


@pytest.fixture
def example_test_resolves_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """`*.example.test` resolves to 127.0.0.1 here, so a direct connection reaches the origin."""
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".example.test"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def _settings(api_url: str, token_url: str) -> Settings:
    return Settings(client_id="demo-client", client_secret=SECRET, api_url=api_url, token_url=token_url)


def _reader(api_url: str, token_url: str, **kw: Any) -> HarvestReader:
    return HarvestReader(_settings(api_url, token_url), timeout=5, sleep=lambda _: None, **kw)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- the tests --------------------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("no_proxy", "via_proxy"),
    [
        ("", True),
        ("other.test,10.0.0.0/8", True),
        ("example.test", False),
        (".example.test", False),
        ("api.example.test,auth.example.test", False),
    ],
)
@pytest.mark.usefixtures("example_test_resolves_to_loopback")
def test_https_proxy_carries_the_requests_unless_no_proxy_names_the_host(
    monkeypatch: pytest.MonkeyPatch, origin: _Origin, proxy: _Proxy, no_proxy: str, via_proxy: bool
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url(credentials=True))
    monkeypatch.setenv("NO_PROXY", no_proxy)
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))
    api, auth = f"api.example.test:{origin.port}", f"auth.example.test:{origin.port}"
    with _reader(f"https://{api}", f"https://{auth}/token") as reader:
        assert reader.list_all("/v3/departments") == ROWS
    assert origin.seen == [("POST", "/token", auth), ("GET", "/v3/departments?per_page=500", api)]
    if via_proxy:
        # One tunnel per origin, each authenticated with the credentials from the proxy URL.
        assert proxy.seen == [ProxyRequest(f"CONNECT {auth} HTTP/1.1", _basic(PROXY_USER, PROXY_PASSWORD)),
                              ProxyRequest(f"CONNECT {api} HTTP/1.1", _basic(PROXY_USER, PROXY_PASSWORD))]
    else:
        assert proxy.seen == []


@pytest.mark.e2e
def test_all_proxy_is_the_fallback_when_no_scheme_proxy_is_named(
    monkeypatch: pytest.MonkeyPatch, origin: _Origin, proxy: _Proxy
) -> None:
    monkeypatch.setenv("ALL_PROXY", proxy.url())
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))
    api = f"api.example.test:{origin.port}"
    with _reader(f"https://{api}", f"https://{api}/token") as reader:
        assert reader.list_all("/v3/departments") == ROWS
    # The name resolves nowhere but at the proxy (no resolver patch here): the proxy carried it.
    assert proxy.seen == [ProxyRequest(f"CONNECT {api} HTTP/1.1", None)]


@pytest.mark.e2e
@pytest.mark.usefixtures("example_test_resolves_to_loopback")
def test_ssl_cert_file_is_what_makes_the_origin_trusted(origin: _Origin) -> None:
    """Without SSL_CERT_FILE the test CA is unknown and TLS verification fails: the variable is honoured."""
    api = f"https://api.example.test:{origin.port}"
    with _reader(api, f"{api}/token", max_retries=0) as reader, pytest.raises(TransportError, match="CERTIFICATE"):
        reader.list_all("/v3/departments")
    assert origin.seen == []


def _bind_or_skip(host: str) -> _ThreadedOrigin:
    try:
        return _ThreadedOrigin(host, tls=False)
    except OSError as exc:
        pytest.skip(f"cannot listen on {host} here ({exc})")


@pytest.mark.e2e
@pytest.mark.parametrize(("bind", "host"), [("127.0.0.1", "127.0.0.1"), ("127.0.0.1", "localhost"),
                                            ("::1", "[::1]"), ("127.0.0.2", "127.0.0.2")])
def test_the_loopback_sandbox_never_goes_through_a_proxy(
    monkeypatch: pytest.MonkeyPatch, refusing_proxy: _Proxy, bind: str, host: str
) -> None:
    """Every proxy variable names a proxy (one that refuses everything), and NO_PROXY is unset.

    127.0.0.2 is not one of the fixed loopback names: it goes direct because the API URL is on loopback.
    """
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, refusing_proxy.url())
    sandbox = _bind_or_skip(bind)
    stop = _serve(sandbox)
    try:
        api = f"http://{host}:{sandbox.port}"
        with _reader(api, f"{api}/token") as reader:
            assert reader.list_all("/v3/departments") == ROWS
    finally:
        stop()
    assert [(m, p) for m, p, _ in sandbox.seen] == [("POST", "/token"), ("GET", "/v3/departments?per_page=500")]
    assert refusing_proxy.seen == []


@pytest.mark.e2e
def test_proxy_credentials_are_never_printed(
    monkeypatch: pytest.MonkeyPatch, refusing_proxy: _Proxy, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", refusing_proxy.url(credentials=True))
    caplog.set_level(logging.DEBUG)
    reader = _reader("https://api.example.test", "https://auth.example.test/token", max_retries=1)
    with reader, pytest.raises(TransportError) as failure:
        reader.list_all("/v3/departments")
    # The proxy was asked (twice: one retry) and got the credentials; nobody else did.
    assert [r.line for r in refusing_proxy.seen] == ["CONNECT auth.example.test:443 HTTP/1.1"] * 2
    assert {r.proxy_authorization for r in refusing_proxy.seen} == {_basic(PROXY_USER, PROXY_PASSWORD)}
    assert "407" in str(failure.value)
    for text in (str(failure.value), repr(failure.value), caplog.text, repr(reader)):
        assert PROXY_PASSWORD not in text and _basic(PROXY_USER, PROXY_PASSWORD) not in text
    assert failure.value.__cause__ is None and failure.value.__suppress_context__  # no chained httpx text


def test_an_unusable_proxy_url_is_a_usage_error_without_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", f"ftp://{PROXY_USER}:{PROXY_PASSWORD}@proxy.example.test:21")
    with pytest.raises(UsageError, match="ALL_PROXY") as failure:
        _reader("https://api.example.test", "https://auth.example.test/token")
    assert PROXY_PASSWORD not in str(failure.value)


def test_unreadable_ca_certificates_are_a_usage_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bundle = tmp_path / "not-a-bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with pytest.raises(UsageError, match="SSL_CERT_FILE"):
        _reader("https://api.example.test", "https://auth.example.test/token")


def test_an_injected_transport_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests inject the sandbox or a MockTransport: the environment's proxy must not divert them."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("ALL_PROXY", "http://proxy.invalid:3128")
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.host}{request.url.path}")
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": TOKEN})
        return httpx.Response(200, json=ROWS)

    with _reader("https://api.example.test", "https://auth.example.test/token",
                 transport=httpx.MockTransport(handle)) as reader:
        assert reader.list_all("/v3/departments") == ROWS
    assert seen == ["POST auth.example.test/token", "GET api.example.test/v3/departments"]
