"""Reading Harvest responses: bodies, error messages, Link headers, and keeping secrets out of text.

Contract: nothing here raises on a malformed body (`next_link` refuses a next page on another host). Error bodies are parsed from the v3 (and v1) shape
`{"message": ..., "errors": [{"field": ..., "message": ...}]}` when present; other shapes, OAuth
`{"error", "error_description"}`, plain text and empty bodies are tolerated, so an error message can
always be produced. Every text that may end up in an exception goes through a `Redactor` first.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any

import httpx

from reconciler.errors import ApiError

_MAX_MESSAGE = 500


class Redactor:
    """Replaces known secrets (the client secret, every access token seen) by `***` in any text.

    The server is not expected to echo a secret, but error text is built from server bodies, so
    every message is filtered before it reaches an exception, a log line or a hook.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = {s for s in secrets if s}

    def add(self, secret: str) -> None:
        if secret:
            with self._lock:
                self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, "***")
        return text


def decode_body(response: httpx.Response) -> Any:
    """Parsed JSON; None for an empty body; the text itself when it is not JSON."""
    text = response.text
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def error_detail(response: httpx.Response) -> tuple[str, list[tuple[str, str]]]:
    """(message, [(field, message), ...]) from an error response of any shape."""
    try:
        body = decode_body(response)
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        body = None
    message = ""
    errors: list[tuple[str, str]] = []
    if isinstance(body, dict):
        message = _text(body.get("message") or body.get("error_description") or body.get("error") or "")
        errors = _errors(body.get("errors"))
    elif isinstance(body, list):
        errors = _errors(body)
    elif isinstance(body, str):
        message = _text(body)
    if not message and not errors:
        message = response.reason_phrase or ""
    return message, _not_repeated(message, errors)


def _not_repeated(message: str, errors: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The field errors the message does not already say.

    Harvest (and the sandbox) often answer `{"message": "Validation failed: name has already been taken",
    "errors": [{"field": "name", "message": "has already been taken"}]}`: shown in full, the text would
    say it twice. An error whose text (or "field text") the message contains is left out; the rest stay,
    in order, once each.
    """
    said = message.casefold()
    kept: list[tuple[str, str]] = []
    for field, text in errors:
        if text and text.casefold() in said:
            continue
        if (field, text) not in kept:
            kept.append((field, text))
    return kept


def _errors(raw: Any) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, dict):
                found.append((_text(item.get("field") or ""), _text(item.get("message") or "")))
            elif item is not None:
                found.append(("", _text(item)))
    elif isinstance(raw, dict):  # Rails style {"name": ["has already been taken"]}
        for key, value in raw.items():
            for msg in value if isinstance(value, list) else [value]:
                found.append((_text(key), _text(msg)))
    elif isinstance(raw, str):
        found.append(("", _text(raw)))
    return [(f, m) for f, m in found if f or m]


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def next_link(response: httpx.Response) -> httpx.URL | None:
    """The `Link: <...>; rel="next"` target, resolved against the request URL; None on the last page.

    A target on another origin (scheme, host or port) than the page's own raises `ApiError`: the
    client follows next links exactly, and a list answer must not send the next request (with its
    bearer token, were the auth to add it) anywhere else than the API the run was pointed at.
    """
    if not response.headers.get("link"):
        return None
    try:
        target = response.links.get("next", {}).get("url")
    except (ValueError, KeyError):
        return None
    if not target:
        return None
    here = response.request.url
    try:
        following = here.join(target)
    except httpx.InvalidURL:
        following = None
    if following is None or (following.scheme, following.host, following.port) != (here.scheme, here.host, here.port):
        # The foreign URL is not shown: error text names paths only, never a host or a query.
        raise ApiError(response.request.method, here.path or "/", response.status_code,
                       'refusing the next page: its Link rel="next" points to another host (or scheme or port) '
                       "than the API's, where the request would carry the run's credentials")
    return following


def header_float(response: httpx.Response, name: str) -> float | None:
    """A numeric header, or None when absent or not a number."""
    raw = response.headers.get(name)
    if raw is None:
        return None
    try:
        return float(raw.strip())
    except ValueError:
        return None
