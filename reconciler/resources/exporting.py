"""The state one export run shares between families: the live organisation, notes, and reference strings.

Everything export writes must name exactly one live object, both when `validate` reads the files and when
`plan` matches them, or the export would not plan to zero. So names are chosen per object:

* A tree object (department, office) is *identified* by its external_id when no other live object of the
  tree has that external_id; else by its name when the name is unique in the tree; else by `id:`, its
  Harvest id (the identity of last resort; `docs/manifest.md`). An external_id two objects share is left
  out (absent = unmanaged), so the file still validates.
* A *reference* to a tree object is a string only when exactly one live object of the tree has it as its
  name or its external_id (references resolve against both): the external_id when so, else the name when
  so, else the Harvest id as an integer (`parent: 4012`).
* A user is written by primary email. Greenhouse compares emails case-insensitively (and validation in
  Unicode NFC), so users whose primary emails differ only so cannot be told apart by any manifest: they
  are left out (unmanaged).
  An office contact whose email is also another user's address is left out likewise.
* A job by requisition_id when unique, else by name when unique, else by id.
* A single-line value the manifest rules refuse (`reconciler.manifest.names`: a leading or trailing
  space, a control or invisible character) is never written: an object whose name is such is left out
  (unmanaged; references to it use its id), an external_id or other value is left out of its item. In a
  family without `id:` (custom fields, candidate tags), objects whose names display alike (NFC) are left
  out too (`named_rows`).

Whatever export decides this way is said once, as a note for the user (one note per group of objects).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from reconciler.manifest.checks import composed
from reconciler.manifest.definitions import EMAIL_PATTERN
from reconciler.manifest.names import name_problem

if TYPE_CHECKING:
    from reconciler.live import LiveOrg

#: The tree collections and the noun a note uses for their objects.
_TREES = {"departments": "department", "offices": "office"}


@dataclass(frozen=True)
class TreeNames:
    """How the live objects of one tree can be named: counts of names, external ids and of both together."""

    rows: Mapping[int, Mapping[str, Any]]
    #: Per name as a person reads it (Unicode NFC: "Cafe\u0301" is "Café"), how many objects have it.
    names: Counter[str]
    external_ids: Counter[str]
    #: Per string, how many live objects have it as their name or their external_id (or both).
    keys: Counter[str]

    @classmethod
    def of(cls, rows: Mapping[int, Mapping[str, Any]]) -> TreeNames:
        names: Counter[str] = Counter()
        external_ids: Counter[str] = Counter()
        keys: Counter[str] = Counter()
        for row in rows.values():
            name, ext = str(row.get("name")), _ext(row)
            names[composed(name)] += 1
            if ext is not None:
                external_ids[ext] += 1
            keys.update({name, *([ext] if ext is not None else [])})
        return cls(rows, names, external_ids, keys)

    def keeps_external_id(self, row: Mapping[str, Any]) -> bool:
        """Whether the object's external_id is written (it has one, writable, and no other object has it)."""
        ext = _ext(row)
        return ext is not None and self.external_ids[ext] == 1 and writable(ext)

    def needs_id(self, row: Mapping[str, Any]) -> bool:
        """Whether only `id:` identifies the object: no usable external_id, and its name is shared."""
        return not self.keeps_external_id(row) and self.names[composed(str(row.get("name")))] > 1

    def reference(self, row: Mapping[str, Any]) -> str | int:
        """The object's reference: a string exactly one object of the tree has, else its Harvest id."""
        ext = _ext(row)
        if ext is not None and self.keys[ext] == 1 and writable(ext):
            return ext
        name = str(row.get("name"))
        if self.keys[name] == 1 and writable(name):
            return name
        return int(row["id"])


def writable(value: Any) -> bool:
    """Whether a single-line value can be written as it is: not blank, and nothing the name rules refuse."""
    return not isinstance(value, str) or (value.strip() != "" and name_problem(value) is None)


def _email_key(email: Any) -> str:
    """An email as one identity: case-folded (which lower-cases too) and in Unicode NFC."""
    return str(composed(str(email).casefold()))


def _ext(row: Mapping[str, Any]) -> str | None:
    value = row.get("external_id")
    return str(value) if value else None


