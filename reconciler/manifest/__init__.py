"""The manifest language: YAML files -> a validated, located `Manifest` (see docs/manifest.md).

`load(paths)` runs every offline check and raises `ManifestError` with all problems, ranked, one per
line (`file:line:col: $.path: message`); `json_schema()` is the JSON Schema the format is defined by.
"""

from __future__ import annotations

from reconciler.manifest.loader import load
from reconciler.manifest.model import (
    PRUNE_MODES,
    Entry,
    Limits,
    Manifest,
    Policy,
    Source,
)
from reconciler.manifest.schema import json_schema

__all__ = [
    "PRUNE_MODES",
    "Entry",
    "Limits",
    "Manifest",
    "Policy",
    "Source",
    "json_schema",
    "load",
]
