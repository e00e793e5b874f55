"""greenhouse-reconciler: Greenhouse Recruiting configuration as code (Harvest v3).

The version has one home, pyproject.toml; it is read here from the installed package's metadata. A source
tree that is not installed (no metadata) reports `0+unknown` instead of a number that could be wrong.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "greenhouse-reconciler"
UNKNOWN_VERSION = "0+unknown"

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # running from a checkout that was never installed (pip install -e .)
    __version__ = UNKNOWN_VERSION

__all__ = ["DISTRIBUTION", "UNKNOWN_VERSION", "__version__"]
