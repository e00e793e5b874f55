"""Plan -> text | markdown | json. Pure: no I/O, no terminal detection (the CLI passes `color`).

Both human renderings share one rule for which field lines carry information (`field_lines`): a field
whose before and after are both null says nothing; a create shows what it creates and a delete what it
deletes, once (never `x -> null`, never a value that only repeats the change's name).

Text (`to_text`) is for a terminal: Terraform-like symbols and one summary line. A name that would hide a
difference (leading/trailing or doubled spaces, control or format characters, a form that is not Unicode
NFC) is shown JSON-quoted with escapes (`"Cafe\u0301"`, `"Referral "`); values are always JSON-quoted the
same way (`show`).

Neither rendering says the organisation matches the manifests while a warning says part of them cannot be
reached (`Plan.unreachable`): those warnings are marked, and the plan counts as drift (`Plan.drifted`).

Markdown (`to_markdown`) is a pull-request comment, with these contracts:

* Nothing in the plan can form Markdown or HTML syntax: every name, value, reason and warning passes
  through `escape_markdown`. The only tags are the renderer's own (`details`, `summary`, `br` and one
  HTML comment carrying the manifest digest).
* It fits a GitHub comment (at most 65,536 characters) whatever the plan: when the full rendering exceeds
  `budget` characters, the largest sections are summarised (their counts stay, only their first rows are
  listed, and a line points to the JSON plan) until it fits. A section is summarised whole, so no table or
  tag is ever cut. Single values are clipped to `VALUE_CHARS` characters and a user's permission lines to
  `CELL_LINES`, so the most summarised form is a few kilobytes and the default budget always holds.
* Destructive changes, limit violations (refusals of apply) and warnings come first, in sections that are
  always open; every other change sits in a collapsed section per resource type, with its counts.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.plan import ACTIONS, Change, Plan
from reconciler.resources.registry import REGISTRY
from reconciler.safety import limit_violations

SYMBOL = {"create": "+", "update": "~", "delete": "-", "replace": "-/+"}
COLOR = {"create": "green", "update": "yellow", "delete": "red", "replace": "magenta"}
_ANSI = {"green": "32", "yellow": "33", "red": "31", "magenta": "35", "bold": "1", "dim": "2"}

#: GitHub refuses a pull-request comment longer than this many characters.
GITHUB_COMMENT_LIMIT = 65_536
#: The default size of a Markdown plan, in characters: under GITHUB_COMMENT_LIMIT with room for a CI
#: workflow to wrap the comment in a few lines of its own.
MARKDOWN_BUDGET = 60_000
#: Rows a summarised section keeps, tried in this order until the comment fits (0: counts only).
SUMMARY_ROWS = (25, 5, 0)
#: The longest name or value shown, in characters of the plan's text (before escaping).
VALUE_CHARS = 200
#: The most permission lines shown for one user in one section; the rest are counted.
CELL_LINES = 50
#: Where every change is when the comment does not list it.
JSON_PLAN_HINT = "the JSON plan artifact (`greenhouse-reconciler plan --out plan.json`)"


# -- characters ---------------------------------------------------------------------------------------


def _invisible(ch: str) -> bool:
    """Characters that do not show as themselves: controls, format characters (bidi overrides,
    zero-width spaces), line/paragraph separators, spaces other than U+0020, lone surrogates."""
    category = unicodedata.category(ch)
    return category in ("Cc", "Cf", "Zl", "Zp", "Cs") or (category == "Zs" and ch != " ")


def _json_escape(ch: str) -> str:
    """One character as a JSON string escape (`\\n`, `\\u202e`)."""
    return json.dumps(ch)[1:-1]


def _decomposed(text: str) -> bool:
    """True when `text` is not in Unicode NFC: a combining mark that a composed character would replace
    (`Cafe\u0301`), which shows exactly like the composed form (`Café`) but is another name."""
    return not text.isascii() and not unicodedata.is_normalized("NFC", text)


def _hidden(ch: str, decomposed: bool) -> bool:
    """Whether `ch` must be escaped to show: invisible, or a combining mark of a text that is not NFC."""
    return _invisible(ch) or (decomposed and unicodedata.category(ch).startswith("M"))


def _visible(text: str) -> str:
    """`text` (prose, or JSON text) with its invisible characters, and the combining marks of a text that is
    not NFC, as JSON escapes (`\u0301`); JSON stays valid JSON."""
    decomposed = _decomposed(text)
    if text.isprintable() and not decomposed:  # fast path: nothing invisible, and NFC
        return text
    return "".join(_json_escape(c) if _hidden(c, decomposed) else c for c in text)


def _json_string(text: str) -> str:
    """`text` as a JSON string that shows every character: invisible ones as escapes."""
    return _visible(json.dumps(text, ensure_ascii=False))


def _plain(text: str) -> bool:
    """True when `text` shows as itself unquoted: non-empty, no edge or doubled spaces, nothing invisible."""
    return (bool(text) and text == text.strip() and "  " not in text and not any(_invisible(c) for c in text)
            and not _decomposed(text))


def _clip(text: str, limit: int = VALUE_CHARS) -> str:
    """At most `limit` characters of `text`, marked when some were left out."""
    return text if len(text) <= limit else f"{text[:limit]}… (clipped)"


def _preview(value: Any, limit: int = VALUE_CHARS) -> Any:
    """A value that shows the same first `limit` characters as `value`, cheaply: strings and lists cut
    just past `limit` (so `_clip` still marks them), so a huge value is never escaped whole."""
    if isinstance(value, str):
        return value[: limit + 1]
    if isinstance(value, list):
        out, length = [], 0
        for v in value:
            if length > limit:
                break
            out.append(_preview(v, limit - length))
            length += len(show(out[-1])) + 2
        return out
    return value


_HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
#: Markdown punctuation that can open or close syntax inline (emphasis, code, links, images, headings,
#: tables, strikethrough, emoji shortcodes and autolink schemes, math); `>` and `<` are entities above.
_MD_PUNCTUATION = frozenset("\\`*_[]()#|!~:$")
_WORD = re.compile(r"\w")


def escape_markdown(text: str) -> str:
    """`text` as Markdown that renders as exactly this text, on one line, in any inline context.

    HTML specials become entities (`&`, `<`, `>`, `"`); Markdown punctuation is backslash-escaped; an `@`
    that could start a GitHub mention is put in a code span (a mention notifies people and teams); a line
    break shows as `↵`, other control characters as their Unicode control pictures (`␉`, `␛`), any other
    invisible character, and the combining marks of a text that is not NFC (`Cafe⟨U+0301⟩`), as `⟨U+XXXX⟩`,
    and spaces that HTML would collapse or a table cell would trim
    (leading, trailing, doubled) as `␠`. Not for code spans or raw HTML blocks (there escapes show).
    """
    out: list[str] = []
    last = len(text) - 1
    decomposed = _decomposed(text)
    for i, ch in enumerate(text):
        if ch in _HTML_ENTITIES:
            out.append(_HTML_ENTITIES[ch])
        elif ch in _MD_PUNCTUATION:
            out.append("\\" + ch)
        elif ch == "@":
            out.append("`@`" if i == 0 or not _WORD.match(text[i - 1]) else "@")
        elif ch == " ":
            edge = i == 0 or i == last or text[i - 1] == " " or text[i + 1] == " "
            out.append("␠" if edge else " ")
        elif ch == "\n":
            out.append("↵")
        elif ord(ch) < 0x20:
            out.append(chr(0x2400 + ord(ch)))
        elif ch == "\x7f":
            out.append("␡")
        elif _hidden(ch, decomposed):
            out.append(f"⟨U+{ord(ch):04X}⟩")
        else:
            out.append(ch)
    return "".join(out)


_IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def _ident(name: str) -> str:
    """A resource type or field name: left as is when it is a snake_case identifier (intraword `_` forms
    no emphasis in GitHub Markdown, and tests and readers search for the plain word), escaped otherwise."""
    return name if _IDENTIFIER.fullmatch(name) else escape_markdown(name)


#: The longest warning shown, in characters: a warning names both objects and says what to do, so it is
#: longer than a value.
WARNING_CHARS = 1000


def _warning(text: str) -> str:
    """A warning, clipped at WARNING_CHARS and escaped for Markdown."""
    return escape_markdown(_clip(text, WARNING_CHARS))


def _md(text: str) -> str:
    """A name, value or sentence from the plan, clipped and escaped for Markdown."""
    return escape_markdown(_clip(text))


# -- shared by text and Markdown ------------------------------------------------------------------------


def _paint(color: bool) -> Callable[[str, str], str]:
    def paint(text: str, style: str) -> str:
        return f"\x1b[{_ANSI[style]}m{text}\x1b[0m" if color else text

    return paint


def show(value: Any) -> str:
    """A field value as a reader expects it: strings JSON-quoted (invisible characters escaped), lists in
    brackets, null as null, objects as JSON."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return _visible(json.dumps(value, ensure_ascii=False, sort_keys=True))
    return str(value)


