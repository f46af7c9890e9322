"""Creating a board, its title, and the errors a user gets for impossible edits."""

from __future__ import annotations

import pytest

from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.model.limits import MAX_TEXT_LENGTH, MAX_TITLE_LENGTH
from lanban.model.schema import LOCAL_SOURCE

from .helpers import Clock, layout


def test_new_board_has_the_default_columns_and_no_tickets() -> None:
    board = Board.create("Sprint 12", actor="alice")
    assert board.title == "Sprint 12"
    assert layout(board) == [("To do", []), ("Doing", []), ("Done", [])]
    assert board.trash() == []
    assert board.schema == 1
    assert board.id


def test_new_board_with_custom_columns_keeps_their_order() -> None:
    board = Board.create("Ops", ["Inbox", "Triage", "Fixing", "Verify", "Closed"])
    assert [c.title for c in board.columns()] == ["Inbox", "Triage", "Fixing", "Verify", "Closed"]
    assert all(c.wip_limit == 0 and not c.deleted for c in board.columns())


def test_titles_are_trimmed_and_inner_whitespace_collapsed() -> None:
    board = Board.create("  Release \n plan  ", ["  Ready\tto   go "])
    assert board.title == "Release plan"
    assert [c.title for c in board.columns()] == ["Ready to go"]


def test_board_id_and_creation_time_are_kept() -> None:
    board = Board.create("B", board_id="board-1", clock=lambda: 1_700_000_000_000)
    assert board.id == "board-1"
    assert board.created_at == 1_700_000_000_000


def test_rename_board() -> None:
    board = Board.create("Old name")
    board.rename("New name")
    assert board.title == "New name"
    copy = Board.from_update(board.get_update())
    assert copy.title == "New name"


def test_copy_from_update_shows_the_same_board() -> None:
    board = Board.create("B", clock=Clock())
    board.add_ticket("one", "Doing", description="text")
    copy = Board.from_update(board.get_update())
    assert layout(copy) == [("To do", []), ("Doing", ["one"]), ("Done", [])]
    assert copy.ticket("#1").description == "text"


@pytest.mark.parametrize("title", ["", "   ", "\n\t"])
def test_empty_board_title_is_refused(title: str) -> None:
    with pytest.raises(BoardError, match="board title cannot be empty"):
        Board.create(title)
    board = Board.create("Kept")
    with pytest.raises(BoardError, match="board title cannot be empty"):
        board.rename(title)
    assert board.title == "Kept"


def test_too_long_titles_are_refused_with_the_limit() -> None:
    board = Board.create("B")
    long = "x" * (MAX_TITLE_LENGTH + 1)
    with pytest.raises(BoardError, match=f"at most {MAX_TITLE_LENGTH}"):
        board.rename(long)
    with pytest.raises(BoardError, match="ticket title is too long"):
        board.add_ticket(long)
    assert board.tickets() == []
    board.add_ticket("x" * MAX_TITLE_LENGTH)  # exactly the limit is fine


def test_empty_column_title_is_refused() -> None:
    with pytest.raises(BoardError, match="column title cannot be empty"):
        Board.create("B", ["To do", " "])
    board = Board.create("B")
    with pytest.raises(BoardError, match="column title cannot be empty"):
        board.add_column("")
    with pytest.raises(BoardError, match="column title cannot be empty"):
        board.rename_column("Doing", "  ")
    assert [c.title for c in board.columns()] == ["To do", "Doing", "Done"]


def test_unknown_column_names_the_columns_there_are() -> None:
    board = Board.create("Team")
    with pytest.raises(BoardError) as raised:
        board.add_ticket("x", "Backlog")
    message = str(raised.value)
    assert "no column 'Backlog'" in message
    assert "'To do', 'Doing', 'Done'" in message
    assert board.tickets() == []
    with pytest.raises(BoardError, match="no column"):
        board.ticket_ids("nope")


def test_unknown_ticket_says_how_to_refer_to_one() -> None:
    board = Board.create("Team")
    with pytest.raises(BoardError, match=r"no ticket 'abc'.*use an id or #number"):
        board.ticket("abc")
    with pytest.raises(BoardError, match="no ticket #7"):
        board.move_ticket("#7", "Done")
    with pytest.raises(BoardError, match="no ticket"):
        board.edit_ticket("nope", title="x")


def test_moving_a_trashed_ticket_asks_to_restore_it_first() -> None:
    board = Board.create("B")
    tid = board.add_ticket("gone")
    board.delete_ticket(tid)
    with pytest.raises(BoardError, match="#1 is in the trash; restore it first"):
        board.move_ticket(tid, "Done")
    assert [t.title for t in board.trash()] == ["gone"]


def test_a_purged_ticket_can_be_neither_moved_nor_restored() -> None:
    board = Board.create("B")
    tid = board.add_ticket("gone")
    board.delete_ticket(tid)
    board.purge_ticket(tid)
    with pytest.raises(BoardError, match="no ticket"):
        board.move_ticket(tid, "Done")
    with pytest.raises(BoardError, match="no ticket"):
        board.restore_ticket(tid)
    with pytest.raises(BoardError, match="no ticket #1"):
        board.ticket("#1")


