"""Reading for a plan as the credential's service user (no GREENHOUSE_USER_ID): the empty-lists guard.

Harvest answers empty lists to a token whose user is not a Site Admin [2nd]; without a `sub` the product
cannot look its identity up, so `read_for_manifest(..., service_user=True)` refuses when every list came
back empty while the manifests name objects. In-process sandbox; the CLI path is in tests/e2e.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import UsageError
from reconciler.harvest import HarvestReader, Settings
from reconciler.live import LiveOrg, check_not_all_empty, read_for_manifest
from reconciler.sandbox import Sandbox
from tests.builders import manifest
from tests.harness import SETTINGS, seed
from tests.support import FakeClock

SERVICE = 1006  # demo-client's service user in the demo seed


def service_reader(sb: Sandbox, clock: FakeClock) -> HarvestReader:
    no_sub = Settings(SETTINGS.client_id, SETTINGS.client_secret, None, SETTINGS.api_url, SETTINGS.token_url)
    return HarvestReader(no_sub, transport=sb.transport(), clock=clock.time, sleep=clock.sleep)


def sandbox(service_user_admin: bool = True, data: dict[str, Any] | None = None) -> tuple[Sandbox, FakeClock]:
    clock = FakeClock()
    data = data if data is not None else seed()
    data["clients"][0]["service_user"] = {"id": SERVICE, "site_admin": service_user_admin}
    return Sandbox(data, clock=clock.time), clock


def test_a_site_admin_service_user_reads_the_organisation() -> None:
    sb, clock = sandbox()
    live = read_for_manifest(service_reader(sb, clock), manifest(candidate_tags=["Referral"]), service_user=True)
    assert len(live.get("candidate_tags")) == len(sb.rows("candidate_tags"))
    assert [r.body for r in sb.log if r.path == "/token"] == [{"grant_type": "client_credentials"}]


@pytest.mark.parametrize(
    "sections",
    [
        {"candidate_tags": ["Referral"]},
        {"departments": [{"name": "Engineering"}], "users": [{"email": "jane@acme.example",
                                                             "job_permissions": []}]},
    ],
)
def test_a_non_admin_service_user_is_refused_naming_the_setting(sections: dict[str, Any]) -> None:
    sb, clock = sandbox(service_user_admin=False)
    with pytest.raises(UsageError) as info:
        read_for_manifest(service_reader(sb, clock), manifest(**sections), service_user=True)
    text = str(info.value)
    assert text.startswith("refusing to plan: every list read from the Harvest API came back empty (")
    assert "not a Site Admin" in text and "GREENHOUSE_USER_ID is unset" in text
    assert "set GREENHOUSE_USER_ID to a Site Admin's user id" in text
    assert "demo-secret" not in text


def test_the_guard_lists_what_was_read_and_counts_the_manifest_entries() -> None:
    sb, clock = sandbox(service_user_admin=False)
    with pytest.raises(UsageError) as info:
        read_for_manifest(service_reader(sb, clock), manifest(candidate_tags=["A", "B", "C"]), service_user=True)
    assert "came back empty (candidate_tags), although the manifests name 3 object(s)" in str(info.value)


def test_an_empty_manifest_section_is_not_refused() -> None:
    sb, clock = sandbox(service_user_admin=False)
    live = read_for_manifest(service_reader(sb, clock), manifest(candidate_tags=[]), service_user=True)
    assert live.get("candidate_tags") == {}


def test_only_the_sections_being_planned_count() -> None:
    sb, clock = sandbox(service_user_admin=False)
    m = manifest(candidate_tags=[], departments=[{"name": "Engineering"}])
    read_for_manifest(service_reader(sb, clock), m, ["candidate_tag"], service_user=True)  # departments not planned
    with pytest.raises(UsageError):
        read_for_manifest(service_reader(sb, clock), m, ["department"], service_user=True)


def test_one_non_empty_list_is_enough() -> None:
    data = seed()
    data["candidate_tags"] = []
    sb, clock = sandbox(data=data)
    live = read_for_manifest(service_reader(sb, clock), manifest(departments=[{"name": "New"}],
                                                                 candidate_tags=["x"]), service_user=True)
    assert live.get("candidate_tags") == {} and live.get("departments")


def test_a_truly_empty_organisation_plans_with_a_site_admin_user_id() -> None:
    clock = FakeClock()
    empty = {"clients": seed()["clients"], "users": [u for u in seed()["users"] if u["id"] in (1001, SERVICE)]}
    sb = Sandbox(empty, clock=clock.time)
    m = manifest(candidate_tags=["Referral"])
    with HarvestReader(SETTINGS, transport=sb.transport(), clock=clock.time, sleep=clock.sleep) as reader:
        assert read_for_manifest(reader, m, acting_user_id="1001").get("candidate_tags") == {}
    with pytest.raises(UsageError, match="refusing to plan"):
        read_for_manifest(service_reader(sb, clock), m, service_user=True)


def test_the_check_is_generic_over_what_was_read() -> None:
    check_not_all_empty(LiveOrg(rows={"anything": {1: {"id": 1}}, "else": {}}), "plan", expected=5)
    with pytest.raises(UsageError, match=r"refusing to export: .* \(anything, else\): the export would describe"):
        check_not_all_empty(LiveOrg(rows={"anything": {}, "else": {}}), "export", expected=1)
    check_not_all_empty(LiveOrg(rows={}), "plan", expected=1)  # nothing read: nothing to judge
