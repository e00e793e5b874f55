"""Fixtures for the sandbox contract tests: the demo seed, a fake clock, and plain httpx clients
talking to the in-process transport (deliberately not the reconciler's own client)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox
from tests.support import FakeClock

SEED_PATH = Path(__file__).resolve().parents[2] / "examples" / "sandbox-seed.json"
_SEED = json.loads(SEED_PATH.read_text())
ADMIN = 1001  # Ada Admin, a site admin
BASIC = 1002  # Jane Doe, not a site admin


@pytest.fixture
def seed() -> dict[str, Any]:
    return copy.deepcopy(_SEED)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sb(seed: dict[str, Any], clock: FakeClock) -> Sandbox:
    return Sandbox(seed, clock=clock.time)


def token(client: httpx.Client, sub: int | None = ADMIN, secret: str = "demo-secret") -> httpx.Response:
    data = {"grant_type": "client_credentials"}
    if sub is not None:
        data["sub"] = str(sub)
    return client.post("/token", auth=("demo-client", secret), data=data)


ClientFactory = Callable[..., httpx.Client]


@pytest.fixture
def make_client(sb: Sandbox) -> Iterator[ClientFactory]:
    """`make_client(sub=1001, sandbox=sb)`: a client already holding a bearer token for `sub`."""
    made: list[httpx.Client] = []

    def factory(sub: int | None = ADMIN, sandbox: Sandbox | None = None) -> httpx.Client:
        target = sandbox or sb
        client = httpx.Client(transport=target.transport(), base_url="http://127.0.0.1")
        made.append(client)
        answer = token(client, sub)
        assert answer.status_code == 200, answer.text
        client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        return client

    yield factory
    for client in made:
        client.close()


@pytest.fixture
def api(make_client: ClientFactory) -> httpx.Client:
    """A client acting as the site admin 1001."""
    return make_client()


def ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()]


def error_fields(response: httpx.Response) -> list[str]:
    body = response.json()
    assert set(body) == {"message", "errors"}
    return [e["field"] for e in body["errors"]]
