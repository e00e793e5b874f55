"""The client's httpx event hooks: they count, throttle and (for readers) refuse writes.

httpx calls a client's request hooks just before each request goes out and its response hooks as soon
as the headers are in, for every request the client sends: the API requests and the token requests
that the auth flow yields alike, each retry included. That makes the hooks the single choke point
where the counts are exact, where the shared rate-limit gate holds a request back until the window has
room for it (counting the requests in flight),
and where a read-only client is made physically unable to send anything but GETs. A hook that raises
stops the request before anything is sent (httpx propagates the exception unchanged).

What hooks cannot do is send a request again, so the retry loop stays in `client.HarvestReader`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from reconciler.errors import UsageError

from .policy import RateLimitGate

log = logging.getLogger(__name__)

_SENT_AT = "reconciler.sent_at"
"""Request extension holding the monotonic time the request left (for the -v duration); httpcore ignores it."""

RequestHook = Callable[[str, str, int], None]
"""Called with (method, path, status) after each API exchange that got an answer (not the token)."""

EventHooks = dict[str, list[Callable[..., Any]]]
"""httpx's own `event_hooks` type: {"request": [...], "response": [...]}."""


def same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def same_endpoint(a: httpx.URL, b: httpx.URL) -> bool:
    return same_origin(a, b) and a.path.rstrip("/") == b.path.rstrip("/")


class ClientHooks:
    """The event hooks of one client. API = same origin as `api_url`, minus the token endpoint.

    Thread-safe: one instance serves every thread of its client.
    """

    def __init__(
        self,
        *,
        api_url: httpx.URL,
        token_url: httpx.URL,
        gate: RateLimitGate,
        sleep: Callable[[float], None],
        read_only: bool,
        on_request: RequestHook | None,
    ) -> None:
        self._api = api_url
        self._token = token_url
        self._gate = gate
        self._sleep = sleep
        self._read_only = read_only
        self._on_request = on_request
        self._lock = threading.Lock()
        self.api_requests = 0
        self.token_requests = 0

    def event_hooks(self) -> EventHooks:
        """The `event_hooks=` mapping for `httpx.Client`: guard, then throttle, then count; then observe."""
        return {"request": [self.refuse_writes, self.wait_for_window, self.count], "response": [self.observe]}

    @staticmethod
    def _duration(request: httpx.Request) -> str:
        sent = request.extensions.get(_SENT_AT)
        return f"{time.monotonic() - sent:.2f} s" if isinstance(sent, float) else "?"

    def is_token_request(self, request: httpx.Request) -> bool:
        return request.method == "POST" and same_endpoint(request.url, self._token)

    def is_api_request(self, request: httpx.Request) -> bool:
        return same_origin(request.url, self._api) and not self.is_token_request(request)

    # -- request hooks ---------------------------------------------------------------------------

    def refuse_writes(self, request: httpx.Request) -> None:
        """Read-only clients: anything but GET/HEAD (the token request excepted) raises UsageError.

        The planner's client has no public write method; this makes sure no private path can send one.
        """
        if self._read_only and request.method not in ("GET", "HEAD") and not self.is_token_request(request):
            raise UsageError(f"read-only Harvest client refused to send {request.method} {request.url.path}")

    def wait_for_window(self, request: httpx.Request) -> None:
        """Before an API request: wait until the shared gate lets one more request out (see `RateLimitGate`).

        The request then counts as in flight until `observe` sees its answer, or until the client's retry
        loop takes it out after a failure without one (`RateLimitGate.release_unanswered`).
        """
        if not self.is_api_request(request):
            return
        self._gate.acquire(self._sleep, f"{request.method} {request.url.path}")

    def count(self, request: httpx.Request) -> None:
        """Count the request as an API request or a token request (others, e.g. result files: neither)."""
        with self._lock:
            if self.is_token_request(request):
                self.token_requests += 1
            elif self.is_api_request(request):
                self.api_requests += 1
        request.extensions[_SENT_AT] = time.monotonic()

    # -- response hooks --------------------------------------------------------------------------

    def observe(self, response: httpx.Response) -> None:
        """After an answer: log it (-v: method, path, status, duration; never a header or a body); for an API
        answer also take its request out of flight, remember its rate-limit headers, tell `on_request`."""
        request = response.request
        if log.isEnabledFor(logging.INFO):
            log.info("%s %s -> %d (%s)", request.method, request.url.path or "/", response.status_code,
                     self._duration(request))
        if log.isEnabledFor(logging.DEBUG):  # the query (filters, per_page; never a secret) and the budget
            headers = response.headers
            log.debug("  %s %s; X-RateLimit-Remaining %s, X-RateLimit-Reset %s, Retry-After %s", request.method,
                      request.url.raw_path.decode("ascii", "replace"), headers.get("x-ratelimit-remaining", "-"),
                      headers.get("x-ratelimit-reset", "-"), headers.get("retry-after", "-"))
        if not self.is_api_request(request):
            return
        self._gate.release(response)
        if self._on_request is not None:
            self._on_request(request.method, request.url.path, response.status_code)
