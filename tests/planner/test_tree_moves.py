"""Department and office moves in bulk requests: only the moves valid in every order share one.

The rule (reconciler/resources/trees.py, `order_independent_moves`): a move is a bulk row when its new
parent is the top level, or a live object none of whose live ancestors (itself included) the plan moves.
Every other move is a single PATCH after the bulk rows, shallowest first in the final tree.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import combinations
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.live import read_for_manifest
from reconciler.plan import Plan
from reconciler.planner import build_plan
from reconciler.resources.trees import order_independent_moves
from tests.builders import dept, live, manifest, office
from tests.harness import Rig, seed

STAMP = {"created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}


def sent(plan: Plan) -> list[tuple[str, Any]]:
    """The plan's requests in order: ("bulk", [row ids]) for a bulk request, else (path, body)."""
    bulk_of = {key: b for b in plan.bulk_requests for key in b.changes}
    out: list[tuple[str, Any]] = []
    for change in plan.changes:
        b = bulk_of.get(change.key)
        if b is None:
            out.extend((w.path, w.body) for w in change.writes)
        elif change.key == b.changes[0]:
            rows = {c.key: c.writes[0].bulk_item for c in plan.changes if c.key in b.changes}
            out.append(("bulk", [rows[k]["id"] for k in b.changes]))
    return out


# -- the rule, on its own ---------------------------------------------------------------------------------

#: Live: R1, R2, R3 top level; R1 <- A <- B <- C; R2 <- D.
LIVE = {1: None, 2: None, 3: None, 10: 1, 11: 10, 12: 11, 20: 2}


def test_moves_under_unmoved_parents_or_to_the_top_level_are_order_independent() -> None:
    moves = {12: 2, 11: 20, 20: None}  # C under R2, B under D, D to the top level
    assert order_independent_moves({12: 2, 11: 3}, LIVE) == {12, 11}
    assert order_independent_moves({20: None, 12: 3}, LIVE) == {20, 12}
    # D is moved, so B's move under D depends on D's: single; D's own move (to the top) is free.
    assert order_independent_moves(moves, LIVE) == {12, 20}


def test_a_move_under_a_moved_node_is_not_order_independent() -> None:
    assert order_independent_moves({10: 2, 20: 10}, LIVE) == {10}


def test_a_move_under_a_descendant_of_a_moved_node_is_not_order_independent() -> None:
    # A moves; C is A's descendant, so D's move under C depends on where A is when it runs.
    assert order_independent_moves({10: 3, 20: 12}, LIVE) == {10}


def test_in_a_parent_child_swap_the_move_onto_the_moved_node_is_not_order_independent() -> None:
    # A (under R1) and B (under A) swap: B goes under R1, A under B. A's move needs B moved first.
    assert order_independent_moves({11: 1, 10: 11}, LIVE) == {11}


def test_in_a_chain_of_moves_only_the_move_onto_an_unmoved_node_is_order_independent() -> None:
    # D -> C, C -> A, A -> R3: C's target (A) and D's target (C) are moved by the plan; A's (R3) is not.
    assert order_independent_moves({20: 12, 12: 10, 10: 3}, LIVE) == {10}


def test_a_move_under_an_object_the_plan_creates_is_not_order_independent() -> None:
    moves: dict[int | str, int | str | None] = {12: "department:New", 11: 2}
    parents: dict[int | str, int | str | None] = {n: p for n, p in LIVE.items()}
    assert order_independent_moves(moves, parents) == {11}


class CountingParents(Mapping[int, int | None]):
    """A live tree that counts its parent lookups (`in` is answered without one)."""

    def __init__(self, parents: dict[int, int | None]) -> None:
        self.parents = parents
        self.lookups = 0

    def __getitem__(self, node: int) -> int | None:
        self.lookups += 1
        return self.parents[node]

    def __contains__(self, node: object) -> bool:
        return node in self.parents

    def __iter__(self) -> Iterator[int]:
        return iter(self.parents)

    def __len__(self) -> int:
        return len(self.parents)


