"""The Markdown plan as a pull-request comment: escaping, per-user permission diffs, size, structure."""

from __future__ import annotations

import re
from functools import lru_cache

import pytest

from reconciler import render
from reconciler.plan import Change, FieldChange, GreenhouseManaged, Plan, Unmanaged
from reconciler.planner import build_plan
from tests.builders import dept, job, live, manifest, user
from tests.render.plans import large, pruning

# -- structure checks, applied to every rendering below ------------------------------------------------------

#: The only markup the renderer writes itself (besides `> ` at the start of a line, a blockquote).
OWN_TAGS = re.compile(r"<details open>|<details>|</details>|<summary>|</summary>|<br>"
                      r"|<!-- greenhouse-reconciler plan manifest_digest=[0-9a-f]+ -->"
                      r"|<!-- greenhouse-reconciler plan manifest_digest=unknown -->")


def check_structure(md: str) -> None:
    """Every <details> closed in order, one <summary> each, nothing but the renderer's own tags, every
    table with a header row and a delimiter row, and a comment GitHub accepts."""
    depth = 0
    for tag in re.findall(r"<details(?: open)?>|</details>", md):
        depth += 1 if tag != "</details>" else -1
        assert 0 <= depth <= 1, "a <details> is nested or closed twice"
    assert depth == 0, "a <details> is left open"
    assert md.count("<summary>") == md.count("</summary>") == md.count("<details")
    stripped = OWN_TAGS.sub("", re.sub(r"(?m)^> ", "", md))
    assert "<" not in stripped and ">" not in stripped, "markup that the renderer did not write"
    lines = md.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("|") and (i == 0 or not lines[i - 1].startswith("|")):  # a table starts here
            assert re.fullmatch(r"\|( [^|]*\|)+", line), f"no header row: {line!r}"
            assert re.fullmatch(r"\|(---\|)+", lines[i + 1]), f"no delimiter row under {line!r}"
            assert lines[i + 1].count("|") == line.count("|")
    assert len(md) < render.GITHUB_COMMENT_LIMIT


# -- escaping ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "escaped"), [
    ("</details><h1>x</h1>", "&lt;/details&gt;&lt;h1&gt;x&lt;/h1&gt;"),
    ("[click](https://evil.example)", r"\[click\]\(https\://evil.example\)"),
    ("**bold**", r"\*\*bold\*\*"),
    ("<script>alert(1)</script>", r"&lt;script&gt;alert\(1\)&lt;/script&gt;"),
    ("line\nbreak", "line↵break"),
    ("a|b `c` _d_ ~~e~~ # f ! $g$ \\", r"a\|b \`c\` \_d\_ \~\~e\~\~ \# f \! \$g\$ \\"),
    ('"quoted" & <b>', "&quot;quoted&quot; &amp; &lt;b&gt;"),
    ("&amp;", "&amp;amp;"),
    ("> quote", "&gt; quote"),
    ("@acme/everyone and jane@acme.example", "`@`acme/everyone and jane@acme.example"),
    (" lead, trail ", "␠lead, trail␠"),
    ("a  b", "a␠␠b"),
    ("tab\there\r\x00\x1b[0m\x7f", "tab␉here␍␀␛\\[0m␡"),
    ("\u202eevil\u200b\u00a0", "⟨U+202E⟩evil⟨U+200B⟩⟨U+00A0⟩"),
    ("plain REQ-1004 Sales / EMEA", "plain REQ-1004 Sales / EMEA"),
])
def test_escape_markdown_renders_hostile_text_as_text(raw: str, escaped: str) -> None:
    assert render.escape_markdown(raw) == escaped


