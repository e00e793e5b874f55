"""The plan: a self-contained, serialisable description of every write an apply will make.

Invariants (the executor relies on them; a saved plan is applied exactly as reviewed):

* `Plan.changes` is in execution order: parents before children on create, children before parents on
  delete, new grants before removal of old ones where the API allows two at once.
* Every `Change` carries the exact `Write`s that carry it out. Paths and bodies may contain references
  `{"$ref": "<change key>"}` (or the string "{$ref:<key>}" inside a path) to the id of an object created by
  an earlier change of the same plan; the executor substitutes them, nothing else.
* Every `Write` carries a `Settle` probe: how to tell, by re-reading, whether the write took effect when its
  answer was lost. The executor re-reads before it ever repeats a write.
* `Plan.bulk_requests` says which changes go as which bulk request: each names a bulk endpoint and the keys
  of consecutive changes whose single write names that endpoint; every other change is sent as its own
  writes. The executor sends exactly these requests (it splits one only when the API refuses its size).
* Nothing in a plan is a secret: it records the API URL and the manifest digest, never credentials.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.limits import DEFAULT_MAX_CHANGE_PERCENT, DEFAULT_MAX_DELETES

#: The plan JSON format version (`format_version` in a saved plan); see docs/plan-json.md.
PLAN_FORMAT_VERSION = 1

ACTIONS = ("create", "update", "delete", "replace")

#: Values of `Change.fallback` (besides None).
FALLBACKS = ("delete_first",)

@dataclass(frozen=True)
class FieldChange:
    """One managed field whose live value (`before`) differs from the desired one (`after`)."""

    before: Any
    after: Any


@dataclass(frozen=True)
class Settle:
    """How to decide, by re-reading, whether a write whose answer was lost was committed.

    List `path` with `params`; the write is committed if a row matching every key of `match` is
    present (`committed_if="present"`) or if none is (`"absent"`). `match` may contain $refs. Keys in
    `casefold` compare case-insensitively (an email the API may store in another case).
    """

    path: str
    params: Mapping[str, Any]
    match: Mapping[str, Any]
    committed_if: str = "present"
    casefold: tuple[str, ...] = ()


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

    def references(self) -> set[str]:
        """The change keys this write's path and body refer to (`{"$ref": key}`, "{$ref:key}")."""
        text = self.path + json.dumps(self.body)
        found: set[str] = set()
        if "$ref" not in text:
            return found
        for marker, closing in (('{"$ref": "', '"'), ("{$ref:", "}")):
            start = 0
            while (i := text.find(marker, start)) >= 0:
                j = i + len(marker)
                start = text.find(closing, j)
                found.add(text[j:start])
        return found


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
    #: How the executor may recover when the first write is refused. "delete_first": the writes are
    #: (create the new row, delete the old one); on a 422 saying the row "already" exists, send writes[1]
    #: then writes[0]. None: no recovery, the first failure stops the apply.
    fallback: str | None = None
    #: Changes with the same `counts_as` count as one change for `policy.limits.max_change_percent` (the
    #: pure reorder of a list: renumbering one field's options is one change of that field, not one per
    #: option). None: the change counts on its own.
    counts_as: str | None = None


@dataclass(frozen=True)
class BulkRequest:
    """One bulk request of the apply: `endpoint` ("PATCH /v3/departments/bulk") with one row per change.

    `changes` are the keys of consecutive changes in `Plan.changes`, each with a single write whose `bulk`
    is `endpoint`. Rows of one bulk request run in any order on Greenhouse's side, so the planner only
    marks order-independent writes as bulk-able.
    """

    endpoint: str
    changes: tuple[str, ...]


@dataclass(frozen=True)
class Unmanaged:
    """A live object that no manifest names, left alone: under prune: report, or (`protected`) kept by
    `policy.protect` from a delete that prune: enforce or a rename would make."""

    type: str
    name: str
    id: int
    protected: bool = False


@dataclass(frozen=True)
class GreenhouseManaged:
    """A live row of a managed object that Greenhouse maintains by itself (e.g. an automated job grant).

    Listed for the reader, never written, never counted as a change or as drift; `reason` says why.
    """

    type: str
    name: str
    id: int
    reason: str


@dataclass(frozen=True)
class IdentityProbe:
    """Saved plans: a planned create's identity, which must still be absent when `apply --plan` runs.

    List `path` with `params`; a live row matching every key of `match` (keys in `casefold`
    case-insensitively) is an object with the identity `change` (a change key) creates: the plan is stale.
    """

    change: str
    path: str
    params: Mapping[str, Any]
    match: Mapping[str, Any]
    casefold: tuple[str, ...] = ()


