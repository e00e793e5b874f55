"""Semantic checks that need nothing but the manifests (rank 3). Checks that need the live organisation
(does "Enginering" exist? is REQ-2000 ambiguous?) run in `plan`, not here.

What is checked, and why it is safe offline:

* duplicate identities within a section (each reported at the later place, naming the first);
* `previously` names that are another object's name or claimed by two objects (the rename would be
  ambiguous), or that repeat the object's own name;
* references to a name that a manifest renames away (`previously`): after apply it no longer exists;
* department/office `parent` cycles among the manifests' own objects (a parent that no manifest
  names is fine here: it may exist live), and parents matching two manifest objects;
* custom-field keys that the field's `field_type` / `value_type` does not accept;
* duplicate grants within a user; `prune: enforce` where the API cannot delete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from reconciler.errors import Problem
from reconciler.manifest.model import UNDELETABLE_SECTIONS, Entry, Policy, Source
from reconciler.manifest.sections import CUSTOM_FIELD, SELECT_VALUE_TYPES, USER_ATTRIBUTE_KEYS
from reconciler.manifest.text import prose_list, quote

RANK_SEMANTIC = 3

#: (identity value compared, path relative to the entry, value as written)
Key = tuple[Any, str, Any]


def _place(source: Source) -> str:
    return f"{source.file}:{source.line}:{source.column}"


def check(entries: Mapping[str, Sequence[Entry]], policy: Policy) -> list[Problem]:
    """Every semantic problem of the merged manifests."""
    departments = _Tree("department", entries.get("departments", ()))
    offices = _Tree("office", entries.get("offices", ()))
    problems: list[Problem] = []
    for tree in (departments, offices):
        problems += tree.check()
    problems += _custom_fields(entries.get("custom_fields", ()), departments, offices)
    problems += _candidate_tags(entries.get("candidate_tags", ()))
    problems += _users(entries.get("users", ()), departments, offices)
    problems += _policy(policy)
    return problems


def _duplicates(
    entries: Iterable[Entry], keys: Callable[[Entry], Iterable[Key]], what: str, note: str = ""
) -> list[Problem]:
    """Identities that occur twice: reported at the second place, naming the first."""
    first: dict[Any, tuple[Entry, str, Any]] = {}
    out: list[Problem] = []
    for entry in entries:
        for key, rel, shown in keys(entry):
            if key not in first:
                first[key] = (entry, rel, shown)
                continue
            prior, prior_rel, prior_shown = first[key]
            where = _place(prior.at(prior_rel))
            same = f"first at {where}" if prior_shown == shown else f"same as {quote(prior_shown)} at {where}"
            same += f"; {note}" if note else ""
            out.append(Problem(RANK_SEMANTIC, str(entry.at(rel)), f"duplicate {what} {quote(shown)} ({same})"))
    return out


def _field(name: str) -> Callable[[Entry], Iterable[Key]]:
    def keys(entry: Entry) -> Iterable[Key]:
        value = entry.data.get(name)
        return [(value, name, value)] if value is not None else []

    return keys


def _renames(entries: Sequence[Entry], what: str, group: Callable[[Entry], Any] = lambda e: None) -> list[Problem]:
    """`previously` names must be free: not another object's name, not claimed twice, not the own name."""
    names = {(group(e), e.data["name"]): e for e in reversed(entries)}
    claimed: dict[tuple[Any, str], Entry] = {}
    out: list[Problem] = []
    for entry in entries:
        for j, old in enumerate(entry.data.get("previously", [])):
            at = str(entry.at(f"previously[{j}]"))
            owner = names.get((group(entry), old))
            other = claimed.get((group(entry), old))
            if old == entry.data["name"]:
                out.append(Problem(RANK_SEMANTIC, at, f"previously lists the {what}'s own name {quote(old)}"))
            elif owner is not None:
                out.append(
                    Problem(
                        RANK_SEMANTIC,
                        at,
                        f"previously name {quote(old)} is the name of another {what} (at {_place(owner.source)}); "
                        "the rename would be ambiguous",
                    )
                )
            elif other is not None and other is not entry:
                out.append(
                    Problem(
                        RANK_SEMANTIC,
                        at,
                        f"previously name {quote(old)} is also claimed by {what} {quote(other.data['name'])} "
                        f"(at {_place(other.source)})",
                    )
                )
            else:
                claimed[(group(entry), old)] = entry
    return out


