"""The manifest format as a whole: the top-level keys and the policy block, derived from the registry.

Each section's item definition lives with its resource family (`reconciler/resources/`); this module
assembles the manifest object (`version`, one key per section, `policy`) and the policy definitions
(prune, protect, limits) from the registered families. `schema.json_schema()` turns them into
`schemas/manifest.schema.json`. Everything is computed on call (cached), never at import, because the
families import this package's vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.limits import DEFAULT_MAX_CHANGE_PERCENT, DEFAULT_MAX_DELETES, MIN_OBJECTS_FOR_PERCENT
from reconciler.manifest.definitions import NAME, ObjectDef, Prop, list_of, one_of_words, ref
from reconciler.manifest.model import PRUNE_MODES
from reconciler.resources.registry import REGISTRY

#: The manifest format version this program reads (`version:` in a manifest file).
MANIFEST_VERSION = 1


def section_defs() -> Mapping[str, ObjectDef]:
    """The definition of each section's items, in section order."""
    return {f.section: f.definition for f in REGISTRY.families}


def _prune_note(section: str) -> str:
    if section in REGISTRY.views.undeletable_sections:
        return f"The API cannot delete {section.replace('_', ' ')}: enforce is not allowed."
    return "enforce deletes them."


_CACHE: dict[int, tuple[ObjectDef, ObjectDef, ObjectDef, ObjectDef]] = {}


def policy_definitions() -> tuple[ObjectDef, ObjectDef, ObjectDef, ObjectDef]:
    """(policy, prune, protect, limits), built once per registry state."""
    REGISTRY.views  # noqa: B018 - loads the catalog first
    if REGISTRY.generation not in _CACHE:
        _CACHE.clear()
        _CACHE[REGISTRY.generation] = _policy_defs()
    return _CACHE[REGISTRY.generation]


def _policy_defs() -> tuple[ObjectDef, ObjectDef, ObjectDef, ObjectDef]:
    sections = REGISTRY.views.sections
    prune = ObjectDef(
        "prune",
        "Per section, what to do with live objects no manifest mentions: off (ignore), report (list them as "
        "unmanaged; the default) or enforce (delete them, where the API can).",
        tuple(
            Prop(s, f"Live {s.replace('_', ' ')} no manifest mentions: off | report (default) | enforce. "
                    f"{_prune_note(s)}", one_of_words(PRUNE_MODES))
            for s in sections
        ),
    )
    protect = ObjectDef(
        "protect",
        "Per section, objects that are never deleted, archived, deactivated or revoked, whatever the plan says.",
        tuple(Prop(f.section, f"Protected {f.identity}.", list_of(NAME)) for f in REGISTRY.families),
    )
    limits = ObjectDef(
        "limits",
        "Safety limits: apply refuses a plan over them unless --force.",
        (
            Prop(
                "max_deletes",
                f"Most deletes, archives, deactivations and revokes one apply may do (default "
                f"{DEFAULT_MAX_DELETES}).",
                {"type": "integer", "minimum": 0},
            ),
            Prop(
                "max_change_percent",
                f"Most changes, as a percentage of the live objects of a type with at least {MIN_OBJECTS_FOR_PERCENT} "
                f"objects (default {DEFAULT_MAX_CHANGE_PERCENT:g}).",
                {"type": "number", "minimum": 0, "maximum": 100},
            ),
        ),
    )
    policy = ObjectDef(
        "policy",
        "How the plan treats unmanaged and protected objects, and the apply safety limits. May be split across "
        "files; setting the same value in two files is an error.",
        (
            Prop("prune", prune.description, ref("prune")),
            Prop("protect", protect.description, ref("protect")),
            Prop("limits", limits.description, ref("limits")),
        ),
    )
    return policy, prune, protect, limits


def manifest_definition() -> ObjectDef:
    """The top-level manifest object: version, one list per section, policy."""
    policy = policy_definitions()[0]
    return ObjectDef(
        "manifest",
        "A greenhouse-reconciler manifest file. Every key is optional; all files under the given paths are "
        "merged, and a section may be split across files.",
        (
            Prop("version", f"The manifest format version: {MANIFEST_VERSION}.", {"const": MANIFEST_VERSION}),
            *(
                Prop(f.section, f"{f.help} A list; items from several files are concatenated.",
                     {"type": "array", "items": ref(f.definition.name)})
                for f in REGISTRY.families
            ),
            Prop("policy", policy.description, ref("policy")),
        ),
    )


def definitions() -> tuple[ObjectDef, ...]:
    """Every definition that becomes a `$defs` entry, in schema order: the families', then the policy's."""
    return (*(d for f in REGISTRY.families for d in (f.definition, *f.nested)), *policy_definitions())
