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


def _install_step(workflow: str) -> dict[str, object]:
    (job,) = load(workflow)["jobs"].values()
    (step,) = [s for s in job["steps"] if s.get("id") == "install"]
    return dict(step)


@pytest.mark.parametrize("workflow", SHIPPED)
def test_the_install_spec_has_no_default_and_an_unset_one_stops_the_job(workflow: str) -> None:
    """The package is not on PyPI: a default bare name would install whatever is published under it, with the
    job's credentials. The step's SPEC is the variable alone, and the script refuses to run without it."""
    import subprocess

    step = _install_step(workflow)
    env = step["env"]
    assert isinstance(env, dict)
    assert env["SPEC"] == "${{ vars.GREENHOUSE_RECONCILER_SPEC }}"
    proc = subprocess.run(["bash", "-e", "-c", str(step["run"])], env={"SPEC": "", "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout.startswith("::error title=greenhouse-reconciler::set the repository variable "
                                  "GREENHOUSE_RECONCILER_SPEC")
