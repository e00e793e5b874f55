"""Live organisation -> manifests that `validate` accepts and `plan` reports as zero changes.

Pure: `export_documents(live, sections)` returns the files to write; the CLI reads and writes. One file
per section, named and filled by the section's resource family (`reconciler/resources/`): this module
only loops, adds the header and writes the YAML. Anything that cannot be expressed so that planning it is
a no-op is returned as a note for the user, each once.

Beside the manifests, an export writes what an editor and a new repository need:

* `manifest.schema.json`, the manifest JSON Schema of this version, replaced on every export; each
  manifest's first line is the `# yaml-language-server: $schema=manifest.schema.json` modeline, a path
  relative to the manifest, so an editor validates and completes offline. `validate` reads only
  `*.yaml` / `*.yml`, so the schema file is not a manifest.
* `policy.yaml`, a starter policy (`starters`): every prune mode and limit at its default, with the
  protect lists as commented examples, so it validates and changes nothing in a plan. The CLI writes a
  starter only into a folder that has no file of that name: an edited policy is never replaced.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml

from reconciler.limits import DEFAULT_MAX_CHANGE_PERCENT, DEFAULT_MAX_DELETES, MIN_OBJECTS_FOR_PERCENT
from reconciler.live import LiveOrg, for_export
from reconciler.manifest.schema import json_schema
from reconciler.manifest.sections import MANIFEST_VERSION
from reconciler.resources.exporting import Exporting
from reconciler.resources.registry import REGISTRY

#: The schema file written beside the manifests; the manifests' modeline points to it.
SCHEMA_FILE = "manifest.schema.json"
#: The starter policy's file name.
POLICY_FILE = "policy.yaml"
#: The first line of every manifest export writes (yaml-language-server's modeline; a relative path).
MODELINE = f"# yaml-language-server: $schema={SCHEMA_FILE}\n"


@dataclass
class Export:
    #: File name -> text, written on every export (replacing a file of the same name).
    documents: dict[str, str] = field(default_factory=dict)
    #: File name -> text, written only when the target folder has no file of that name.
    starters: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def collections_for(sections: Sequence[str]) -> list[str]:
    """The live collections an export of `sections` reads (see `reconciler.live.reads`)."""
    return for_export(sections)


def export_documents(live: LiveOrg, sections: Sequence[str], *, api_url: str = "") -> Export:
    exporting = Exporting(live)
    out = Export(notes=exporting.notes)
    for section in sections:
        family = REGISTRY.family(section)
        items = family.export(exporting)
        header = (MODELINE + f"# {section}: exported by greenhouse-reconciler export"
                  + (f" from {api_url}" if api_url else "") + ".\n"
                  "# Edit, review in a pull request, and apply; see docs/manifest.md for the format.\n")
        body = yaml.safe_dump({"version": MANIFEST_VERSION, section: items}, sort_keys=False, allow_unicode=True,
                              width=110)
        out.documents[family.export_file] = header + body
    out.documents[SCHEMA_FILE] = json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"
    out.starters[POLICY_FILE] = starter_policy()
    return out


def starter_policy() -> str:
    """The starter `policy.yaml`: the defaults written out, each explained, so a team sees what it can set.

    Every value is the default (prune `report` everywhere, the default limits) and `protect` is only
    commented examples: the file validates and changes nothing in a plan.
    """
    views = REGISTRY.views
    lines = [
        MODELINE.rstrip("\n"),
        "# The policy: what plan does with live objects no manifest mentions, what it never touches, and the",
        "# safety limits apply enforces. Written once by greenhouse-reconciler export as a starter (export never",
        "# replaces this file). Every value below is the default, so this file changes nothing until you edit",
        "# it; see docs/manifest.md, \"Policy\". Each value may be set in one file only.",
        f"version: {MANIFEST_VERSION}",
        "policy:",
        "  # Per section, live objects no manifest mentions: off (ignore them), report (list them as unmanaged",
        "  # in the plan; the default) or enforce (delete them, where the API can). Review a plan under report",
        "  # before choosing enforce.",
        "  prune:",
    ]
    for section in views.sections:
        why = "the API cannot delete these: enforce is refused" if section in views.undeletable_sections else (
            "enforce would delete the unmanaged ones")
        lines.append(f"    {section}: report  # {why}")
    lines += [
        "  # Objects never deleted, archived, deactivated or revoked, whatever the plan says. Uncomment and",
        "  # fill in (the list for a section holds what identifies its objects):",
        "  # protect:",
    ]
    lines += [f"  #   {f.section}: []  # {f.identity}" for f in REGISTRY.families]
    lines += [
        "  limits:",
        "    # Most deletes, archives, deactivations and revokes one apply may do (apply --force to exceed).",
        f"    max_deletes: {DEFAULT_MAX_DELETES}",
        "    # Most changes of one type, as a percentage of its live objects (types with at least",
        f"    # {MIN_OBJECTS_FOR_PERCENT} live objects).",
        f"    max_change_percent: {DEFAULT_MAX_CHANGE_PERCENT:g}",
    ]
    return "\n".join(lines) + "\n"