def show_name(name: str) -> str:
    """A change or object name for the text rendering: as is, or JSON-quoted when as is would hide
    something (edge or doubled spaces, control and format characters, emptiness)."""
    return name if _plain(name) else _json_string(name)


@dataclass(frozen=True)
class FieldLine:
    """One field line worth showing: `before -> after`, or one value (`value`) for creates and deletes."""

    name: str
    value: Any = None
    before: Any = None
    after: Any = None
    diff: bool = False


def field_lines(change: Change) -> list[FieldLine]:
    """The field lines of a change that carry information (see the module docstring)."""
    out: list[FieldLine] = []
    for name, fc in change.fields.items():
        if fc.before is None and fc.after is None:
            continue
        if change.action == "create" and fc.before is None:
            if fc.after != change.name:
                out.append(FieldLine(name, value=fc.after))
        elif change.action == "delete" and fc.after is None:
            if fc.before != change.name:
                out.append(FieldLine(name, value=fc.before))
        else:
            out.append(FieldLine(name, before=fc.before, after=fc.after, diff=True))
    return out


def summary_line(plan: Plan) -> str:
    s = plan.summary()
    return (
        f"Plan: {s['create']} to create, {s['update']} to update, {s['delete']} to delete, "
        f"{s['replace']} to replace. {s['unchanged']} unchanged, {s['unmanaged']} unmanaged."
    )


