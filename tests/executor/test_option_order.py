"""Option renames and creates of several fields form runs of bulk rows, not an alternation field by field.

Creates run in their own phase after every option rename (a rename may free a name a new option then
takes, and bulk rows need consecutive changes of one endpoint). Demo seed fields: Seniority (201:
Junior, Mid, Senior, Staff) and Languages (206: English, German, French, Spanish).
"""

from __future__ import annotations

from pathlib import Path

from tests.executor.test_rename_cycles import plan_for
from tests.harness import Rig

TWO_FIELDS = """\
version: 1
custom_fields:
  - name: Seniority
    key: seniority
    field_type: job
    value_type: single_select
    options: [{name: Junior I, previously: Junior}, {name: Mid I, previously: Mid}, Senior, Staff, Principal, Fellow]
  - name: Languages
    key: languages
    field_type: candidate
    value_type: multi_select
    options: [{name: English (UK), previously: English}, {name: German (DE), previously: German}, French, Spanish,
              Italian, Dutch]
"""


def test_renames_and_creates_of_two_fields_go_as_one_bulk_request_each(tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text(TWO_FIELDS)
    rig = Rig()
    plan = plan_for(rig, tmp_path)
    options = [(c.action, c.name) for c in plan.changes if c.type == "custom_field_option"]
    assert options == [
        ("update", "Seniority / Junior I"), ("update", "Seniority / Mid I"),
        ("update", "Languages / English (UK)"), ("update", "Languages / German (DE)"),
        ("create", "Seniority / Principal"), ("create", "Seniority / Fellow"),
        ("create", "Languages / Italian"), ("create", "Languages / Dutch"),
    ]
    assert [(b.endpoint, len(b.changes)) for b in plan.bulk_requests] == [
        ("PATCH /v3/custom_field_options/bulk", 4), ("POST /v3/custom_field_options/bulk", 4)]
    rig.executor().apply(plan)
    assert [(m, p) for m, p, _ in rig.writes()] == [
        ("PATCH", "/v3/custom_field_options/bulk"), ("POST", "/v3/custom_field_options/bulk")]
    assert plan_for(rig, tmp_path).changes == ()