def test_deciding_is_linear_each_live_node_is_walked_at_most_once() -> None:
    deep = 3000
    chain = {i: i - 1 if i > 1 else None for i in range(1, deep + 1)}  # 1 <- 2 <- ... <- 3000
    tops = {10_000 + i: None for i in range(deep)}
    parents = CountingParents({**chain, **tops})
    moves: dict[int, int | None] = {t: deep - (i % 7) for i, t in enumerate(tops)}  # 3000 moves onto the chain's deep end
    assert order_independent_moves(moves, parents) == set(tops)
    assert parents.lookups == deep  # the chain once, not once per move
    moves[500] = None  # now the chain is moved at 500: everything below it is not steady
    parents.lookups = 0
    assert order_independent_moves(moves, parents) == {500}
    assert parents.lookups == deep


# -- in the plan --------------------------------------------------------------------------------------------

ROOTS = [dept(1, "R1"), dept(2, "R2"), dept(3, "R3")]


def test_independent_moves_and_renames_share_one_bulk_request() -> None:
    rows = [*ROOTS, *(dept(10 + i, f"T{i}", 1) for i in range(4)), dept(20, "Old")]
    m = manifest(prune={"departments": "off"},
                 departments=[*({"name": f"T{i}", "parent": "R2"} for i in range(3)), {"name": "T3", "parent": None},
                              {"name": "New", "previously": ["Old"]}])
    plan = build_plan(m, live(departments=rows))
    assert sent(plan) == [("bulk", [20, 13, 10, 11, 12])]  # non-moves, then moves by final depth
    rows_sent = {c.id: c.writes[0].bulk_item for c in plan.changes}
    assert rows_sent[10] == {"id": 10, "parent_id": 2} and rows_sent[13] == {"id": 13, "parent_id": None}
    assert plan.request_count() == 1


def test_dependent_moves_stay_single_after_the_bulk_rows_shallowest_first() -> None:
    # Live: R1 <- A <- B; R2; X, Y, Z, W top level. Desired: X, Y, Z under R2 (free); A and B swap (B under
    # R1 is free, A under B is not); W under A, which moves (not free, and deeper than A in the final tree).
    rows = [*ROOTS, dept(10, "A", 1), dept(11, "B", 10), dept(30, "X"), dept(31, "Y"), dept(32, "Z"), dept(40, "W")]
    m = manifest(prune={"departments": "off"}, departments=[
        {"name": "X", "parent": "R2"}, {"name": "Y", "parent": "R2"}, {"name": "Z", "parent": "R2"},
        {"name": "W", "parent": "A"},
        {"name": "A", "parent": "B"}, {"name": "B", "parent": "R1"}])
    plan = build_plan(m, live(departments=rows))
    assert sent(plan) == [
        ("bulk", [30, 31, 32, 11]),
        ("/v3/departments/10", {"parent_id": 11}),
        ("/v3/departments/40", {"parent_id": 10}),
    ]


def test_office_moves_follow_the_same_rule() -> None:
    rows = [office(1, "EMEA"), office(2, "APAC"), *(office(10 + i, f"Site {i}", 1) for i in range(3)),
            office(30, "Desk")]
    m = manifest(prune={"offices": "off"}, offices=[*({"name": f"Site {i}", "parent": "APAC"} for i in range(3)),
                                                    {"name": "Desk", "parent": "Site 0"}])
    assert sent(build_plan(m, live(offices=rows))) == [("bulk", [10, 11, 12]), ("/v3/offices/30", {"parent_id": 10})]


# -- through the sandbox (rows applied in a shuffled order) ---------------------------------------------------


def org(parents: Mapping[int, int | None]) -> dict[str, Any]:
    data = seed()
    data["departments"] += [{"id": n, "name": f"T{n}", "parent_id": p, "external_id": None, **STAMP}
                            for n, p in parents.items()]
    return data