def no_changes_line(plan: Plan) -> str:
    """What a plan without changes says: that the organisation matches the manifests, unless a warning says
    part of them cannot be reached."""
    if not plan.unreachable:
        return "No changes. The live organisation matches the manifests."
    return (f"No changes can be planned, but {len(plan.unreachable)} warning(s) say part of the manifests cannot "
            "be reached: the live organisation does not match them (drift).")


#: The titles of the two kinds of live objects left alone.
UNMANAGED_TITLE = "Unmanaged (live, in no manifest; left alone under prune: report)"
PROTECTED_TITLE = "Protected (live, in no manifest; kept by policy.protect from a delete the plan would make)"


def _unmanaged_groups(plan: Plan) -> list[tuple[str, list[Any]]]:
    """The live objects left alone, as (title, objects): unmanaged ones, then protected ones (none: left out)."""
    groups = [(UNMANAGED_TITLE, [u for u in plan.unmanaged if not u.protected]),
              (PROTECTED_TITLE, [u for u in plan.unmanaged if u.protected])]
    return [(title, listed) for title, listed in groups if listed]


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


def _grouped(changes: Iterable[Change]) -> list[tuple[str, list[Change]]]:
    groups: dict[str, list[Change]] = {}
    for c in changes:
        groups.setdefault(c.type, []).append(c)
    known = [(t, groups.pop(t)) for t in REGISTRY.views.types if t in groups]
    return known + sorted(groups.items())  # a type the registry does not know (an old saved plan) last


# -- text ------------------------------------------------------------------------------------------------


