"""Is a saved plan still true? Replay the plan's reads and compare every object's fingerprint."""

from __future__ import annotations

from reconciler.live import Reader, read_live
from reconciler.live.reads import label as row_label
from reconciler.plan import Plan


def stale_objects(plan: Plan, reader: Reader) -> list[str]:
    """Describe every live object that changed, appeared or vanished since the plan was made (empty = fresh)."""
    live = read_live(reader, plan.reads)
    now = live.fingerprints()
    out: list[str] = []
    for collection in sorted(plan.fingerprints):
        before = plan.fingerprints[collection]
        after = now.get(collection, {})
        rows = live.get(collection)
        for key in sorted(set(before) | set(after), key=int):
            if before.get(key) == after.get(key):
                continue
            row = rows.get(int(key), {})
            label = row_label(collection, row)
            what = "appeared" if key not in before else "vanished" if key not in after else "changed"
            out.append(f"{collection} id {key}{f' ({label})' if label else ''} {what}")
    return out
