"""Finding manifest files and reading them as text, refusing what is not a small UTF-8 text file.

Contract:

* A path is a file (read whatever its name) or a directory: every `*.yaml` / `*.yml` below it,
  recursively, skipping hidden entries (names starting with "."; e.g. `.git`, `.github`), not
  following symlinked directories. A path that does not exist, or a directory without manifest
  files, is an error.
* Files are returned sorted by path and each file once, however often it was named.
* Displayed paths are as the user gave them (relative stays relative): `examples/` discovers
  `examples/users.yaml`.
* Refused with a rank-0 problem: unreadable files, files over 10 MB, binary files (NUL bytes),
  UTF-16/32, bytes that are not UTF-8. A UTF-8 byte-order mark is accepted and dropped.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import RANK_FILE, Problem

#: Largest manifest file accepted, in bytes.
MAX_BYTES = 10 * 1024 * 1024
SUFFIXES = (".yaml", ".yml")



@dataclass(frozen=True)
class ManifestFile:
    """A file to load: the path to show the user and the real path to open."""

    display: str
    path: Path


@dataclass(frozen=True)
class FileText:
    """A file's bytes (for the digest) and its decoded text (for the YAML reader)."""

    display: str
    data: bytes
    text: str


def discover(paths: Sequence[str | os.PathLike[str]]) -> tuple[list[ManifestFile], list[Problem]]:
    """Every manifest file under `paths`, sorted and de-duplicated, plus problems with the paths."""
    found: dict[str, ManifestFile] = {}
    problems: list[Problem] = []
    for given in paths:
        shown = os.fspath(given)
        path = Path(shown)
        if path.is_dir():
            files = list(_walk(path, shown))
            if not files:
                problems.append(Problem(RANK_FILE, shown, "no manifest files (*.yaml, *.yml) in this directory"))
            for f in files:
                found.setdefault(_identity(f.path), f)
        elif path.is_file():
            found.setdefault(_identity(path), ManifestFile(shown, path))
        elif path.exists():
            problems.append(Problem(RANK_FILE, shown, "not a regular file or a directory"))
        else:
            problems.append(Problem(RANK_FILE, shown, "no such file or directory"))
    ordered = sorted(found.values(), key=lambda f: (Path(f.display).parts, f.display))
    return ordered, problems


def _walk(root: Path, shown: str) -> list[ManifestFile]:
    out: list[ManifestFile] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or not name.lower().endswith(SUFFIXES):
                continue
            real = Path(dirpath) / name
            if not real.is_file():
                continue
            display = os.path.normpath(os.path.join(shown, os.path.relpath(real, root)))
            out.append(ManifestFile(display, real))
    return out


def _identity(path: Path) -> str:
    try:
        return str(path.resolve())
    except OSError:
        return str(path.absolute())


def read_text(f: ManifestFile) -> FileText | Problem:
    """The file's text, or the reason it cannot be a manifest."""
    try:
        size = f.path.stat().st_size
        if size > MAX_BYTES:
            return Problem(RANK_FILE, f.display, _too_big(size))
        with f.path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as e:
        return Problem(RANK_FILE, f.display, f"cannot read the file: {e.strerror or e}")
    if len(data) > MAX_BYTES:
        return Problem(RANK_FILE, f.display, _too_big(len(data)))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Problem(RANK_FILE, f.display, "the file is UTF-16 or UTF-32 encoded: save it as UTF-8")
    if b"\x00" in data:
        return Problem(RANK_FILE, f.display, "binary file (it contains NUL bytes), not a YAML manifest")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line, column = _byte_position(data, e.start)
        return Problem(
            RANK_FILE,
            f"{f.display}:{line}:{column}",
            f"not valid UTF-8 (byte 0x{data[e.start]:02x}): manifests must be saved as UTF-8",
        )
    return FileText(f.display, data, text.removeprefix("\ufeff"))


def _too_big(size: int) -> str:
    mib = 1024 * 1024
    limit = f"{MAX_BYTES // mib} MB" if MAX_BYTES % mib == 0 else f"{MAX_BYTES} bytes"
    return f"the file is larger than the limit of {limit} ({size} bytes or more)"


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters, as far as they decode) of a byte offset."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return line, column
