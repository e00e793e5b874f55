"""Swaps and cycles of unique names, through the real sandbox server and the real CLI in a subprocess.

Office names and the names of a custom field's active options are unique (the sandbox enforces both,
docs/sandbox.md), so two objects that swap names, or three that rotate them, cannot be renamed one
after the other: the first rename would collide. The planner routes such renames through a temporary
name (docs/planning.md, "Renames"). These tests check that the plan shows it, that `apply --yes`
performs exactly those writes and reaches the desired names, that a second plan is empty, and that an
apply stopped half-way through a cycle (leaving a temporary name live) is finished by the next apply
made from the manifests.

The demo seed (examples/sandbox-seed.json) holds offices 101 San Francisco (SF), 102 New York (NYC),
111 London (LDN) and the Cost Center options 2001 "100 - Platform" (external id 100), 2002 "200 Sales"
(200) and 2003 "300 - People" (300). Objects are matched by external id (a `previously` name may not be
another object's current name, docs/manifest.md, so a swap is expressible by external id only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, cli, start_server

pytestmark = pytest.mark.e2e

COST_CENTER = 200
SEEDED_OFFICES = {101: "San Francisco", 102: "New York", 111: "London"}
SEEDED_OPTIONS = {2001: "100 - Platform", 2002: "200 Sales", 2003: "300 - People"}


def offices_yaml(names: dict[str, str]) -> str:
    """An offices section naming each office (by external id) `names[external_id]`."""
    return "offices:\n" + "".join(f"  - {{name: {name}, external_id: {ext}}}\n" for ext, name in names.items())


def options_yaml(names: dict[str, str]) -> str:
    """The Cost Center field with its three options, option `external_id` named `names[external_id]`."""
    return ("custom_fields:\n  - name: Cost Center\n    key: cost_center\n    field_type: job\n"
            "    value_type: single_select\n    options:\n"
            + "".join(f'      - {{name: "{name}", external_id: "{ext}"}}\n' for ext, name in names.items()))


#: Offices SF and NYC swap names; options 100 and 200 swap names (300 keeps its own).
SWAP_OFFICES = {"SF": "New York", "NYC": "San Francisco"}
SWAP_OPTIONS = {"100": "200 Sales", "200": "100 - Platform", "300": "300 - People"}
#: Each of three offices, and each of three options, takes the next one's name.
CYCLE_OFFICES = {"SF": "London", "LDN": "New York", "NYC": "San Francisco"}
CYCLE_OPTIONS = {"100": "200 Sales", "200": "300 - People", "300": "100 - Platform"}


def office_names(server: Server) -> dict[int, str]:
    return {o["id"]: o["name"] for o in server.state()["offices"] if o["id"] in SEEDED_OFFICES}


def option_names(server: Server) -> dict[int, str]:
    return {o["id"]: o["name"] for o in server.state()["custom_field_options"]
            if o["custom_field_id"] == COST_CENTER and o["active"]}


def name_writes(server: Server) -> list[tuple[str, str, Any]]:
    """The writes the sandbox answered or dropped since the last clear, in order, with their bodies."""
    return [(r["method"], r["path"], r["body"]) for r in server.requests()
            if r["method"] != "GET" and r["path"] != "/token"]


def write_manifest(tmp_path: Path, text: str) -> str:
    path = tmp_path / "org.yaml"
    path.write_text("version: 1\n" + text)
    return str(path)


def assert_converged(server: Server, manifest: str) -> None:
    again = cli("plan", manifest, "--detailed-exitcode", env=server.env())
    assert again.code == 0, again.stdout + again.stderr
    assert "Plan: 0 to create, 0 to update, 0 to delete, 0 to replace." in again.stdout


def test_two_offices_swapping_names_by_external_id_rename_through_a_temporary_name(
    server: Server, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, offices_yaml(SWAP_OFFICES))
    plan = cli("plan", manifest, env=server.env())
    assert plan.code == 0, plan.stderr
    assert '  ~ update San Francisco (id 101)\n      name: "San Francisco" -> "San Francisco (renaming 101)"\n' in plan.stdout
    assert "# temporary name: renames in this plan swap or cycle names" in plan.stdout
    assert 'name: "San Francisco (renaming 101)" -> "New York"' in plan.stdout
    assert "Plan: 0 to create, 3 to update, 0 to delete, 0 to replace." in plan.stdout

    server.clear()
    applied = cli("apply", manifest, "--yes", env=server.env())
    assert applied.code == 0, applied.stderr
    assert name_writes(server) == [
        ("PATCH", "/v3/offices/101", {"name": "San Francisco (renaming 101)"}),
        ("PATCH", "/v3/offices/102", {"name": "San Francisco"}),
        ("PATCH", "/v3/offices/101", {"name": "New York"}),
    ]
    assert office_names(server) == {101: "New York", 102: "San Francisco", 111: "London"}
    assert_converged(server, manifest)


def test_two_options_swapping_names_by_external_id_rename_through_a_temporary_name(
    server: Server, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, options_yaml(SWAP_OPTIONS))
    plan = cli("plan", manifest, env=server.env())
    assert plan.code == 0, plan.stderr
    assert ('  ~ update Cost Center / 200 Sales (id 2001)\n'
            '      name: "100 - Platform" -> "100 - Platform (renaming 2001)"\n') in plan.stdout
    assert 'name: "100 - Platform (renaming 2001)" -> "200 Sales"' in plan.stdout

    server.clear()
    applied = cli("apply", manifest, "--yes", env=server.env())
    assert applied.code == 0, applied.stderr
    assert name_writes(server) == [
        ("PATCH", "/v3/custom_field_options/2001", {"name": "100 - Platform (renaming 2001)"}),
        ("PATCH", "/v3/custom_field_options/2002", {"name": "100 - Platform"}),
        ("PATCH", "/v3/custom_field_options/2001", {"name": "200 Sales"}),
    ]
    assert option_names(server) == {2001: "200 Sales", 2002: "100 - Platform", 2003: "300 - People"}
    assert_converged(server, manifest)


def test_three_cycles_of_office_and_option_names_complete_and_converge(server: Server, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, offices_yaml(CYCLE_OFFICES) + options_yaml(CYCLE_OPTIONS))
    plan = cli("plan", manifest, env=server.env())
    assert plan.code == 0, plan.stderr
    assert 'name: "San Francisco" -> "San Francisco (renaming 101)"' in plan.stdout
    assert 'name: "100 - Platform" -> "100 - Platform (renaming 2001)"' in plan.stdout
    assert "Plan: 0 to create, 8 to update, 0 to delete, 0 to replace." in plan.stdout

    server.clear()
    applied = cli("apply", manifest, "--yes", env=server.env())
    assert applied.code == 0, applied.stderr
    writes = name_writes(server)
    assert len(writes) == 8 and all(method == "PATCH" and "bulk" not in path for method, path, _ in writes)
    assert writes[0] == ("PATCH", "/v3/offices/101", {"name": "San Francisco (renaming 101)"})
    assert ("PATCH", "/v3/custom_field_options/2001", {"name": "100 - Platform (renaming 2001)"}) in writes
    assert office_names(server) == {101: "London", 102: "San Francisco", 111: "New York"}
    assert option_names(server) == {2001: "200 Sales", 2002: "300 - People", 2003: "100 - Platform"}
    assert_converged(server, manifest)


@pytest.mark.parametrize(("target", "temporary"), [
    pytest.param("PATCH /v3/offices", (101, "San Francisco (renaming 101)"), id="office cycle"),
    pytest.param("PATCH /v3/custom_field_options", (2001, "100 - Platform (renaming 2001)"), id="option cycle"),
])
def test_an_apply_stopped_inside_a_cycle_leaves_a_temporary_name_and_the_next_apply_finishes_it(
    tmp_path: Path, target: str, temporary: tuple[int, str]
) -> None:
    # The second rename of the cycle is refused with 429 seven times in a row (Retry-After 0): the
    # client gives up after its retries and the apply stops, right after the temporary rename.
    server = start_server("--faults", f"retry_after=0,429x7@{target}#2")
    try:
        manifest = write_manifest(tmp_path, offices_yaml(CYCLE_OFFICES) + options_yaml(CYCLE_OPTIONS))
        env = server.env(GREENHOUSE_LOCK_DIR=str(tmp_path / "locks"))
        stopped = cli("apply", manifest, "--yes", env=env)
        assert stopped.code == 1, stopped.stderr
        assert "429" in stopped.stderr and "run plan again to see the remaining work" in stopped.stderr
        assert "Traceback" not in stopped.stderr
        obj_id, name = temporary
        live = office_names(server) if obj_id in SEEDED_OFFICES else option_names(server)
        assert live[obj_id] == name  # the temporary name is live: the cycle is half done

        again = cli("apply", manifest, "--yes", env=env)  # from the manifests, not a saved plan
        assert again.code == 0, again.stderr
        assert office_names(server) == {101: "London", 102: "San Francisco", 111: "New York"}
        assert option_names(server) == {2001: "200 Sales", 2002: "300 - People", 2003: "100 - Platform"}
        state = server.state()
        assert [o["name"] for o in state["offices"] if "(renaming" in o["name"]] == []
        assert [o["name"] for o in state["custom_field_options"] if "(renaming" in o["name"]] == []
        assert_converged(server, manifest)
    finally:
        server.stop()
