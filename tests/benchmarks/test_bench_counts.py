"""The benchmark at its small size, through the real sandbox server and CLI: exact request counts.

`benchmarks/run.py` measures times and memory; this test runs the same generator and runner at the
small size (1,005 live objects, 43 generated changes) and asserts what is exact: the requests the plan
reads, the writes apply sends, and convergence. Times are never asserted.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks import orgs, runner

pytestmark = pytest.mark.e2e

SMALL = orgs.SCALES["small"]


@pytest.fixture(scope="module")
def org() -> orgs.Org:
    return orgs.generate(SMALL)


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> runner.Measurement:
    return runner.measure(SMALL, rate_limited=False, work=tmp_path_factory.mktemp("bench"), timeout=120)


def test_the_generator_is_deterministic_and_makes_the_stated_org(org: orgs.Org, tmp_path: Path) -> None:
    again = orgs.generate(SMALL)
    assert again.seed == org.seed and again.files == org.files
    assert orgs.generate(SMALL, seed=2).files != org.files
    assert org.live_rows == {
        "departments": 20,
        "offices": 10,
        "custom_fields": 5,
        "custom_field_options": 500,
        "custom_field_departments": 2,
        "custom_field_offices": 1,
        "candidate_tags": 50,
        "user_roles": 6,
        "users": 101,
        "jobs": 20,
        "user_job_permissions": 300,
        "future_job_permissions": 20,
    }
    assert org.changes == 43
    seed, manifests = orgs.write(org, tmp_path)
    assert seed.is_file() and (manifests / "users" / "users-00.yaml").is_file()


def test_plan_reads_the_floor_plus_the_deactivated_users_list(
    org: orgs.Org, measured: runner.Measurement
) -> None:
    # Floor: 1 token request + one page per collection (every collection of the small org fits in one page
    # of 500): 1 + 12 = 13.
    assert measured.read_floor == 1 + sum(math.ceil(n / orgs.PAGE) for n in org.live_rows.values()) == 13
    # The product reads users twice, the default list and `deactivated=true` (whether the default includes
    # deactivated users is undocumented, reconciler/live), so it sends the floor + ceil(5 deactivated / 500).
    assert org.deactivated_users == 5
    assert measured.reads.total == 14
    assert measured.reads.by_collection == {c: 2 if c == "users" else 1 for c in org.live_rows}
    assert measured.reads.token == 1
    assert measured.reads.writes == 0
    # The bare loop fetched exactly the product's pages.
    assert measured.bare.pages == measured.reads.total - measured.reads.token


def test_apply_sends_the_planned_writes_and_converges(org: orgs.Org, measured: runner.Measurement) -> None:
    assert measured.plan_changes == org.changes == 43
    assert org.bulk_floor() == 20  # 13 single writes + one bulk request for each of 7 bulk endpoints
    # The product sends the floor, 20 (every one planned, none refused): the 3 department moves each go
    # under a top-level department no move touches, so they are valid in any order and share the
    # departments' bulk request with the renames (reconciler/resources/trees.py, `order_independent_moves`).
    # Every other batchable kind forms one bulk request per endpoint: option creates run after all option
    # renames, and the users phase groups its changes by endpoint.
    assert measured.planned_requests == measured.writes == 20
    assert measured.write_errors == 0
    assert measured.writes_by_endpoint == {
        "DELETE /v3/candidate_tags/{id}": 1,
        "DELETE /v3/custom_field_options/bulk": 1,
        "DELETE /v3/future_job_permissions/{id}": 1,
        "DELETE /v3/user_job_permissions/{id}": 1,
        "PATCH /v3/custom_field_options/bulk": 1,
        "PATCH /v3/custom_fields/{id}": 2,
        "PATCH /v3/departments/bulk": 1,
        "PATCH /v3/offices/bulk": 1,
        "PATCH /v3/users/bulk": 1,
        "POST /v3/candidate_tags": 1,
        "POST /v3/custom_field_options/bulk": 1,
        "POST /v3/custom_fields": 1,
        "POST /v3/departments": 1,
        "POST /v3/future_job_permissions": 1,
        "POST /v3/offices": 1,
        "POST /v3/user_job_permissions": 2,
        "POST /v3/users": 1,
        "POST /v3/users/deactivate/bulk": 1,
    }
    assert measured.converged
