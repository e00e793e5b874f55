"""What a resource family declares: the one place a managed type's knowledge lives.

A *family* is one manifest section and the resource types it produces (custom fields produce fields,
options and two kinds of scoping rows). Everything the shared machinery needs to know about it is a
field of `Family`: the manifest definition (the JSON Schema fragment), the live collections and how to
read them, the named ordering phases its changes run in, each type's capabilities, its identity, the
export file, and its check, plan and export functions. The shared machinery (manifest loader, planner,
reader, export, renderers) loops over the registry and never names a type.

Values are frozen dataclasses; the functions are plain callables so a family module is free to keep its
logic in private helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.errors import Problem
    from reconciler.live import LiveOrg, Reader
    from reconciler.manifest.checking import Checking
    from reconciler.manifest.definitions import ObjectDef
    from reconciler.manifest.model import Entry
    from reconciler.planner.context import Context
    from reconciler.resources.exporting import Exporting

#: What a resource type's objects allow through the API.
CAPABILITIES: frozenset[str] = frozenset({"create", "update", "delete", "bulk", "read_only"})


@dataclass(frozen=True)
class Phase:
    """A named step of the apply order. Changes run phase by phase, then in the order they were planned.

    `after` names the phases (of any family) that must run first; `final` phases run after every other
    phase (deletes that destroy data wait until everything else has succeeded). `independent`: no change
    of the phase depends on another one's order (e.g. users, one change per user), so the apply order
    groups its changes by bulk endpoint (stably), and bulk rows form long runs instead of alternating.
    """

    name: str
    after: tuple[str, ...] = ()
    final: bool = False
    independent: bool = False


@dataclass(frozen=True)
class ResourceType:
    """One type of planned change ("department", "custom_field_option").

    `collection` is the live collection its objects are read from: the base of `max_change_percent`.
    """

    name: str
    collection: str
    capabilities: frozenset[str] = frozenset({"create", "update"})
    #: Changes of this type belong to another object and are named "<owner><separator><what>" (a user's
    #: grants: "ann@acme.example on REQ-1001"); renderings then show one row per owner.
    owner_separator: str | None = None

    def __post_init__(self) -> None:
        unknown = self.capabilities - CAPABILITIES
        if unknown:
            raise ValueError(f"resource type {self.name}: unknown capabilities {sorted(unknown)}")


#: The kinds of value a live row's field may be declared to hold (`RowField.kind`).
ROW_KINDS: frozenset[str] = frozenset({"integer", "string", "boolean", "integers", "strings", "any"})


@dataclass(frozen=True)
class RowField:
    """One field of a live row that planning or export relies on, as the API names it.

    `kind`: "integer" (never a boolean), "string", "boolean", "integers" / "strings" (a JSON array of
    them), or "any" (present is enough). `nullable`: null is allowed (absent is allowed unless
    `required`). `values`: the known values of an enum (a string field); a value outside them is an
    error when `acted_on` (the planner decides something on it), else tolerated and reported at INFO.
    The rows are checked where they enter (`reconciler/live/rows.py`): an answer that does not fit
    stops the run before anything is planned or written.
    """

    key: str
    kind: str
    nullable: bool = True
    required: bool = False
    values: frozenset[str] = frozenset()
    acted_on: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ROW_KINDS:
            raise ValueError(f"row field {self.key}: unknown kind {self.kind!r} (known: {sorted(ROW_KINDS)})")
        if self.values and self.kind != "string":
            raise ValueError(f"row field {self.key}: enum values need kind 'string'")


@dataclass(frozen=True)
class Collection:
    """A live collection: one paginated list per entry of `params` (merged by id).

    `filter_param`: the collection may be read filtered by the ids a family's `read_filter` returns
    (`user_ids=...`), in a second stage after the unfiltered collections. `label` names the row fields
    that identify a row to a person (staleness messages), first non-empty wins.

    What a row must hold (checked where rows enter, `reconciler/live/rows.py`) is derived, so a family
    declares as little as possible: every row has an integer `id`; the `label` fields are strings or
    null; `shape` (the canonical `Shape` whose `from_api` reads these rows) adds its attributes by their
    API keys (a reference: an integer or null; a set of references: a list of integers; a negated flag:
    a boolean; a `name`: a string, required), and `definition` (the manifest `ObjectDef` of those
    attributes) the kinds and enums of its plain ones; `fields` adds or overrides fields the shape does
    not read (foreign keys of join rows, flags the plan looks at, enums).
    """

    name: str
    path: str
    params: tuple[Mapping[str, Any], ...] = field(default_factory=lambda: ({},))
    filter_param: str | None = None
    label: tuple[str, ...] = ("name",)
    read_only: bool = False
    #: The canonical `Shape` (reconciler/resources/canonical.py) that reads these rows, if any.
    shape: Any = None
    #: The manifest `ObjectDef` of the shape's attributes (their kinds and enums), if any.
    definition: ObjectDef | None = None
    #: Fields beyond (or instead of) what `shape` and `definition` imply, by API key.
    fields: tuple[RowField, ...] = ()


#: (entries of the family's section) -> the collection names planning them needs (references included).
PlanReads = Callable[[Sequence["Entry"]], frozenset[str]]
#: (entries, live so far) -> ids for the `filter_param` of the family's filtered collections.
ReadFilter = Callable[[Sequence["Entry"], "LiveOrg"], list[int]]
#: Builds the reference index other families resolve names against, when the collections were read.
Index = Callable[["Context"], None]
#: Plans the family's section into the context.
Plan = Callable[["Context"], None]
#: Offline checks of the section's entries (with the shared checking state).
Check = Callable[[Sequence["Entry"], "Checking"], list["Problem"]]
#: (reader, live so far, GREENHOUSE_USER_ID) -> None, or raises UsageError: the token's user may plan.
ActingUserCheck = Callable[["Reader", "LiveOrg", str], None]
#: Live organisation -> the section's manifest items.
Export = Callable[["Exporting"], list[Any]]


@dataclass(frozen=True)
class Family:
    """One manifest section and everything about the resource types it produces."""

    section: str
    #: One line for the schema: what the section holds.
    help: str
    #: The section item's definition (its `$defs` entry), and nested definitions it refers to.
    definition: ObjectDef
    nested: tuple[ObjectDef, ...]
    types: tuple[ResourceType, ...]
    phases: tuple[Phase, ...]
    #: Collections this family owns (reads and describes). Others it reads are owned by their family.
    collections: tuple[Collection, ...]
    #: How `policy.protect.<section>` entries are written, e.g. "user emails".
    identity: str
    #: The export's file name for this section.
    export_file: str
    plan_reads: PlanReads
    export_reads: frozenset[str]
    plan: Plan
    check: Check
    export: Export
    #: Whether the API can delete the section's objects (if not, `prune: enforce` is an error).
    deletable: bool = True
    #: Whether identities compare case-insensitively (emails). (Protect entries match ignoring case, spaces
    #: and Unicode form for every section: reconciler/planner/context.py, `Context.protected`.)
    casefold_identity: bool = False
    #: Extra advice when `prune: enforce` is refused for an undeletable section.
    prune_hint: str = ""
    index: Index | None = None
    read_filter: ReadFilter | None = None
    #: Collections whose reads `index` needs (the index is built when all of them were read).
    index_reads: frozenset[str] = frozenset()
    #: The family that holds the organisation's users checks that the acting user may read everything.
    acting_user_check: ActingUserCheck | None = None
