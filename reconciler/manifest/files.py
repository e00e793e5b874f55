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
* Nothing named like a manifest is skipped silently: below a directory, a `*.yaml` / `*.yml` entry
  that is a broken symbolic link (or a link loop), a directory (or a link to one), or anything but a
  regular file (a FIFO, a socket, a device) is a rank-0 problem naming it. A missing `policy.yaml`
  would otherwise drop the protect lists and limits without a word. Such a directory is not entered.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import RANK_FILE, Problem
from reconciler.manifest.text import quote

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
            before = len(problems)
            files = _walk(path, shown, problems)
            if not files and len(problems) == before:
                problems.append(Problem(RANK_FILE, shown, "no manifest files (*.yaml, *.yml) in this directory"))
            for f in files:
                found.setdefault(_identity(f.path), f)
        elif path.is_file():
            found.setdefault(_identity(path), ManifestFile(shown, path))
        elif path.is_symlink():
            problems.append(Problem(RANK_FILE, shown, _broken_link(path)))
        elif path.exists():
            problems.append(Problem(RANK_FILE, shown, "not a regular file or a directory"))
        else:
            problems.append(Problem(RANK_FILE, shown, "no such file or directory"))
    ordered = sorted(found.values(), key=lambda f: (Path(f.display).parts, f.display))
    return ordered, problems


def _walk(root: Path, shown: str, problems: list[Problem]) -> list[ManifestFile]:
    """The manifest files below `root`; what is named like one but cannot be read as one goes to `problems`."""
    out: list[ManifestFile] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        visible = sorted(d for d in dirnames if not d.startswith("."))
        dirnames[:] = []
        for name in visible:
            real = Path(dirpath) / name
            if not name.lower().endswith(SUFFIXES):
                if not real.is_symlink():  # symlinked directories are not followed (documented above)
                    dirnames.append(name)
                continue
            what = "a symbolic link to a directory" if real.is_symlink() else "a directory"
            problems.append(
                Problem(RANK_FILE, _shown(shown, root, real),
                        f"{what}, named like a manifest file: rename it (manifest files are regular *.yaml files)")
            )
        for name in sorted(filenames):
            if name.startswith(".") or not name.lower().endswith(SUFFIXES):
                continue
            real = Path(dirpath) / name
            display = _shown(shown, root, real)
            if real.is_file():
                out.append(ManifestFile(display, real))
            elif real.is_symlink() and not real.exists():
                problems.append(Problem(RANK_FILE, display, _broken_link(real)))
            else:
                problems.append(
                    Problem(RANK_FILE, display, f"{_kind(real)}, not a regular file: a manifest must be a regular file")
                )
    return out


def _shown(shown: str, root: Path, real: Path) -> str:
    return os.path.normpath(os.path.join(shown, os.path.relpath(real, root)))


def _broken_link(path: Path) -> str:
    """Why a symbolic link cannot be followed: its target is missing, or it is a loop of links."""
    try:
        target = os.readlink(path)
    except OSError:  # pragma: no cover - it was a symlink a moment ago
        return "a broken symbolic link: remove it or restore its target"
    try:
        path.stat()
    except OSError as e:
        if e.errno == errno.ELOOP:
            return f"a symbolic link loop (it points to {quote(target)}, which leads back to itself): remove it"
    return f"a broken symbolic link: its target {quote(target)} does not exist; remove the link or restore the file"


def _kind(path: Path) -> str:
    """What a non-regular directory entry is, in words."""
    try:
        mode = path.stat().st_mode
    except OSError:  # pragma: no cover - it existed a moment ago
        return "not readable"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"  # pragma: no cover - directories are dirnames, files are read


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
