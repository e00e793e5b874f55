"""greenhouse-reconciler: Greenhouse Recruiting configuration as code (Harvest v3)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
