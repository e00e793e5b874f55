"""Corruptions of valid list answers, one at a time (see `server.Corruption`).

Each factory returns a corruption that changes the answers to GETs of one list path and leaves every
other answer alone. The users list is read with two parameter sets: both answers are corrupted alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from tests.fuzz_api.server import Answer, Corruption

DELETE = object()
"""As a field value: remove the field."""


def _json_answer(answer: Answer, body: Any) -> Answer:
    status, headers, _ = answer
    return status, headers, json.dumps(body).encode()


def rows_changed(path: str, change: Callable[[list[Any]], list[Any]]) -> Corruption:
    """The answers to `path` with their row list changed by `change` (given a copy)."""
    def corrupt(method: str, target: str, answer: Answer, base: str) -> Answer:
        if urlsplit(target).path != path:
            return answer
        rows = json.loads(answer[2])
        return _json_answer(answer, change(list(rows)))
    return corrupt


def field_set(path: str, index: int, key: str, value: Any) -> Corruption:
    """Row `index` (modulo the page's length; no change on an empty page) gets `key` = value (or loses it)."""
    def change(rows: list[Any]) -> list[Any]:
        if not rows:
            return rows
        at = index % len(rows)
        row = dict(rows[at])
        if value is DELETE:
            row.pop(key, None)
        else:
            row[key] = value
        rows[at] = row
        return rows
    return rows_changed(path, change)


def body_set(path: str, body: bytes) -> Corruption:
    """The answers to `path` have exactly this body (not necessarily JSON)."""
    def corrupt(method: str, target: str, answer: Answer, base: str) -> Answer:
        return (answer[0], answer[1], body) if urlsplit(target).path == path else answer
    return corrupt


def link_set(path: str, next_url: Callable[[str, str], str]) -> Corruption:
    """The answers to `path` carry `Link: <next_url(base, target)>; rel="next"` (`base`: this server's URL,
    `target`: the request's path and query)."""
    def corrupt(method: str, target: str, answer: Answer, base: str) -> Answer:
        if urlsplit(target).path != path:
            return answer
        status, headers, body = answer
        kept = {k: v for k, v in headers.items() if k.lower() != "link"}
        return status, {**kept, "Link": f'<{next_url(base, target)}>; rel="next"'}, body
    return corrupt


def loop(path: str) -> Corruption:
    """Every page of `path` names itself as the next page: a pagination loop."""
    return link_set(path, lambda base, target: f"{base}{target}")


def elsewhere(path: str, other: str = "http://127.0.0.2:9") -> Corruption:
    """The next page of `path` is at `other` (a base URL on another host; a loopback one keeps it local)."""
    return link_set(path, lambda base, target: f"{other}{path}?cursor=x")
