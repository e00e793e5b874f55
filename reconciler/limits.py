"""The safety limits' defaults: the one place they are written (manifest policy, plan, docs use them)."""

from __future__ import annotations

#: Most deletes, archives, deactivations and revokes one apply may do when no manifest says otherwise.
DEFAULT_MAX_DELETES = 10
#: Most changes, as a percentage of a type's live objects, when no manifest says otherwise.
DEFAULT_MAX_CHANGE_PERCENT = 30.0
#: max_change_percent applies only to types with at least this many live objects.
MIN_OBJECTS_FOR_PERCENT = 10
