"""OAuth 2.0 client credentials for Harvest v3, as an `httpx.Auth` flow.

Contract:
- One access token per auth object, shared by every thread that uses the client. Minting is done
  under a lock, because Harvest keeps a single active token per client: a newer token revokes the
  older one, so two threads minting at once would knock each other out.
- The token is minted lazily, renewed `RENEW_MARGIN` seconds before it expires, and dropped on a 401
  from the API; the rejected request is then sent once more with a fresh token. A 401 means the
  server did not process the request, so this is safe for writes too.
- The token goes only to the API origin. Requests to other hosts (e.g. pre-signed result-file URLs)
  carry no Authorization header.
- A refused token request raises `TokenError` (an `AuthError`) carrying the status and the server's
  message, never the secret.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from reconciler.errors import AuthError

from .responses import Redactor, decode_body, error_detail
from .settings import USER_AGENT, Settings
from .transport import same_origin

RENEW_MARGIN = 60.0
"""Renew this many seconds before the token's expiry."""
DEFAULT_LIFETIME = 3600.0
"""Assumed token lifetime when the token response states none ([inferred]: third parties say 1 hour)."""


class TokenError(AuthError):
    """The token endpoint refused or failed. `retryable` is true for 429 and 5xx (nothing was authorised)."""

    def __init__(self, method: str, path: str, status: int, message: str,
                 errors: tuple[tuple[str, str], ...] = (), retry_after: float | None = None) -> None:
        super().__init__(method, path, status, message, errors)
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status == 429 or self.status >= 500


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    renew_at: float


class ClientCredentialsAuth(httpx.Auth):
    """Bearer-token auth that mints its token from the token endpoint with the client credentials."""

    requires_response_body = True

    def __init__(self, settings: Settings, *, clock: Callable[[], float], redact: Redactor) -> None:
        self._settings = settings
        self._clock = clock
        self._redact = redact
        self._api = httpx.URL(settings.api_url)
        self._token_url = httpx.URL(settings.token_url)
        self._lock = threading.Lock()
        self._token: _Token | None = None

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth(client_id={self._settings.client_id!r}, token_url={self._settings.token_url!r})"

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # `yield from` forwards close() to auth_flow, so the mint lock is released even when the
        # token request fails inside httpx.
        yield from self.auth_flow(request)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if not same_origin(request.url, self._api):
            request.headers.pop("Authorization", None)
            yield request
            return
        token = yield from self._valid_token(rejected=None)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        response.read()
        token = yield from self._valid_token(rejected=token)
        request.headers["Authorization"] = f"Bearer {token}"
        yield request

    def forget(self) -> None:
        """Drop the cached token (the next request mints a new one)."""
        with self._lock:
            self._token = None

    def _valid_token(self, rejected: str | None) -> Generator[httpx.Request, httpx.Response, str]:
        with self._lock:
            held = self._token
            if held is not None and held.value != rejected and self._clock() < held.renew_at:
                return held.value
            # Either none yet, about to expire, or the one the API just rejected (unless another
            # thread has already replaced it, in which case the check above reused the newer one).
            self._token = None
            response = yield self._token_request()
            response.read()
            self._token = self._parse(response)
            return self._token.value

    def _token_request(self) -> httpx.Request:
        pair = f"{self._settings.client_id}:{self._settings.client_secret}".encode()
        return httpx.Request(
            "POST",
            self._token_url,
            headers={
                "Authorization": "Basic " + base64.b64encode(pair).decode("ascii"),
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            data={"grant_type": "client_credentials", "sub": self._settings.user_id},
        )

    def _parse(self, response: httpx.Response) -> _Token:
        path = self._token_url.path or "/"
        now = self._clock()
        if response.status_code != 200:
            message, errors = error_detail(response)
            retry = response.headers.get("retry-after")
            raise TokenError(
                "POST", path, response.status_code, self._redact(message),
                tuple((self._redact(f), self._redact(m)) for f, m in errors),
                retry_after=_float_or_none(retry),
            )
        body = _safe_body(response)
        value = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise TokenError("POST", path, response.status_code, "token response carries no access_token")
        self._redact.add(value)
        expires = _expiry(body, now) if isinstance(body, dict) else now + DEFAULT_LIFETIME
        return _Token(value=value, renew_at=expires - RENEW_MARGIN)


def _expiry(body: dict[str, Any], now: float) -> float:
    """Absolute expiry: `expires_at` (RFC 3339) wins, then `expires_in` (seconds), else the assumed lifetime."""
    raw_at = body.get("expires_at")
    if isinstance(raw_at, str) and raw_at.strip():
        try:
            when = datetime.fromisoformat(raw_at.strip().replace("z", "Z"))
        except ValueError:
            when = None
        if when is not None:
            # Harvest timestamps are UTC; a timestamp without an offset is read as UTC too.
            return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    elif isinstance(raw_at, (int, float)) and not isinstance(raw_at, bool):
        return float(raw_at)
    seconds = _float_or_none(body.get("expires_in"))
    if seconds is not None and seconds > 0:
        return now + seconds
    return now + DEFAULT_LIFETIME


def _float_or_none(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _safe_body(response: httpx.Response) -> Any:
    try:
        return decode_body(response)
    except UnicodeDecodeError:
        return None
