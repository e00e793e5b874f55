"""The catalog: every resource family, in section order (a section may refer only to sections before it).

Importing a family module registers its family. Adding a resource type: write its module (see
docs/architecture.md, "Adding a resource type") and add one import line here.
"""

from __future__ import annotations

from reconciler.resources import candidate_tags as candidate_tags
from reconciler.resources import custom_fields as custom_fields
from reconciler.resources import departments as departments  # noqa: I001 - registration order matters
from reconciler.resources import offices as offices
from reconciler.resources import users as users
from reconciler.resources.registry import REGISTRY

REGISTRY.seal()
