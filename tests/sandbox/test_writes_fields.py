"""Custom fields, options and scoping rows (reference 2.3, 2.4, 2.5; checklist items 3, 4, 5)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox, SandboxOptions
from tests.sandbox.conftest import ClientFactory, error_fields, ids
from tests.support import FakeClock


def test_create_select_field_with_inline_options(api: httpx.Client, sb: Sandbox) -> None:
    answer = api.post("/v3/custom_fields", json={
        "name": "Work Model!", "field_type": "job", "value_type": "single_select", "require_approval": True,
        "description": "Where", "generate_email_token": True,
        "custom_field_options": [{"name": "Remote"}, {"name": "Hybrid", "external_id": "H", "sort_order": 7}],
    })
    assert answer.status_code == 201
    body = answer.json()
    assert (body["id"], body["name_key"], body["active"], body["require_approval"]) == (209, "work_model", True, True)
    assert body["template_token_string"] == "{{WORK_MODEL}}"
    assert "custom_field_options" not in body  # options are never nested in v3
    options = api.get("/v3/custom_field_options", params={"custom_field_ids": "209"}).json()
    assert [(o["name"], o["sort_order"], o["external_id"], o["active"]) for o in options] == [
        ("Hybrid", 7, "H", True), ("Remote", 1, None, True)]


def test_name_key_is_derived_and_made_unique(api: httpx.Client) -> None:
    first = api.post("/v3/custom_fields", json={"name": "  Cost--Center ", "field_type": "offer", "value_type": "short_text"})
    second = api.post("/v3/custom_fields", json={"name": "Cost Center", "field_type": "candidate", "value_type": "url"})
    assert (first.json()["name_key"], second.json()["name_key"]) == ("cost_center_2", "cost_center_3")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"field_type": "job", "value_type": "yes_no"}, "name"),
        ({"name": "X", "value_type": "yes_no"}, "field_type"),
        ({"name": "X", "field_type": "job"}, "value_type"),
        ({"name": "X", "field_type": "widget", "value_type": "yes_no"}, "field_type"),
        ({"name": "X", "field_type": "job", "value_type": "colour"}, "value_type"),
        ({"name": "X", "field_type": "offer", "value_type": "yes_no", "require_approval": True}, "require_approval"),
        ({"name": "X", "field_type": "job", "value_type": "yes_no", "trigger_new_version": True}, "trigger_new_version"),
        ({"name": "X", "field_type": "job", "value_type": "yes_no", "custom_field_options": [{"name": "a"}]},
         "custom_field_options"),
        ({"name": "X", "field_type": "job", "value_type": "single_select",
          "custom_field_options": [{"name": "a"}, {"name": "a"}]}, "custom_field_options[1].name"),
        ({"name": "X", "field_type": "job", "value_type": "yes_no", "private": "no"}, "private"),
    ],
)
def test_create_custom_field_validation(api: httpx.Client, sb: Sandbox, body: dict[str, Any], field: str) -> None:
    answer = api.post("/v3/custom_fields", json=body)
    assert answer.status_code == 422
    assert error_fields(answer) == [field]
    assert len(sb.rows("custom_fields")) == 9


def test_patch_custom_field_keeps_name_key_on_rename(api: httpx.Client) -> None:
    answer = api.patch("/v3/custom_fields/200", json={"name": "Cost Centre", "required": True, "private": True})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["name"], body["name_key"], body["required"], body["private"]) == ("Cost Centre", "cost_center", True, True)


def test_field_and_value_type_are_immutable(api: httpx.Client) -> None:
    changed = api.patch("/v3/custom_fields/201", json={"value_type": "multi_select"})
    assert changed.status_code == 422
    assert error_fields(changed) == ["value_type"]
    assert api.patch("/v3/custom_fields/201", json={"field_type": "offer"}).status_code == 422
    same = api.patch("/v3/custom_fields/201", json={"field_type": "job", "value_type": "single_select"})
    assert same.status_code == 200


def test_user_attribute_fields_accept_only_name_description_required(api: httpx.Client) -> None:
    assert api.patch("/v3/custom_fields/207", json={"name": "Badge", "description": "d", "required": True}).status_code == 200
    refused = api.patch("/v3/custom_fields/207", json={"private": True})
    assert refused.status_code == 422
    assert error_fields(refused) == ["private"]


def test_type_specific_properties_on_patch(api: httpx.Client) -> None:
    assert api.patch("/v3/custom_fields/202", json={"trigger_new_version": False}).status_code == 200
    assert api.patch("/v3/custom_fields/204", json={"require_approval": True}).status_code == 200  # opening
    assert api.patch("/v3/custom_fields/203", json={"require_approval": True}).status_code == 422  # offer


def test_patch_can_archive_and_restore_a_field(api: httpx.Client) -> None:
    assert api.patch("/v3/custom_fields/201", json={"active": False}).json()["active"] is False
    assert api.patch("/v3/custom_fields/208", json={"active": True}).json()["active"] is True


def test_options_cannot_be_edited_through_the_field(api: httpx.Client) -> None:
    answer = api.patch("/v3/custom_fields/200", json={"custom_field_options": [{"name": "x"}]})
    assert answer.status_code == 422
    assert error_fields(answer) == ["custom_field_options"]


def test_delete_custom_field_removes_options_and_scoping_permanently(api: httpx.Client, sb: Sandbox) -> None:
    answer = api.delete("/v3/custom_fields/200")
    assert answer.status_code == 204
    assert 200 not in [r["id"] for r in sb.rows("custom_fields")]
    assert [r for r in sb.rows("custom_field_options") if r["custom_field_id"] == 200] == []
    assert sb.rows("custom_field_departments") == []
    assert sb.rows("custom_field_offices") == []
    assert api.delete("/v3/custom_fields/200").status_code == 404


def test_create_option_with_default_sort_order(api: httpx.Client) -> None:
    answer = api.post("/v3/custom_field_options", json={"custom_field_id": 201, "name": "Principal"})
    assert answer.status_code == 201
    body = answer.json()
    assert (body["id"], body["sort_order"], body["active"], body["external_id"]) == (2065, 5, True, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"custom_field_id": 999, "name": "x"}, "custom_field_id"),
        ({"custom_field_id": 203, "name": "x"}, "custom_field_id"),  # yes_no field
        ({"custom_field_id": 200}, "name"),
        ({"name": "x"}, "custom_field_id"),
        ({"custom_field_id": 200, "name": "900 - Legacy"}, "name"),  # archived: reactivate instead
        ({"custom_field_id": 200, "name": "200 Sales"}, "name"),  # active duplicate
    ],
)
def test_create_option_validation(api: httpx.Client, body: dict[str, Any], field: str) -> None:
    answer = api.post("/v3/custom_field_options", json=body)
    assert answer.status_code == 422
    assert error_fields(answer) == [field]


def test_recreating_an_archived_option_says_to_reactivate(api: httpx.Client) -> None:
    answer = api.post("/v3/custom_field_options", json={"custom_field_id": 200, "name": "900 - Legacy"})
    assert "reactivate" in answer.json()["message"]


def test_duplicate_active_option_names_can_be_allowed(seed: dict[str, Any], clock: FakeClock,
                                                      make_client: ClientFactory) -> None:
    sb = Sandbox(seed, clock=clock.time, options=SandboxOptions(reject_duplicate_active_option_name=False))
    answer = make_client(sandbox=sb).post("/v3/custom_field_options", json={"custom_field_id": 200, "name": "200 Sales"})
    assert answer.status_code == 201


def test_option_delete_archives_and_the_row_stays_listed(api: httpx.Client) -> None:
    answer = api.delete("/v3/custom_field_options/2012")
    assert answer.status_code == 204
    listed = api.get("/v3/custom_field_options", params={"custom_field_ids": "201"}).json()
    assert [(o["id"], o["active"]) for o in listed] == [(2014, True), (2013, True), (2012, False), (2011, True)]
    assert 2012 not in ids(api.get("/v3/custom_field_options", params={"custom_field_ids": "201", "active": "true"}))


def test_archived_option_is_reactivated_by_active_true_or_by_a_patch_with_name(api: httpx.Client) -> None:
    by_flag = api.patch("/v3/custom_field_options/2004", json={"active": True})
    assert by_flag.status_code == 200
    assert by_flag.json()["active"] is True
    api.delete("/v3/custom_field_options/2004")
    by_name = api.patch("/v3/custom_field_options/2004", json={"name": "900 - Legacy"})
    assert by_name.json()["active"] is True
    assert by_name.json()["id"] == 2004


def test_patch_option_fields_and_immutable_parent(api: httpx.Client) -> None:
    answer = api.patch("/v3/custom_field_options/2002", json={"name": "200 - Sales", "sort_order": 9, "external_id": None})
    assert answer.status_code == 200
    assert (answer.json()["name"], answer.json()["sort_order"], answer.json()["external_id"]) == ("200 - Sales", 9, None)
    moved = api.patch("/v3/custom_field_options/2002", json={"custom_field_id": 201})
    assert moved.status_code == 422
    assert error_fields(moved) == ["custom_field_id"]
    assert api.patch("/v3/custom_field_options/2002", json={"custom_field_id": 200}).status_code == 200


def test_renaming_an_option_onto_another_options_name_is_422(api: httpx.Client) -> None:
    onto_active = api.patch("/v3/custom_field_options/2002", json={"name": "100 - Platform"})
    onto_archived = api.patch("/v3/custom_field_options/2002", json={"name": "900 - Legacy"})
    assert (onto_active.status_code, onto_archived.status_code) == (422, 422)
    assert api.patch("/v3/custom_field_options/2011", json={"name": "100 - Platform"}).status_code == 200  # other field


@pytest.mark.parametrize(
    ("path", "key", "target"),
    [("/v3/custom_field_departments", "department_id", 30), ("/v3/custom_field_offices", "office_id", 111)],
)
def test_scoping_rows_create_duplicate_and_delete(api: httpx.Client, path: str, key: str, target: int) -> None:
    created = api.post(path, json={"custom_field_id": 201, key: target})
    assert created.status_code == 201
    row = created.json()
    assert (row["custom_field_id"], row[key]) == (201, target)
    duplicate = api.post(path, json={"custom_field_id": 201, key: target})
    assert duplicate.status_code == 422
    assert api.post(path, json={"custom_field_id": 201, key: 9999}).status_code == 422
    assert api.post(path, json={"custom_field_id": 9999, key: target}).status_code == 422
    assert api.delete(f"{path}/{row['id']}").status_code == 204
    assert api.delete(f"{path}/{row['id']}").status_code == 404
    assert api.patch(f"{path}/700", json={key: target}).status_code == 404  # no update route


def test_duplicate_scoping_pairs_can_be_allowed(seed: dict[str, Any], clock: FakeClock,
                                                make_client: ClientFactory) -> None:
    sb = Sandbox(seed, clock=clock.time, options=SandboxOptions(reject_duplicate_scoping_pair=False))
    answer = make_client(sandbox=sb).post("/v3/custom_field_departments", json={"custom_field_id": 200, "department_id": 10})
    assert answer.status_code == 201
