"""Adoption basics: the version in one place, the pre-commit hook, shell completion, the licence file."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import reconciler
from reconciler.cli import cli

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reconciler", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=env)


def test_the_version_comes_from_pyproject_through_the_installed_metadata() -> None:
    assert reconciler.__version__ == PYPROJECT["project"]["version"]
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"greenhouse-reconciler, version {PYPROJECT['project']['version']}"


def test_the_version_is_written_nowhere_else_in_the_package() -> None:
    version = PYPROJECT["project"]["version"]
    hits = [str(p) for p in (ROOT / "reconciler").rglob("*.py") if f'"{version}"' in p.read_text()]
    assert hits == []


def test_an_uninstalled_tree_says_its_version_is_unknown(tmp_path: Path) -> None:
    code = ("import importlib.metadata as m\n"
            "def missing(name): raise m.PackageNotFoundError(name)\n"
            "m.version = missing\n"
            "import reconciler; print(reconciler.__version__)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == reconciler.UNKNOWN_VERSION


def hooks() -> list[dict[str, object]]:
    data = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(data, list)
    return data


def test_the_pre_commit_hook_names_a_real_command_and_checks_the_whole_folder() -> None:
    (hook,) = hooks()
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    assert re.search(str(hook["files"]), "org/users.yaml") and re.search(str(hook["files"]), "a.yml")
    assert not re.search(str(hook["files"]), "README.md")
    program, *words = shlex.split(str(hook["entry"]))
    assert program in PYPROJECT["project"]["scripts"]  # the console script pip installs for the hook
    assert words == ["validate"] and "validate" in cli.commands  # type: ignore[attr-defined]


def test_the_pre_commit_hook_entry_validates_the_examples_and_fails_on_a_bad_manifest(tmp_path: Path) -> None:
    (hook,) = hooks()
    _, *words = shlex.split(str(hook["entry"]))
    assert run(*words, "examples/").returncode == 0
    (tmp_path / "bad.yaml").write_text("departments:\n  - name: [1]\n")
    failed = run(*words, str(tmp_path))
    assert failed.returncode == 1 and "bad.yaml:2" in failed.stderr


@pytest.mark.parametrize(("shell", "needle"), [("bash", "complete -o nosort -F"), ("zsh", "compdef"),
                                               ("fish", "complete --no-files --command greenhouse-reconciler")])
def test_shell_completion_scripts_are_produced(shell: str, needle: str) -> None:
    env = {**os.environ, "_GREENHOUSE_RECONCILER_COMPLETE": f"{shell}_source"}
    proc = subprocess.run([str(Path(sys.executable).parent / "greenhouse-reconciler")], capture_output=True,
                          text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    assert needle in proc.stdout and "_GREENHOUSE_RECONCILER_COMPLETE" in proc.stdout


def test_completion_completes_commands() -> None:
    env = {**os.environ, "_GREENHOUSE_RECONCILER_COMPLETE": "bash_complete", "COMP_WORDS": "greenhouse-reconciler va",
           "COMP_CWORD": "1"}
    proc = subprocess.run([str(Path(sys.executable).parent / "greenhouse-reconciler")], capture_output=True,
                          text=True, timeout=60, env=env)
    assert proc.returncode == 0 and "plain,validate" in proc.stdout.splitlines()


def test_the_licence_is_the_full_apache_2_text() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert text.lstrip().startswith("Apache License\n                           Version 2.0, January 2004")
    for heading in ("TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION", "1. Definitions.",
                    "4. Redistribution.", "9. Accepting Warranty or Additional Liability.", "END OF TERMS AND CONDITIONS",
                    "APPENDIX: How to apply the Apache License to your work."):
        assert heading in text
    assert len(text.split()) > 1500  # the whole text (about 1,580 words), not a stub pointing to it


@pytest.mark.parametrize("name", ["pr-comment", "reviewed-plan", "pr-notice", "drift-issue"])
def test_each_github_subcommand_help_has_an_example(name: str) -> None:
    proc = run("github", name, "--help")
    assert proc.returncode == 0
    assert "Example" in proc.stdout and f"greenhouse-reconciler github {name}" in proc.stdout
