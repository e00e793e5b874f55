"""What the manifest loader hands to the rest of the program: located, normalised, validated entries.

Contract (the planner relies on it):

* `Entry.data` holds exactly the keys the user wrote (absent = unmanaged), after normalisation:
  shorthand strings are expanded (`- Referral` under candidate_tags becomes `{"name": "Referral"}`,
  an option `"100 - Platform"` becomes `{"name": "100 - Platform"}`), and `previously` is always a
  list when present. Values are plain JSON-like Python (dict, list, str, int, float, bool, None).
  Nobody mutates them.
* Every entry and every nested value keeps where it was written: `Entry.at("options[2].name")`
  gives its `Source`; an unknown relative path falls back to the nearest known ancestor.
* All offline checks (YAML, schema, semantic) have passed when a `Manifest` exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from reconciler.limits import DEFAULT_MAX_CHANGE_PERCENT, DEFAULT_MAX_DELETES

#: Prune modes, per section.
PRUNE_MODES: tuple[str, ...] = ("off", "report", "enforce")



@dataclass(frozen=True)
class Source:
    """Where something was written: file, 1-based line and column, and its JSON path in that file."""

    file: str
    line: int
    column: int
    path: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.path}"


@dataclass(frozen=True)
class Entry:
    """One item of a top-level section, as written in one file."""

    section: str
    data: Mapping[str, Any]
    source: Source
    #: Locations of nested values keyed by path relative to the entry: "parent", "options[2]",
    #: "options[2].name", "job_permissions[0].job".
    sources: Mapping[str, Source] = field(default_factory=lambda: MappingProxyType({}))

    def at(self, relative: str) -> Source:
        """The location of a nested value, or of its nearest written ancestor, or of the entry."""
        probe = relative
        while probe:
            found = self.sources.get(probe)
            if found is not None:
                return found
            cut = max(probe.rfind("."), probe.rfind("["))
            probe = probe[:cut] if cut > 0 else ""
        return self.source


@dataclass(frozen=True)
class Limits:
    """Safety limits; `apply` refuses a plan over them unless --force."""

    max_deletes: int = DEFAULT_MAX_DELETES
    max_change_percent: float = DEFAULT_MAX_CHANGE_PERCENT


def _sections() -> tuple[str, ...]:
    # Imported here, not at the top: the resource families import this module.
    from reconciler.resources.registry import REGISTRY

    return REGISTRY.views.sections


@dataclass(frozen=True)
class Policy:
    """The merged `policy:` block. Every section has a prune mode (default "report")."""

    prune: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({s: "report" for s in _sections()})
    )
    #: Per section, the identities that must never be deleted, archived, deactivated or revoked:
    #: department/office names or external ids, custom field keys or names, tag names, user emails.
    protect: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({s: () for s in _sections()})
    )
    limits: Limits = field(default_factory=Limits)
    #: Locations of policy values keyed like "prune.candidate_tags", "protect.users[0]", "limits.max_deletes".
    sources: Mapping[str, Source] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Manifest:
    """All manifest files under the given paths, merged and validated."""

    #: Every registered section is a key; items from several files are concatenated in file order.
    entries: Mapping[str, tuple[Entry, ...]]
    policy: Policy
    #: The files read, in the order they were merged (sorted paths).
    files: tuple[str, ...]
    #: sha256 hex over every file's path and bytes, in `files` order: identifies the manifests a plan came from.
    digest: str
    #: Sections that at least one file mentions (even as an empty list). A section nobody mentions is
    #: not managed at all: its live objects are neither compared nor listed as unmanaged.
    present: frozenset[str] = frozenset()

    def count(self) -> dict[str, int]:
        return {s: len(self.entries.get(s, ())) for s in _sections()}