def apply(rig: Rig, m: Any, **kwargs: Any) -> Plan:
    with rig.reader() as reader:
        plan = build_plan(m, read_for_manifest(reader, m), **kwargs)
    rig.sandbox.clear_log()
    rig.executor().apply(plan)
    return plan


def test_more_moves_than_one_bulk_request_takes_are_applied_in_capped_requests_and_converge() -> None:
    # 3 top-level targets, 12 departments two levels down (under T900 <- T901) moved under them; one
    # dependent move (T950 under T700, which moves) stays single after the bulk requests.
    tops = {600: None, 601: None, 602: None, 900: None, 901: 900}
    movers = {700 + i: 901 for i in range(12)}
    rig = Rig(org({**tops, **movers, 950: None}))
    after = {n: 600 + i % 3 for i, n in enumerate(movers)}
    m = manifest(prune={"departments": "off"},
                 departments=[*({"name": f"T{n}", "parent": f"T{p}"} for n, p in after.items()),
                              {"name": "T950", "parent": "T700"}])
    plan = apply(rig, m, bulk_max_rows=5)
    assert [len(b.changes) for b in plan.bulk_requests] == [4, 4, 4]  # 12 free moves, at most 5 a request
    assert [(method, path) for method, path, _ in rig.writes()] == [
        *[("PATCH", "/v3/departments/bulk")] * 3, ("PATCH", "/v3/departments/950")]
    live_parents = {r["id"]: r["parent_id"] for r in rig.sandbox.rows("departments")}
    assert {n: live_parents[n] for n in after} == after
    assert live_parents[950] == 700
    with rig.reader() as reader:
        assert build_plan(m, read_for_manifest(reader, m)).changes == ()


# -- every bulk row is valid in every order --------------------------------------------------------------------


def forest(draw: st.DrawFn, nodes: list[int]) -> dict[int, int | None]:
    """A random forest over `nodes`: in a random order, each node's parent is an earlier node or none."""
    order = draw(st.permutations(nodes))
    return {n: draw(st.sampled_from([None, *order[:i]])) for i, n in enumerate(order)}


@st.composite
def reparentings(draw: st.DrawFn) -> tuple[dict[int, int | None], dict[int, int | None]]:
    nodes = list(range(500, 500 + draw(st.integers(3, 8))))
    return forest(draw, nodes), forest(draw, nodes)


def on_chain(parents: Mapping[int, int | None], node: int, of: int | None) -> bool:
    while of is not None:
        if of == node:
            return True
        of = parents.get(of)
    return False


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees=reparentings())
def test_each_bulk_row_is_valid_whichever_rows_of_its_request_ran_before_it(
    trees: tuple[dict[int, int | None], dict[int, int | None]],
) -> None:
    before, after = trees
    m = manifest(prune={"departments": "off"},
                 departments=[{"name": f"T{n}", "parent": None if p is None else f"T{p}"} for n, p in after.items()])
    plan = build_plan(m, live(departments=[dept(n, f"T{n}", p) for n, p in before.items()]))
    state = dict(before)
    bulk_of = {key: b for b in plan.bulk_requests for key in b.changes}
    for change in plan.changes:
        (write,) = change.writes
        assert change.id is not None
        b = bulk_of.get(change.key)
        if b is not None and change.key == b.changes[0]:
            rows = [c.writes[0].bulk_item for c in plan.changes if c.key in b.changes]
            for row in rows:
                others = [r for r in rows if r is not row]
                for k in range(len(others) + 1):
                    for ran in combinations(others, k):
                        trial = {**state, **{r["id"]: r["parent_id"] for r in ran if "parent_id" in r}}
                        assert not on_chain(trial, row["id"], row.get("parent_id")), (row, ran)
        if b is None:
            assert not on_chain(state, change.id, write.body.get("parent_id"))  # the single write, in order
        if "parent_id" in write.body:
            state[change.id] = write.body["parent_id"]
    assert state == after
