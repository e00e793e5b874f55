"""What docs/ci.md promises about the shipped workflows, checked on the YAML itself."""

from __future__ import annotations

import re

import pytest

from tests.ci.runner import load

SHIPPED = ("greenhouse-plan.yml", "greenhouse-apply.yml", "greenhouse-drift.yml")
PERMISSIONS = {
    "greenhouse-plan.yml": {"contents": "read", "pull-requests": "write"},
    "greenhouse-apply.yml": {"contents": "read", "actions": "read", "pull-requests": "write"},
    "greenhouse-drift.yml": {"contents": "read", "issues": "write"},
}


def secrets_used(workflow: str) -> set[str]:
    text = str(load(workflow))
    return set(re.findall(r"secrets\.([A-Z_]+)", text))


@pytest.mark.parametrize("workflow", SHIPPED)
def test_least_privilege_permissions(workflow: str) -> None:
    spec = load(workflow)
    assert spec["permissions"] == {}
    (job,) = spec["jobs"].values()
    assert job["permissions"] == PERMISSIONS[workflow]


def test_read_only_credentials_for_plan_and_drift_write_credentials_only_for_apply() -> None:
    read = {"GREENHOUSE_READ_CLIENT_ID", "GREENHOUSE_READ_CLIENT_SECRET"}
    assert secrets_used("greenhouse-plan.yml") == read
    assert secrets_used("greenhouse-drift.yml") == read
    assert secrets_used("greenhouse-apply.yml") == {"GREENHOUSE_WRITE_CLIENT_ID", "GREENHOUSE_WRITE_CLIENT_SECRET"}


@pytest.mark.parametrize("workflow", SHIPPED)
def test_no_expression_is_expanded_inside_a_script(workflow: str) -> None:
    (job,) = load(workflow)["jobs"].values()
    scripts = [step["run"] for step in job["steps"] if "run" in step]
    assert scripts and not [s for s in scripts if "${{" in s]


def test_applies_never_overlap_and_are_never_cancelled() -> None:
    (job,) = load("greenhouse-apply.yml")["jobs"].values()
    assert job["concurrency"] == {"group": "greenhouse-apply", "cancel-in-progress": False}
