"""OAuth 2.0 client credentials for Harvest v3, as an `httpx.Auth` flow.

Contract:
- One access token per auth object, shared by every thread of every client that uses the object (a
  process passes one object to its reader and its writing client, so `apply` mints one token, not
  two). Minting is done under a lock, because Harvest keeps a single active token per client: a newer
  token revokes the older one, so two threads minting at once would knock each other out.
- The token is minted lazily and renewed `RENEW_MARGIN` seconds before it expires. A 401 from the API
  on the token this object holds (revoked by a newer token minted elsewhere, e.g. by another process
  with the same credential; or expired early) drops it: after a jittered pause, one thread mints a new
  one and the rejected request is sent again, at most `MAX_REMINTS` times in a row; then the 401 is the
  answer. Threads whose requests were rejected for a token another thread has already replaced reuse
  the new one. A 401 is answered before the request is processed (authentication comes first), so
  repeating it is safe for writes too.
- The token goes only to the API origin. Requests to other hosts (e.g. pre-signed result-file URLs)
  carry no Authorization header.
- The token request carries `sub` only when GREENHOUSE_USER_ID is set; without it the token acts as
  the credential's own service user [2nd]. The token itself is opaque here: never parsed.
- A refused token request raises `TokenError` (an `AuthError`) carrying the status, the server's
  message and which setting to check (OAuth 2.0 `error` codes, RFC 6749 section 5.2), never the secret.
"""

from __future__ import annotations

import base64
import logging
import random
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from reconciler.errors import AuthError, UsageError

from .hooks import same_origin
from .policy import Backoff
from .responses import Redactor, decode_body, error_detail
from .settings import USER_AGENT, Settings

log = logging.getLogger("reconciler.harvest")

RENEW_MARGIN = 60.0
"""Renew this many seconds before the token's expiry."""
MAX_REMINTS = 5
"""A request refused with 401 is sent again, each time with a newly minted token, at most this many times."""
REMINT_BASE = 0.5
"""Before re-mint n (0-based) of one request, a random pause in [0, min(REMINT_CAP, REMINT_BASE * 2^n)] seconds.
Processes sharing a credential revoke each other's tokens by minting; if each re-minted at once, the one that
just minted would lose its token before using it. Spread pauses give each, in turn, time to use its token."""
REMINT_CAP = 8.0
"""Longest pause before one re-mint (seconds)."""
DEFAULT_LIFETIME = 3600.0
"""Assumed token lifetime when the token response states none ([inferred: token-lifetime]: third parties say 1 hour)."""


class TokenError(AuthError):
    """The token endpoint refused or failed. `retryable` is true for 429 and 5xx (nothing was authorised).

    `oauth_error` is the OAuth 2.0 `error` code of the answer (`invalid_client`, ...), "" when it had none.
    """

    def __init__(self, method: str, path: str, status: int, message: str,
                 errors: tuple[tuple[str, str], ...] = (), retry_after: float | None = None,
                 oauth_error: str = "") -> None:
        super().__init__(method, path, status, message, errors)
        self.retry_after = retry_after
        self.oauth_error = oauth_error

    @property
    def retryable(self) -> bool:
        return self.status == 429 or self.status >= 500


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    renew_at: float


