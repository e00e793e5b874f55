"""The state one export run shares between families: the live organisation, notes, and reference strings.

References are written in their most stable unambiguous form: a department/office by external_id when
it has one, else by name; a user by primary email; a job by requisition_id when unique, else by name
when unique, else by id. Anything that cannot be expressed so that planning it is a no-op becomes a
note for the user.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.live import LiveOrg


@dataclass
class Exporting:
    live: LiveOrg
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    @cached_property
    def _names(self) -> dict[str, Counter[str]]:
        return {c: Counter(str(r.get("name")) for r in self.live.get(c).values()) for c in ("departments", "offices")}

    def _tree_ref(self, collection: str, noun: str, obj_id: Any) -> Any:
        rows = self.live.get(collection)
        row = rows.get(int(obj_id)) if obj_id is not None else None
        if row is None:
            return None if obj_id is None else obj_id
        if row.get("external_id"):
            return str(row["external_id"])
        name = str(row.get("name"))
        if self._names[collection][name] > 1:
            self.note(f'{noun} "{name}" (id {obj_id}) shares its name with another {noun} and has no '
                      "external_id: references to it are ambiguous; give it an external_id in Greenhouse")
        return name

    def department(self, obj_id: Any) -> Any:
        return self._tree_ref("departments", "department", obj_id)

    def office(self, obj_id: Any) -> Any:
        return self._tree_ref("offices", "office", obj_id)

    def user_email(self, user_id: Any) -> Any:
        row = self.live.get("users").get(int(user_id)) if user_id is not None else None
        return row.get("primary_email") if row else None

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
        if row.get("requisition_id") and by_req[row["requisition_id"]] == 1 and row["requisition_id"] not in by_name:
            return str(row["requisition_id"])
        if by_name[row.get("name")] == 1 and row.get("name") not in by_req:
            return str(row.get("name"))
        return job_id
