"""The plan JSON Schema, built from a declarative description of every key `Plan.to_json` writes.

The description (the `Shape`s below) is the one list of the plan JSON's keys: `plan_json_schema()` turns it
into the JSON Schema committed as `schemas/plan.schema.json` (`greenhouse-reconciler schema --plan`), and
the tests check that `Plan.to_json` writes exactly these keys, no more and no fewer, for real plans, and
that docs/plan-json.md names each of them.

The schema follows the format's stability promise (docs/plan-json.md): within one `format_version`, keys
are only ever added, and readers ignore keys they do not know. So objects allow additional properties
(a reader validating a newer plan of the same version still accepts it), and `type` is any resource type
name rather than an enum of today's (a new resource type is an additive change).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.plan import ACTIONS, FALLBACKS, FINGERPRINT_SCOPES, PLAN_FORMAT_VERSION

DRAFT = "https://json-schema.org/draft/2020-12/schema"

#: Values of a settle probe's `committed_if` (see `reconciler.plan.Settle`).
COMMITTED_IF = ("present", "absent")

_TYPE_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
_COUNT = {"type": "integer", "minimum": 0}
_ANY: dict[str, Any] = {}


def _ref(shape: str) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{shape}"}


def _array(items: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": dict(items)}


@dataclass(frozen=True)
class Key:
    """One key of a plan JSON object: its JSON Schema (without the description) and whether every plan
    writes it. `saved_only` keys are written by `plan --out` only (`Plan.dumps(include_fingerprints=True)`)."""

    name: str
    description: str
    schema: Mapping[str, Any]
    required: bool = True
    saved_only: bool = False


@dataclass(frozen=True)
class Shape:
    """One kind of object in the plan JSON."""

    name: str
    description: str
    keys: tuple[Key, ...]

    def names(self, *, saved: bool = True) -> list[str]:
        """The key names, in order; without the saved-only ones unless `saved`."""
        return [k.name for k in self.keys if saved or not k.saved_only]

    def required(self) -> list[str]:
        return [k.name for k in self.keys if k.required]

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "description": self.description,
            "type": "object",
            "properties": {k.name: {"description": k.description, **k.schema} for k in self.keys},
        }
        if self.required():
            out["required"] = self.required()
        return out


SUMMARY = Shape("summary", "How many changes of each action, and how many objects are unchanged or unmanaged.", (
    Key("create", "Changes whose action is create.", _COUNT),
    Key("update", "Changes whose action is update.", _COUNT),
    Key("delete", "Changes whose action is delete.", _COUNT),
    Key("replace", "Changes whose action is replace (a delete and a create of the same object).", _COUNT),
    Key("unchanged", "Objects compared and found equal, all types together (the sum of `unchanged`).", _COUNT),
    Key("unmanaged", "Live objects that no manifest names (the length of `unmanaged`).", _COUNT),
))

FIELD_CHANGE = Shape("field_change", "One managed field: its live value and the value the change gives it.", (
    Key("before", "The live value; null for a create (or when the field is unset live).", _ANY),
    Key("after", "The desired value; null for a delete (or when the field is to be cleared).", _ANY),
))

SETTLE = Shape(
    "settle",
    "How to decide, by re-reading, whether the write took effect when its answer was lost: list `path` with "
    "`params`; the write was committed if a row matching every key of `match` is present (or, with "
    "`committed_if: absent`, if none is).",
    (
        Key("path", "The list endpoint to re-read (a path under /v3/).", {"type": "string"}),
        Key("params", "Query parameters of the re-read; may contain {\"$ref\": key} values.", {"type": "object"}),
        Key("match", "Key/value pairs a row must all have to match; may contain {\"$ref\": key} values.",
            {"type": "object"}),
        Key("committed_if", "present: committed when a matching row exists; absent: when none does.",
            {"enum": list(COMMITTED_IF)}),
        Key("casefold", "Keys of `match` compared case-insensitively (emails). Absent when none is.",
            {"type": "array", "items": {"type": "string"}}, required=False),
    ),
)

WRITE = Shape("write", "One HTTP write request, exactly as apply sends it (after $ref substitution).", (
    Key("method", "The HTTP method: POST, PATCH or DELETE.", {"type": "string", "pattern": "^[A-Z]+$"}),
    Key("path", "The request path under the API URL (under /v3/); may contain {$ref:<change key>} "
        "segments, replaced by the id an earlier change of the same apply created.",
        {"type": "string", "pattern": "^/"}),
    Key("body", "The JSON request body (null for none); may contain {\"$ref\": key} values.", _ANY),
    Key("settle", "The settle probe: how to tell by re-reading whether a write whose answer was lost was "
        "committed. Absent when the write has none.", _ref("settle"), required=False),
    Key("bulk", "The bulk endpoint this write may be batched into (a method and a path ending in /bulk); "
        "present only on bulk-able writes, together with `bulk_item`.", {"type": "string"}, required=False),
    Key("bulk_item", "The row this write becomes in a bulk request's `data` (e.g. the id, for id-only bulk "
        "endpoints); null: the body. Present exactly when `bulk` is.", _ANY, required=False),
))

CHANGE = Shape("change", "One planned change of one object, with the writes that carry it out.", (
    Key("action", "What happens to the object.", {"enum": list(ACTIONS)}),
    Key("type", "The resource type, e.g. department, candidate_tag, user_job_permission (see README.md).",
        _TYPE_NAME),
    Key("name", "The object's name for humans, e.g. \"jane@acme.example on REQ-1004\".", {"type": "string"}),
    Key("key", "Unique in the plan, e.g. \"department:ENG-DX\"; later writes refer to the id this change "
        "creates with {\"$ref\": key}.", {"type": "string", "minLength": 1}),
    Key("id", "The live object's id; null for a create.", {"type": ["integer", "null"]}),
    Key("destructive", "True when the change loses data no later apply restores; apply needs "
        "--allow-destructive.", {"type": "boolean"}),
    Key("removal", "True for deletes, archives, deactivations and revokes: what policy.limits.max_deletes "
        "counts.", {"type": "boolean"}),
    Key("fields", "The managed fields that change, by field name.",
        {"type": "object", "additionalProperties": _ref("field_change")}),
    Key("reasons", "Why the change is planned and what it implies, for humans only.", _array({"type": "string"})),
    Key("writes", "The HTTP writes, in the order apply sends them.", _array(_ref("write"))),
    Key("fallback", "How apply may recover when the first write is refused: delete_first (send writes[1] "
        "then writes[0] when the API says the row already exists), or null for none.",
        {"enum": [*FALLBACKS, None]}),
    Key("bulk_request", "The index in `bulk_requests` of the bulk request that carries this change, or null "
        "when its writes are sent one by one.", {"type": ["integer", "null"], "minimum": 0}),
    Key("counts_as", "Changes with the same counts_as string count as one change for "
        "policy.limits.max_change_percent (the renumbering of one field's options is one reorder of the field); "
        "null: the change counts on its own. Absent from plans written before it was added (read as null).",
        {"type": ["string", "null"]}, required=False),
))

BULK_REQUEST = Shape("bulk_request", "One bulk request apply sends: one row per change it carries.", (
    Key("endpoint", "The bulk endpoint: a method and a path ending in /bulk.", {"type": "string"}),
    Key("rows", "How many rows (the length of `changes`).", {"type": "integer", "minimum": 1}),
    Key("changes", "The keys of the consecutive changes it carries, in plan order.",
        {"type": "array", "items": {"type": "string"}, "minItems": 1}),
))

UNMANAGED = Shape("unmanaged", "A live object that no manifest names (prune: report), or a protected one.", (
    Key("type", "Its resource type.", _TYPE_NAME),
    Key("name", "Its name for humans.", {"type": "string"}),
    Key("id", "Its live id.", {"type": "integer"}),
    Key("protected", "True when policy.protect keeps it from a delete the plan would otherwise make (prune: "
        "enforce, or a tag rename); false when it is listed under prune: report. Absent from plans written "
        "before it was added (read as false).", {"type": "boolean"}, required=False),
))

GREENHOUSE_MANAGED = Shape(
    "greenhouse_managed",
    "A live row of a managed object that Greenhouse maintains itself (an automated job grant): shown, never "
    "written, never counted as a change or as drift.",
    (
        Key("type", "Its resource type.", _TYPE_NAME),
        Key("name", "Its name for humans.", {"type": "string"}),
        Key("id", "Its live id.", {"type": "integer"}),
        Key("reason", "Why Greenhouse manages it, for humans.", {"type": "string"}),
    ),
)

IDENTITY_PROBE = Shape(
    "identity_probe",
    "Saved plans only: a planned create's identity, which must still be absent when apply --plan runs: list "
    "`path` with `params`; a row matching every key of `match` is an object with that identity, and the plan "
    "is refused naming it.",
    (
        Key("change", "The key of the create change (\"candidate_tag:Sourced\").", {"type": "string"}),
        Key("path", "The list endpoint to read (a path under /v3/).", {"type": "string"}),
        Key("params", "Query parameters of the read.", {"type": "object"}),
        Key("match", "Key/value pairs a row must all have to match (never $refs).", {"type": "object"}),
        Key("casefold", "Keys of `match` compared case-insensitively (emails). Absent when none is.",
            {"type": "array", "items": {"type": "string"}}, required=False),
    ),
)

LIMITS = Shape("limits", "The manifest's policy.limits the plan was checked against (apply refuses beyond them "
               "without --force).", (
    Key("max_deletes", "The most removals (deletes, archives, deactivations, revokes) of all types together.",
        _COUNT),
    Key("max_change_percent", "The most changes to existing objects, as a percentage of a type's live objects "
        "(types with at least 10).", {"type": "number", "minimum": 0, "maximum": 100}),
))

_PER_TYPE = {"type": "object", "propertyNames": _TYPE_NAME, "additionalProperties": _COUNT}

PLAN = Shape(
    "plan",
    "A greenhouse-reconciler plan: every write an apply makes, in order (`plan --format json`; with "
    "`fingerprints` and `reads` when saved by `plan --out`). See docs/plan-json.md.",
    (
        Key("format_version", "The plan JSON format version; readers refuse a version they do not know.",
            {"const": PLAN_FORMAT_VERSION}),
        Key("summary", "Counts of changes by action, and of unchanged and unmanaged objects.", _ref("summary")),
        Key("changes", "Every change, in execution order.", _array(_ref("change"))),
        Key("bulk_requests", "The bulk requests apply sends, decided at plan time.", _array(_ref("bulk_request"))),
        Key("unmanaged", "Live objects no manifest names.", _array(_ref("unmanaged"))),
        Key("greenhouse_managed", "Live rows Greenhouse maintains itself (automated grants): not changes.",
            _array(_ref("greenhouse_managed"))),
        Key("warnings", "Things a reviewer should know that are not changes, for humans.",
            _array({"type": "string"})),
        Key("unreachable", "The warnings (a subset of `warnings`, the same strings) that say part of the manifest "
            "cannot be reached: drift even when no change is planned (plan --detailed-exitcode exits 2). Absent "
            "from plans written before it was added (read as none).", _array({"type": "string"}), required=False),
        Key("unchanged", "Objects compared and found equal, per resource type.", _PER_TYPE),
        Key("live_counts", "Live objects read, per resource type (the base of max_change_percent).", _PER_TYPE),
        Key("limits", "The policy limits the plan was checked against.", _ref("limits")),
        Key("api_url", "The Harvest API base URL the plan was made against; apply --plan refuses another. "
            "Never a credential.", {"type": "string"}),
        Key("manifest_digest", "SHA-256 (hex) of the manifest files the plan was made from; the Markdown plan "
            "repeats it so reviewed plans can be matched.", {"type": "string"}),
        Key("only", "The resource types planned (--only); empty: all.", _array(_TYPE_NAME)),
        Key("fingerprints", "Saved plans only: collection -> live id (as a string) -> a digest of that object "
            "as read; apply --plan re-reads and refuses the plan if any differs or vanished (with "
            "`fingerprint_scope` all, also if any object appeared).",
            {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}}},
            required=False, saved_only=True),
        Key("reads", "Saved plans only: collection -> the list reads that produced `fingerprints`, each "
            "[path, params]; apply --plan replays them.",
            {"type": "object", "additionalProperties": _array({
                "type": "array", "prefixItems": [{"type": "string"}, {"type": "object"}], "items": False,
                "minItems": 2})},
            required=False, saved_only=True),
        Key("fingerprint_scope", "Saved plans only: which objects `fingerprints` covers. decisions: the objects "
            "the changes write, every live object whose id appears as a number in their writes, and the acting "
            "user; all: every live object read (plans saved by earlier versions; read as all when absent).",
            {"enum": list(FINGERPRINT_SCOPES)}, required=False, saved_only=True),
        Key("identity_probes", "Saved plans only: each create's identity, which must still be absent at apply "
            "time (absent: none recorded).", _array(_ref("identity_probe")), required=False, saved_only=True),
    ),
)

#: Every shape, in the order the schema's $defs list them (the plan itself is the schema's root).
SHAPES = (PLAN, SUMMARY, CHANGE, FIELD_CHANGE, WRITE, SETTLE, BULK_REQUEST, UNMANAGED, GREENHOUSE_MANAGED, LIMITS,
          IDENTITY_PROBE)


def plan_json_schema() -> dict[str, Any]:
    """The plan JSON Schema (draft 2020-12), freshly built from the shapes above."""
    return {
        "$schema": DRAFT,
        "title": "greenhouse-reconciler plan",
        **PLAN.schema(),
        "$defs": {s.name: s.schema() for s in SHAPES if s is not PLAN},
    }
