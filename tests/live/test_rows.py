"""The boundary check of live rows (reconciler/live/rows.py): what is refused, what is tolerated, and where.

A row that does not fit its collection's rules is a `LiveDataError` naming the method, the path, the row
(position from 0, and id) and the field; unknown enum values the planner does not act on and fields the
rules do not name are tolerated and logged at INFO.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from reconciler.live import LiveDataError, LiveOrg, by_id, read_live
from reconciler.live.pending import Reading
from reconciler.live.rows import derive, rules_for
from reconciler.manifest.definitions import BOOLEAN, NAME, ObjectDef, Prop, nullable, one_of_words
from reconciler.resources.base import Collection, RowField
from reconciler.resources.canonical import Attr, Shape
from reconciler.resources.registry import REGISTRY
from tests.harness import Rig

SHAPE = Shape((Attr("name"), Attr("parent", api="parent_id", ref="gizmo"), Attr("tags", api="tag_ids", ref="tag", many=True),
               Attr("active", api="deactivated", negate=True), Attr("kind"), Attr("note", blank_is_none=True),
               Attr("flag")))
DEFINITION = ObjectDef("gizmo", "A throwaway type.", (
    Prop("name", "Name.", NAME, required=True),
    Prop("kind", "Kind.", one_of_words(("round", "square"))),
    Prop("note", "Note.", nullable({"type": "string"})),
    Prop("flag", "Flag.", BOOLEAN),
))
GIZMOS = Collection("gizmos", "/v3/gizmos", shape=SHAPE, definition=DEFINITION,
                    fields=(RowField("owner_id", "integer", nullable=False, required=True),
                            RowField("grade", "string", values=frozenset({"a", "b"}), acted_on=True),
                            RowField("emails", "strings")))
GOOD: dict[str, Any] = {"id": 17, "name": "G", "parent_id": None, "tag_ids": [1, 2], "deactivated": False,
                        "kind": "round", "note": "", "flag": True, "owner_id": 5, "grade": "a", "emails": ["x@y"]}


def check_all(rows: Sequence[Mapping[str, Any]], collection: Collection = GIZMOS) -> list[int]:
    check = derive(collection).checker("GET", collection.path)
    ids = [check(r) for r in rows]
    check.report()
    return ids


def refusal(row: Mapping[str, Any], *, before: int = 0) -> str:
    rows = [{**GOOD, "id": 100 + i} for i in range(before)] + [row]
    with pytest.raises(LiveDataError) as caught:
        check_all(rows)
    return str(caught.value)


def test_a_fitting_row_passes_and_its_id_is_returned() -> None:
    assert check_all([GOOD, {**GOOD, "id": 18, "parent_id": 17, "tag_ids": [], "note": None}]) == [17, 18]


def test_a_row_without_id_names_method_path_row_and_field() -> None:
    row = {k: v for k, v in GOOD.items() if k != "id"}
    assert refusal(row, before=3) == 'GET /v3/gizmos: row 3: field "id" is missing'


@pytest.mark.parametrize("bad", ["17", 17.0, True, None, [17]])
def test_an_id_that_is_not_an_integer_is_refused(bad: Any) -> None:
    assert refusal({**GOOD, "id": bad}).startswith('GET /v3/gizmos: row 0: field "id" must be an integer, got ')


def test_a_wrong_typed_foreign_key_names_the_row_id_and_what_it_got() -> None:
    assert refusal({**GOOD, "parent_id": "x"}, before=3) == \
        'GET /v3/gizmos: row 3 (id 17): field "parent_id" must be an integer or null, got "x"'


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("tag_ids", [1, "2"], 'field "tag_ids" must be a list of integers or null, got [1, "2"]'),
    ("tag_ids", 3, 'field "tag_ids" must be a list of integers or null, got 3'),
    ("deactivated", "no", 'field "deactivated" must be a boolean or null, got "no"'),
    ("name", None, 'field "name" must be a string, got null'),
    ("name", 5, 'field "name" must be a string, got 5'),
    ("flag", 1, 'field "flag" must be a boolean or null, got 1'),
    ("note", {"a": 1}, 'field "note" must be a string or null, got {"a": 1}'),
    ("owner_id", None, 'field "owner_id" must be an integer, got null'),
    ("owner_id", False, 'field "owner_id" must be an integer, got false'),
    ("emails", ["a", None], 'field "emails" must be a list of strings or null, got ["a", null]'),
])
def test_each_kind_refuses_what_does_not_fit(field: str, value: Any, expected: str) -> None:
    assert refusal({**GOOD, field: value}) == f"GET /v3/gizmos: row 0 (id 17): {expected}"


@pytest.mark.parametrize("field", ["name", "owner_id"])
def test_a_missing_required_field_is_refused(field: str) -> None:
    row = {k: v for k, v in GOOD.items() if k != field}
    assert refusal(row) == f'GET /v3/gizmos: row 0 (id 17): field "{field}" is missing'


def test_absent_optional_fields_are_fine() -> None:
    assert check_all([{"id": 1, "name": "n", "owner_id": 2}]) == [1]


def test_an_unknown_value_of_an_acted_on_enum_is_an_error_naming_the_known_ones() -> None:
    assert refusal({**GOOD, "grade": "z"}) == ('GET /v3/gizmos: row 0 (id 17): field "grade" has the unknown value "z", '
                                               "which the planner would act on (known: a, b)")


def test_unknown_enum_values_and_extra_fields_are_tolerated_and_logged_at_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="reconciler")
    rows = [{**GOOD, "kind": "oval", "shiny": True}, {**GOOD, "id": 18, "kind": "oval"}, {**GOOD, "id": 19}]
    assert check_all(rows) == [17, 18, 19]
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO and r.name.startswith("reconciler.")]
    assert infos == [
        'GET /v3/gizmos: field "kind" has values this program does not know: "oval" (2 row(s)); tolerated '
        "(the planner does not act on them)",
        "GET /v3/gizmos: field(s) not checked, tolerated: shiny",
    ]


def test_the_derived_rules_follow_the_shape_the_definition_and_the_declared_fields() -> None:
    fields = {f.key: (f.kind, f.nullable, f.required, sorted(f.values), f.acted_on) for f in derive(GIZMOS).fields}
    assert fields == {
        "id": ("integer", False, True, [], False),
        "name": ("string", False, True, [], False),
        "parent_id": ("integer", True, False, [], False),
        "tag_ids": ("integers", True, False, [], False),
        "deactivated": ("boolean", True, False, [], False),
        "kind": ("string", True, False, ["round", "square"], False),
        "note": ("string", True, False, [], False),
        "flag": ("boolean", True, False, [], False),
        "owner_id": ("integer", False, True, [], False),
        "grade": ("string", True, False, ["a", "b"], True),
        "emails": ("strings", True, False, [], False),
    }


def test_without_declarations_the_id_and_the_label_fields_are_checked() -> None:
    bare = Collection("bare", "/v3/bare", label=("name", "email"))
    assert [(f.key, f.kind, f.nullable, f.required) for f in derive(bare).fields] == [
        ("id", "integer", False, True), ("name", "string", True, False), ("email", "string", True, False)]
    assert [(f.key, f.required) for f in derive(None).fields] == [("id", True)]
    with pytest.raises(LiveDataError, match=r'row 0 \(id 1\): field "email" must be a string or null, got 3'):
        check_all([{"id": 1, "email": 3}], bare)


def test_a_row_field_with_an_unknown_kind_or_an_enum_of_another_kind_is_a_declaration_error() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        RowField("x", "int")
    with pytest.raises(ValueError, match="enum values need kind 'string'"):
        RowField("x", "integer", values=frozenset({"1"}))


class ListReader:
    """A reader that answers fixed rows per path (whole lists: `list_all` only)."""

    def __init__(self, answers: Mapping[str, list[dict[str, Any]]]) -> None:
        self.answers = answers
        self.paths: list[str] = []

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        self.paths.append(path)
        return self.answers[path]


def _registered_paths() -> Iterator[tuple[str, str]]:
    for name, collection in REGISTRY.views.collections.items():
        yield name, collection.path


def test_the_concurrent_reads_check_every_collection_and_fail_the_read_on_a_bad_row() -> None:
    name, path = next(_registered_paths())
    reader = ListReader({path: [{"id": 1, "name": "ok"}, {"name": "no id"}]})
    with Reading(reader, workers=1) as reading:
        future = reading.start(name, ((path, {}),))
        error = future.exception()
    assert isinstance(error, LiveDataError)
    assert str(error) == f'GET {path}: row 1: field "id" is missing'


def test_the_staleness_replay_checks_the_rows_too() -> None:
    name, path = next(_registered_paths())
    with pytest.raises(LiveDataError, match=f'^GET {path}: row 0: field "id" must be an integer, got "7"$'):
        read_live(ListReader({path: [{"id": "7", "name": "x"}]}), {name: ((path, {}),)})
    live = read_live(ListReader({path: [{"id": 7, "name": "x"}]}), {name: ((path, {}),)})
    assert isinstance(live, LiveOrg) and dict(live.get(name)) == {7: {"id": 7, "name": "x"}}


def test_every_declared_collection_accepts_the_sandbox_answers() -> None:
    """Whatever the families declare must fit what the emulator (modelled on the reference) answers."""
    reader = Rig().reader()
    checked = 0
    for name, collection in REGISTRY.views.collections.items():
        rules = rules_for(name)
        for params in collection.params:
            check = rules.checker("GET", collection.path)
            for row in reader.list_all(collection.path, dict(params)):
                check(row)
                checked += 1
    assert checked > 50


def test_the_info_line_of_unknown_values_names_ten_and_counts_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="reconciler")
    check_all([{**GOOD, "id": i, "kind": f"k{i:02}"} for i in range(12)])
    line = next(r.getMessage() for r in caplog.records if "kind" in r.getMessage())
    assert line.startswith('GET /v3/gizmos: field "kind" has values this program does not know: "k00" (1 row(s)), ')
    assert '"k09" (1 row(s)) and 2 more; tolerated' in line and "k10" not in line


@pytest.mark.parametrize(("rows", "message"), [
    ([{"id": 1}, {"name": "Ops"}], 'row 1: field "id" must be an integer; it is missing'),
    ([{"id": "7"}], "row 0: field \"id\" must be an integer; got '7'"),
    ([{"id": True}], 'row 0: field "id" must be an integer; got True'),
])
def test_by_id_refuses_a_row_without_an_integer_id(rows: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        by_id(rows)


def test_by_id_keys_rows_by_their_integer_id() -> None:
    rows = [{"id": 3, "name": "a"}, {"id": 1, "name": "b"}]
    assert by_id(rows) == {3: rows[0], 1: rows[1]}
