"""Plan -> text | markdown | json. Pure: no I/O, no terminal detection (the CLI passes `color`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reconciler.plan import Change, Plan
from reconciler.resources.registry import REGISTRY
from reconciler.safety import limit_violations

SYMBOL = {"create": "+", "update": "~", "delete": "-", "replace": "-/+"}
COLOR = {"create": "green", "update": "yellow", "delete": "red", "replace": "magenta"}
_ANSI = {"green": "32", "yellow": "33", "red": "31", "magenta": "35", "bold": "1", "dim": "2"}


def _paint(color: bool) -> Callable[[str, str], str]:
    def paint(text: str, style: str) -> str:
        return f"\x1b[{_ANSI[style]}m{text}\x1b[0m" if color else text

    return paint


def show(value: Any) -> str:
    """A field value as a reader expects it: strings quoted, lists in brackets, null as null."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return str(value)


def summary_line(plan: Plan) -> str:
    s = plan.summary()
    return (
        f"Plan: {s['create']} to create, {s['update']} to update, {s['delete']} to delete, "
        f"{s['replace']} to replace. {s['unchanged']} unchanged, {s['unmanaged']} unmanaged."
    )


def requests_line(plan: Plan) -> str:
    """What apply sends: bulk requests by endpoint with their row counts, and the single writes."""
    by_endpoint: dict[str, list[int]] = {}
    for b in plan.bulk_requests:
        by_endpoint.setdefault(b.endpoint, []).append(len(b.changes))
    bulks = "; ".join(f"{e}: {len(rows)} x {_rows(rows)}" for e, rows in by_endpoint.items())
    singles = plan.request_count() - len(plan.bulk_requests)
    text = f"Apply sends {plan.request_count()} write request(s): {singles} single write(s)"
    return text + (f", {len(plan.bulk_requests)} bulk request(s) ({bulks})." if bulks else ".")


def _rows(rows: list[int]) -> str:
    return f"{rows[0]} rows" if len(set(rows)) == 1 else f"{min(rows)}-{max(rows)} rows"


def _grouped(plan: Plan) -> list[tuple[str, list[Change]]]:
    groups: dict[str, list[Change]] = {}
    for c in plan.changes:
        groups.setdefault(c.type, []).append(c)
    return [(t, groups[t]) for t in REGISTRY.views.types if t in groups]


def to_text(plan: Plan, *, color: bool = False) -> str:
    paint = _paint(color)
    lines: list[str] = []
    if not plan.changes:
        lines.append("No changes. The live organisation matches the manifests.")
    for type_, changes in _grouped(plan):
        lines.append(paint(f"{type_}:", "bold"))
        for c in changes:
            head = f"  {SYMBOL[c.action]} {c.action} {c.name}"
            if c.id is not None:
                head += f" (id {c.id})"
            if c.destructive:
                head += "  !! DESTRUCTIVE"
            lines.append(paint(head, COLOR[c.action]))
            for name, fc in c.fields.items():
                if c.action == "create":
                    lines.append(f"      {name}: {show(fc.after)}")
                elif c.action == "delete" and fc.after is None:
                    lines.append(f"      {name}: {show(fc.before)}")
                else:
                    lines.append(f"      {name}: {show(fc.before)} -> {show(fc.after)}")
            for reason in c.reasons:
                lines.append(paint(f"      # {reason}", "dim"))
    if plan.unmanaged:
        lines.append("")
        lines.append(paint(f"Unmanaged (live, in no manifest; left alone under prune: report): {len(plan.unmanaged)}", "bold"))
        for u in plan.unmanaged[:50]:
            lines.append(f"  ? {u.type} {u.name} (id {u.id})")
        if len(plan.unmanaged) > 50:
            lines.append(f"  ... and {len(plan.unmanaged) - 50} more (see --format json)")
    if plan.greenhouse_managed:
        lines.append("")
        lines.append(paint(f"Greenhouse-managed (made by Greenhouse itself; never changed by apply, not drift): "
                           f"{len(plan.greenhouse_managed)}", "bold"))
        for g in plan.greenhouse_managed[:50]:
            lines.append(f"  = {g.type} {g.name} (id {g.id}): {g.reason}")
        if len(plan.greenhouse_managed) > 50:
            lines.append(f"  ... and {len(plan.greenhouse_managed) - 50} more (see --format json)")
    for w in plan.warnings:
        lines.append(paint(f"Warning: {w}", "yellow"))
    destructive = plan.destructive()
    if destructive:
        lines.append(paint(f"{len(destructive)} destructive change(s): apply needs --allow-destructive.", "red"))
    for v in limit_violations(plan):
        lines.append(paint(f"Over the limits: {v}; apply needs --force.", "red"))
    lines.append("")
    if plan.changes:
        lines.append(requests_line(plan))
    lines.append(paint(summary_line(plan), "bold"))
    return "\n".join(lines) + "\n"


def to_markdown(plan: Plan) -> str:
    """A pull-request comment: a summary, a table per type, warnings and refusals called out."""
    lines = ["### greenhouse-reconciler plan", "", f"**{summary_line(plan)}**", ""]
    if plan.changes:
        lines += [requests_line(plan), ""]
    destructive = plan.destructive()
    if destructive:
        lines += [f"> :warning: **{len(destructive)} destructive change(s)**: apply needs `--allow-destructive`.", ""]
    for v in limit_violations(plan):
        lines += [f"> :no_entry: Over the limits: {v}; apply needs `--force`.", ""]
    for type_, changes in _grouped(plan):
        lines += [f"#### {type_}", "", "| | action | name | changes |", "|---|---|---|---|"]
        for c in changes:
            detail = "<br>".join(
                f"`{k}`: {_md(show(v.before))} → {_md(show(v.after))}" if c.action != "create" else f"`{k}`: {_md(show(v.after))}"
                for k, v in c.fields.items()
            )
            if c.reasons:
                detail += ("<br>" if detail else "") + "<br>".join(f"_{_md(r)}_" for r in c.reasons)
            flag = " **DESTRUCTIVE**" if c.destructive else ""
            lines.append(f"| `{SYMBOL[c.action]}` | {c.action}{flag} | {_md(c.name)} | {detail} |")
        lines.append("")
    if plan.unmanaged:
        lines += [f"<details><summary>{len(plan.unmanaged)} unmanaged live object(s)</summary>", ""]
        lines += [f"- {u.type} {_md(u.name)} (id {u.id})" for u in plan.unmanaged]
        lines += ["", "</details>", ""]
    if plan.greenhouse_managed:
        lines += [f"<details><summary>{len(plan.greenhouse_managed)} Greenhouse-managed live row(s) "
                  "(made by Greenhouse itself; never changed by apply)</summary>", ""]
        lines += [f"- {g.type} {_md(g.name)} (id {g.id}): {_md(g.reason)}" for g in plan.greenhouse_managed]
        lines += ["", "</details>", ""]
    for w in plan.warnings:
        lines.append(f"- :warning: {_md(w)}")
    return "\n".join(lines).rstrip() + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_json(plan: Plan) -> str:
    return plan.dumps()
