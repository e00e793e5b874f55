"""The plan: a self-contained, serialisable description of every write an apply will make.

Invariants (the executor relies on them; a saved plan is applied exactly as reviewed):

* `Plan.changes` is in execution order: parents before children on create, children before parents on
  delete, new grants before removal of old ones where the API allows two at once.
* Every `Change` carries the exact `Write`s that carry it out. Paths and bodies may contain references
  `{"$ref": "<change key>"}` (or the string "{$ref:<key>}" inside a path) to the id of an object created by
  an earlier change of the same plan; the executor substitutes them, nothing else.
* Every `Write` carries a `Settle` probe: how to tell, by re-reading, whether the write took effect when its
  answer was lost. The executor re-reads before it ever repeats a write.
* Nothing in a plan is a secret: it records the API URL and the manifest digest, never credentials.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FORMAT_VERSION = 1

ACTIONS = ("create", "update", "delete", "replace")

#: Resource types, in the order the plan and the text rendering group them.
TYPES: tuple[str, ...] = (
    "department",
    "office",
    "custom_field",
    "custom_field_option",
    "custom_field_department",
    "custom_field_office",
    "candidate_tag",
    "user",
    "user_job_permission",
    "future_job_permission",
)


@dataclass(frozen=True)
class FieldChange:
    """One managed field whose live value (`before`) differs from the desired one (`after`)."""

    before: Any
    after: Any


@dataclass(frozen=True)
class Settle:
    """How to decide, by re-reading, whether a write whose answer was lost was committed.

    List `path` with `params`; the write is committed if a row matching every key of `match` is
    present (`committed_if="present"`) or if none is (`"absent"`). `match` may contain $refs.
    """

    path: str
    params: Mapping[str, Any]
    match: Mapping[str, Any]
    committed_if: str = "present"


@dataclass(frozen=True)
class Write:
    """One HTTP write. `bulk` names the bulk endpoint ("PATCH /v3/departments/bulk") it may be batched into."""

    method: str
    path: str
    body: Any = None
    settle: Settle | None = None
    bulk: str | None = None
    #: For bulk batching: the item to put into `data` (defaults to the body, or the id for id-only bulks).
    bulk_item: Any = None


@dataclass(frozen=True)
class Change:
    """One planned change of one object.

    `key` is unique in the plan ("department:ENG-DX"); later writes refer to the id this change creates
    through it. `removal` marks what `policy.limits.max_deletes` counts: deletes, archives, deactivations
    and revokes. `reasons` are for humans only.
    """

    action: str
    type: str
    name: str
    key: str
    id: int | None = None
    destructive: bool = False
    removal: bool = False
    fields: Mapping[str, FieldChange] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    writes: tuple[Write, ...] = ()


@dataclass(frozen=True)
class Unmanaged:
    """A live object that no manifest names (listed under prune: report, or protected from enforce)."""

    type: str
    name: str
    id: int


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    unmanaged: tuple[Unmanaged, ...] = ()
    warnings: tuple[str, ...] = ()
    #: Objects compared and found equal, per type.
    unchanged: Mapping[str, int] = field(default_factory=dict)
    #: Live objects per type (the base of max_change_percent).
    live_counts: Mapping[str, int] = field(default_factory=dict)
    max_deletes: int = 10
    max_change_percent: float = 30.0
    api_url: str = ""
    manifest_digest: str = ""
    only: tuple[str, ...] = ()
    #: collection -> {id: fingerprint} of every live object read; lets a saved plan detect staleness.
    fingerprints: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: collection -> [(list path, params), ...]: the reads that produced `fingerprints`, replayed by apply --plan.
    reads: Mapping[str, tuple[tuple[str, Mapping[str, Any]], ...]] = field(default_factory=dict)

    # -- derived views -------------------------------------------------------------------------
    def summary(self) -> dict[str, int]:
        counts = {a: 0 for a in ACTIONS}
        for c in self.changes:
            counts[c.action] += 1
        counts["unchanged"] = sum(self.unchanged.values())
        counts["unmanaged"] = len(self.unmanaged)
        return counts

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def destructive(self) -> list[Change]:
        return [c for c in self.changes if c.destructive]

    def removals(self) -> list[Change]:
        return [c for c in self.changes if c.removal]

    def write_count(self) -> int:
        return sum(len(c.writes) for c in self.changes)

    # -- JSON ----------------------------------------------------------------------------------
    def to_json(self, *, include_fingerprints: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "summary": self.summary(),
            "changes": [_change_to_json(c) for c in self.changes],
            "unmanaged": [{"type": u.type, "name": u.name, "id": u.id} for u in self.unmanaged],
            "warnings": list(self.warnings),
            "unchanged": dict(self.unchanged),
            "live_counts": dict(self.live_counts),
            "limits": {"max_deletes": self.max_deletes, "max_change_percent": self.max_change_percent},
            "api_url": self.api_url,
            "manifest_digest": self.manifest_digest,
            "only": list(self.only),
        }
        if include_fingerprints:
            out["fingerprints"] = {k: dict(v) for k, v in self.fingerprints.items()}
            out["reads"] = {k: [[p, dict(q)] for p, q in v] for k, v in self.reads.items()}
        return out

    def dumps(self, *, include_fingerprints: bool = False) -> str:
        """Deterministic JSON text: the same plan always gives the same bytes."""
        return json.dumps(self.to_json(include_fingerprints=include_fingerprints), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        """Rebuild a plan saved by `dumps`. Raises ValueError on anything that is not a format-1 plan."""
        if not isinstance(data, Mapping) or data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"not a format_version {FORMAT_VERSION} plan")
        try:
            limits = data.get("limits", {})
            return cls(
                changes=tuple(_change_from_json(c) for c in data["changes"]),
                unmanaged=tuple(Unmanaged(u["type"], u["name"], u["id"]) for u in data.get("unmanaged", [])),
                warnings=tuple(data.get("warnings", [])),
                unchanged=dict(data.get("unchanged", {})),
                live_counts=dict(data.get("live_counts", {})),
                max_deletes=int(limits.get("max_deletes", 10)),
                max_change_percent=float(limits.get("max_change_percent", 30.0)),
                api_url=str(data.get("api_url", "")),
                manifest_digest=str(data.get("manifest_digest", "")),
                only=tuple(data.get("only", [])),
                fingerprints={k: dict(v) for k, v in data.get("fingerprints", {}).items()},
                reads={k: tuple((str(p), dict(q)) for p, q in v) for k, v in data.get("reads", {}).items()},
            )
        except KeyError as e:
            raise ValueError(f"malformed plan: a change or write lacks the key {e}") from e
        except (TypeError, AttributeError) as e:
            raise ValueError(f"malformed plan: {e}") from e


def _change_to_json(c: Change) -> dict[str, Any]:
    return {
        "action": c.action,
        "type": c.type,
        "name": c.name,
        "key": c.key,
        "id": c.id,
        "destructive": c.destructive,
        "removal": c.removal,
        "fields": {k: {"before": v.before, "after": v.after} for k, v in c.fields.items()},
        "reasons": list(c.reasons),
        "writes": [_write_to_json(w) for w in c.writes],
    }


def _write_to_json(w: Write) -> dict[str, Any]:
    out: dict[str, Any] = {"method": w.method, "path": w.path, "body": w.body}
    if w.settle is not None:
        out["settle"] = {
            "path": w.settle.path,
            "params": dict(w.settle.params),
            "match": dict(w.settle.match),
            "committed_if": w.settle.committed_if,
        }
    if w.bulk is not None:
        out["bulk"] = w.bulk
        out["bulk_item"] = w.bulk_item
    return out


def _change_from_json(d: Mapping[str, Any]) -> Change:
    if d.get("action") not in ACTIONS or d.get("type") not in TYPES:
        raise ValueError(f"unknown action/type {d.get('action')!r}/{d.get('type')!r}")
    return Change(
        action=d["action"],
        type=d["type"],
        name=d["name"],
        key=d["key"],
        id=d.get("id"),
        destructive=bool(d.get("destructive", False)),
        removal=bool(d.get("removal", False)),
        fields={k: FieldChange(v["before"], v["after"]) for k, v in d.get("fields", {}).items()},
        reasons=tuple(d.get("reasons", [])),
        writes=tuple(_write_from_json(w) for w in d.get("writes", [])),
    )


def _write_from_json(d: Mapping[str, Any]) -> Write:
    s = d.get("settle")
    return Write(
        method=d["method"],
        path=d["path"],
        body=d.get("body"),
        settle=Settle(s["path"], s.get("params", {}), s["match"], s.get("committed_if", "present")) if s else None,
        bulk=d.get("bulk"),
        bulk_item=d.get("bulk_item"),
    )