#: Values of `Plan.fingerprint_scope` (see reconciler/staleness.py).
FINGERPRINT_SCOPES = ("all", "decisions")


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    unmanaged: tuple[Unmanaged, ...] = ()
    #: Everything a reviewer should know that is not a change, in planning order.
    warnings: tuple[str, ...] = ()
    #: The warnings (a subset of `warnings`) that say part of the manifest cannot be reached (a protected
    #: object the manifest would deactivate, an email that cannot become primary, an inactive field): the
    #: live organisation does not match the manifests even when no change is planned. They are drift.
    unreachable: tuple[str, ...] = ()
    #: Live rows Greenhouse manages for managed objects (automated grants): shown, never changed.
    greenhouse_managed: tuple[GreenhouseManaged, ...] = ()
    #: Objects compared and found equal, per type.
    unchanged: Mapping[str, int] = field(default_factory=dict)
    #: Live objects per type (the base of max_change_percent).
    live_counts: Mapping[str, int] = field(default_factory=dict)
    max_deletes: int = DEFAULT_MAX_DELETES
    max_change_percent: float = DEFAULT_MAX_CHANGE_PERCENT
    api_url: str = ""
    manifest_digest: str = ""
    only: tuple[str, ...] = ()
    #: collection -> {id: fingerprint} of every live object read; lets a saved plan detect staleness.
    fingerprints: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: collection -> [(list path, params), ...]: the reads that produced `fingerprints`, replayed by apply --plan.
    reads: Mapping[str, tuple[tuple[str, Mapping[str, Any]], ...]] = field(default_factory=dict)
    #: The bulk requests apply sends, decided at plan time (see the module docstring).
    bulk_requests: tuple[BulkRequest, ...] = ()
    #: Which objects `fingerprints` covers: "all" live objects read (plans saved by earlier versions: any
    #: object appearing makes the plan stale) or the objects the plan's "decisions" depend on.
    fingerprint_scope: str = "all"
    #: Saved plans: each create's identity, which must still be absent at apply time.
    identity_probes: tuple[IdentityProbe, ...] = ()

    def __post_init__(self) -> None:
        _check_bulk_requests(self.changes, self.bulk_requests)

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

    @property
    def drifted(self) -> bool:
        """Whether the live organisation differs from the manifests: changes are pending, or a warning says
        part of the manifest cannot be reached (`unreachable`). What `plan --detailed-exitcode` reports as 2."""
        return bool(self.changes or self.unreachable)

    def destructive(self) -> list[Change]:
        return [c for c in self.changes if c.destructive]

    def removals(self) -> list[Change]:
        return [c for c in self.changes if c.removal]

    def request_count(self) -> int:
        """HTTP write requests apply sends when nothing fails: one per bulk request, one per other write."""
        in_bulk = sum(len(b.changes) for b in self.bulk_requests)
        return sum(len(c.writes) for c in self.changes) - in_bulk + len(self.bulk_requests)

    # -- JSON ----------------------------------------------------------------------------------
    def to_json(self, *, include_fingerprints: bool = False) -> dict[str, Any]:
        bulk_of = {key: i for i, b in enumerate(self.bulk_requests) for key in b.changes}
        out: dict[str, Any] = {
            "format_version": PLAN_FORMAT_VERSION,
            "summary": self.summary(),
            "changes": [_change_to_json(c, bulk_of.get(c.key)) for c in self.changes],
            "bulk_requests": [
                {"endpoint": b.endpoint, "rows": len(b.changes), "changes": list(b.changes)} for b in self.bulk_requests
            ],
            "unmanaged": [{"type": u.type, "name": u.name, "id": u.id, "protected": u.protected}
                          for u in self.unmanaged],
            "greenhouse_managed": [
                {"type": g.type, "name": g.name, "id": g.id, "reason": g.reason} for g in self.greenhouse_managed
            ],
            "warnings": list(self.warnings),
            "unreachable": list(self.unreachable),
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
            out["fingerprint_scope"] = self.fingerprint_scope
            out["identity_probes"] = [_probe_to_json(p) for p in self.identity_probes]
        return out

    def dumps(self, *, include_fingerprints: bool = False) -> str:
        """Deterministic JSON text: the same plan always gives the same bytes."""
        return json.dumps(self.to_json(include_fingerprints=include_fingerprints), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        """Rebuild a plan saved by `dumps`. Raises ValueError on anything that is not a format-1 plan."""
        if not isinstance(data, Mapping) or data.get("format_version") != PLAN_FORMAT_VERSION:
            raise ValueError(f"not a format_version {PLAN_FORMAT_VERSION} plan")
        try:
            limits = data.get("limits", {})
            return cls(
                changes=tuple(_change_from_json(c) for c in data["changes"]),
                unmanaged=tuple(Unmanaged(u["type"], u["name"], u["id"], bool(u.get("protected", False)))
                                for u in data.get("unmanaged", [])),
                warnings=tuple(data.get("warnings", [])),
                unreachable=tuple(data.get("unreachable", [])),
                greenhouse_managed=tuple(
                    GreenhouseManaged(g["type"], g["name"], g["id"], g["reason"])
                    for g in data.get("greenhouse_managed", [])
                ),
                unchanged=dict(data.get("unchanged", {})),
                live_counts=dict(data.get("live_counts", {})),
                max_deletes=int(limits.get("max_deletes", DEFAULT_MAX_DELETES)),
                max_change_percent=float(limits.get("max_change_percent", DEFAULT_MAX_CHANGE_PERCENT)),
                api_url=str(data.get("api_url", "")),
                manifest_digest=str(data.get("manifest_digest", "")),
                only=tuple(data.get("only", [])),
                fingerprints={k: dict(v) for k, v in data.get("fingerprints", {}).items()},
                reads={k: tuple((str(p), dict(q)) for p, q in v) for k, v in data.get("reads", {}).items()},
                bulk_requests=tuple(
                    BulkRequest(str(b["endpoint"]), tuple(str(k) for k in b["changes"]))
                    for b in data.get("bulk_requests", [])
                ),
                fingerprint_scope=_scope_from_json(data.get("fingerprint_scope", "all")),
                identity_probes=tuple(_probe_from_json(p) for p in data.get("identity_probes", [])),
            )
        except KeyError as e:
            raise ValueError(f"malformed plan: a change or write lacks the key {e}") from e
        except (TypeError, AttributeError) as e:
            raise ValueError(f"malformed plan: {e}") from e


def _check_bulk_requests(changes: tuple[Change, ...], bulks: tuple[BulkRequest, ...]) -> None:
    """Raise ValueError unless every bulk request names consecutive, bulk-able changes of its endpoint."""
    if not bulks:
        return
    position = {c.key: i for i, c in enumerate(changes)}
    used: set[str] = set()
    for b in bulks:
        if not b.changes:
            raise ValueError(f"malformed plan: bulk request {b.endpoint} has no changes")
        for offset, key in enumerate(b.changes):
            if key not in position or key in used:
                raise ValueError(f"malformed plan: bulk request {b.endpoint} names unknown or repeated change {key!r}")
            used.add(key)
            change = changes[position[key]]
            if len(change.writes) != 1 or change.writes[0].bulk != b.endpoint:
                raise ValueError(f"malformed plan: change {key!r} cannot be a row of {b.endpoint}")
            if position[key] != position[b.changes[0]] + offset:
                raise ValueError(f"malformed plan: the changes of bulk request {b.endpoint} are not consecutive")


def _scope_from_json(scope: Any) -> str:
    if scope not in FINGERPRINT_SCOPES:
        raise ValueError(f"unknown fingerprint_scope {scope!r}")
    return str(scope)


def _probe_to_json(p: IdentityProbe) -> dict[str, Any]:
    out: dict[str, Any] = {"change": p.change, "path": p.path, "params": dict(p.params), "match": dict(p.match)}
    if p.casefold:
        out["casefold"] = list(p.casefold)
    return out


def _probe_from_json(d: Mapping[str, Any]) -> IdentityProbe:
    return IdentityProbe(str(d["change"]), str(d["path"]), dict(d.get("params", {})), dict(d["match"]),
                         tuple(str(k) for k in d.get("casefold", ())))


def _change_to_json(c: Change, bulk_request: int | None = None) -> dict[str, Any]:
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
        "fallback": c.fallback,
        "bulk_request": bulk_request,
        "counts_as": c.counts_as,
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
        if w.settle.casefold:
            out["settle"]["casefold"] = list(w.settle.casefold)
    if w.bulk is not None:
        out["bulk"] = w.bulk
        out["bulk_item"] = w.bulk_item
    return out


def _change_from_json(d: Mapping[str, Any]) -> Change:
    # Imported here, not at the top: the resource families import this module.
    from reconciler.resources.registry import REGISTRY

    if d.get("action") not in ACTIONS or d.get("type") not in REGISTRY.views.resource_types:
        raise ValueError(f"unknown action/type {d.get('action')!r}/{d.get('type')!r}")
    if d.get("fallback") is not None and d.get("fallback") not in FALLBACKS:
        raise ValueError(f"unknown fallback {d.get('fallback')!r}")
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
        fallback=d.get("fallback"),
        counts_as=None if d.get("counts_as") is None else str(d["counts_as"]),
    )


def _write_from_json(d: Mapping[str, Any]) -> Write:
    s = d.get("settle")
    return Write(
        method=d["method"],
        path=d["path"],
        body=d.get("body"),
        settle=Settle(s["path"], s.get("params", {}), s["match"], s.get("committed_if", "present"),
                      tuple(s.get("casefold", ()))) if s else None,
        bulk=d.get("bulk"),
        bulk_item=d.get("bulk_item"),
    )
