"""One home per resource type: the registry of resource families and the families themselves.

`registry.REGISTRY` holds the families; the catalog (`catalog.py`) imports every family module, in
section order, and seals the registry. The catalog loads on the first read of a registry view, so
importing any module here (or the toolkit the families use) never drags the whole catalog into an
import cycle. Shared machinery reads the derived tables through `REGISTRY.views` and never names a type.
"""

from __future__ import annotations

from reconciler.resources.registry import REGISTRY

__all__ = ["REGISTRY"]
