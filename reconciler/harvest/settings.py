"""Connection settings for the Harvest v3 API, read from the environment.

Contract: a `Settings` value is always usable: the client credentials are present, the acting user
is either absent (the token acts as the credential's own service user) or a numeric user id, both
URLs are absolute, use https (plain http only towards loopback hosts, i.e. the local sandbox) and
carry no trailing slash. The client secret is excluded from `repr` so that a printed or logged
`Settings` never leaks it.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from reconciler import __version__
from reconciler.errors import UsageError

USER_AGENT = f"greenhouse-reconciler/{__version__}"
"""Sent on every request, the token request included."""

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://harvest.greenhouse.io"
DEFAULT_TOKEN_URL = "https://auth.greenhouse.io/token"

_REQUIRED = (
    ("GREENHOUSE_CLIENT_ID", "client_id"),
    ("GREENHOUSE_CLIENT_SECRET", "client_secret"),
)


@dataclass(frozen=True)
class Settings:
    """Credentials and endpoints of one Harvest v3 OAuth client (client-credentials grant).

    `user_id` is the OAuth `sub`: the Greenhouse user the token acts as (a Site Admin, or list
    endpoints answer empty lists). None (GREENHOUSE_USER_ID unset) sends no `sub`, so the token acts
    as the credential's own service user [2nd]. `api_url` is the base under which paths are `/v3/...`.
    """

    client_id: str
    client_secret: str = field(repr=False)
    user_id: str | None = None
    api_url: str = DEFAULT_API_URL
    token_url: str = DEFAULT_TOKEN_URL

    def __post_init__(self) -> None:
        for attr in ("client_id", "client_secret"):
            if not isinstance(getattr(self, attr), str) or not getattr(self, attr).strip():
                raise UsageError(f"Harvest settings: {attr} must be a non-empty string")
        if self.user_id is not None:
            if not isinstance(self.user_id, str):
                raise UsageError("Harvest settings: user_id must be a string or None")
            user_id = self.user_id.strip()
            if not (user_id.isascii() and user_id.isdigit()):
                raise UsageError(
                    f"GREENHOUSE_USER_ID must be a numeric Greenhouse user id (the token's sub), got {user_id!r}; "
                    "unset it to act as the credential's service user"
                )
            object.__setattr__(self, "user_id", user_id)
        object.__setattr__(self, "client_id", self.client_id.strip())
        object.__setattr__(self, "api_url", _checked_url("GREENHOUSE_API_URL", self.api_url))
        object.__setattr__(self, "token_url", _checked_url("GREENHOUSE_TOKEN_URL", self.token_url))

    @property
    def acts_as_service_user(self) -> bool:
        """True when no `sub` is sent: the token acts as the credential's service user."""
        return self.user_id is None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Read GREENHOUSE_* variables; a missing or empty required one is a UsageError naming all of them.

        GREENHOUSE_USER_ID is optional: unset or empty means no `sub` (the credential's service user).
        A GREENHOUSE_API_URL ending in `/v3` is logged as a warning: paths are `/v3/...` under it, so every
        request would go to `/v3/v3/...` (and get 404, whose message repeats the hint).
        """
        missing = [name for name, _ in _REQUIRED if not env.get(name, "").strip()]
        if missing:
            raise UsageError(
                "missing environment variable(s): " + ", ".join(missing) + " (Harvest v3 OAuth client credentials)"
            )
        settings = cls(
            client_id=env["GREENHOUSE_CLIENT_ID"],
            client_secret=env["GREENHOUSE_CLIENT_SECRET"],
            user_id=env.get("GREENHOUSE_USER_ID", "").strip() or None,
            api_url=env.get("GREENHOUSE_API_URL", "").strip() or DEFAULT_API_URL,
            token_url=env.get("GREENHOUSE_TOKEN_URL", "").strip() or DEFAULT_TOKEN_URL,
        )
        if httpx.URL(settings.api_url).path.rstrip("/").endswith("/v3"):
            log.warning("GREENHOUSE_API_URL (%s) ends in /v3, but paths are /v3/... under it: set it without /v3, "
                        "e.g. %s", settings.api_url, DEFAULT_API_URL)
        return settings


def is_loopback_host(host: str) -> bool:
    """True for `localhost`, 127.0.0.0/8 and ::1: the only hosts plain http may reach."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _checked_url(variable: str, value: str) -> str:
    text = (value or "").strip().rstrip("/")
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise UsageError(f"{variable} is not a valid URL: {text!r} ({exc})") from None
    if url.userinfo:
        raise UsageError(f"{variable} must not embed credentials (user:password@); use GREENHOUSE_CLIENT_* instead")
    if url.scheme not in ("http", "https") or not url.host:
        raise UsageError(f"{variable} must be an absolute http(s) URL, got {text!r}")
    if url.scheme == "http" and not is_loopback_host(url.host):
        raise UsageError(
            f"{variable} uses plain http:// towards {url.host!r}; http is accepted only for loopback "
            "hosts (localhost, 127.0.0.0/8, ::1, i.e. the local sandbox): use https://"
        )
    if url.query or url.fragment:
        raise UsageError(f"{variable} must not carry a query or fragment, got {text!r}")
    return text
