"""The catalog: every resource family, in section order (a section may refer only to sections before it).

Importing a family module registers its family; `REGISTRY.seal(ORDER)` then fixes the order of the
sections (the schema, the renderings and the reads follow it), whatever order the imports ran in.
Adding a resource type: write its module (see docs/architecture.md, "Adding a resource type") and
add its section name here.
"""

from __future__ import annotations

import importlib

from reconciler.resources.registry import REGISTRY

#: The sections, in dependency order; each names its module under reconciler/resources/.
ORDER: tuple[str, ...] = ("departments", "offices", "custom_fields", "candidate_tags", "users")

for _section in ORDER:
    importlib.import_module(f"reconciler.resources.{_section}")

REGISTRY.seal(ORDER)
