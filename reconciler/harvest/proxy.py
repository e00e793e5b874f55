"""The default transport: direct, or through the proxy the environment names, as curl and requests do.

httpx honours HTTP(S)_PROXY only for transports it builds itself; the client wraps its transport (for
metering and throttling), so it routes here instead: `HTTPS_PROXY`/`HTTP_PROXY` by scheme, else
`ALL_PROXY`; `NO_PROXY` and loopback hosts (the sandbox) go direct. A proxy URL may carry credentials,
so it is never printed.
"""

from __future__ import annotations

import threading
import urllib.request

import httpx

from .settings import is_loopback_host


def proxy_for(url: httpx.URL) -> str | None:
    """The proxy URL the environment names for `url`, or None for a direct connection."""
    host = url.host
    if is_loopback_host(host):
        return None
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    return proxy


class EnvironmentTransport(httpx.BaseTransport):
    """Routes each request directly or through the environment's proxy for its URL."""

    def __init__(self) -> None:
        self._direct = httpx.HTTPTransport()
        self._proxied: dict[str, httpx.HTTPTransport] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        proxy = proxy_for(request.url)
        if proxy is None:
            return self._direct.handle_request(request)
        with self._lock:
            transport = self._proxied.get(proxy)
            if transport is None:
                transport = self._proxied[proxy] = httpx.HTTPTransport(proxy=proxy)
        return transport.handle_request(request)

    def close(self) -> None:
        self._direct.close()
        for transport in self._proxied.values():
            transport.close()