def test_escaped_text_has_no_live_markup_whatever_the_input() -> None:
    hostile = "".join(chr(c) for c in range(0x80)) + "\u2028\u2029\u202e\ufeff<>&\"'[]()*_`|#!~:$\\@"
    out = render.escape_markdown(hostile * 3)
    assert not set(out) & set("<>\"\n\r\t\x00\x1b\x7f\u2028\u2029\u202e\ufeff")
    assert re.sub(r"&(amp|lt|gt|quot);", "", out).count("&") == 0
    unescaped = re.sub(r"\\.", "", out.replace("`@`", ""))
    assert not set(unescaped) & set("[]()*_`|#!~:$\\")


INJECTIONS = ["</details><h1>x</h1>", "[click](https://evil.example)", "**bold**", "<script>alert(1)</script>",
              "first line\nsecond line", "<!-- -->", "| x | y |"]


def test_injected_names_and_values_render_as_text() -> None:
    """Hostile tag names (created and deleted), field values and warnings: none of them forms markup."""
    m = manifest(candidate_tags=INJECTIONS, prune={"candidate_tags": "enforce"})
    plan = build_plan(m, live(candidate_tags=[{"id": 9, "name": "<b>gone</b>"}]))
    hostile_value = Change("update", "department", "Sales", "department:1", 1,
                           fields={"name": FieldChange("</summary>", "[x](y)")}, reasons=("<img src=x>",))
    plan = Plan(changes=(*plan.changes, hostile_value), warnings=("**warning** <u>",),
                unmanaged=(Unmanaged("candidate_tag", "<i>u</i>", 5),),
                greenhouse_managed=(GreenhouseManaged("user_job_permission", "[g](h)", 6, "</details>"),))
    md = render.to_markdown(plan)
    check_structure(md)
    for raw in [*INJECTIONS, "<b>gone</b>", "[x](y)", "<img", "**warning**", "<u>", "<i>", "[g](h)"]:
        assert raw not in md, raw
    assert md.count("</summary>") == md.count("<summary>") and "&quot;&lt;/summary&gt;&quot; → " in md
    assert r"\*\*bold\*\*" in md and r"\[click\]\(https\://evil.example\)" in md
    assert "first line↵second line" in md
    assert "&lt;/details&gt;&lt;h1&gt;x&lt;/h1&gt;" in md


def test_the_digest_is_recorded_and_cannot_break_out_of_its_comment() -> None:
    plan = pruning(keep=10)
    md = render.to_markdown(plan)
    assert md.splitlines()[:2] == ["### greenhouse-reconciler plan",
                                   f"<!-- greenhouse-reconciler plan manifest_digest={'d' * 64} -->"]
    assert f"Manifest digest: `{'d' * 12}`" in md
    forged = Plan(changes=plan.changes, manifest_digest="--><script>x</script><!--")
    md = render.to_markdown(forged)
    check_structure(md)
    assert "<!-- greenhouse-reconciler plan manifest_digest=unknown -->" in md and "<script>" not in md


# -- content ----------------------------------------------------------------------------------------------

JANE = user(1002, "jane@acme.example")
JOBS = [job(400, "Platform", "REQ-1001"), job(401, "Old", "REQ-0900"), job(403, "SRE", "REQ-1004")]


def grants_plan() -> Plan:
    rows = [{"id": 900, "user_id": 1002, "job_id": 401, "role_id": 3},
            {"id": 501, "user_id": 1002, "job_id": 403, "role_id": 3}]
    future = [{"id": 600, "user_id": 1002, "role_id": 3, "department_id": 10, "office_id": None}]
    m = manifest(users=[{"email": "jane@acme.example",
                         "job_permissions": [{"job": "REQ-1001", "role": "Standard"}, {"job": "REQ-1004", "role": "Standard"}],
                         "future_job_permissions": [{"role": "Standard", "department": "Engineering"}]}])
    return build_plan(m, live(users=[JANE], jobs=JOBS, user_job_permissions=rows, future_job_permissions=future,
                              departments=[dept(10, "Engineering")]))


