"""load() pauses the cyclic garbage collector while it runs and restores its state, also on errors."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest import load, loader

from .helpers import write

#: Nothing here depends on the YAML composer (see conftest.py).
ONE_COMPOSER = True


@pytest.fixture
def restore_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    (gc.enable if enabled else gc.disable)()


@pytest.mark.usefixtures("restore_gc")
@pytest.mark.parametrize("enabled", [True, False], ids=["collector on", "collector off"])
@pytest.mark.parametrize("valid", [True, False], ids=["valid", "with problems"])
def test_the_collector_is_paused_during_load_and_restored_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, enabled: bool, valid: bool
) -> None:
    write(tmp_path, {"a.yaml": "candidate_tags: [Referral]\n" if valid else "candidate_tags: [A, A]\n"})
    during: list[bool] = []
    real = loader.discover

    def spy(paths: Any) -> Any:
        during.append(gc.isenabled())
        return real(paths)

    monkeypatch.setattr(loader, "discover", spy)
    (gc.enable if enabled else gc.disable)()
    with contextlib.nullcontext() if valid else pytest.raises(ManifestError):
        load([str(tmp_path)])
    assert during == [False]
    assert gc.isenabled() is enabled
