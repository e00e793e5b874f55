"""Test-wide guards.

Unit tests must never open a real socket: HTTP goes through the in-process sandbox transport. Tests
marked `e2e` may connect, but only to loopback addresses (the sandbox server they started).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.harvest.settings import is_loopback_host

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        return is_loopback_host(str(address[0]))
    return isinstance(address, (str, bytes))  # AF_UNIX paths are local


@pytest.fixture(autouse=True)
def _socket_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    allow_loopback = request.node.get_closest_marker("e2e") is not None

    def guarded(self: socket.socket, address: Any) -> Any:
        if allow_loopback and _is_loopback(address):
            return _real_connect(self, address)
        raise OSError(f"test tried to open a real socket to {address!r} (only e2e tests may, and only to loopback)")

    def guarded_ex(self: socket.socket, address: Any) -> Any:
        if allow_loopback and _is_loopback(address):
            return _real_connect_ex(self, address)
        raise OSError(f"test tried to open a real socket to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_ex)
    yield