def to_text(plan: Plan, *, color: bool = False) -> str:
    paint = _paint(color)
    lines: list[str] = []
    if not plan.changes:
        lines.append(no_changes_line(plan))
    for type_, changes in _grouped(plan.changes):
        lines.append(paint(f"{type_}:", "bold"))
        for c in changes:
            head = f"  {SYMBOL[c.action]} {c.action} {show_name(c.name)}"
            if c.id is not None:
                head += f" (id {c.id})"
            if c.destructive:
                head += "  !! DESTRUCTIVE"
            lines.append(paint(head, COLOR[c.action]))
            for f in field_lines(c):
                shown = f"{show(f.before)} -> {show(f.after)}" if f.diff else show(f.value)
                lines.append(f"      {show_name(f.name)}: {shown}")
            for reason in c.reasons:
                lines.append(paint(f"      # {_visible(reason)}", "dim"))
    for title, listed in _unmanaged_groups(plan):
        lines.append("")
        lines.append(paint(f"{title}: {len(listed)}", "bold"))
        for u in listed[:50]:
            lines.append(f"  ? {u.type} {show_name(u.name)} (id {u.id})")
        if len(listed) > 50:
            lines.append(f"  ... and {len(listed) - 50} more (see --format json)")
    if plan.greenhouse_managed:
        lines.append("")
        lines.append(paint(f"Greenhouse-managed (made by Greenhouse itself; never changed by apply, not drift): "
                           f"{len(plan.greenhouse_managed)}", "bold"))
        for g in plan.greenhouse_managed[:50]:
            lines.append(f"  = {g.type} {show_name(g.name)} (id {g.id}): {_visible(g.reason)}")
        if len(plan.greenhouse_managed) > 50:
            lines.append(f"  ... and {len(plan.greenhouse_managed) - 50} more (see --format json)")
    unreachable = set(plan.unreachable)
    for w in plan.warnings:
        label = "Warning (not reachable, drift)" if w in unreachable else "Warning"
        lines.append(paint(f"{label}: {_visible(w)}", "yellow"))
    destructive = plan.destructive()
    if destructive:
        lines.append(paint(f"{len(destructive)} destructive change(s): apply needs --allow-destructive.", "red"))
    for v in limit_violations(plan):
        lines.append(paint(f"Over the limits: {_visible(v)}; apply needs --force.", "red"))
    lines.append("")
    if plan.changes:
        lines.append(requests_line(plan))
    lines.append(paint(summary_line(plan), "bold"))
    return "\n".join(lines) + "\n"


# -- Markdown: sections ------------------------------------------------------------------------------------


class _Notes:
    """Reasons shared by several rows of a section, numbered by first appearance; the others go inline.

    Numbering by first appearance means the rows before any point reference exactly notes 1..n, so a
    summarised section (its first rows) lists a prefix of the notes.
    """

    def __init__(self, changes: Sequence[Change]) -> None:
        seen: dict[str, int] = {}
        for c in changes:
            for r in dict.fromkeys(c.reasons):
                seen[r] = seen.get(r, 0) + 1
        self.shared = {r for r, n in seen.items() if n > 1}
        self.numbers: dict[str, int] = {}

    def refer(self, reasons: Sequence[str]) -> tuple[list[str], list[int]]:
        """(inline reasons, note numbers) for one change."""
        inline, numbers = [], []
        for r in dict.fromkeys(reasons):
            if r in self.shared:
                numbers.append(self.numbers.setdefault(r, len(self.numbers) + 1))
            else:
                inline.append(r)
        return inline, numbers

    def text(self) -> list[str]:
        return list(self.numbers)


def _note_refs(numbers: Sequence[int]) -> str:
    return f" (note {', '.join(map(str, numbers))})" if numbers else ""