def test_purging_needs_the_ticket_in_the_trash() -> None:
    board = Board.create("B")
    tid = board.add_ticket("live")
    with pytest.raises(BoardError, match="#1 is not in the trash; delete it before purging"):
        board.purge_ticket(tid)
    assert [t.title for t in board.tickets()] == ["live"]


def test_deleting_or_restoring_twice_is_refused() -> None:
    board = Board.create("B")
    tid = board.add_ticket("t")
    with pytest.raises(BoardError, match="already not in the trash"):
        board.restore_ticket(tid)
    board.delete_ticket(tid)
    with pytest.raises(BoardError, match="already in the trash"):
        board.delete_ticket(tid)


def test_the_last_column_cannot_be_deleted() -> None:
    board = Board.create("B", ["Only"])
    with pytest.raises(BoardError, match="'Only' is the board's last column; add another first"):
        board.delete_column("Only")
    assert [c.title for c in board.columns()] == ["Only"]


def test_duplicate_label_is_refused_whatever_its_case() -> None:
    board = Board.create("B")
    board.add_label("Bug")
    with pytest.raises(BoardError, match="a label called 'bug' exists already"):
        board.add_label("bug")
    assert [label.name for label in board.labels()] == ["Bug"]


def test_unknown_label_on_a_ticket_is_refused() -> None:
    board = Board.create("B")
    with pytest.raises(BoardError, match="no label 'urgent'"):
        board.add_ticket("t", labels=["urgent"])
    assert board.tickets() == []


@pytest.mark.parametrize("limit", [-1, 10_001])
def test_wip_limit_out_of_range_is_refused(limit: int) -> None:
    board = Board.create("B")
    with pytest.raises(BoardError, match=rf"between 0 \(none\) and 10000, not {limit}"):
        board.set_wip_limit("Doing", limit)
    with pytest.raises(BoardError, match="WIP limit"):
        board.add_column("Review", wip_limit=limit)
    assert [(c.title, c.wip_limit) for c in board.columns()] == [
        ("To do", 0),
        ("Doing", 0),
        ("Done", 0),
    ]


def test_description_too_long_is_refused_with_the_limit() -> None:
    board = Board.create("B")
    long = "y" * (MAX_TEXT_LENGTH + 1)
    with pytest.raises(BoardError, match=f"at most {MAX_TEXT_LENGTH}"):
        board.add_ticket("t", description=long)
    assert board.tickets() == []
    tid = board.add_ticket("t", description="short")
    with pytest.raises(BoardError, match="too long"):
        board.edit_ticket(tid, description=long)
    with pytest.raises(BoardError, match="too long"):
        board.splice_description(tid, 5, 0, "y" * (MAX_TEXT_LENGTH - 4))
    assert board.ticket(tid).description == "short"


def test_description_edit_outside_the_text_is_refused() -> None:
    board = Board.create("B")
    tid = board.add_ticket("t", description="abc")
    with pytest.raises(BoardError, match=r"edit range 2\+5 is outside the description \(3 char"):
        board.splice_description(tid, 2, 5, "")
    with pytest.raises(BoardError, match="outside"):
        board.splice_description(tid, 4, 0, "x")
    with pytest.raises(BoardError, match="outside"):
        board.splice_description(tid, -1, 0, "x")
    assert board.ticket(tid).description == "abc"


def test_empty_comment_is_refused() -> None:
    board = Board.create("B")
    tid = board.add_ticket("t")
    with pytest.raises(BoardError, match="comment cannot be empty"):
        board.add_comment(tid, "  \n ")
    with pytest.raises(BoardError, match="no comment 'nope'"):
        board.delete_comment(tid, "nope")
    assert board.ticket(tid).comments == ()


def test_a_refused_edit_changes_nothing_and_sends_nothing() -> None:
    board = Board.create("B")
    tid = board.add_ticket("t")
    sent: list[bytes] = []
    board.on_update(lambda update, source: sent.append(update))
    for attempt in (
        lambda: board.edit_ticket(tid, title=" "),
        lambda: board.move_ticket(tid, "Nowhere"),
        lambda: board.set_wip_limit("Done", -5),
        lambda: board.add_comment(tid, ""),
    ):
        with pytest.raises(BoardError):
            attempt()
    assert sent == []
    assert board.ticket(tid).title == "t"


def test_writes_after_a_transaction_that_failed_to_open_are_saved() -> None:
    """Writes re-enter one kept pycrdt transaction (model.writes): one that a failure
    left entered (pycrdt counts the lease before it opens the Rust transaction) must
    not be entered again, or no later write would ever commit."""
    board = Board.create("B", ["Todo"])
    tid = board.add_ticket("t")
    saved: list[bytes] = []
    board.on_update(lambda update, _source: saved.append(update))
    board._writes._transactions[LOCAL_SOURCE]._leases = 1  # as a failed __enter__ leaves it
    board.edit_ticket(tid, title="renamed")
    assert saved, "the edit was never committed"
    assert Board.from_update(board.get_update()).ticket(tid).title == "renamed"
