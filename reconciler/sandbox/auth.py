"""OAuth 2.0 client credentials (`POST /token`) and bearer-token checks (reference 1.2, 1.3).

Tokens are JWT-shaped (`base64url(header).base64url(payload).base64url(HMAC-SHA256)`, the v3
guide calls the token a JWT `[doc: /docs/authentication]`), signed with a key drawn per sandbox.
The payload carries `sub` (the acting user's id, as a string: the given `sub`, or the client's
service user when `sub` is omitted `[2nd]`), `client_id`, `iat`, `exp` and `jti`. The sandbox
never trusts a token's content: a bearer token is valid only while its entry in the issuer's table
says so (so revocation and a restart work as before; tokens are in memory only).

Token errors follow OAuth 2.0 (RFC 6749 section 5.2): 400 `{"error", "error_description"}` with
`invalid_request` (malformed body, missing/repeated parameter, non-numeric `sub`),
`unsupported_grant_type`, `invalid_grant` (unknown or deactivated `sub`, deactivated service user);
401 `invalid_client` (missing or wrong client credentials) with `WWW-Authenticate: Basic`.

With `single_active_token`, a new token revokes the previous one: of the same client
(`token_revocation="per-client"`, observed live `[code]`) or of the same client and acting user
(`"per-subject"`); which one Greenhouse does is undocumented. Secrets never leave this module: no
message, log entry or repr contains a client secret or a token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from reconciler.sandbox.errors import ApiError
from reconciler.sandbox.options import SandboxOptions
from reconciler.sandbox.store import Store
from reconciler.sandbox.timeutil import iso

FORM_TYPE = "application/x-www-form-urlencoded"


@dataclass
class Grant:
    """What a token stands for: a client, the acting user (the `sub` given, or the client's service
    user) and its expiry. `revoked` is set when a newer token replaced it."""

    client_id: str
    user_id: int
    expires_at: float
    revoked: bool = False

    def __repr__(self) -> str:
        return f"Grant(client_id={self.client_id!r}, user_id={self.user_id!r})"


class OAuthError(Exception):
    """A refused token request, answered as RFC 6749 section 5.2 says: `{"error", "error_description"}`."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}

    def headers(self) -> dict[str, str]:
        # RFC 6749 5.2: a 401 to a client that authenticated with the Authorization header
        # carries the matching WWW-Authenticate challenge.
        return {"WWW-Authenticate": 'Basic realm="harvest"'} if self.status == 401 else {}


def invalid_request(description: str) -> OAuthError:
    return OAuthError(400, "invalid_request", description)


def invalid_client(description: str) -> OAuthError:
    return OAuthError(401, "invalid_client", description)


def invalid_grant(description: str) -> OAuthError:
    return OAuthError(400, "invalid_grant", description)


def _unauthorized(message: str, field: str = "Authorization") -> ApiError:
    return ApiError(401, message, [{"field": field, "message": message}])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json_segment(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())


def parse_form(content_type: str, body: bytes) -> dict[str, str]:
    """The token request's form fields. `invalid_request` for another media type, a body that is not
    UTF-8 form encoding, or a parameter given twice (RFC 6749 section 3.2: parameters MUST NOT repeat)."""
    media = content_type.split(";")[0].strip().lower()
    if media != FORM_TYPE:
        raise invalid_request(f"the token request body must be {FORM_TYPE}")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except (UnicodeDecodeError, ValueError):
        raise invalid_request(f"the token request body is not valid {FORM_TYPE}") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise invalid_request(f"parameter {key} is given more than once")
        form[key] = value
    return form


class TokenIssuer:
    """Mints tokens and resolves bearer headers to grants."""

    def __init__(self, store: Store, options: SandboxOptions) -> None:
        self._store = store
        self._options = options
        self._key = secrets.token_bytes(32)
        self._grants: dict[str, Grant] = {}
        self._latest: dict[tuple[str, int | None], str] = {}

    def __repr__(self) -> str:
        return f"TokenIssuer({len(self._grants)} tokens)"

    def client_of(self, authorization: str | None) -> str | None:
        """The client behind a bearer header if the token is known (for rate-limit keys)."""
        token = _bearer(authorization)
        grant = self._grants.get(token) if token else None
        return grant.client_id if grant else None

    def mint(self, authorization: str | None, content_type: str, body: bytes, now: float) -> dict[str, Any]:
        """Answer a token request, or raise `OAuthError`. The client is authenticated first, so an
        unauthenticated caller learns nothing about the body or the users."""
        client_id = self._check_client(authorization)
        form = parse_form(content_type, body)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise invalid_request("grant_type is required (client_credentials)")
        if grant_type != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", "only the client_credentials grant is supported")
        sub = form.get("sub")
        user_id = self._service_user(client_id, now) if sub in (None, "") else self._check_sub(sub)
        ttl = self._options.token_ttl_seconds
        token = self._jwt(client_id, user_id, now, ttl)
        key = (client_id, user_id if self._options.token_revocation == "per-subject" else None)
        if self._options.single_active_token and key in self._latest:
            previous = self._grants.get(self._latest[key])
            if previous is not None:
                previous.revoked = True
        self._grants[token] = Grant(client_id, user_id, now + ttl)
        self._latest[key] = token
        return {"access_token": token, "token_type": "Bearer", "expires_at": iso(now + ttl), "expires_in": ttl}

    def _jwt(self, client_id: str, user_id: int, now: float, ttl: int) -> str:
        header = _json_segment({"alg": "HS256", "typ": "JWT"})
        payload = _json_segment({
            "sub": str(user_id), "client_id": client_id, "iat": int(now), "exp": int(now + ttl),
            "jti": secrets.token_hex(16),
        })
        signature = hmac.new(self._key, f"{header}.{payload}".encode("ascii"), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"

    def _check_client(self, authorization: str | None) -> str:
        if not authorization or not authorization.startswith("Basic "):
            raise invalid_client("client authentication required (HTTP Basic client_id:client_secret)")
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise invalid_client("malformed HTTP Basic client credentials") from None
        client_id, sep, secret = decoded.partition(":")
        expected = self._store.clients.get(client_id)
        if not sep or expected is None or not hmac.compare_digest(expected.encode(), secret.encode()):
            raise invalid_client("client authentication failed: unknown client or wrong secret")
        return client_id

    def _check_sub(self, sub: str | None) -> int:
        if sub is None or not sub.isdigit():
            raise invalid_request("sub must be a numeric Greenhouse user id")
        user = self._store.get("users", int(sub))
        if user is None:
            raise invalid_grant("sub is not a user of this organization")
        if user["deactivated"]:
            raise invalid_grant("sub is a deactivated user")
        return int(sub)

    def _service_user(self, client_id: str, now: float) -> int:
        user_id = self._store.service_user_of(client_id, now)
        user = self._store.get("users", user_id)
        if user is None or user["deactivated"]:
            raise invalid_grant("the client's service user is deactivated or gone")
        return user_id

    def authenticate(self, authorization: str | None, now: float) -> Grant:
        token = _bearer(authorization)
        if token is None:
            raise _unauthorized("missing bearer token")
        grant = self._grants.get(token)
        if grant is None:
            raise _unauthorized("invalid access token")
        if grant.revoked:
            scope = "client and user" if self._options.token_revocation == "per-subject" else "client"
            raise _unauthorized(f"access token was revoked by a newer token for this {scope}")
        if now >= grant.expires_at:
            raise _unauthorized("access token expired")
        return grant


def _bearer(authorization: str | None) -> str | None:
    if not authorization or not authorization.startswith("Bearer "):
        return None
    token = authorization[7:].strip()
    return token or None
