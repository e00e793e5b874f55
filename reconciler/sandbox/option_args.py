"""`sandbox serve --option NAME=VALUE`: set any `SandboxOptions` field from the command line.

A value is parsed by the field's declared type: `bool` (true/false, yes/no, on/off, 1/0, any case),
`int`, `float` or `str`. Every problem (no `=`, an unknown name, a field that cannot be set from
text such as `sleep`, a value of the wrong type, a value `SandboxOptions` itself refuses) is a
ValueError whose message is one line naming the option, which the CLI prints before exiting 1.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from reconciler.sandbox.options import SandboxOptions

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_SETTABLE_TYPES = ("bool", "int", "float", "str")


def settable_fields() -> dict[str, str]:
    """Option name -> type name, for every field that `--option` can set."""
    return {f.name: str(f.type) for f in dataclasses.fields(SandboxOptions) if str(f.type) in _SETTABLE_TYPES}


def _parse(name: str, kind: str, text: str) -> Any:
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"sandbox option {name}: expected true or false, got {text!r}")
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"sandbox option {name}: expected an integer, got {text!r}") from None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"sandbox option {name}: expected a number, got {text!r}") from None
    return text


def options_from_assignments(assignments: Iterable[str], base: SandboxOptions | None = None) -> SandboxOptions:
    """`base` (default: the defaults) with each `NAME=VALUE` applied in order (a later one wins)."""
    fields = settable_fields()
    every = {f.name for f in dataclasses.fields(SandboxOptions)}
    changes: dict[str, Any] = {}
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"sandbox option {assignment!r}: expected NAME=VALUE")
        if name not in fields:
            if name in every:
                raise ValueError(f"sandbox option {name} cannot be set from the command line")
            raise ValueError(f"unknown sandbox option {name!r} (known: {', '.join(sorted(fields))})")
        changes[name] = _parse(name, fields[name], text)
    return dataclasses.replace(base or SandboxOptions(), **changes)
