"""A scripted Harvest stand-in (an httpx.MockTransport) for exact header and failure sequences.

The sandbox is the faithful emulator; this fake exists for what the sandbox cannot be told to do
precisely: a token response with only `expires_in`, a 429 without `Retry-After`, five 503s in a row,
a `ReadTimeout` after a write was sent. Each scripted step is an `httpx.Response`, an exception
instance to raise, or a callable `(request) -> Response`; unscripted API calls answer `200 []`.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx

from reconciler.harvest import Settings

API = "http://127.0.0.1"
TOKEN_URL = "http://127.0.0.1/token"
CLIENT_ID = "demo-client"
SECRET = "demo-secret-Zq9"  # distinctive, so a leak is easy to spot in any text
USER_ID = "1001"

Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def settings(api_url: str = API, token_url: str = TOKEN_URL) -> Settings:
    return Settings(client_id=CLIENT_ID, client_secret=SECRET, user_id=USER_ID, api_url=api_url, token_url=token_url)


def json_response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers={"Content-Type": "application/json", **(headers or {})})


class FakeApi:
    """Mints tokens `tok-1`, `tok-2`, ...; only the newest is valid (single active token)."""

    def __init__(self, token_extra: dict[str, Any] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.token_extra = {"expires_in": 3600} if token_extra is None else token_extra
        self.minted: list[str] = []
        self.valid: str | None = None
        self._token_steps: deque[Step] = deque()
        self._steps: dict[tuple[str, str], deque[Step]] = defaultdict(deque)

    # -- scripting --------------------------------------------------------------------------------

    def script(self, method: str, path: str, *steps: Step) -> None:
        self._steps[(method, path)].extend(steps)

    def script_token(self, *steps: Step) -> None:
        self._token_steps.extend(steps)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def revoke(self) -> None:
        """What minting elsewhere does: the token the client holds stops working."""
        self.valid = None

    # -- observation ------------------------------------------------------------------------------

    def api_requests(self, method: str | None = None, path: str | None = None) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path != "/token"
                and (method is None or r.method == method) and (path is None or r.url.path == path)]

    def token_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == "/token"]

    # -- serving ----------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        # A snapshot: httpx re-sends the same Request object (e.g. after a 401) with new headers.
        self.requests.append(httpx.Request(request.method, request.url, headers=request.headers.copy(),
                                           content=request.content))
        if request.url.path == "/token":
            return self._token(request)
        if request.url.host != "127.0.0.1":
            return self._step(request) or httpx.Response(200, text="")
        if request.headers.get("Authorization") != f"Bearer {self.valid}" or self.valid is None:
            return json_response(401, {"message": "invalid access token"})
        return self._step(request) or json_response(200, [])

    def _step(self, request: httpx.Request) -> httpx.Response | None:
        queue = self._steps.get((request.method, request.url.path))
        if not queue:
            return None
        step = queue.popleft()
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step(request)

    def _token(self, request: httpx.Request) -> httpx.Response:
        if self._token_steps:
            step = self._token_steps.popleft()
            if isinstance(step, Exception):
                raise step
            return step if isinstance(step, httpx.Response) else step(request)
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if request.headers.get("Authorization") != expected:
            return json_response(401, {"error": "invalid_client"})
        if form != {"grant_type": "client_credentials", "sub": USER_ID}:
            return json_response(400, {"error": "invalid_request", "form": form})
        token = f"tok-{len(self.minted) + 1}-secretish"
        self.minted.append(token)
        self.valid = token
        return json_response(200, {"access_token": token, "token_type": "Bearer", **self.token_extra})
