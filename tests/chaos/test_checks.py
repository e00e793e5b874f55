"""The chaos suite's checks catch what they are meant to catch (so a passing chaos run means something)."""

from __future__ import annotations

from typing import Any

from tests.chaos import checks, org


def _state() -> dict[str, Any]:
    data = org.seed()
    return {name: data.get(name, []) for name in (
        "departments", "offices", "custom_fields", "custom_field_options", "custom_field_departments",
        "custom_field_offices", "candidate_tags", "users", "user_job_permissions", "future_job_permissions",
        "user_roles", "jobs")}


def test_the_seed_has_no_duplicate_and_each_kind_of_duplicate_is_named() -> None:
    state = _state()
    assert checks.duplicates(state) == []
    state["candidate_tags"].append({"id": 999, "name": "TAG 00"})
    state["users"].append({**state["users"][-1], "id": 9999, "primary_email": "USER0@chaos.example"})
    state["departments"].append({**state["departments"][0], "id": 998, "external_id": None})
    assert checks.duplicates(state) == [
        "department name under parent (None, 'Dept 00') is held by 2 live objects (ids 100, 998)",
        "tag name 'tag 00' is held by 2 live objects (ids 600, 999)",
        "user email 'user0@chaos.example' is held by 2 live objects (ids 2000, 9999)",
    ]


def test_the_seed_differs_from_the_desired_model_and_names_the_differences() -> None:
    problems = checks.desired_state(_state(), org.desired())
    assert "department D00 is 'Dept 00' under None, wanted 'Dept 00 renamed' under None" in problems
    assert "office O00 is 'Office 00' under None, wanted 'Office 01' under None" in problems
    assert "user new0@chaos.example is missing" in problems
    assert "40 live departments, wanted 60" in problems


def _write(number: int, status: Any, method: str = "POST", path: str = "/v3/candidate_tags") -> list[dict[str, Any]]:
    about = {"write": number, "method": method, "path": path}
    return [{"event": "intent", **about}, {"event": "outcome", **about, "status": status}]


def _logged(status: int, fault: str | None = None, lost: int | None = None, path: str = "/v3/candidate_tags") -> dict[str, Any]:
    return {"method": "POST", "path": path, "status": status, "fault": fault, "lost_status": lost}


def test_a_journal_true_to_the_log_passes_with_the_clients_own_429_repeats() -> None:
    events = _write(1, 201) + _write(2, "settled") + _write(3, "not committed") + _write(4, 201)
    log = [_logged(429, "429"), _logged(201), _logged(0, "drop_after", 201), _logged(500, "500"), _logged(201)]
    assert checks.journal_matches_log(events, log) == []


def test_a_committed_write_missing_from_the_journal_or_a_wrong_outcome_is_reported() -> None:
    events = _write(1, 201)
    log = [_logged(201), _logged(0, "drop_after", 201)]
    (missing,) = checks.journal_matches_log(events, log)
    assert missing.startswith("the journal's 1 writes and the server's 2 differ from write 2")
    wrong = _write(1, "not committed") + _write(2, "settled")
    assert checks.journal_matches_log(wrong, [_logged(201), _logged(500, "500")]) == [
        "write 1 (POST /v3/candidate_tags, server status 201, fault None, lost status None): the journal says not "
        "committed but the server committed it",
        "write 2 (POST /v3/candidate_tags, server status 500, fault 500, lost status None): the journal says "
        "'settled' but the server did not commit it",
        "write 2 (POST /v3/candidate_tags, server status 500, fault 500, lost status None): settled although its "
        "reply was not lost after committing",
    ]
    refused = _write(1, 422)
    assert checks.journal_matches_log(refused, [_logged(409)]) == [
        "write 1 (POST /v3/candidate_tags, server status 409, fault None, lost status None): the journal says 422"]


def test_attempts_group_refusals_with_the_request_they_repeat() -> None:
    log = [_logged(429), _logged(429), _logged(201), _logged(201), _logged(429, path="/v3/departments")]
    assert [[e["status"] for e in group] for group in checks.attempts(log)] == [[429, 429, 201], [201], [429]]