def test_permission_changes_read_as_a_per_user_diff_with_live_ids() -> None:
    md = render.to_markdown(grants_plan())
    check_structure(md)
    row = next(line for line in md.splitlines() if line.startswith("| jane@acme.example | `+` **REQ-1001**"))
    lines = row.split("<br>")
    assert lines[0] == "| jane@acme.example | `+` **REQ-1001** Standard"
    assert lines[1] == "`~` **REQ-1004** Private → Standard (id 501)"
    assert any(line.startswith("`-` **REQ-0900** Private (id 900)") for line in lines[2:])
    future = next(line for line in md.splitlines() if line.startswith("| jane@acme.example | `+` Standard on"))
    assert future.startswith("| jane@acme.example | `+` Standard on future jobs in Engineering<br>"
                             "`-` Private on future jobs in Engineering (id 600")
    assert "<summary>user_job_permission · 3 change(s): 1 create, 1 update, 1 delete</summary>" in md
    assert "<summary>future_job_permission · 2 change(s): 1 create, 1 delete</summary>" in md


def test_no_noise_lines_a_delete_shows_what_it_deletes_once() -> None:
    plan = grants_plan()
    text, md = render.to_text(plan), render.to_markdown(plan)
    assert "null -> null" not in text and "-> null" not in text and "office: null" not in text
    assert "→ null" not in md and "`office`" not in md
    deleted = text.split("- delete jane@acme.example: Private on future jobs in Engineering (id 600)\n")[1]
    assert deleted.startswith('      role: "Private"\n      department: "Engineering"\n      # ')
    assert '  - delete jane@acme.example on REQ-0900 (id 900)\n      role: "Private"\n' in text
    tags = render.to_text(pruning(keep=10))
    assert "  - delete tag-10 (id 310)  !! DESTRUCTIVE\n      # " in tags  # the name is not repeated as a field


def test_field_lines_skip_what_carries_no_information() -> None:
    change = Change("delete", "candidate_tag", "x", "candidate_tag:x", 3, fields={
        "name": FieldChange("x", None), "note": FieldChange(None, None), "color": FieldChange("red", None)})
    assert render.field_lines(change) == [render.FieldLine("color", value="red")]
    update = Change("update", "office", "Berlin", "office:1", 1, fields={
        "location": FieldChange("Berlin", None), "parent": FieldChange(None, None)})
    assert render.field_lines(update) == [render.FieldLine("location", before="Berlin", after=None, diff=True)]


def test_warnings_are_in_an_open_section_near_the_top() -> None:
    plan = Plan(changes=pruning(keep=10).changes, warnings=("protected: not deleted",))
    md = render.to_markdown(plan)
    check_structure(md)
    assert "<details open><summary>Warnings: 1</summary>" in md
    assert md.index("Warnings: 1") < md.index("<summary>candidate_tag")
    assert "- :warning: protected\\: not deleted" in md


# -- size --------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def big() -> Plan:
    return large()


def test_a_5000_change_plan_fits_a_github_comment_and_names_every_type_with_its_counts() -> None:
    plan = big()
    assert len(plan.changes) >= 5_000
    md = render.to_markdown(plan)
    check_structure(md)
    assert len(md) <= render.MARKDOWN_BUDGET
    assert len(render.to_markdown(plan, budget=10**9)) > 3 * render.MARKDOWN_BUDGET  # so it was summarised
    for type_, changes in render._grouped(plan.changes):
        counts = ", ".join(f"{sum(c.action == a for c in changes)} {a}" for a in render.ACTIONS
                           if any(c.action == a for c in changes))
        assert f"<summary>{type_} · {len(changes)} change(s): {counts}</summary>" in md
    assert "candidate_tag · 5000 change(s): 5000 create" in md
    assert "the first 25 of 5000 change(s) (5000 create) are listed" in md
    assert "`greenhouse-reconciler plan --out plan.json`" in md
    assert md.count("| `+` | create | tag-") == 25
    assert render.summary_line(plan) in md


