"""Live organisation -> manifests that `validate` accepts and `plan` reports as zero changes.

Pure: `export_documents(live, sections)` returns {file name: YAML text}; the CLI reads and writes. One
file per section, named and filled by the section's resource family (`reconciler/resources/`): this
module only loops, adds the header and writes the YAML. Anything that cannot be expressed so that
planning it is a no-op is returned as a note for the user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml

from reconciler.live import LiveOrg, for_export
from reconciler.manifest.sections import MANIFEST_VERSION
from reconciler.resources.exporting import Exporting
from reconciler.resources.registry import REGISTRY


@dataclass
class Export:
    documents: dict[str, str] = field(default_factory=dict)
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
        header = (f"# {section}: exported by greenhouse-reconciler export"
                  + (f" from {api_url}" if api_url else "") + ".\n"
                  "# Edit, review in a pull request, and apply; see docs/manifest.md for the format.\n")
        body = yaml.safe_dump({"version": MANIFEST_VERSION, section: items}, sort_keys=False, allow_unicode=True,
                              width=110)
        out.documents[family.export_file] = header + body
    return out
