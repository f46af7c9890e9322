"""Checklists (issue 11): operations, hostile values, and convergence."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map

from lanban.model.board import Board
from lanban.model.card_codec import NO_ID, REPEATED
from lanban.model.errors import BoardError
from lanban.model.limits import MAX_CHECKLIST_ITEMS, MAX_CHECKLIST_TEXT_LENGTH
from lanban.model.reading import NOT_READ, WRONG_TYPE
from tests.model.hostile import assert_sane, attack, root

from .helpers import Clock, Delivery, Network, two_replicas


def texts(board: Board, tid: str) -> list[str]:
    return [item.text for item in board.checklist(tid)]


def test_add_tick_edit_reorder_and_remove() -> None:
    board = Board.create("B", actor="ada", clock=Clock())
    tid = board.add_ticket("t")
    a = board.add_checklist_item(tid, "  write   tests ")
    b = board.add_checklist_item(tid, "ship")
    board.add_checklist_item(tid, "first", index=0)
    assert texts(board, tid) == ["first", "write tests", "ship"]
    board.set_checklist_done(tid, "2")
    board.set_checklist_done(tid, b[:5])
    board.set_checklist_done(tid, b, done=False)
    t = board.ticket(tid)
    assert t.checklist_summary == "1/3" and t.checklist[1].id == a and t.checklist[1].done
    board.edit_checklist_item(tid, a, "write more tests")
    board.move_checklist_item(tid, "3", 0)
    assert texts(board, tid) == ["ship", "first", "write more tests"]
    board.move_checklist_item(tid, b, 9)
    assert texts(board, tid) == ["first", "write more tests", "ship"]
    board.remove_checklist_item(tid, "1")
    assert texts(board, tid) == ["write more tests", "ship"]
    assert board.ticket(tid).updated_by == "ada"
    board.undo()
    assert texts(board, tid) == ["first", "write more tests", "ship"]
    copy = Board.from_update(board.get_update())
    assert copy.ticket(tid).checklist == board.ticket(tid).checklist
    empty = Board.create("E")
    assert empty.ticket(empty.add_ticket("x")).checklist_summary == ""


def test_items_are_referred_to_by_position_or_id_start() -> None:
    board = Board.create("B", clock=Clock())
    tid = board.add_ticket("t")
    board.add_checklist_item(tid, "one")
    with pytest.raises(BoardError, match="has 1 checklist item; there is no checklist item 2"):
        board.set_checklist_done(tid, "2")
    with pytest.raises(BoardError, match="no checklist item 'zzz"):
        board.set_checklist_done(tid, "zzz-no-such")
    with pytest.raises(BoardError, match="cannot be empty"):
        board.add_checklist_item(tid, "   ")
    with pytest.raises(BoardError, match="too long"):
        board.add_checklist_item(tid, "x" * (MAX_CHECKLIST_TEXT_LENGTH + 1))


def test_a_checklist_holds_at_most_its_limit() -> None:
    board = Board.create("B", clock=Clock())
    tid = board.add_ticket("t")
    for i in range(MAX_CHECKLIST_ITEMS):
        board.add_checklist_item(tid, f"item {i}")
    with pytest.raises(BoardError, match=f"at most {MAX_CHECKLIST_ITEMS}"):
        board.add_checklist_item(tid, "one too many")
    assert len(board.checklist(tid)) == MAX_CHECKLIST_ITEMS


def test_several_people_ticking_at_once_lose_nothing() -> None:
    alice, bob, net = two_replicas()
    tid = alice.add_ticket("t")
    ids = [alice.add_checklist_item(tid, f"item {i}") for i in range(4)]
    net.settle()
    alice.set_checklist_done(tid, ids[0])
    bob.set_checklist_done(tid, ids[1])
    alice.edit_checklist_item(tid, ids[2], "renamed")
    bob.move_checklist_item(tid, ids[3], 0)
    alice.add_checklist_item(tid, "alice's")
    bob.add_checklist_item(tid, "bob's")
    net.settle()
    assert alice.checklist(tid) == bob.checklist(tid)
    shown = {i.text: i.done for i in alice.checklist(tid)}
    assert shown == {
        "item 0": True,
        "item 1": True,
        "renamed": False,
        "item 3": False,
        "alice's": False,
        "bob's": False,
    }
    assert alice.checklist(tid)[0].text == "item 3"


# -------------------------------------------------------------- hostile values


def test_a_checklist_of_200k_items_reads_only_the_first_ones() -> None:
    board = Board.create("B", clock=Clock())
    tid = board.add_ticket("t")
    count = 200_000

    def write(doc: Doc[Any]) -> None:
        checklist = root(doc, "tickets")[tid]["checklist"]
        for n in range(count):  # at the front: appending to a pycrdt Array is quadratic
            checklist.insert(0, Map({"id": f"i{n}", "text": "spam", "rank": "a0"}))

    attack(board, write)
    shown = board.ticket(tid).checklist
    assert len(shown) == MAX_CHECKLIST_ITEMS
    assert board.ignored().counts["ticket.checklist", NOT_READ] == count - MAX_CHECKLIST_ITEMS
    assert_sane(board)
    board.set_checklist_done(tid, shown[0].id)  # what shows can still be ticked
    assert board.ticket(tid).checklist[0].done


def test_junk_in_a_checklist_is_ignored_and_counted() -> None:
    board = Board.create("B", clock=Clock())
    tid = board.add_ticket("t")
    board.add_checklist_item(tid, "real")

    def write(doc: Doc[Any]) -> None:
        checklist = root(doc, "tickets")[tid]["checklist"]
        checklist.append("not a map")
        checklist.append(Map({"text": "no id"}))
        checklist.append(Map({"id": "dup", "text": "one", "done": "yes", "rank": "b"}))
        checklist.append(Map({"id": "dup", "text": "copy", "rank": "c"}))
        checklist.append(Map({"id": "odd", "text": Map({"x": 1}), "done": Array([1]), "rank": 5}))

    attack(board, write)
    shown = board.checklist(tid)
    # rank 5 reads "5", before "a0"
    assert [(i.text, i.done) for i in shown] == [("", False), ("real", False), ("one", True)]
    counts = board.ignored().counts
    assert counts["checklist", WRONG_TYPE] == 1 and counts["checklist", NO_ID] == 1
    assert counts["checklist.id", REPEATED] == 1 and counts["checklist.text", WRONG_TYPE] == 1
    board.remove_checklist_item(tid, "dup")  # every copy goes
    board.edit_checklist_item(tid, "odd", "fixed")
    board.set_checklist_done(tid, "odd")
    assert [(i.text, i.done) for i in board.checklist(tid)] == [("fixed", True), ("real", False)]


def test_a_checklist_of_the_wrong_type_is_replaced_when_an_item_is_added() -> None:
    board = Board.create("B", clock=Clock())
    tid = board.add_ticket("t")
    attack(board, lambda doc: root(doc, "tickets")[tid].__setitem__("checklist", "junk"))
    assert board.checklist(tid) == ()
    assert board.ignored().counts["ticket.checklist", WRONG_TYPE] == 1
    board.add_checklist_item(tid, "fresh")
    assert texts(board, tid) == ["fresh"]


# ---------------------------------------------------------------- convergence

REPLICA = st.integers(0, 2)
PICK = st.integers(0, 20)
WORDS = st.text(alphabet="abc é😀", min_size=1, max_size=5).filter(lambda s: s.strip())
OPS = st.one_of(
    st.tuples(st.just("add"), REPLICA, st.integers(-1, 6) | st.none(), WORDS),
    st.tuples(st.just("tick"), REPLICA, PICK, st.booleans()),
    st.tuples(st.just("edit"), REPLICA, PICK, WORDS),
    st.tuples(st.just("move"), REPLICA, PICK, st.integers(0, 8)),
    st.tuples(st.just("remove"), REPLICA, PICK),
    st.tuples(st.just("deliver"), REPLICA, st.integers(0, 2**32)),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(2, 3),
    st.lists(OPS, min_size=1, max_size=30),
    st.sampled_from([Delivery.CAUSAL, Delivery.PER_SENDER]),
    st.integers(0, 2**32),
)
def test_concurrent_checklist_edits_converge_with_nothing_lost_or_doubled(
    size: int, ops: list[tuple[Any, ...]], order: Delivery, seed: int
) -> None:
    origin = Board.create("B", actor="user0", clock=Clock())
    tid = origin.add_ticket("t")
    net = Network(origin, size)
    added: dict[str, str] = {}  # id -> text as added
    removed: set[str] = set()
    for op in ops:
        board = net.boards[op[1] % size]
        items = board.checklist(tid)
        if op[0] == "add":
            added[board.add_checklist_item(tid, op[3], index=op[2])] = op[3]
            continue
        if op[0] == "deliver":
            net.deliver(op[1] % size, random.Random(op[2]), 0.2, order, partial=True)
            continue
        if not items:
            continue
        item = items[op[2] % len(items)]
        if op[0] == "tick":
            board.set_checklist_done(tid, item.id, op[3])
        elif op[0] == "edit":
            board.edit_checklist_item(tid, item.id, op[3])
        elif op[0] == "move":
            board.move_checklist_item(tid, item.id, op[3])
        else:
            board.remove_checklist_item(tid, item.id)
            removed.add(item.id)
    net.settle(random.Random(seed), 0.2, order)
    shown = [b.checklist(tid) for b in net.boards]
    assert all(s == shown[0] for s in shown), "every replica shows the same checklist"
    ids = [item.id for item in shown[0]]
    assert len(ids) == len(set(ids)), "no item twice"
    assert set(ids) == set(added) - removed, "every item added and not removed is there"
    assert all(b.ignored().total == 0 for b in net.boards)
