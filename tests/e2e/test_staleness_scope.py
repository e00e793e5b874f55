"""A saved plan goes stale only for what it depends on, through the real sandbox server and CLI.

Unrelated objects created in the sandbox (through its API, with the demo credentials) after `plan --out`
leave the plan applicable; a change to an object the plan writes, or a new object with the identity of a
planned create, makes `apply --plan` refuse, naming that object and writing nothing.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, cli

pytestmark = pytest.mark.e2e

TAGS = ["Referral", "2025-grad", "Do Not Contact", "Boomerang", "old-tag", "Silver Medalist"]


def api(server: Server, method: str, path: str, body: Any) -> Any:
    """One Harvest API request as a person in the UI would cause it: a token for user 1001, then the write."""
    basic = base64.b64encode(b"demo-client:demo-secret").decode()
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "sub": "1001"}).encode()
    token_req = urllib.request.Request(f"{server.url}/token", data=form, method="POST", headers={
        "Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(token_req, timeout=10) as resp:  # noqa: S310 - loopback sandbox
        token = json.loads(resp.read())["access_token"]
    req = urllib.request.Request(f"{server.url}{path}", data=json.dumps(body).encode(), method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback sandbox
        return json.loads(resp.read() or b"null")


def save_plan(server: Server, tmp_path: Path, manifest: str) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(manifest)
    saved = tmp_path / "plan.json"
    run = cli("plan", str(path), "--out", str(saved), env=server.env())
    assert run.code == 0, run.stderr
    return saved


def tags_manifest(*extra: str) -> str:
    return "candidate_tags:\n" + "".join(f"  - {json.dumps(t)}\n" for t in [*TAGS, *extra])


def test_unrelated_new_tag_and_user_leave_a_saved_plan_applicable(server: Server, tmp_path: Path) -> None:
    saved = save_plan(server, tmp_path, tags_manifest("Sourced"))
    api(server, "POST", "/v3/candidate_tags", {"name": "Unrelated tag from the UI"})
    api(server, "POST", "/v3/users", {"first_name": "Una", "last_name": "Related",
                                      "primary_email": "una.related@acme.example"})
    server.clear()
    run = cli("apply", "--plan", str(saved), "--yes", env=server.env())
    assert run.code == 0, run.stderr
    assert server.writes() == [("POST", "/v3/candidate_tags")]
    names = [t["name"] for t in server.state()["candidate_tags"]]
    assert "Sourced" in names and "Unrelated tag from the UI" in names


def test_the_department_a_plan_renames_renamed_in_the_ui_is_refused(server: Server, tmp_path: Path) -> None:
    saved = save_plan(server, tmp_path, "departments:\n  - name: People Ops\n    previously: [People]\n")
    api(server, "PATCH", "/v3/departments/30", {"name": "People Team"})
    server.clear()
    run = cli("apply", "--plan", str(saved), "--yes", env=server.env())
    assert run.code == 1
    assert "departments id 30 (People Team) changed" in run.stderr
    assert server.writes() == []


def test_a_tag_with_the_planned_name_appearing_is_refused(server: Server, tmp_path: Path) -> None:
    saved = save_plan(server, tmp_path, tags_manifest("Sourced"))
    api(server, "POST", "/v3/candidate_tags", {"name": "Sourced"})
    server.clear()
    run = cli("apply", "--plan", str(saved), "--yes", env=server.env())
    assert run.code == 1
    tag_id = next(t["id"] for t in server.state()["candidate_tags"] if t["name"] == "Sourced")
    assert f"candidate_tags id {tag_id} (Sourced) appeared with the identity of the planned create" in run.stderr
    assert server.writes() == []