@dataclass
class _Section:
    """One `<details>` section: a fixed part and rows that summarising may leave out.

    `rows[i]` is one table row (or list item) and `notes_needed[i]` how many notes rows[:i+1] refer to.
    """

    summary: str  # plain text (HTML-escaped when rendered): the section's title and counts
    open: bool
    intro: list[str] = field(default_factory=list)
    header: tuple[str, str] | None = None  # table header and delimiter rows; None: rows are list items
    rows: list[str] = field(default_factory=list)
    notes_needed: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    noun: str = "change(s)"  # what a row is, for "the first 25 of 5000 change(s)"
    counted: str = ""  # the counts by action, repeated when the section is summarised

    def limits(self) -> list[int | None]:
        """The row limits this section can be rendered at, from whole (None) to most summarised."""
        return [None, *[n for n in SUMMARY_ROWS if n < len(self.rows)]]

    def render(self, limit: int | None) -> str:
        shown = self.rows if limit is None else self.rows[:limit]
        attribute = " open" if self.open else ""
        lines = [f"<details{attribute}><summary>{html.escape(self.summary)}</summary>", ""]
        if self.intro:
            lines += [*self.intro, ""]
        if limit is not None:
            counted = f" ({self.counted})" if self.counted else ""
            if shown:
                lines.append(f"Summarised to keep this comment under GitHub's size limit: the first {len(shown)} "
                             f"of {len(self.rows)} {self.noun}{counted} are listed; every one is in {JSON_PLAN_HINT}.")
            else:
                lines.append(f"Summarised to keep this comment under GitHub's size limit: {len(self.rows)} "
                             f"{self.noun}{counted}, not listed here; every one is in {JSON_PLAN_HINT}.")
            lines.append("")
        if shown:
            lines += [*(self.header or ()), *shown, ""]
        needed = self.notes_needed[len(shown) - 1] if shown else 0
        if needed:
            lines += ["Notes:", "", *(f"{i}. {_md(n)}" for i, n in enumerate(self.notes[:needed], 1)), ""]
        lines += ["</details>", ""]
        return "\n".join(lines) + "\n"


def _counts(changes: Sequence[Change]) -> str:
    tally = {a: 0 for a in ACTIONS}
    for c in changes:
        tally[c.action] += 1
    return ", ".join(f"{n} {a}" for a, n in tally.items() if n)


def _id(c: Change) -> str:
    return "new" if c.id is None else str(c.id)


def _value(value: Any) -> str:
    return escape_markdown(_clip(show(_preview(value))))


def _field_cell(c: Change) -> list[str]:
    out = []
    for f in field_lines(c):
        value = f"{_value(f.before)} → {_value(f.after)}" if f.diff else _value(f.value)
        out.append(f"`{f.name}`: {value}" if _IDENTIFIER.fullmatch(f.name) else f"{_md(f.name)}: {value}")
    return out


def _change_row(c: Change, notes: _Notes, *, with_type: bool) -> str:
    inline, numbers = notes.refer(c.reasons)
    detail = _field_cell(c) + [f"_{_md(r)}_" for r in inline]
    cell = "<br>".join(detail) + _note_refs(numbers)
    flag = " **DESTRUCTIVE**" if c.destructive else ""
    type_ = f" {_ident(c.type)} |" if with_type else ""
    return f"| `{SYMBOL[c.action]}` | {c.action}{flag} |{type_} {_md(c.name)} | {_id(c)} | {cell.strip()} |"


def _rows_section(section: _Section, changes: Sequence[Change], row: Callable[[Change, _Notes], str]) -> _Section:
    notes = _Notes(changes)
    for c in changes:
        section.rows.append(row(c, notes))
        section.notes_needed.append(len(notes.numbers))
    section.notes = notes.text()
    return section


def _owner_line(c: Change, rest: str, notes: _Notes) -> str:
    """One change in a user's row: `+ **REQ-1001** Standard`, `- **REQ-0900** Private (id 9)`,
    `~ **REQ-1004** Hiring Manager → Standard (id 501)`.

    The name (less the user) says what the change is about; a change with a single field shows that
    field's value after it (a grant's role). A create or delete with several fields shows its name alone,
    since such a name states them (a future grant's "Standard on future jobs in Engineering"; the JSON plan
    has every field); an update with several shows its field lines.
    """
    inline, numbers = notes.refer(c.reasons)
    shown = field_lines(c)
    if len(shown) == 1:
        f = shown[0]
        value = f"{_text_value(f.before)} → {_text_value(f.after)}" if f.diff else _text_value(f.value)
        what = f"**{_md(rest)}** {value}"
    elif c.action == "update":
        what = "<br>".join([_md(rest), *_field_cell(c)])
    else:
        what = _md(rest)
    refs = ([f"id {c.id}"] if c.id is not None else []) + ([f"note {', '.join(map(str, numbers))}"] if numbers else [])
    line = f"`{SYMBOL[c.action]}` {what}" + (f" ({', '.join(refs)})" if refs else "")
    return "<br>".join([line, *(f"_{_md(r)}_" for r in inline)])


