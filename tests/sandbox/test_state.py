"""Seed loading, persistence to a state file, the admin endpoints and the test helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox, SandboxOptions
from tests.sandbox.conftest import SEED_PATH, ClientFactory
from tests.support import FakeClock


def test_state_file_persists_writes_and_wins_over_the_seed(seed: dict[str, Any], clock: FakeClock, tmp_path: Path,
                                                           make_client: ClientFactory) -> None:
    state = tmp_path / "state" / "sandbox.json"
    sb = Sandbox(seed, clock=clock.time, state_path=state)
    client = make_client(sandbox=sb)
    tag_id = client.post("/v3/candidate_tags", json={"name": "persisted"}).json()["id"]
    assert client.delete(f"/v3/candidate_tags/{tag_id}").status_code == 204
    client.patch("/v3/departments/12", json={"name": "Infra"})
    sb.save()
    assert [p.name for p in state.parent.iterdir()] == ["sandbox.json"]  # no temp file left behind
    restarted = Sandbox({"clients": seed["clients"]}, clock=clock.time, state_path=state)
    assert [d["name"] for d in restarted.rows("departments") if d["id"] == 12] == ["Infra"]
    again = make_client(sandbox=restarted)
    assert again.post("/v3/candidate_tags", json={"name": "next"}).json()["id"] == tag_id + 1  # never reused


def test_state_keeps_bulk_requests(seed: dict[str, Any], clock: FakeClock, tmp_path: Path,
                                   make_client: ClientFactory) -> None:
    state = tmp_path / "s.json"
    sb = Sandbox(seed, clock=clock.time, state_path=state)
    uuid = make_client(sandbox=sb).post("/v3/users/deactivate/bulk", json={"data": [1003]}).json()["bulk_action_uuid"]
    sb.save()
    client = make_client(sandbox=Sandbox(None, clock=clock.time, state_path=state))
    assert client.get(f"/v3/bulk_requests/{uuid}").json()["status"] == "pending"
    clock.advance(SandboxOptions().bulk_processing_seconds)
    assert client.get(f"/v3/bulk_requests/{uuid}").json()["status"] == "completed"


def test_admin_save_endpoint_and_no_state_path(seed: dict[str, Any], clock: FakeClock, tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    client = httpx.Client(transport=Sandbox(seed, clock=clock.time, state_path=state).transport(),
                          base_url="http://127.0.0.1")
    assert client.post("/_sandbox/save").status_code == 204
    assert json.loads(state.read_text())["departments"][0]["id"] == 10
    plain = httpx.Client(transport=Sandbox(seed, clock=clock.time).transport(), base_url="http://127.0.0.1")
    assert plain.post("/_sandbox/save").status_code == 409


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "JSON object"),
        ({"widgets": []}, "unknown collection 'widgets'"),
        ({"departments": {}}, "array"),
        ({"departments": [{"name": "x"}]}, "departments[0]: 'id'"),
        ({"departments": [{"id": True, "name": "x"}]}, "'id'"),
        ({"departments": [{"id": 1, "nmae": "x"}]}, "unknown field(s) nmae"),
        ({"departments": [{"id": 1}, {"id": 1}]}, "duplicate id 1"),
        ({"clients": [{"client_id": "x"}]}, "clients[0]"),
    ],
)
def test_bad_seed_is_a_clear_value_error(data: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        Sandbox(data)
    assert message in str(info.value)


def test_seed_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        Sandbox.from_seed_file(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        Sandbox.from_seed_file(broken)


def test_demo_seed_loads_from_file() -> None:
    sb = Sandbox.from_seed_file(SEED_PATH)
    assert [len(sb.rows(c)) for c in ("departments", "offices", "users", "jobs", "custom_field_options")] == [9, 7, 7, 8, 15]


def test_seed_without_user_emails_gets_them_from_users(seed: dict[str, Any]) -> None:
    del seed["user_emails"]
    sb = Sandbox(seed)
    assert sorted(e["email"] for e in sb.rows("user_emails") if e["user_id"] == 1002) == [
        "jane.doe@acme.example", "jane@acme.example"]
    assert all(e["verified"] for e in sb.rows("user_emails"))


def test_seed_fields_may_be_omitted_and_take_defaults() -> None:
    sb = Sandbox({"users": [{"id": 5, "first_name": "A", "last_name": "B", "primary_email": "a@b.example"}]})
    user = sb.rows("users")[0]
    assert (user["office_ids"], user["site_admin"], user["custom_fields"]) == ([], False, {})
    assert user["created_at"].endswith("Z")


def test_rows_returns_deep_copies_ordered_by_id(sb: Sandbox) -> None:
    rows = sb.rows("departments")
    assert [r["id"] for r in rows] == [10, 11, 12, 13, 20, 21, 22, 30, 40]
    rows[0]["name"] = "changed"
    assert sb.rows("departments")[0]["name"] == "Engineering"
    with pytest.raises(KeyError):
        sb.rows("widgets")


def test_admin_endpoints_are_not_logged_and_expose_no_secrets(sb: Sandbox, api: httpx.Client) -> None:
    api.get("/v3/offices", params={"per_page": 1})
    logged = api.get("/_sandbox/requests").json()
    assert [(r["method"], r["path"], r["status"], r["query"]) for r in logged] == [
        ("POST", "/token", 200, {}), ("GET", "/v3/offices", 200, {"per_page": "1"})]
    state = api.get("/_sandbox/state").json()
    assert "clients" not in state
    assert "demo-secret" not in json.dumps(state)
    assert [d["id"] for d in state["departments"]] == [10, 11, 12, 13, 20, 21, 22, 30, 40]
    assert api.delete("/_sandbox/requests").status_code == 204
    assert api.get("/_sandbox/requests").json() == []
    assert sb.log == []
    assert api.get("/_sandbox/nothing").status_code == 404


def test_paths_outside_v3_are_404_and_logged(sb: Sandbox, api: httpx.Client) -> None:
    assert api.get("/v2/departments").status_code == 404
    assert sb.log[-1].status == 404
