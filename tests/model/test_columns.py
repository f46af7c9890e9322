"""Columns: add, rename, reorder, WIP limits, delete and restore, lookup."""

from __future__ import annotations

import pytest
from pycrdt import Map

from lanban.model.board import Board
from lanban.model.errors import BoardError

from .helpers import Clock, layout, titles

COLUMNS = ["A", "B", "C", "D", "E"]


def column_titles(board: Board) -> list[str]:
    return [c.title for c in board.columns()]


def test_add_column_at_the_end() -> None:
    board = Board.create("B")
    cid = board.add_column("Review")
    assert column_titles(board) == ["To do", "Doing", "Done", "Review"]
    assert board.column(cid).title == "Review"


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_add_column_at_an_index(index: int) -> None:
    board = Board.create("B")
    board.add_column("New", index=index)
    expected = ["To do", "Doing", "Done"]
    expected.insert(index, "New")
    assert column_titles(board) == expected


def test_add_column_index_out_of_range_is_clamped() -> None:
    board = Board.create("B")
    board.add_column("Last", index=99)
    board.add_column("First", index=-4)
    assert column_titles(board) == ["First", "To do", "Doing", "Done", "Last"]


def test_add_column_with_a_wip_limit() -> None:
    board = Board.create("B")
    board.add_column("Review", wip_limit=3)
    assert board.column("Review").wip_limit == 3


def test_rename_column_keeps_its_tickets() -> None:
    board = Board.create("B")
    board.add_ticket("t1", "Doing")
    board.rename_column("Doing", "In progress")
    assert layout(board) == [("To do", []), ("In progress", ["t1"]), ("Done", [])]


def test_set_and_clear_wip_limit() -> None:
    board = Board.create("B")
    board.set_wip_limit("Doing", 2)
    assert board.column("Doing").wip_limit == 2
    board.set_wip_limit("Doing", 0)
    assert board.column("Doing").wip_limit == 0


@pytest.mark.parametrize("moved", range(len(COLUMNS)))
@pytest.mark.parametrize("index", range(len(COLUMNS)))
def test_move_column_to_every_index(moved: int, index: int) -> None:
    board = Board.create("B", COLUMNS)
    board.move_column(COLUMNS[moved], index)
    expected = [c for c in COLUMNS if c != COLUMNS[moved]]
    expected.insert(index, COLUMNS[moved])
    assert column_titles(board) == expected
    assert column_titles(Board.from_update(board.get_update())) == expected


def test_move_column_index_is_clamped() -> None:
    board = Board.create("B", COLUMNS)
    board.move_column("B", 50)
    board.move_column("D", -3)
    assert column_titles(board) == ["D", "A", "C", "E", "B"]


def test_many_column_moves_keep_a_consistent_order() -> None:
    board = Board.create("B", COLUMNS)
    expected = list(COLUMNS)
    for step in range(200):
        title = expected[(step * 7) % 5]
        index = (step * 3) % 5
        board.move_column(title, index)
        expected.remove(title)
        expected.insert(index, title)
        assert column_titles(board) == expected
    assert all(len(c.rank) <= 16 for c in board.columns())


def test_deleted_column_is_hidden_and_comes_back_in_place() -> None:
    board = Board.create("B")
    board.delete_column("Doing")
    assert column_titles(board) == ["To do", "Done"]
    deleted = [c for c in board.columns(include_deleted=True) if c.deleted]
    assert [c.title for c in deleted] == ["Doing"]
    board.restore_column("Doing")
    assert column_titles(board) == ["To do", "Doing", "Done"]


def test_restoring_a_live_column_is_refused() -> None:
    board = Board.create("B")
    with pytest.raises(BoardError, match="'Doing' is not deleted"):
        board.restore_column("Doing")


def test_a_deleted_column_cannot_take_tickets() -> None:
    board = Board.create("B")
    board.delete_column("Done")
    with pytest.raises(BoardError, match="'Done' is deleted; restore it first"):
        board.add_ticket("t", "Done")
    tid = board.add_ticket("t")
    with pytest.raises(BoardError, match="deleted; restore it first"):
        board.move_ticket(tid, "Done")
    assert layout(board) == [("To do", ["t"]), ("Doing", [])]


