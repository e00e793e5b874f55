"""Helpers for manifest tests: write small manifest trees and collect the problems of a load."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest import Manifest, load


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create `files` (relative path -> YAML text, dedented, or raw bytes) under `root`."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def load_ok(root: Path, monkeypatch: pytest.MonkeyPatch, *paths: str) -> Manifest:
    """Load with `root` as the working directory, so displayed paths are short and relative."""
    monkeypatch.chdir(root)
    return load(list(paths) or ["."])


def problems(root: Path, monkeypatch: pytest.MonkeyPatch, *paths: str) -> list[str]:
    """The problem lines of a load that must fail."""
    monkeypatch.chdir(root)
    with pytest.raises(ManifestError) as caught:
        load(list(paths) or ["."])
    return [str(p) for p in caught.value.problems]