def _text_value(value: Any) -> str:
    """A value as plain words where it is a string (a role name), else as `show` writes it; escaped."""
    return _md(value) if isinstance(value, str) and _plain(value) else _value(value)


def _owners(changes: Sequence[Change]) -> list[tuple[str, list[tuple[Change, str]]]] | None:
    """The changes by owner, in the order the plan first names each, when their type declares an owner
    (`ResourceType.owner_separator`, e.g. a user's grants) and every name has one; None otherwise."""
    types = REGISTRY.views.resource_types
    by_owner: dict[str, list[tuple[Change, str]]] = {}
    for c in changes:
        declared = types.get(c.type)
        separator = declared.owner_separator if declared is not None else None
        if not separator or separator not in c.name:
            return None
        owner, rest = c.name.split(separator, 1)
        by_owner.setdefault(owner, []).append((c, rest))
    return list(by_owner.items())


def _owner_section(section: _Section, owners: list[tuple[str, list[tuple[Change, str]]]]) -> _Section:
    """One row per user, one line per change (at most CELL_LINES; the rest counted)."""
    notes = _Notes([c for _, items in owners for c, _ in items])
    for user, items in owners:
        lines = [_owner_line(c, rest, notes) for c, rest in items[:CELL_LINES]]
        if len(items) > CELL_LINES:
            lines.append(f"… and {len(items) - CELL_LINES} more for this user, in {JSON_PLAN_HINT}")
        section.rows.append(f"| {_md(user)} | {'<br>'.join(lines)} |")
        section.notes_needed.append(len(notes.numbers))
    section.notes = notes.text()
    section.header = ("| user | changes |", "|---|---|")
    section.noun = "user(s)"
    return section


def _attention(destructive: Sequence[Change], violations: Sequence[str]) -> _Section | None:
    """The always-open section of what apply refuses: limit violations (--force) and destructive changes
    (--allow-destructive, each listed here rather than in its type's section)."""
    if not destructive and not violations:
        return None
    parts = [f"{len(destructive)} destructive change(s)"] if destructive else []
    parts += [f"{len(violations)} limit(s) exceeded"] if violations else []
    intro: list[str] = []
    for v in violations:
        intro += [f"> :no_entry: Over the limits: {_md(v)}; apply needs `--force`.", ""]
    if destructive:
        intro.append(f"> :warning: **{len(destructive)} destructive change(s)**: apply needs `--allow-destructive`.")
    section = _Section(f"Needs attention: {', '.join(parts)}", open=True, intro=intro[:-1] if intro[-1] == "" else intro,
                       header=("| | action | type | name | id | changes |", "|---|---|---|---|---|---|"),
                       counted=_counts(destructive))
    return _rows_section(section, destructive, lambda c, notes: _change_row(c, notes, with_type=True))


