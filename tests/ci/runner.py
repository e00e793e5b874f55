"""Run a workflow job of .github/workflows the way GitHub Actions would, as far as these workflows need.

The workflow YAML itself is what runs: its `env:` blocks, `if:` conditions and `run:` scripts (with bash,
as a runner does, `bash -e`), in order, with GITHUB_OUTPUT, GITHUB_EVENT_PATH and the other variables a
runner sets. `uses:` steps are done by handlers the test passes (check out = copy the manifests; upload an
artifact = store it in the GitHub stand-in), and a step may be replaced by id (the pip install: the tool is
already installed here, as a `greenhouse-reconciler` shim on PATH). Expressions are evaluated by a small
evaluator that knows exactly what these workflows use and raises on anything else, so a workflow change it
does not understand fails the tests instead of being silently misread.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"


class Unsupported(Exception):
    """The workflow uses an expression or construct this runner does not know."""


# -- expressions ----------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(\|\||&&|==|!=|!|\(|\))|'((?:[^']|'')*)'|([0-9]+)|([A-Za-z_][A-Za-z0-9_.-]*))")


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise Unsupported(f"cannot read expression {text!r} at {pos}")
        pos = m.end()
        if m.group(1):
            out.append(("op", m.group(1)))
        elif m.group(2) is not None:
            out.append(("str", m.group(2).replace("''", "'")))
        elif m.group(3):
            out.append(("num", int(m.group(3))))
        else:
            out.append(("name", m.group(4)))
    return out


@dataclass
class Context:
    """What expressions can see."""

    vars: dict[str, str]
    secrets: dict[str, str]
    github: dict[str, Any]
    env: dict[str, str] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: bool = False

    def lookup(self, name: str) -> Any:
        head, _, rest = name.partition(".")
        roots: dict[str, Any] = {"vars": self.vars, "secrets": self.secrets, "github": self.github,
                                 "env": self.env, "steps": self.steps}
        if head not in roots:
            raise Unsupported(f"unknown context {head!r}")
        value: Any = roots[head]
        for part in rest.split(".") if rest else []:
            value = value.get(part) if isinstance(value, dict) else None
        if head in ("vars", "secrets") and value is None:
            return ""
        return value


def evaluate(text: str, ctx: Context) -> Any:
    tokens = _tokens(text)
    pos = 0

    def peek() -> tuple[str, Any] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> tuple[str, Any]:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def primary() -> Any:
        kind, value = take()
        if kind in ("str", "num"):
            return value
        if kind == "op" and value == "(":
            result = disjunction()
            if take() != ("op", ")"):
                raise Unsupported(f"unbalanced parentheses in {text!r}")
            return result
        if kind == "op" and value == "!":
            return not truthy(primary())
        if kind == "name":
            if peek() == ("op", "("):
                take()
                if take() != ("op", ")"):
                    raise Unsupported(f"functions with arguments are not supported: {text!r}")
                functions = {"always": True, "success": not ctx.failed, "failure": ctx.failed, "cancelled": False}
                if value not in functions:
                    raise Unsupported(f"unknown function {value}()")
                return functions[value]
            return ctx.lookup(value)
        raise Unsupported(f"unexpected {value!r} in {text!r}")

    def comparison() -> Any:
        left = primary()
        token = peek()
        if token in (("op", "=="), ("op", "!=")):
            take()
            right = primary()
            same = _loose(left) == _loose(right)
            return same if token == ("op", "==") else not same
        return left

    def conjunction() -> Any:
        left = comparison()
        while peek() == ("op", "&&"):
            take()
            right = comparison()
            left = right if truthy(left) else left
        return left

    def disjunction() -> Any:
        left = conjunction()
        while peek() == ("op", "||"):
            take()
            right = conjunction()
            left = left if truthy(left) else right
        return left

    result = disjunction()
    if pos != len(tokens):
        raise Unsupported(f"trailing tokens in {text!r}")
    return result


def _loose(value: Any) -> Any:
    """GitHub compares strings case-insensitively, and null equals ''."""
    if value is None:
        return ""
    return value.lower() if isinstance(value, str) else value


def truthy(value: Any) -> bool:
    return value not in (None, "", 0, False)


def interpolate(text: str, ctx: Context) -> str:
    def one(m: re.Match[str]) -> str:
        value = evaluate(m.group(1), ctx)
        return "" if value is None else str(value)

    return re.sub(r"\$\{\{(.*?)\}\}", one, text)


def condition(text: Any, ctx: Context, *, default: str = "success()") -> bool:
    expression = str(text) if text is not None else default
    expression = expression.strip()
    if expression.startswith("${{") and expression.endswith("}}"):
        expression = expression[3:-2]
    if not re.search(r"\b(always|success|failure|cancelled)\(\)", expression):
        expression = f"success() && ({expression})"  # GitHub adds success() when none is named
    return truthy(evaluate(expression, ctx))


# -- jobs -----------------------------------------------------------------------------------------------------


@dataclass
class StepResult:
    name: str
    outcome: str  # success, failure, skipped
    stdout: str = ""
    stderr: str = ""


@dataclass
class JobResult:
    skipped: bool
    steps: list[StepResult]

    @property
    def succeeded(self) -> bool:
        return not self.skipped and all(s.outcome != "failure" for s in self.steps)

    def step(self, name: str) -> StepResult:
        return next(s for s in self.steps if s.name == name)


Handler = Callable[[dict[str, Any], dict[str, str]], None]
"""A `uses:` (or replaced) step: gets the step (with `with:` interpolated) and its environment; raises to fail."""


def load(workflow: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((WORKFLOWS / workflow).read_text())
    return data


def run_job(workflow: str, job: str, ctx: Context, workdir: Path, *, uses: Mapping[str, Handler],
            replace: Mapping[str, Handler], base_env: Mapping[str, str], event: dict[str, Any]) -> JobResult:
    spec = load(workflow)
    job_spec = spec["jobs"][job]
    if "if" in job_spec and not condition(job_spec["if"], ctx):
        return JobResult(True, [])
    (workdir / ".github-event.json").write_text(json.dumps(event))
    env: dict[str, str] = dict(base_env)
    env.update({"GITHUB_EVENT_PATH": str(workdir / ".github-event.json"), "GITHUB_WORKSPACE": str(workdir),
                "CI": "true", "GITHUB_ACTIONS": "true"})
    for block in (spec.get("env") or {}, job_spec.get("env") or {}):
        for key, value in block.items():
            env[key] = interpolate(_text(value), ctx)
    ctx.env = dict(env)
    results: list[StepResult] = []
    for index, step in enumerate(job_spec["steps"]):
        name = step.get("name") or step.get("uses") or f"step {index}"
        step_id = step.get("id")
        if not condition(step.get("if"), ctx):
            results.append(StepResult(name, "skipped"))
            if step_id:
                ctx.steps[step_id] = {"outcome": "skipped", "conclusion": "skipped", "outputs": {}}
            continue
        step_env = dict(env)
        for key, value in (step.get("env") or {}).items():
            step_env[key] = interpolate(_text(value), ctx)
        output_file = workdir / f".github-output-{index}"
        output_file.write_text("")
        step_env["GITHUB_OUTPUT"] = str(output_file)
        result = StepResult(name, "success")
        try:
            if step_id in replace:
                replace[step_id](step, step_env)
            elif "uses" in step:
                action = str(step["uses"]).split("@", 1)[0]
                if action not in uses:
                    raise Unsupported(f"no handler for action {action!r}")
                with_ = {k: interpolate(_text(v), ctx) for k, v in (step.get("with") or {}).items()}
                uses[action]({**step, "with": with_}, step_env)
            else:
                script = workdir / f".github-step-{index}.sh"
                script.write_text(interpolate(str(step["run"]), ctx))
                proc = subprocess.run(["bash", "-e", str(script)], cwd=workdir, env=step_env, capture_output=True,
                                      text=True, timeout=300)
                result.stdout, result.stderr = proc.stdout, proc.stderr
                if proc.returncode != 0:
                    result.outcome = "failure"
        except Unsupported:
            raise
        except Exception as e:  # a handler's refusal fails the step, as an action's error would
            result.outcome, result.stderr = "failure", f"{type(e).__name__}: {e}"
        outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
        if step_id:
            ctx.steps[step_id] = {"outcome": result.outcome, "conclusion": result.outcome, "outputs": outputs}
        if result.outcome == "failure":
            ctx.failed = True
        results.append(result)
    return JobResult(False, results)


def _text(value: Any) -> str:
    """An input as the runner passes it: a string (YAML booleans as `true`/`false`)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def shim(bin_dir: Path) -> Path:
    """A `greenhouse-reconciler` on PATH: the console script of this environment (so the program name, and
    with it shell completion, is the installed one), or this interpreter's `-m reconciler` without it."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "greenhouse-reconciler"
    installed = Path(sys.executable).parent / "greenhouse-reconciler"
    target = f'"{installed}"' if installed.exists() else f'"{sys.executable}" -m reconciler'
    script.write_text(f'#!/bin/sh\nexec {target} "$@"\n')
    script.chmod(0o755)
    return bin_dir


def base_environment(bin_dir: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")}
    return {**keep, "PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin", "PYTHONPATH": str(ROOT)}
