"""The CLI's tests run it in-process too (click's runner): each test starts and ends with no console handler."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler import console


@pytest.fixture(autouse=True)
def _console_reset() -> Iterator[None]:
    console.reset()
    yield
    console.reset()
