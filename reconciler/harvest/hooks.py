"""The transport layer under the client: counts, throttles and (for readers) refuses writes.

Every request the client sends, including the token requests its auth flow yields, passes through
`MeteredTransport` before it reaches the real (or sandbox) transport. That single choke point is
where the counts are exact, where a spent rate-limit window is waited out before the request goes
out, and where a read-only client is made physically unable to send anything but GETs to the API.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import httpx

from reconciler.errors import UsageError

from .policy import RateLimitGate

log = logging.getLogger("reconciler.harvest")

RequestHook = Callable[[str, str, int], None]


def same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def same_endpoint(a: httpx.URL, b: httpx.URL) -> bool:
    return same_origin(a, b) and a.path.rstrip("/") == b.path.rstrip("/")


class MeteredTransport(httpx.BaseTransport):
    """Wraps the real transport. API = same origin as `api_url`, minus the token endpoint."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        *,
        api_url: httpx.URL,
        token_url: httpx.URL,
        gate: RateLimitGate,
        sleep: Callable[[float], None],
        read_only: bool,
        on_request: RequestHook | None,
    ) -> None:
        self._inner = inner
        self._api = api_url
        self._token = token_url
        self._gate = gate
        self._sleep = sleep
        self._read_only = read_only
        self._on_request = on_request
        self._lock = threading.Lock()
        self.api_requests = 0
        self.token_requests = 0

    def is_token_request(self, request: httpx.Request) -> bool:
        return request.method == "POST" and same_endpoint(request.url, self._token)

    def is_api_request(self, request: httpx.Request) -> bool:
        return same_origin(request.url, self._api) and not self.is_token_request(request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.is_token_request(request):
            with self._lock:
                self.token_requests += 1
            return self._inner.handle_request(request)
        api = self.is_api_request(request)
        if self._read_only and request.method not in ("GET", "HEAD"):
            # The planner's client: it has no public write method, and this makes sure no private
            # path can send one either.
            raise UsageError(f"read-only Harvest client refused to send {request.method} {request.url.path}")
        if api:
            wait = self._gate.wait_needed()
            if wait > 0:
                log.info("rate-limit window spent; waiting %.1f s before %s %s", wait, request.method,
                         request.url.path)
                self._sleep(wait)
            with self._lock:
                self.api_requests += 1
        response = self._inner.handle_request(request)
        if api:
            self._gate.observe(response)
            if self._on_request is not None:
                self._on_request(request.method, request.url.path, response.status_code)
        return response

    def close(self) -> None:
        self._inner.close()