@dataclass
class Exporting:
    live: LiveOrg
    notes: list[str] = field(default_factory=list)
    _noted: set[Any] = field(default_factory=set)

    def note(self, text: str, key: Any = None) -> None:
        """Record a note once: per `key` when given (one note per group of objects), else per text."""
        key = text if key is None else key
        if key not in self._noted:
            self._noted.add(key)
            self.notes.append(text)

    def writable_name(self, noun: str, row: Mapping[str, Any], key: str = "name") -> bool:
        """Whether an object's name (`row[key]`) can be written; when not, notes that it is left out."""
        value = row.get(key)
        if writable(value) and value is not None:
            return True
        why = name_problem(value) if isinstance(value, str) and value.strip() else "is blank"
        self.note(f"{noun} {json.dumps(value, ensure_ascii=True)} (id {row.get('id')}) is left out (unmanaged): its "
                  f"{key} {why} in Greenhouse, and manifests refuse such a {key}", ("left out", noun, row.get("id")))
        return False

    def value(self, noun: str, row: Mapping[str, Any], key: str, value: Any) -> bool:
        """Whether a value of an object can be written; when not, notes that the key is left out (unmanaged)."""
        if writable(value):
            return True
        why = name_problem(value) if isinstance(value, str) and value.strip() else "is blank"
        self.note(f"the {key} of {noun} {json.dumps(str(row.get('name') or row.get('primary_email')), ensure_ascii=True)} "
                  f"(id {row.get('id')}) {why}: it is left out (unmanaged)", ("value", noun, row.get("id"), key))
        return False

    # -- trees -------------------------------------------------------------------------------------
    @cached_property
    def _trees(self) -> dict[str, TreeNames]:
        return {c: TreeNames.of(self.live.get(c)) for c in _TREES}

    def tree(self, collection: str) -> TreeNames:
        return self._trees[collection]

    def tree_identity(self, collection: str, row: Mapping[str, Any]) -> tuple[bool, bool]:
        """(write its external_id, write its `id:`) for a tree object's own item; notes why, once per group."""
        names = self._trees[collection]
        noun = _TREES[collection]
        ext = _ext(row)
        if ext is not None and names.external_ids[ext] == 1:
            self.value(noun, row, "external_id", ext)  # notes it when it cannot be written
        elif ext is not None:
            ids = self._ids(collection, lambda r: _ext(r) == ext)
            self.note(f'{noun}s with ids {ids} share the external_id "{ext}": it is left out of the export '
                      "(unmanaged); give each a distinct external_id in Greenhouse", ("external_id", collection, ext))
        needs_id = names.needs_id(row)
        if needs_id:
            self._shared_name(collection, row)
        return names.keeps_external_id(row), needs_id

    def _shared_name(self, collection: str, row: Mapping[str, Any]) -> None:
        """The note about objects only `id:` identifies (once per name, whichever family meets them first)."""
        names = self._trees[collection]
        name = composed(str(row.get("name")))
        ids = self._ids(collection, lambda r: composed(str(r.get("name"))) == name and not names.keeps_external_id(r))
        self.note(f'{_TREES[collection]}s with ids {ids} are named "{name}" and have no external_id of their own: '
                  "they are exported with `id:` and referred to by that id (their Harvest ids), which ties the "
                  "manifests to this organisation; give them external_ids in Greenhouse to make them portable "
                  "(docs/manifest.md, \"The id identity\")", ("id", collection, name))

    def _ids(self, collection: str, chosen: Callable[[Mapping[str, Any]], bool]) -> str:
        rows = self._trees[collection].rows
        return ", ".join(str(i) for i in sorted(rows) if chosen(rows[i]))

    def _tree_ref(self, collection: str, obj_id: Any) -> Any:
        if obj_id is None:
            return None
        noun = _TREES[collection]
        names = self._trees[collection]
        row = names.rows.get(int(obj_id))
        if row is None:
            self.note(f"a reference to {noun} id {obj_id} was written as that id, but no readable {noun} has it: "
                      "planning these files reports it", ("missing", collection, int(obj_id)))
            return int(obj_id)
        written = names.reference(row)
        if isinstance(written, int) and names.needs_id(row):
            self._shared_name(collection, row)
        elif isinstance(written, int):
            # Not a shared name (that note says it all): a name or external_id another object also has.
            self.note(f'references to {noun} "{row.get("name")}" (id {written}) are written as its Harvest id: '
                      f"its name and external_id are each also another {noun}'s name or external_id",
                      ("reference", collection, written))
        return written

    def department(self, obj_id: Any) -> Any:
        return self._tree_ref("departments", obj_id)

    def office(self, obj_id: Any) -> Any:
        return self._tree_ref("offices", obj_id)

    def references(self, kind: str, handles: Iterable[Any]) -> list[Any]:
        """A set of references to departments or offices, names first (sorted), then ids (ascending)."""
        write = self.department if kind == "department" else self.office
        return sorted((write(h) for h in handles), key=lambda r: (isinstance(r, int), str(r) if isinstance(r, str) else r))

    def named_rows(self, noun: str, rows: Mapping[int, Mapping[str, Any]],
                   scope: Callable[[Mapping[str, Any]], Any] = lambda r: None) -> list[Mapping[str, Any]]:
        """The rows (of those export writes) whose name alone can identify them in a manifest (a family
        without `id:`): the name is writable, and no other row of the same `scope` has a name that displays
        alike (Unicode NFC; validation takes such names for duplicates). The others are left out, with a note
        per group. In id order."""
        groups: dict[tuple[Any, str], list[int]] = defaultdict(list)
        for rid, row in sorted(rows.items()):
            groups[(scope(row), composed(str(row.get("name"))))].append(rid)
        out: list[Mapping[str, Any]] = []
        for _, row in sorted(rows.items()):
            group = groups[(scope(row), composed(str(row.get("name"))))]
            if len(group) > 1:
                shown = ", ".join(f"{json.dumps(rows[i].get('name'), ensure_ascii=True)} (id {i})" for i in group)
                self.note(f"{noun}s {shown} have names that display alike (they differ only in how accents are "
                          "encoded): manifests take them for one name, so they are left out (unmanaged); retype one "
                          "in Greenhouse", ("alike", noun, tuple(group)))
            elif self.writable_name(noun, row):
                out.append(row)
        return out

    # -- users -------------------------------------------------------------------------------------
    @cached_property
    def _emails(self) -> tuple[Mapping[str, list[int]], Mapping[str, list[int]]]:
        """(user ids by primary email as validation compares them, user ids by every lower-cased address).

        Validation compares emails case-folded and in Unicode NFC (`duplicates`), planning lower-cased: two
        primary emails that are one to either are one identity here."""
        primary: dict[str, list[int]] = defaultdict(list)
        every: dict[str, list[int]] = defaultdict(list)
        for uid, row in sorted(self.live.get("users").items()):
            if row.get("primary_email"):
                primary[_email_key(row["primary_email"])].append(uid)
            for email in {str(e).lower() for e in [row.get("primary_email"), *(row.get("emails") or [])] if e}:
                every[email].append(uid)
        return primary, every

    def user_exported(self, row: Mapping[str, Any]) -> bool:
        """Whether the user can be written: an email the manifest accepts, and no other user's primary email
        differs from it only by case."""
        if not self.writable_name("user", row, "primary_email"):
            return False
        if not re.match(EMAIL_PATTERN, str(row["primary_email"])):
            self.note(f"user {json.dumps(row['primary_email'], ensure_ascii=True)} (id {row.get('id')}) is left out "
                      "(unmanaged): its primary_email is not an email address", ("left out", "user", row.get("id")))
            return False
        email = _email_key(row["primary_email"])
        owners = self._emails[0].get(email, [])
        if len(owners) < 2:
            return True
        addresses = [str(self.live.get("users")[u].get("primary_email")) for u in owners]
        shown = ", ".join(f"{a if a.isascii() else json.dumps(a, ensure_ascii=True)} (id {u})"
                          for a, u in zip(addresses, owners, strict=True))
        how = "by case" if all(a.isascii() for a in addresses) else "by case or in how accents are encoded"
        self.note(f"users {shown} have primary emails that differ only {how}; Greenhouse compares emails "
                  "case-insensitively, so no manifest entry can name one of them: they are left out (unmanaged); "
                  "merge them or change one address in Greenhouse", ("email", email))
        return False

    def user_email(self, user_id: Any) -> Any:
        """A user reference (an office's contact): the primary email, or None (left out) when it is ambiguous."""
        row = self.live.get("users").get(int(user_id)) if user_id is not None else None
        if not row or not row.get("primary_email"):
            return None
        email = str(row["primary_email"])
        if not writable(email):
            return None
        owners = self._emails[1].get(email.lower(), [])
        if len(owners) > 1:
            self.note(f"{email} is an address of users {', '.join(map(str, owners))} (emails compare "
                      "case-insensitively): a reference to it is left out (unmanaged)", ("contact", email.lower()))
            return None
        return email

    # -- jobs --------------------------------------------------------------------------------------
    @cached_property
    def _job_counts(self) -> tuple[Counter[Any], Counter[Any]]:
        jobs = self.live.get("jobs").values()
        return (Counter(j.get("requisition_id") for j in jobs if j.get("requisition_id")),
                Counter(j.get("name") for j in jobs))

    def job(self, job_id: int) -> Any:
        row = self.live.get("jobs").get(job_id)
        if row is None:
            return job_id
        by_req, by_name = self._job_counts
        requisition, name = row.get("requisition_id"), row.get("name")
        if requisition and by_req[requisition] == 1 and requisition not in by_name and writable(requisition):
            return str(requisition)
        if by_name[name] == 1 and name not in by_req and writable(name):
            return str(name)
        return job_id
