"""Hypothesis over YAML manifests through `validate` and `plan` (issue 10, item 8).

Whatever the text, `validate` and `plan` end with exit 0, or exit 1 and a located message: never a
traceback, another exception, or another exit code. Three generators:

* `documents()`: structurally plausible manifests written as YAML text by a small emitter of its own,
  so the text can hold what `yaml.safe_dump` never writes: every section with right and wrong types,
  deep nesting, odd scalars (huge integers, `0x`/`0o`/`1_000`, `.nan`, dates, `yes`/`no`), quoted
  strings with every escape (`\\U00110000`, `\\UFFFFFFFF`, lone and paired surrogates, `\\x00`, `\\N`),
  odd unicode (controls, invisible format characters, no-break spaces, combining accents), explicit
  tags (core, custom, `!!python/...`), anchors and aliases, duplicate keys, flow and block style.
* `mutations()`: raw text edits (insert, delete, replace, duplicate a line, re-indent) of the example
  manifests.
* `plannable()`: manifests close to the sandbox's demo organisation (its names, near-duplicates of
  them, renames, references, grants), which mostly validate, so `plan` has real work.

Speed and determinism: `validate` runs in-process through `reconciler.cli.main`; `plan` runs in-process
too, reading an in-process sandbox (`reconciler.sandbox`'s transport, as tests/harness.py does) instead
of HTTP. Every test uses the `yaml-fuzz` settings profile: derandomized (the same examples on every
run, no example database), 1,000 examples per test: `documents()` and `mutations()` through
`validate`, `plannable()` through `validate` and `plan`; `documents()` also go through `plan`, 200 of
them (most fail validation, which the 1,000 above cover). The module takes 35 to 50 s on a shared
2-core machine. MANIFEST_FUZZ_EXAMPLES and MANIFEST_FUZZ_PLAN_EXAMPLES override the counts for a longer local run.
"""

from __future__ import annotations

import json
import os
import random
import string
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli import main, planning
from reconciler.errors import ManifestError
from reconciler.harvest import HarvestReader
from reconciler.manifest import load
from reconciler.sandbox import Sandbox
from tests.harness import SEED, SETTINGS