def _sections(plan: Plan) -> list[_Section]:
    destructive = plan.destructive()
    attention = _attention(destructive, limit_violations(plan))
    sections = [attention] if attention is not None else []
    if plan.warnings:
        unreachable = set(plan.unreachable)
        rows = [f"- :warning: **not reachable (drift):** {_warning(w)}" if w in unreachable else f"- :warning: {_warning(w)}"
                for w in plan.warnings]
        sections.append(_Section(f"Warnings: {len(plan.warnings)}", open=True, noun="warning(s)",
                                 rows=rows, notes_needed=[0] * len(plan.warnings)))
    for type_, changes in _grouped(plan.changes):
        listed = [c for c in changes if not c.destructive]
        moved = len(changes) - len(listed)
        summary = f"{type_} · {len(changes)} change(s): {_counts(changes)}"
        intro = [f"{moved} destructive change(s) of this type are listed under Needs attention, above."] if moved else []
        section = _Section(summary, open=False, intro=intro, counted=_counts(listed))
        owners = _owners(listed) if listed else None
        if owners is not None:
            sections.append(_owner_section(section, owners))
        else:
            section.header = ("| | action | name | id | changes |", "|---|---|---|---|---|")
            sections.append(_rows_section(section, listed, lambda c, notes: _change_row(c, notes, with_type=False)))
    for title, listed in _unmanaged_groups(plan):
        rows = [f"- {_ident(u.type)} {_md(u.name)} (id {u.id})" for u in listed]
        what = "unmanaged live object(s)" if title == UNMANAGED_TITLE else "protected live object(s), kept by policy.protect"
        sections.append(_Section(f"{len(listed)} {what}", open=False, rows=rows,
                                 notes_needed=[0] * len(rows), noun="object(s)"))
    if plan.greenhouse_managed:
        rows = [f"- {_ident(g.type)} {_md(g.name)} (id {g.id}): {_md(g.reason)}" for g in plan.greenhouse_managed]
        sections.append(_Section(f"{len(plan.greenhouse_managed)} Greenhouse-managed live row(s) (made by Greenhouse "
                                 "itself; never changed by apply)", open=False, rows=rows,
                                 notes_needed=[0] * len(rows), noun="row(s)"))
    return sections


# -- Markdown: the comment ------------------------------------------------------------------------------------

_HEX = re.compile(r"[0-9a-f]{1,128}")


def _head(plan: Plan, *, summarised: bool) -> str:
    digest = plan.manifest_digest if _HEX.fullmatch(plan.manifest_digest) else "unknown"
    lines = [
        "### greenhouse-reconciler plan",
        f"<!-- greenhouse-reconciler plan manifest_digest={digest} -->",
        "",
        f"**{summary_line(plan)}**",
        "",
    ]
    if plan.changes:
        # Our own sentence: endpoints and counts, no names. HTML is still neutralised (a saved plan is a file).
        lines += [html.escape(requests_line(plan), quote=False), ""]
    lines += [f"Manifest digest: `{digest[:12]}`", ""]
    if not plan.changes:
        lines += [no_changes_line(plan), ""]
    if summarised:
        lines += [f"> Some sections are summarised to keep this comment under GitHub's size limit; every change, "
                  f"with its exact writes, is in {JSON_PLAN_HINT}.", ""]
    return "\n".join(lines) + "\n"


def to_markdown(plan: Plan, *, budget: int = MARKDOWN_BUDGET) -> str:
    """A pull-request comment: the summary and digest, then sections (see the module docstring).

    At most `budget` characters whenever the most summarised rendering fits in it; with the default budget
    that is always (the most summarised rendering is bounded by a few kilobytes). Summarising is greedy:
    while the comment is too long, the section whose current rendering is the largest is cut to its next
    row limit (`SUMMARY_ROWS`); so small sections stay whole and the result is deterministic.
    """
    sections = _sections(plan)
    steps = [s.limits() for s in sections]
    level = [0] * len(sections)
    cache: dict[tuple[int, int], str] = {}

    def text(i: int) -> str:
        key = (i, level[i])
        if key not in cache:
            cache[key] = sections[i].render(steps[i][level[i]])
        return cache[key]

    def compose() -> str:
        body = "".join(text(i) for i in range(len(sections)))
        return (_head(plan, summarised=any(level)) + body).rstrip() + "\n"

    comment = compose()
    while len(comment) > budget:
        reducible = [i for i in range(len(sections)) if level[i] + 1 < len(steps[i])]
        if not reducible:
            break
        level[max(reducible, key=lambda i: (len(text(i)), -i))] += 1
        comment = compose()
    return comment


def to_json(plan: Plan) -> str:
    return plan.dumps()