def test_tickets_of_a_deleted_column_show_in_the_first_column_marked() -> None:
    board = Board.create("B", clock=Clock())
    board.add_ticket("todo")
    doing = board.column("Doing").id
    board.add_ticket("d1", "Doing")
    board.add_ticket("d2", "Doing")
    board.delete_column("Doing")
    assert column_titles(board) == ["To do", "Done"]
    shown = board.tickets("To do")
    assert sorted(t.title for t in shown) == ["d1", "d2", "todo"]
    marked = {t.title: t.misplaced for t in shown}
    assert marked == {"todo": False, "d1": True, "d2": True}
    assert {t.stored_column for t in shown if t.misplaced} == {doing}
    assert board.column_of("#2") == board.column("To do").id

    board.restore_column("Doing")
    assert layout(board) == [("To do", ["todo"]), ("Doing", ["d1", "d2"]), ("Done", [])]
    assert not any(t.misplaced for t in board.tickets())


def test_deleting_the_first_column_sends_its_tickets_to_the_next_one() -> None:
    board = Board.create("B")
    board.add_ticket("a", "To do")
    board.add_ticket("b", "Doing")
    board.delete_column("To do")
    assert {t.title: t.misplaced for t in board.tickets("Doing")} == {"a": True, "b": False}
    assert column_titles(board) == ["Doing", "Done"]


def test_moving_a_misplaced_ticket_settles_it() -> None:
    board = Board.create("B")
    tid = board.add_ticket("orphan", "Done")
    board.delete_column("Done")
    assert board.ticket(tid).misplaced
    board.move_ticket(tid, "To do", 0)
    ticket = board.ticket(tid)
    assert not ticket.misplaced
    board.restore_column("Done")
    assert layout(board) == [("To do", ["orphan"]), ("Doing", []), ("Done", [])]


def test_ticket_with_an_unknown_column_shows_in_the_first_column() -> None:
    """A foreign client wrote a column id that is not on the board."""
    board = Board.create("B")
    tid = board.add_ticket("stray", "Done")
    other = Board.from_update(board.get_update())
    tickets = other.doc.get("tickets", type=Map)
    with other.doc.transaction():
        tickets[tid]["column"] = "no-such-column"
    board.apply_update(other.get_update(board.get_state()))

    shown = board.tickets("To do")
    assert [(t.title, t.misplaced, t.stored_column) for t in shown] == [
        ("stray", True, "no-such-column")
    ]
    assert titles(board, "Done") == []
    board.move_ticket(tid, "Doing")
    assert layout(board) == [("To do", []), ("Doing", ["stray"]), ("Done", [])]


def test_ticket_moved_into_a_column_that_has_not_arrived_yet() -> None:
    """Bob adds a column, Carol moves a ticket there; Alice hears from Carol first."""
    alice = Board.create("B", actor="alice")
    tid = alice.add_ticket("early")
    bob = Board.from_update(alice.get_update(), actor="bob")
    carol = Board.from_update(alice.get_update(), actor="carol")
    from_bob: list[bytes] = []
    bob.on_update(lambda update, source: from_bob.append(update))
    later = bob.add_column("Later")
    for update in from_bob:
        carol.apply_update(update)
    from_carol: list[bytes] = []
    carol.on_update(lambda update, source: from_carol.append(update))
    carol.move_ticket(tid, "Later")

    for update in from_carol:
        alice.apply_update(update)
    shown = alice.tickets("To do")
    assert [(t.title, t.misplaced, t.stored_column) for t in shown] == [("early", True, later)]

    for update in from_bob:
        alice.apply_update(update)
    assert layout(alice) == [("To do", []), ("Doing", []), ("Done", []), ("Later", ["early"])]
    assert not alice.ticket(tid).misplaced


def test_column_lookup_by_id_or_case_insensitive_title() -> None:
    board = Board.create("B")
    doing = board.column("Doing")
    assert board.column(doing.id) == doing
    assert board.column("doing") == doing
    assert board.column("  DOING ") == doing


def test_column_lookup_with_two_columns_of_one_name_asks_for_the_id() -> None:
    board = Board.create("B", ["Review", "review"])
    with pytest.raises(BoardError, match="more than one column is called 'REVIEW'; use its id"):
        board.column("REVIEW")
    first = board.columns()[0]
    assert board.column(first.id).title == "Review"


def test_a_deleted_column_is_found_only_when_asked_for() -> None:
    board = Board.create("B")
    done = board.column("Done").id
    board.delete_column("Done")
    with pytest.raises(BoardError, match="deleted; restore it first"):
        board.column(done)
    assert board.column(done, include_deleted=True).deleted
    assert board.column("done", include_deleted=True).id == done
    # A new live column may reuse a deleted column's name.
    board.add_column("Done")
    assert board.column("Done").id != done