ONE_COMPOSER = True  # libyaml as installed; every file it does not take falls back to the reference path anyway

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
VALIDATE_EXAMPLES = int(os.environ.get("MANIFEST_FUZZ_EXAMPLES", "1000"))
PLAN_EXAMPLES = int(os.environ.get("MANIFEST_FUZZ_PLAN_EXAMPLES", "1000"))
#: `documents()` through `plan`: most fail validation, which `validate`'s 1,000 already cover.
PLAN_DOCUMENT_EXAMPLES = max(PLAN_EXAMPLES // 5, 1)

settings.register_profile(
    "yaml-fuzz",
    max_examples=VALIDATE_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = settings.get_profile("yaml-fuzz")
PLAN_FUZZ = settings(FUZZ, max_examples=PLAN_EXAMPLES)
PLAN_DOCUMENT_FUZZ = settings(FUZZ, max_examples=PLAN_DOCUMENT_EXAMPLES)

SEED_DATA: dict[str, Any] = json.loads(SEED.read_text())
DEPARTMENTS = [d["name"] for d in SEED_DATA["departments"]] + [d["external_id"] for d in SEED_DATA["departments"]
                                                               if d.get("external_id")]
OFFICES = [o["name"] for o in SEED_DATA["offices"]]
TAGS = [t["name"] for t in SEED_DATA["candidate_tags"]]
FIELDS = [(f["name"], f["name_key"], f["field_type"], f["value_type"]) for f in SEED_DATA["custom_fields"]]
EMAILS = [u["primary_email"] for u in SEED_DATA["users"]]
JOBS = [j["requisition_id"] for j in SEED_DATA["jobs"] if j.get("requisition_id")] + [j["id"] for j in SEED_DATA["jobs"]]
ROLES = [r["name"] for r in SEED_DATA["user_roles"]]

SECTIONS = ["departments", "offices", "custom_fields", "candidate_tags", "users"]
KEYS = ["version", *SECTIONS, "policy", "prune", "protect", "limits", "max_deletes", "max_change_percent", "name",
        "nmae", "id", "parent", "previously", "external_id", "key", "field_type", "value_type", "options", "location",
        "primary_contact", "description", "required", "private", "departments", "offices", "email", "first_name",
        "last_name", "employee_id", "active", "site_admin", "job_permissions", "future_job_permissions", "job", "role",
        "department", "office", "<<", "", "a b", "?", "-", "no", "on", "1", "null"]  # fmt: skip
ODD_TEXT = ["Referral ", " Boomerang", "Cafe\u0301", "Café", "Tab\there", "Zero\u200bwidth", "No\u00a0break",
            "Line\nbreak", "\u202eevil", "\x85", "\x00", "\x7f", "東京\u3000本社", "\U0001f469\u200d\U0001f4bb",
            "london", "LONDON", "engineering", "ENG", "a@b", "@", "x" * 300, "", " ", "~", "-", "- x", "a: b",
            "#not a comment", "&anchor", "*alias", "!tag", "%", "@at", "`", "|", ">", "'", '"', "\\", "{", "}", "[",
            "]", ",", "?", "2024-01-01", "12:30:00", "1_000", "0x1F", "0o17", "010", ".inf", ".nan", "1e400",
            "yes", "no", "on", "off", "y", "True", "NULL"]  # fmt: skip
ESCAPES = ["\\U00110000", "\\UFFFFFFFF", "\\U0010FFFF", "\\ud800", "\\udfff", "\\ud83d\\ude00", "\\ude00\\ud83d",
           "\\x00", "\\x85", "\\u200b", "\\u00a0", "\\N", "\\_", "\\L", "\\P", "\\e", "\\t", "\\n", "\\0", "\\/",
           "\\q", "\\x", "\\u12", "\\U0001F31F"]  # fmt: skip
TAGS_WRITTEN = ["!!str", "!!int", "!!float", "!!bool", "!!null", "!!seq", "!!map", "!!timestamp", "!!binary", "!!set",
                "!custom", "!", "!!python/object/apply:os.system", "!<tag:yaml.org,2002:str>", "!!merge"]  # fmt: skip

WORDS = DEPARTMENTS + OFFICES + TAGS + EMAILS + ROLES + [f[0] for f in FIELDS] + ODD_TEXT
#: Characters for random text: ASCII, Latin-1, controls, invisible format characters, combining marks,
#: CJK, emoji, private use, the last code points, and lone surrogates (written as escapes or raw bytes).
ALPHABET = (string.printable + "äéøß\u00a0\u00ad\x85\x9f\u0301\u0308\u200b\u200c\u200d\u2028\u202e\u2060\u3000"
            "\ufeff\ufffd\ufffe東京\U0001f31f\U0001f469\ue000\U0010ffff\ud800\udfff")
SECTION_KEYS = {
    "departments": ["name", "parent", "external_id", "previously", "id"],
    "offices": ["name", "parent", "external_id", "location", "primary_contact", "previously"],
    "custom_fields": ["name", "key", "field_type", "value_type", "options", "departments", "required", "previously",
                      "description"],
    "candidate_tags": ["name", "previously"],
    "users": ["email", "first_name", "last_name", "offices", "departments", "job_permissions",
              "future_job_permissions", "active", "employee_id"],
}  # fmt: skip
GOOD_WORDS = ["job", "single_select", "short_text", "offer", "off", "report", "enforce"]


class Tagged:
    """A value to be written with an explicit YAML tag."""

    def __init__(self, tag: str, value: Any) -> None:
        self.tag, self.value = tag, value


class Raw:
    """Text written as is (an escape sequence inside double quotes)."""

    def __init__(self, text: str) -> None:
        self.text = text


class Dup:
    """A mapping written with one key twice."""

    def __init__(self, items: list[tuple[str, Any]]) -> None:
        self.items = items


class _Random:
    """Plausible manifest values from one seeded `random.Random`.

    The generators draw one seed from hypothesis and build the whole example in plain Python: a
    hypothesis draw per value (hundreds per document) made generation 20 times slower than validating.
    The examples are the same on every run (derandomized seeds); a failure prints the text itself."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def pick(self, options: Sequence[Any]) -> Any:
        return options[self.rng.randrange(len(options))]

    def chance(self, one_in: int) -> bool:
        return self.rng.randrange(one_in) == 0

    def text(self) -> str:
        return "".join(self.pick(ALPHABET) for _ in range(self.rng.randrange(13)))

    def scalar(self) -> Any:
        kind = self.rng.randrange(12)
        if kind == 0:
            return None
        if kind == 1:
            return self.chance(2)
        if kind == 2:
            return self.rng.randrange(-5, 200)
        if kind == 3:
            return self.pick([10**30, -(2**70), 2**63, 1.5, -0.0, float("inf"), float("-inf"), float("nan"), 1e300])
        if kind == 4:
            return self.text()
        if kind == 5:
            return self.pick(JOBS)
        if kind == 6:
            return Raw(f'"{self.pick(["", "x", "Sales "])}{self.pick(ESCAPES)}{self.pick(["", "y"])}"')
        if kind == 7:
            return Tagged(self.pick(TAGS_WRITTEN), self.scalar())
        return self.pick(WORDS)

    def value(self, depth: int = 0) -> Any:
        if depth > 6 or self.rng.randrange(3) > 0:
            return self.scalar() if not (depth == 0 and self.chance(30)) else self.deep()
        kind = self.rng.randrange(5)
        size = self.rng.randrange(5)
        if kind == 0:
            return [self.value(depth + 1) for _ in range(size)]
        if kind == 1:
            return {self.pick(KEYS): self.value(depth + 1) for _ in range(size)}
        if kind == 2:
            items = [(self.pick(KEYS), self.value(depth + 1)) for _ in range(size + 1)]
            return Dup([*items, items[0]])
        if kind == 3:
            return Tagged(self.pick(["!!seq", "!!map", "!custom"]), [self.value(depth + 1) for _ in range(size % 3)])
        return {}

    def deep(self) -> Any:
        """A list or mapping nested 20 to 120 levels (YAML nesting, and the flow-depth limit)."""
        value: Any = self.scalar()
        for _ in range(self.rng.randrange(20, 120)):
            value = [value] if self.chance(2) else {"name": value}
        return value

    def item(self, section: str) -> Any:
        """An item shaped like the section's: its keys, with good words or random values."""
        if self.chance(6):
            return self.pick(WORDS)
        keys = SECTION_KEYS[section]
        out: dict[str, Any] = {}
        for key in self.rng.sample(keys, self.rng.randrange(len(keys) + 1)):
            which = self.rng.randrange(4)
            out[key] = (self.pick(WORDS) if which == 0 else [self.pick(WORDS)] if which == 1
                        else self.pick(GOOD_WORDS) if which == 2 else self.value(1))
        return out

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.chance(2):
            doc["version"] = 1 if self.chance(2) else self.scalar()
        for section in self.rng.sample(SECTIONS, self.rng.randrange(5)):
            doc[section] = [self.item(section) for _ in range(self.rng.randrange(6))] if not self.chance(4) \
                else self.value()
        if self.chance(2):
            policy: dict[str, Any] = {}
            if self.chance(2):
                policy["prune"] = {self.pick(SECTIONS): self.pick(["off", "report", "enforce", "x", 1])
                                   for _ in range(self.rng.randrange(4))}
            if self.chance(2):
                policy["protect"] = {self.pick(SECTIONS): [self.pick(WORDS) for _ in range(self.rng.randrange(3))]}
            if self.chance(2):
                policy["limits"] = {self.pick(["max_deletes", "max_change_percent", "max"]): self.scalar()}
            doc["policy"] = policy if not self.chance(5) else self.value()
        if self.chance(10):
            doc[self.pick(KEYS)] = self.value()
        return doc


def _document_text(seed: int) -> str:
    """A manifest as YAML text: top-level keys from the real format (and some others), items shaped like
    each section's, written in block or flow style, sometimes through anchors and aliases."""
    r = _Random(seed)
    emitter = _Emitter(flow=r.chance(5), anchors=r.chance(5), choose=r.pick)
    text = emitter.document(r.document())
    if r.chance(10):
        text = r.pick(["---\n", "%YAML 1.2\n---\n", "\ufeff", "# comment\n", "%TAG !e! tag:example.com:\n---\n"]) + text
    if r.chance(20):
        text += r.pick(["---\nversion: 1\n", "...\n", "\t\n", "[", "key: value\n  bad: indent\n", "? complex\n"])
    return text


def documents() -> st.SearchStrategy[str]:
    return st.integers(0, 2**64).map(_document_text)


class _Emitter:
    """Writes values as YAML text: block or flow collections, scalars plain, quoted or escaped."""

    def __init__(self, flow: bool, anchors: bool, choose: Callable[[Sequence[str]], str]) -> None:
        self.flow = flow
        self.anchors = anchors
        self.choose = choose
        self.count = 0

    def document(self, value: Any) -> str:
        if isinstance(value, dict) and value and not self.flow:
            return "".join(self._block_member(k, v, 0) for k, v in value.items())
        return self.inline(value) + "\n"

    def _block_member(self, key: str, value: Any, indent: int) -> str:
        pad = " " * indent
        head = f"{pad}{self.scalar(key)}:"
        if isinstance(value, dict) and value and indent < 40:
            return head + "\n" + "".join(self._block_member(k, v, indent + 2) for k, v in value.items())
        if isinstance(value, list) and value:
            return head + "\n" + "".join(f"{pad}  - {self.inline(v)}\n" for v in value)
        return f"{head} {self.inline(value)}\n"

    def inline(self, value: Any) -> str:
        text = self._inline(value)
        if self.anchors and isinstance(value, dict | list) and self.choose(["anchor", "no", "no"]) == "anchor":
            self.count += 1
            name = f"a{self.count}"
            return f"&{name} {text}" if self.choose(["once", "twice"]) == "once" else f"[&{name} {text}, *{name}]"
        return text

    def _inline(self, value: Any) -> str:
        if isinstance(value, Tagged):
            return f"{value.tag} {self._inline(value.value)}"
        if isinstance(value, Raw):
            return value.text
        if isinstance(value, Dup):
            return "{" + ", ".join(f"{self.scalar(k)}: {self.inline(v)}" for k, v in value.items) + "}"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self.scalar(k)}: {self.inline(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self.inline(v) for v in value) + "]"
        return self.scalar(value)

    def scalar(self, value: Any) -> str:
        if value is None:
            return self.choose(["null", "~", ""])
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return self.choose([repr(value), str(value), hex(value) if isinstance(value, int) else repr(value)])
        style = self.choose(["plain", "double", "single"])
        if style == "plain" and value and all(c.isalnum() or c in " .@-_" for c in value) and value.strip() == value:
            return str(value)
        if style == "single" and "\n" not in value:
            return "'" + str(value).replace("'", "''") + "'"
        return json.dumps(value, ensure_ascii=self.choose(["ascii", "raw"]) == "ascii")


def _mutated_text(seed: int) -> str:
    """An example manifest with a few raw text edits (insert, delete, replace, duplicate a line, re-indent)."""
    r = _Random(seed)
    text = (EXAMPLES / r.pick(sorted(p.name for p in EXAMPLES.glob("*.yaml")))).read_text()
    pieces = [*":-[]{}&*!|>'\"#%@`,?\t\n \\", *ESCAPES, *ODD_TEXT]
    for _ in range(r.rng.randrange(1, 5)):
        where = r.rng.randrange(len(text) + 1)
        edit = r.pick(["insert", "delete", "replace", "line", "indent"])
        piece = r.pick(pieces) if r.chance(2) else r.text()[:3]
        if edit == "insert":
            text = text[:where] + piece + text[where:]
        elif edit == "delete":
            text = text[:where] + text[where + r.rng.randrange(1, 21) :]
        elif edit == "replace":
            text = text[:where] + piece + text[where + len(piece) :]
        else:
            lines = text.split("\n")
            i = r.rng.randrange(len(lines))
            if edit == "line":
                lines.insert(i, lines[i])
            else:
                lines[i] = r.pick([" ", "  ", "\t", ""]) + lines[i]
            text = "\n".join(lines)
    return text


def mutations() -> st.SearchStrategy[str]:
    return st.integers(0, 2**64).map(_mutated_text)


def _names(pool: list[str]) -> st.SearchStrategy[str]:
    """Names of the demo organisation, new ones, and near-duplicates of them (case, spaces, NFC)."""
    return st.one_of(
        st.sampled_from(pool),
        st.sampled_from(pool).map(str.lower),
        st.sampled_from(pool).map(lambda n: n + " "),
        st.sampled_from(pool).map(lambda n: n.replace("e", "e\u0301", 1)),
        st.sampled_from(["New Team", "Sales EMEA", "Café", "Cafe\u0301", "Referral Program", "Z"]),
    )


@st.composite
def plannable(draw: st.DrawFn) -> str:
    """A manifest close to the demo organisation: mostly valid, so the planner works on it."""
    doc: dict[str, Any] = {"version": 1}
    chosen = draw(st.lists(st.sampled_from(SECTIONS), min_size=1, max_size=5, unique=True))
    if "departments" in chosen:
        doc["departments"] = draw(st.lists(st.fixed_dictionaries(
            {"name": _names(DEPARTMENTS)},
            optional={"parent": st.one_of(st.none(), _names(DEPARTMENTS), st.sampled_from([10, 11, 99999])),
                      "previously": _names(DEPARTMENTS), "external_id": st.sampled_from(["ENG", "X1", "SALES"])},
        ), max_size=6))
    if "offices" in chosen:
        doc["offices"] = draw(st.lists(st.fixed_dictionaries(
            {"name": _names(OFFICES)},
            optional={"parent": st.one_of(st.none(), _names(OFFICES)), "location": st.sampled_from(["Paris", "NYC"]),
                      "primary_contact": st.sampled_from(EMAILS), "previously": _names(OFFICES)},
        ), max_size=5))
    if "candidate_tags" in chosen:
        doc["candidate_tags"] = draw(st.lists(st.one_of(
            _names(TAGS), st.fixed_dictionaries({"name": _names(TAGS)}, optional={"previously": _names(TAGS)})),
            max_size=6))
    if "custom_fields" in chosen:
        fields = []
        for name, key, field_type, value_type in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
            field: dict[str, Any] = {"name": draw(st.one_of(st.just(name), _names([name]))), "key": key,
                                     "field_type": field_type, "value_type": value_type}
            if value_type in ("single_select", "multi_select") and draw(st.booleans()):
                field["options"] = draw(st.lists(_names(["100 - Platform", "200 - Sales", "Junior", "Senior"]),
                                                 max_size=4, unique=True))
            if draw(st.booleans()):
                field["departments"] = draw(st.lists(_names(DEPARTMENTS), max_size=2, unique=True))
            fields.append(field)
        doc["custom_fields"] = fields
    if "users" in chosen:
        users = []
        for email in draw(st.lists(st.sampled_from(EMAILS), max_size=3, unique=True)):
            user: dict[str, Any] = {"email": draw(st.sampled_from([email, email.upper()]))}
            if draw(st.booleans()):
                user["offices"] = draw(st.lists(_names(OFFICES), max_size=2, unique=True))
            if draw(st.booleans()):
                user["job_permissions"] = [{"job": draw(st.sampled_from([*JOBS, "REQ-0001"])),
                                            "role": draw(st.sampled_from([*ROLES, "Stanard"]))}]
            if draw(st.booleans()):
                user["active"] = draw(st.booleans())
            users.append(user)
        doc["users"] = users
    if draw(st.booleans()):
        doc["policy"] = {"prune": {s: draw(st.sampled_from(["off", "report"])) for s in chosen},
                         "protect": {chosen[0]: draw(st.lists(_names(TAGS + DEPARTMENTS), max_size=2, unique=True))}}
    return json.dumps(doc, ensure_ascii=False)  # JSON is YAML: every example reaches the checks


# --- running the CLI in-process -------------------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`reconciler.cli.main(argv)` in this process: (exit code, stdout, stderr). Any exception but SystemExit
    propagates, which is the failure this module looks for."""
    capsys.readouterr()
    try:
        result = main(list(argv))
        code = 0 if result is None else int(result)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def _check_outcome(code: int, out: str, err: str, file: str) -> None:
    assert "Traceback" not in out + err
    assert code in (0, 1), (code, out, err)
    if code == 1:  # after any progress lines, one "Error:" with the message on its line or the next ones
        lines = err.splitlines()
        starts = [i for i, line in enumerate(lines) if line.startswith("Error:")]
        assert len(starts) == 1, err
        body = [lines[starts[0]][len("Error:") :].strip(), *lines[starts[0] + 1 :]]
        assert any(part.strip() for part in body), "an error says what is wrong"


def _write(directory: Path, text: str) -> Path:
    path = directory / "m.yaml"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    return path


def _validate(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, str, str]:
    code, out, err = _run(capsys, "validate", str(path))
    _check_outcome(code, out, err, str(path))
    if code == 0:
        assert out.startswith("Valid: 1 file(s)"), out
    else:
        assert str(path) in err, "every manifest problem names the file"
    return code, out, err


@contextmanager
def _sandbox_plans(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """`plan` reads an in-process sandbox seeded with the demo organisation (no HTTP server, no network)."""
    sandbox = Sandbox(json.loads(SEED.read_text()))
    for key, value in {"GREENHOUSE_API_URL": SETTINGS.api_url, "GREENHOUSE_TOKEN_URL": SETTINGS.token_url,
                       "GREENHOUSE_CLIENT_ID": SETTINGS.client_id, "GREENHOUSE_CLIENT_SECRET": SETTINGS.client_secret,
                       "GREENHOUSE_USER_ID": SETTINGS.user_id, "NO_COLOR": "1"}.items():
        monkeypatch.setenv(key, value)

    def reader_for(settings: Any, hook: Any) -> HarvestReader:
        return HarvestReader(settings, on_request=hook, transport=sandbox.transport())

    monkeypatch.setattr(planning, "reader_for", reader_for)
    yield sandbox


def _plan(capsys: pytest.CaptureFixture[str], path: Path, sandbox: Sandbox) -> tuple[int, str, str]:
    before = len(sandbox.writes())
    code, out, err = _run(capsys, "plan", str(path))
    _check_outcome(code, out, err, str(path))
    assert len(sandbox.writes()) == before, "plan never writes"
    return code, out, err


# --- the properties ---------------------------------------------------------------------------------


@FUZZ
@given(text=documents())
def test_validate_answers_any_plausible_manifest_with_exit_0_or_a_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    _validate(capsys, _write(tmp_path, text))


@FUZZ
@given(text=mutations())
def test_validate_answers_any_mutated_example_with_exit_0_or_a_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    _validate(capsys, _write(tmp_path, text))


@PLAN_FUZZ
@given(text=plannable())
def test_plan_answers_manifests_near_the_live_org_with_exit_0_or_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    path = _write(tmp_path, text)
    valid, _, _ = _validate(capsys, path)
    with _sandbox_plans(monkeypatch) as sandbox:
        code, out, err = _plan(capsys, path, sandbox)
    if valid == 1:
        assert code == 1, "plan refuses what validate refuses"


@PLAN_DOCUMENT_FUZZ
@given(text=documents())
def test_plan_answers_any_plausible_manifest_with_exit_0_or_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    path = _write(tmp_path, text)
    with _sandbox_plans(monkeypatch) as sandbox:
        _plan(capsys, path, sandbox)


def test_the_known_crash_is_a_located_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`"\\U00110000"` crashed YAML reading (ValueError from chr) before issue 10."""
    code, _, err = _validate(capsys, _write(tmp_path, 'candidate_tags:\n  - "\\U00110000"\n'))
    assert code == 1
    assert f"{tmp_path / 'm.yaml'}:2:6: YAML syntax error: the escape \\U00110000 is beyond" in err


@pytest.mark.parametrize(("generator", "least"), [(documents, 0.02), (mutations, 0.1), (plannable, 0.3)])
def test_the_generators_reach_valid_manifests(
    tmp_path: Path, generator: Callable[[], st.SearchStrategy[str]], least: float
) -> None:
    """The fuzz is only worth its time if its examples get past the reader: of 100 examples of each
    generator, at least the given share must be valid manifests (so `plan` has real work)."""
    outcomes: list[bool] = []

    @settings(FUZZ, max_examples=100)
    @given(text=generator())
    def sample(text: str) -> None:
        path = _write(tmp_path, text)
        try:
            load([str(path)])
        except ManifestError:
            outcomes.append(False)
        else:
            outcomes.append(True)

    sample()
    assert len(outcomes) >= 100
    assert sum(outcomes) >= least * len(outcomes), f"{sum(outcomes)} of {len(outcomes)} valid"
