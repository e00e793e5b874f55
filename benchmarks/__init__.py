"""The benchmark: generated reference organisations, run through the real sandbox server and CLI.

`.venv/bin/python benchmarks/run.py` (see docs/performance.md). `orgs` generates the organisations and
manifests, `runner` drives the sandbox server and the CLI and measures, `report` holds the targets and
renders the table and the JSON.
"""
