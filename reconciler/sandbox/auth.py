"""OAuth 2.0 client credentials (`POST /token`) and bearer-token checks (reference 1.2).

Tokens are random (not JWTs); the sandbox keeps them in memory only, so a restarted server
answers 401 to old tokens and clients re-mint. With `single_active_token`, a new token revokes
the previous one of the same client (observed live `[code]`). Secrets never leave this module:
no message, log entry or repr contains a client secret or a token.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.errors import ApiError
from reconciler.sandbox.options import SandboxOptions
from reconciler.sandbox.store import Store
from reconciler.sandbox.timeutil import iso


@dataclass
class Grant:
    """What a token stands for: a client, the acting user (`sub`, None = the integration's own
    service user) and its expiry. `revoked` is set when a newer token of the client replaced it."""

    client_id: str
    user_id: int | None
    expires_at: float
    revoked: bool = False

    def __repr__(self) -> str:
        return f"Grant(client_id={self.client_id!r}, user_id={self.user_id!r})"


def _unauthorized(message: str, field: str = "Authorization") -> ApiError:
    return ApiError(401, message, [{"field": field, "message": message}])


class TokenIssuer:
    """Mints tokens and resolves bearer headers to grants."""

    def __init__(self, store: Store, options: SandboxOptions) -> None:
        self._store = store
        self._options = options
        self._grants: dict[str, Grant] = {}
        self._latest: dict[str, str] = {}

    def client_of(self, authorization: str | None) -> str | None:
        """The client behind a bearer header if the token is known (for rate-limit keys)."""
        token = _bearer(authorization)
        grant = self._grants.get(token) if token else None
        return grant.client_id if grant else None

    def mint(self, authorization: str | None, form: dict[str, str], now: float) -> dict[str, Any]:
        client_id = self._check_client(authorization)
        if form.get("grant_type") != "client_credentials":
            raise _unauthorized("unsupported grant_type (expected client_credentials)", "grant_type")
        user_id = self._check_sub(form.get("sub"))
        token = secrets.token_urlsafe(32)
        ttl = self._options.token_ttl_seconds
        if self._options.single_active_token and client_id in self._latest:
            previous = self._grants.get(self._latest[client_id])
            if previous is not None:
                previous.revoked = True
        self._grants[token] = Grant(client_id, user_id, now + ttl)
        self._latest[client_id] = token
        return {"access_token": token, "token_type": "Bearer", "expires_at": iso(now + ttl), "expires_in": ttl}

    def _check_client(self, authorization: str | None) -> str:
        if not authorization or not authorization.startswith("Basic "):
            raise _unauthorized("client authentication required (HTTP Basic client_id:client_secret)")
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _unauthorized("malformed Basic credentials") from None
        client_id, sep, secret = decoded.partition(":")
        expected = self._store.clients.get(client_id)
        if not sep or expected is None or not hmac.compare_digest(expected.encode(), secret.encode()):
            raise _unauthorized("invalid client credentials")
        return client_id

    def _check_sub(self, sub: str | None) -> int | None:
        if sub is None or sub == "":
            return None
        if not sub.isdigit():
            raise ApiError(422, "sub must be a numeric user id", [{"field": "sub", "message": "must be a user id"}])
        user = self._store.get("users", int(sub))
        if user is None or user["deactivated"]:
            raise ApiError(422, "sub is not an active user of this organization",
                           [{"field": "sub", "message": "unknown or deactivated user"}])
        return int(sub)

    def authenticate(self, authorization: str | None, now: float) -> Grant:
        token = _bearer(authorization)
        if token is None:
            raise _unauthorized("missing bearer token")
        grant = self._grants.get(token)
        if grant is None:
            raise _unauthorized("invalid access token")
        if grant.revoked:
            raise _unauthorized("access token was revoked by a newer token for this client")
        if now >= grant.expires_at:
            raise _unauthorized("access token expired")
        return grant


def _bearer(authorization: str | None) -> str | None:
    if not authorization or not authorization.startswith("Bearer "):
        return None
    token = authorization[7:].strip()
    return token or None