def test_a_plan_just_under_the_budget_is_whole_and_one_just_over_is_summarised() -> None:
    plan = large(tags=300, users=3)
    whole = render.to_markdown(plan, budget=10**9)
    assert "Summarised" not in whole
    assert render.to_markdown(plan, budget=len(whole)) == whole
    over = render.to_markdown(plan, budget=len(whole) - 1)
    assert over != whole and len(over) <= len(whole) - 1
    assert "Summarised to keep this comment under GitHub's size limit" in over
    assert "> Some sections are summarised" in over
    check_structure(whole)
    check_structure(over)


@pytest.mark.parametrize("budget", [200, 2_000, 6_000, 12_000])
def test_small_budgets_summarise_whole_sections_never_cutting_a_table_or_tag(budget: int) -> None:
    plan = large(tags=400, users=6)
    md = render.to_markdown(plan, budget=budget)
    check_structure(md)
    assert md.count("<details") == render.to_markdown(plan, budget=10**9).count("<details")
    smallest = render.to_markdown(plan, budget=0)
    assert len(md) <= max(budget, len(smallest))


def test_the_comment_fits_whatever_the_plan() -> None:
    """Huge names made of characters that escaping lengthens most, one user with thousands of grants,
    thousands of warnings, unmanaged and Greenhouse-managed rows."""
    name = '"<>&' * 2_000
    changes = [Change("create", "candidate_tag", f"{name}{i}", f"candidate_tag:{i}",
                      fields={"name": FieldChange(None, name), "color": FieldChange(None, [name] * 50)},
                      reasons=(name + str(i),)) for i in range(2_000)]
    changes += [Change("delete", "candidate_tag", f"{name}-{i}", f"candidate_tag:-{i}", i, destructive=True,
                       removal=True, reasons=(name,)) for i in range(2_000)]
    changes += [Change("create", "user_job_permission", f"jane@acme.example on {name}{i}", f"ujp:{i}",
                       fields={"role": FieldChange(None, name)}) for i in range(3_000)]
    plan = Plan(changes=tuple(changes), warnings=tuple(name + str(i) for i in range(2_000)),
                unmanaged=tuple(Unmanaged("candidate_tag", name, i) for i in range(5_000)),
                greenhouse_managed=tuple(GreenhouseManaged("user_job_permission", name, i, name) for i in range(2_000)),
                max_deletes=0)
    md = render.to_markdown(plan)
    check_structure(md)
    assert len(md) <= render.MARKDOWN_BUDGET
    assert "<summary>user_job_permission · 3000 change(s): 3000 create</summary>" in md
    assert "Needs attention: 2000 destructive change(s), 1 limit(s) exceeded" in md


def test_one_user_with_many_grants_is_capped_within_the_row() -> None:
    changes = tuple(Change("create", "user_job_permission", f"jane@acme.example on REQ-{i}", f"ujp:{i}",
                           fields={"role": FieldChange(None, "Standard")}) for i in range(render.CELL_LINES + 7))
    md = render.to_markdown(Plan(changes=changes), budget=10**9)
    check_structure(md)
    row = next(line for line in md.splitlines() if line.startswith("| jane@acme.example |"))
    assert row.count("`+`") == render.CELL_LINES
    assert "… and 7 more for this user" in row


def test_changes_not_all_named_after_a_user_stay_one_table_row_each() -> None:
    named = Change("create", "user_job_permission", "jane@acme.example on REQ-1", "a", fields={"role": FieldChange(None, "x")})
    odd = Change("create", "user_job_permission", "a grant without its user", "b", fields={"role": FieldChange(None, "y")})
    md = render.to_markdown(Plan(changes=(named, odd)))
    check_structure(md)
    assert "| `+` | create | jane@acme.example on REQ-1 | new | `role`: &quot;x&quot; |" in md
    assert "| user | changes |" not in md