class ClientCredentialsAuth(httpx.Auth):
    """Bearer-token auth that mints its token from the token endpoint with the client credentials.

    One object may serve several clients (`HarvestReader(settings, auth=...)`): they then share the token.
    `redactor` learns every token minted, so the clients built on it keep tokens out of every message.
    `sleep` and `rng` drive the pause before a re-mint (tests pass a fake clock's sleep and a seeded rng).
    """

    requires_response_body = True

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time,
                 redact: Redactor | None = None, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None, max_remints: int = MAX_REMINTS) -> None:
        if max_remints < 0:
            raise UsageError(f"max_remints must be >= 0, got {max_remints}")
        self._settings = settings
        self._clock = clock
        self._sleep = sleep
        self.redactor = redact if redact is not None else Redactor()
        self.redactor.add(settings.client_secret)
        self.max_remints = max_remints
        self._backoff = Backoff(rng, base=REMINT_BASE, cap=REMINT_CAP)
        self._api = httpx.URL(settings.api_url)
        self._token_url = httpx.URL(settings.token_url)
        self._lock = threading.Lock()
        self._token: _Token | None = None
        #: Tokens obtained by this object (a diagnostic count; the clients count the token requests they sent).
        self.minted = 0

    @property
    def settings(self) -> Settings:
        return self._settings

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
        token = yield from self._valid_token(rejected=None, attempt=0)
        attempt = 0
        while True:
            request.headers["Authorization"] = f"Bearer {token}"
            response = yield request
            if response.status_code != 401 or attempt >= self.max_remints:
                return
            response.read()
            token = yield from self._valid_token(rejected=token, attempt=attempt)
            attempt += 1

    def _valid_token(self, rejected: str | None, attempt: int) -> Generator[httpx.Request, httpx.Response, str]:
        with self._lock:
            held = self._token
            if held is not None and held.value != rejected and self._clock() < held.renew_at:
                return held.value
            self._token = None
            if held is not None and held.value == rejected:
                # The token this object holds was refused: most likely a newer one minted elsewhere with the
                # same credential revoked it. Pause first (holding the lock, so this process's other threads
                # wait for the new token instead of sending the dead one), then mint.
                pause = self._backoff.spread(attempt)
                log.info("access token refused (401); minting a new one in %.2f s (re-mint %d of at most %d)",
                         pause, attempt + 1, self.max_remints)
                self._sleep(pause)
            # Otherwise: none yet, about to expire, or a mint that failed before (if another thread has
            # already replaced the rejected token, the check above reused the newer one).
            response = yield self._token_request()
            response.read()
            self._token = self._parse(response)
            self.minted += 1
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
            data=self._token_form(),
        )

    def _token_form(self) -> dict[str, str]:
        form = {"grant_type": "client_credentials"}
        if self._settings.user_id is not None:
            form["sub"] = self._settings.user_id
        return form

    def _parse(self, response: httpx.Response) -> _Token:
        path = self._token_url.path or "/"
        now = self._clock()
        if response.status_code != 200:
            message, errors = error_detail(response)
            code = _oauth_code(response)
            hint = token_error_hint(code, response.status_code, self._settings)
            text = self.redactor(message)
            if code and code not in text:
                text = f"{text} ({code})" if text else code
            retry = response.headers.get("retry-after")
            raise TokenError(
                "POST", path, response.status_code, f"{text}; {hint}" if hint else text,
                tuple((self.redactor(f), self.redactor(m)) for f, m in errors),
                retry_after=_float_or_none(retry), oauth_error=code,
            )
        body = _safe_body(response)
        value = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise TokenError("POST", path, response.status_code, "token response carries no access_token")
        self.redactor.add(value)
        expires = _expiry(body, now) if isinstance(body, dict) else now + DEFAULT_LIFETIME
        return _Token(value=value, renew_at=expires - RENEW_MARGIN)


_CREDENTIALS_HINT = "check GREENHOUSE_CLIENT_ID and GREENHOUSE_CLIENT_SECRET (the Harvest v3 OAuth credential)"
_ENDPOINT_HINT = ("the token endpoint refused the request itself: check GREENHOUSE_TOKEN_URL (the Harvest v3 "
                  "OAuth token endpoint, https://auth.greenhouse.io/token)")


def token_error_hint(code: str, status: int, settings: Settings) -> str:
    """Which setting to check for a refused token request (RFC 6749 section 5.2 error codes).

    `invalid_client`: the credentials; `invalid_grant`: the acting user (`sub`) when one was sent,
    else the credential's service user; `invalid_request` / `unsupported_grant_type`: the request did
    not reach a Harvest token endpoint that understands it. Answers without an OAuth code (the old
    `{"message", "errors"}` shape, plain text, ...): a 401 points at the credentials and the token URL,
    a 404/405 at the token URL, anything else (429, 5xx, ...) gets no hint. Never mentions a secret.
    """
    if code == "invalid_client":
        return _CREDENTIALS_HINT
    if not code and status == 401:
        return _CREDENTIALS_HINT + ", and that GREENHOUSE_TOKEN_URL is the OAuth token endpoint"
    if not code and status in (404, 405):
        return _ENDPOINT_HINT
    if code == "invalid_grant":
        if settings.user_id is not None:
            return (f"check GREENHOUSE_USER_ID ({settings.user_id}: it must be an active user of the organisation), "
                    "or unset it to act as the credential's service user")
        return ("the credential's service user was refused (GREENHOUSE_USER_ID is unset): check the credential "
                "in Greenhouse, or set GREENHOUSE_USER_ID to an active Site Admin's user id")
    if code in ("invalid_request", "unsupported_grant_type"):
        return _ENDPOINT_HINT
    if code == "unauthorized_client":
        return "the credential may not use the client-credentials grant: check it in Greenhouse (Dev Center)"
    if code == "invalid_scope":
        return "check the scopes configured on the credential in Greenhouse (Dev Center)"
    return ""


def _oauth_code(response: httpx.Response) -> str:
    """The OAuth 2.0 `error` code of a token-endpoint answer, "" when the body has none."""
    body = _safe_body(response)
    code = body.get("error") if isinstance(body, dict) else None
    if isinstance(code, str) and code.replace("_", "").isalpha() and len(code) <= 64:
        return code
    return ""


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
