"""The in-process form of the sandbox: an httpx transport that calls `Sandbox.handle` directly.

It works with any base URL (the host only shapes the absolute `Link` URLs). A drop fault surfaces
as `httpx.RemoteProtocolError`, as a real dropped connection would; for drop_after the write has
been committed before the error is raised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from reconciler.sandbox.errors import DroppedConnection

if TYPE_CHECKING:
    from reconciler.sandbox.core import Sandbox


class SandboxTransport(httpx.BaseTransport):
    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        headers = dict(request.headers.items())
        headers.setdefault("x-forwarded-proto", request.url.scheme)
        try:
            status, response_headers, payload = self._sandbox.handle(
                request.method, request.url.raw_path.decode("ascii"), headers, body
            )
        except DroppedConnection:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request) from None
        return httpx.Response(status, headers=response_headers, content=payload, request=request)
