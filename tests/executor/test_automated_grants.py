"""Plan and apply against the in-process sandbox with a grant Greenhouse made from a future permission."""

from __future__ import annotations

from pathlib import Path

from reconciler.live import read_for_manifest
from reconciler.manifest import load
from reconciler.plan import Plan
from reconciler.planner import build_plan
from tests.export.test_export import seed_with_an_automated_grant
from tests.harness import Rig

#: jane's hand-made grants as the manifest wants them (REQ-1004 changes role), and her future permission;
#: the automated grant 599 on REQ-1009 (made from that future permission) is not listed.
JANE = """\
version: 1
users:
  - email: jane@acme.example
    job_permissions:
      - {job: REQ-1001, role: Standard}
      - {job: REQ-1004, role: Standard}
    future_job_permissions:
      - {role: Standard, department: Platform}
"""


def plan_for(rig: Rig, directory: Path) -> Plan:
    manifest = load([str(directory)])
    with rig.reader() as reader:
        return build_plan(manifest, read_for_manifest(reader, manifest))


def test_apply_never_deletes_an_automated_grant_and_converges_with_it_in_place(tmp_path: Path) -> None:
    (tmp_path / "users.yaml").write_text(JANE)
    rig = Rig(seed_with_an_automated_grant())
    plan = plan_for(rig, tmp_path)
    assert [(c.action, c.type, c.id) for c in plan.changes] == [("update", "user_job_permission", 501)]
    assert [g.id for g in plan.greenhouse_managed] == [599]

    rig.executor().apply(plan)
    sent = rig.writes()
    assert ("POST", "/v3/user_job_permissions", {"user_id": 1002, "job_id": 403, "role_id": 2}) in sent
    assert not any(method == "DELETE" and path == "/v3/user_job_permissions/599" for method, path, _ in sent)
    assert rig.sandbox.store.get("user_job_permissions", 599) is not None

    again = plan_for(rig, tmp_path)
    assert again.changes == () and not again.has_changes
    assert [g.id for g in again.greenhouse_managed] == [599]
