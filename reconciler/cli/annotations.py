"""`validate --format github|json`: manifest problems as GitHub workflow commands or as JSON.

A `Problem` (reconciler/errors.py) locates itself as one string, "file:line:col: $.json.path", or
"file", or "$.path"; `locate` splits it into a `Located` value. GitHub workflow commands
(https://docs.github.com/actions/reference/workflow-commands-for-github-actions):

    ::error file={file},line={line},col={col},title=greenhouse-reconciler::{message}

with the escaping GitHub's runner applies: in the message `%` -> `%25`, CR -> `%0D`, LF -> `%0A`; in
property values also `:` -> `%3A` and `,` -> `%2C`. Properties that are not known are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

TITLE = "greenhouse-reconciler"

_WHERE = re.compile(r"^(?P<file>.*?):(?P<line>\d+):(?P<col>\d+)(?:: (?P<path>\$.*))?$")
_FILE_PATH = re.compile(r"^(?P<file>.+?): (?P<path>\$.*)$")


@dataclass(frozen=True)
class Located:
    """One problem, split: `file`, `line`, `column` and JSON `path` when known; `severity` "error" or "warning"."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: str | None = None
    severity: str = "error"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "path": self.path,
                "message": self.message, "severity": self.severity}


def locate(where: str, message: str, severity: str = "error") -> Located:
    """Split a Problem's `where` ("file:line:col: $.path", "file", "$.path", "") into its parts."""
    where = where.strip()
    if not where:
        return Located(message, severity=severity)
    m = _WHERE.match(where)
    if m:
        return Located(message, m["file"] or None, int(m["line"]), int(m["col"]), m["path"], severity)
    if where.startswith("$"):
        return Located(message, path=where, severity=severity)
    m = _FILE_PATH.match(where)
    if m:
        return Located(message, m["file"], path=m["path"], severity=severity)
    return Located(message, where, severity=severity)


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_command(problem: Located) -> str:
    """The `::error ...::message` (or `::warning`) line for one problem; the JSON path leads the message."""
    props = []
    if problem.file:
        props.append(f"file={escape_property(problem.file)}")
    if problem.line is not None:
        props.append(f"line={problem.line}")
    if problem.column is not None:
        props.append(f"col={problem.column}")
    props.append(f"title={escape_property(TITLE)}")
    text = f"{problem.path}: {problem.message}" if problem.path else problem.message
    kind = "warning" if problem.severity == "warning" else "error"
    return f"::{kind} {','.join(props)}::{escape_data(text)}"
