"""`python -m reconciler` is the same program as the `greenhouse-reconciler` console script."""

from __future__ import annotations

from reconciler.cli import main

if __name__ == "__main__":
    main()