class _Tree:
    """Departments or offices: identities, renames, and parents among the manifests' own objects."""

    def __init__(self, what: str, entries: Sequence[Entry]) -> None:
        self.what = what
        self.entries = list(entries)
        self.by_name: dict[str, Entry] = {}
        self.by_ext: dict[str, Entry] = {}
        self.old_names: dict[str, Entry] = {}
        for entry in self.entries:
            self.by_name.setdefault(entry.data["name"], entry)
            if entry.data.get("external_id") is not None:
                self.by_ext.setdefault(entry.data["external_id"], entry)
            for old in entry.data.get("previously", []):
                self.old_names.setdefault(old, entry)

    def resolve(self, ref: str) -> list[Entry]:
        """The manifest objects `ref` names (by name or external_id); several = ambiguous."""
        found = [e for e in (self.by_name.get(ref), self.by_ext.get(ref)) if e is not None]
        return [e for i, e in enumerate(found) if all(e is not f for f in found[:i])]

    def reference(self, ref: Any, at: Source, role: str) -> list[Problem]:
        """Problems with a reference to one of these objects (`role` names the referring key)."""
        if not isinstance(ref, str):
            return []
        found = self.resolve(ref)
        if len(found) > 1:
            places = prose_list(f"{quote(e.data['name'])} at {_place(e.source)}" for e in found)
            return [Problem(RANK_SEMANTIC, str(at), f"{role} {quote(ref)} matches more than one {self.what}: {places}")]
        renamed = self.old_names.get(ref)
        if not found and renamed is not None:
            return [
                Problem(
                    RANK_SEMANTIC,
                    str(at),
                    f"{role} {quote(ref)} is the previous name of {self.what} {quote(renamed.data['name'])} "
                    f"(at {_place(renamed.source)}): refer to its new name",
                )
            ]
        return []

    def check(self) -> list[Problem]:
        out = _duplicates(self.entries, _field("name"), f"{self.what} name")
        out += _duplicates(self.entries, _field("external_id"), f"{self.what} external_id")
        out += _renames(self.entries, self.what)
        parent_of: dict[int, Entry] = {}
        for entry in self.entries:
            parent = entry.data.get("parent")
            if parent is None:
                continue
            out += self.reference(parent, entry.at("parent"), "parent")
            found = self.resolve(parent)
            if len(found) == 1:
                parent_of[id(entry)] = found[0]
        return out + self._cycles(parent_of)

    def _cycles(self, parent_of: Mapping[int, Entry]) -> list[Problem]:
        out: list[Problem] = []
        done: set[int] = set()
        for start in self.entries:
            chain: list[Entry] = []
            in_chain: set[int] = set()  # ids of `chain`, so each step is O(1), not a scan of the chain
            node: Entry | None = start
            while node is not None and id(node) not in done and id(node) not in in_chain:
                chain.append(node)
                in_chain.add(id(node))
                node = parent_of.get(id(node))
            if node is not None and id(node) not in done:  # walked back into this chain: a cycle
                loop = chain[next(i for i, c in enumerate(chain) if c is node) :]
                names = " -> ".join(quote(e.data["name"]) for e in (*loop, loop[0]))
                out.append(
                    Problem(RANK_SEMANTIC, str(loop[0].at("parent")), f"{self.what} parents form a cycle: {names}")
                )
            done.update(id(c) for c in chain)
        return out


def _references(entry: Entry, key: str, tree: _Tree, role: str) -> list[Problem]:
    out: list[Problem] = []
    for j, ref in enumerate(entry.data.get(key) or []):
        out += tree.reference(ref, entry.at(f"{key}[{j}]"), role)
    return out


def _custom_fields(entries: Sequence[Entry], departments: _Tree, offices: _Tree) -> list[Problem]:
    out = _duplicates(entries, _field("key"), "custom field key")
    out += _duplicates(
        entries,
        lambda e: [((e.data["field_type"], e.data["name"]), "name", e.data["name"])],
        "custom field name",
        "names are unique within a field_type",
    )
    out += _renames(entries, "custom field", group=lambda e: e.data["field_type"])
    for entry in entries:
        out += _field_keys(entry)
        out += _references(entry, "departments", departments, "department")
        out += _references(entry, "offices", offices, "office")
        option_sources = _option_sources(entry)
        options = [
            Entry("options", o, entry.at(f"options[{j}]"), option_sources.get(j, {}))
            for j, o in enumerate(entry.data.get("options") or [])
        ]
        out += _duplicates(options, _field("name"), "option name")
        out += _duplicates(options, _field("external_id"), "option external_id")
        out += _renames(options, "option")
    return out


