"""Name cycles of offices and options, planned and applied against the in-process sandbox (unique names enforced)."""

from __future__ import annotations

from pathlib import Path

from reconciler.live import read_for_manifest
from reconciler.manifest import load
from reconciler.plan import Plan
from reconciler.planner import build_plan
from tests.harness import Rig

#: Offices 101 (SF), 102 (NYC), 111 (LDN) and cost-center options 2001..2003 of the demo seed, each renamed to
#: the next one's name: two 3-cycles of unique names.
CYCLES = """\
version: 1
offices:
  - {name: London, external_id: SF}
  - {name: New York, external_id: LDN}
  - {name: San Francisco, external_id: NYC}
custom_fields:
  - name: Cost Center
    key: cost_center
    field_type: job
    value_type: single_select
    options:
      - {name: "200 Sales", external_id: "100"}
      - {name: "300 - People", external_id: "200"}
      - {name: "100 - Platform", external_id: "300"}
"""


def plan_for(rig: Rig, directory: Path) -> Plan:
    manifest = load([str(directory)])
    with rig.reader() as reader:
        return build_plan(manifest, read_for_manifest(reader, manifest))


def test_office_and_option_name_cycles_apply_through_temporary_names_and_converge(tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text(CYCLES)
    rig = Rig()
    plan = plan_for(rig, tmp_path)
    assert [c.key for c in plan.changes if c.key.endswith(":temporary-name")] == [
        "office:101:temporary-name", "custom_field_option:2001:temporary-name"]
    rig.executor().apply(plan)
    sent = rig.writes()
    assert ("PATCH", "/v3/offices/101", {"name": "San Francisco (renaming 101)"}) in sent
    assert not any("bulk" in path for _, path, _ in sent)
    assert plan_for(rig, tmp_path).changes == ()
    with rig.reader() as reader:
        offices = {o["id"]: o["name"] for o in reader.list_all("/v3/offices")}
    assert (offices[101], offices[102], offices[111]) == ("London", "San Francisco", "New York")