def _option_sources(entry: Entry) -> dict[int, dict[str, Source]]:
    """Per option index, the locations below that option, relative to it (`options[2].name` -> `name`).

    One pass over the field's sources (not one per option: that was quadratic in the options).
    """
    out: dict[int, dict[str, Source]] = {}
    for rel, source in entry.sources.items():
        if not rel.startswith("options["):
            continue
        close = rel.find("]", 8)
        if close < 0 or not rel[8:close].isdigit() or rel[close + 1 : close + 2] != ".":
            continue
        out.setdefault(int(rel[8:close]), {})[rel[close + 2 :]] = source
    return out


def _field_keys(entry: Entry) -> list[Problem]:
    """Keys the field's field_type or value_type does not accept."""
    out: list[Problem] = []
    field_type, value_type = entry.data["field_type"], entry.data["value_type"]
    for key in entry.data:
        prop = CUSTOM_FIELD.get(key)
        if prop is None or prop.field_types is None or field_type in prop.field_types:
            continue
        if field_type == "user_attribute":
            why = f"they accept only {prose_list(USER_ATTRIBUTE_KEYS)}"
        else:
            why = f"only on {prose_list(sorted(prop.field_types))} fields"
        out.append(Problem(RANK_SEMANTIC, str(entry.at(key)), f"{key} is not accepted on {field_type} fields ({why})"))
    if "options" in entry.data and value_type not in SELECT_VALUE_TYPES:
        out.append(
            Problem(
                RANK_SEMANTIC,
                str(entry.at("options")),
                f"options are only for single_select and multi_select fields (this field's value_type is {value_type})",
            )
        )
    return out


def _candidate_tags(entries: Sequence[Entry]) -> list[Problem]:
    return _duplicates(entries, _field("name"), "candidate tag") + _renames(entries, "candidate tag")


def _users(entries: Sequence[Entry], departments: _Tree, offices: _Tree) -> list[Problem]:
    out = _duplicates(
        entries,
        lambda e: [(e.data["email"].casefold(), "email", e.data["email"])],
        "user email",
        "emails are case-insensitive",
    )
    out += _duplicates(entries, _field("employee_id"), "employee_id")
    for entry in entries:
        out += _references(entry, "offices", offices, "office")
        out += _references(entry, "departments", departments, "department")
        grants = [
            Entry("job_permissions", g, entry.at(f"job_permissions[{j}]"), {"job": entry.at(f"job_permissions[{j}].job")})
            for j, g in enumerate(entry.data.get("job_permissions") or [])
        ]
        out += _duplicates(grants, lambda g: [(str(g.data["job"]), "job", g.data["job"])], "job_permissions entry for job")
        futures = entry.data.get("future_job_permissions") or []
        seen: dict[tuple[Any, Any, Any], int] = {}
        for j, grant in enumerate(futures):
            at = entry.at(f"future_job_permissions[{j}]")
            scope = (grant["role"], grant.get("department"), grant.get("office"))
            if scope in seen:
                prior = entry.at(f"future_job_permissions[{seen[scope]}]")
                out.append(
                    Problem(
                        RANK_SEMANTIC,
                        str(at),
                        f"duplicate future job permission (role {quote(scope[0])}, department {quote(scope[1])}, "
                        f"office {quote(scope[2])}; first at {_place(prior)})",
                    )
                )
            else:
                seen[scope] = j
            if "department" in grant:
                out += departments.reference(grant["department"], entry.at(f"future_job_permissions[{j}].department"), "department")
            if "office" in grant:
                out += offices.reference(grant["office"], entry.at(f"future_job_permissions[{j}].office"), "office")
    return out


def _policy(policy: Policy) -> list[Problem]:
    out: list[Problem] = []
    for section in sorted(UNDELETABLE_SECTIONS):
        if policy.prune.get(section) != "enforce":
            continue
        at = policy.sources.get(f"prune.{section}")
        extra = "; deactivate users by listing them with active: false" if section == "users" else ""
        out.append(
            Problem(
                RANK_SEMANTIC,
                str(at) if at else "",
                f"prune: enforce is not possible for {section}: the API cannot delete them (use report or off){extra}",
            )
        )
    return out
