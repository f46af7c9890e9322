"""Tickets: add, edit, descriptions, moves, trash, numbers, comments."""

from __future__ import annotations

import pytest

from lanban.model.board import Board
from lanban.model.errors import BoardError

from .helpers import Clock, layout, titles


def board_with(counts: dict[str, int]) -> Board:
    """A board whose columns hold tickets titled after them: "To do 0", ..."""
    board = Board.create("B", list(counts), clock=Clock())
    for column, count in counts.items():
        for n in range(count):
            board.add_ticket(f"{column} {n}", column)
    return board


def test_add_ticket_goes_to_the_end_of_the_first_column() -> None:
    board = Board.create("B", actor="alice", clock=Clock())
    board.add_ticket("one")
    board.add_ticket("two")
    assert layout(board) == [("To do", ["one", "two"]), ("Doing", []), ("Done", [])]
    ticket = board.ticket("#1")
    assert (ticket.title, ticket.created_by, ticket.updated_by) == ("one", "alice", "alice")
    assert not ticket.deleted and not ticket.misplaced


def test_add_ticket_with_all_its_fields() -> None:
    board = Board.create("B")
    board.add_label("bug")
    board.add_label("ui")
    tid = board.add_ticket(
        "  Fix   login ",
        "Doing",
        description="Steps:\n1. open",
        assignee=" bob ",
        labels=["bug", "UI"],
    )
    ticket = board.ticket(tid)
    assert ticket.title == "Fix login"
    assert ticket.description == "Steps:\n1. open"
    assert ticket.assignee == "bob"
    assert sorted(board.label(lid).name for lid in ticket.labels) == ["bug", "ui"]
    assert ticket.column == board.column("Doing").id


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_add_ticket_at_an_index(index: int) -> None:
    board = board_with({"To do": 3})
    board.add_ticket("new", "To do", index=index)
    expected = ["To do 0", "To do 1", "To do 2"]
    expected.insert(index, "new")
    assert titles(board, "To do") == expected


def test_add_ticket_index_out_of_range_is_clamped() -> None:
    board = board_with({"To do": 2})
    board.add_ticket("last", "To do", index=10)
    board.add_ticket("first", "To do", index=-3)
    assert titles(board, "To do") == ["first", "To do 0", "To do 1", "last"]


def test_add_ticket_to_a_column_by_title_in_any_case() -> None:
    board = Board.create("B")
    board.add_ticket("x", "DONE")
    assert layout(board)[2] == ("Done", ["x"])


def test_edit_title_assignee_labels_and_description() -> None:
    board = Board.create("B", actor="alice", clock=Clock())
    board.add_label("bug")
    board.add_label("docs")
    tid = board.add_ticket("t", labels=["bug"])
    before = board.ticket(tid)
    board.actor = "bob"
    board.edit_ticket(
        tid, title="New title", assignee="carol", labels=["docs"], description="new text"
    )
    after = board.ticket(tid)
    assert after.title == "New title"
    assert after.assignee == "carol"
    assert [board.label(lid).name for lid in after.labels] == ["docs"]
    assert after.description == "new text"
    assert after.updated_by == "bob" and after.updated_at > before.updated_at
    assert after.created_by == "alice" and after.created_at == before.created_at


def test_edit_only_the_given_fields() -> None:
    board = Board.create("B")
    tid = board.add_ticket("t", description="keep", assignee="ann")
    board.edit_ticket(tid, title="renamed")
    ticket = board.ticket(tid)
    assert (ticket.title, ticket.description, ticket.assignee) == ("renamed", "keep", "ann")


def test_clearing_assignee_and_labels() -> None:
    board = Board.create("B")
    board.add_label("bug")
    tid = board.add_ticket("t", assignee="ann", labels=["bug"])
    board.edit_ticket(tid, assignee="", labels=[])
    ticket = board.ticket(tid)
    assert ticket.assignee == "" and ticket.labels == ()


def test_an_edit_that_changes_nothing_sends_nothing() -> None:
    board = Board.create("B")
    tid = board.add_ticket("t", description="d", assignee="a")
    sent: list[bytes] = []
    board.on_update(lambda update, source: sent.append(update))
    board.edit_ticket(tid, title=" t ", description="d", assignee="a", labels=[])
    assert sent == []


def test_deleting_a_label_takes_it_off_tickets() -> None:
    board = Board.create("B")
    board.add_label("bug")
    board.add_label("ui")
    tid = board.add_ticket("t", labels=["bug", "ui"])
    board.delete_label("bug")
    assert [board.label(lid).name for lid in board.ticket(tid).labels] == ["ui"]
    assert [label.name for label in board.labels()] == ["ui"]


DESCRIPTION = "Café 😀 naïve – ✓ 中文 end"


@pytest.mark.parametrize(
    ("start", "removed", "inserted"),
    [
        (0, 0, "👋 "),  # at the start
        (len(DESCRIPTION), 0, " 🎉"),  # at the end
        (3, 1, "é"),  # replace an accented letter
        (5, 1, "🙂"),  # replace an emoji by another
        (5, 2, ""),  # delete an emoji and the space after it
        (7, 5, "Ünïcödé"),  # across accented letters and a dash
        (14, 0, "𝄞"),  # an astral character next to CJK
        (4, 0, "\u0301"),  # a combining accent
        (0, len(DESCRIPTION), "all new ✨"),  # replace everything
    ],
)
def test_splice_description_with_non_ascii(start: int, removed: int, inserted: str) -> None:
    board = Board.create("B")
    tid = board.add_ticket("t", description=DESCRIPTION)
    board.splice_description(tid, start, removed, inserted)
    expected = DESCRIPTION[:start] + inserted + DESCRIPTION[start + removed :]
    assert board.ticket(tid).description == expected
    assert board.description(tid) == expected
    # A peer sees the same text.
    assert Board.from_update(board.get_update()).ticket(tid).description == expected


def test_splice_at_every_index_of_a_mixed_string() -> None:
    text = "a😀é𝄞z"
    for start in range(len(text) + 1):
        for removed in range(len(text) - start + 1):
            board = Board.create("B")
            tid = board.add_ticket("t", description=text)
            board.splice_description(tid, start, removed, "✓😀")
            assert board.ticket(tid).description == text[:start] + "✓😀" + text[start + removed :]


def test_edit_description_with_emoji_changes_only_the_difference() -> None:
    """Two people editing different ends of one description both keep their edit."""
    alice = Board.create("B")
    tid = alice.add_ticket("t", description="😀 start … end 😀")
    bob = Board.from_update(alice.get_update())
    alice.edit_ticket(tid, description="😀 START … end 😀")
    bob.edit_ticket(tid, description="😀 start … END 😀")
    alice.apply_update(bob.get_update(alice.get_state()))
    bob.apply_update(alice.get_update(bob.get_state()))
    assert alice.ticket(tid).description == "😀 START … END 😀"
    assert bob.ticket(tid).description == "😀 START … END 😀"


def test_concurrent_splices_in_one_description_both_survive() -> None:
    alice = Board.create("B")
    tid = alice.add_ticket("t", description="naïve café")
    bob = Board.from_update(alice.get_update())
    alice.splice_description(tid, 0, 0, "🌟 ")
    bob.splice_description(tid, 10, 0, " ☕")
    alice.apply_update(bob.get_update(alice.get_state()))
    bob.apply_update(alice.get_update(bob.get_state()))
    assert alice.ticket(tid).description == "🌟 naïve café ☕"
    assert bob.ticket(tid).description == "🌟 naïve café ☕"


COUNTS = {"A": 4, "B": 3, "C": 0}


def ticket_at(board: Board, column: str, index: int) -> str:
    return board.ticket_ids(column)[index]


@pytest.mark.parametrize("source", [0, 1, 2, 3])
@pytest.mark.parametrize("index", [-1, 0, 1, 2, 3, 4, None])
def test_move_within_a_column_to_every_index(source: int, index: int | None) -> None:
    board = board_with(COUNTS)
    tid = ticket_at(board, "A", source)
    before = titles(board, "A")
    board.move_ticket(tid, "A", index)
    shown = board.ticket_ids("A")
    expected_index = len(shown) - 1 if index is None else min(max(index, 0), len(shown) - 1)
    assert shown.index(tid) == expected_index
    moved = before.pop(source)
    before.insert(expected_index, moved)
    assert titles(board, "A") == before
    assert layout(board)[1:] == [("B", ["B 0", "B 1", "B 2"]), ("C", [])]


@pytest.mark.parametrize("source", [0, 1, 2, 3])
@pytest.mark.parametrize("target", ["B", "C"])
@pytest.mark.parametrize("index", [-1, 0, 1, 2, 3, 9, None])
def test_move_to_another_column_at_every_index(source: int, target: str, index: int | None) -> None:
    board = board_with(COUNTS)
    tid = ticket_at(board, "A", source)
    a_before, target_before = titles(board, "A"), titles(board, target)
    board.move_ticket(tid, target, index)
    size = len(target_before) + 1
    expected_index = size - 1 if index is None else min(max(index, 0), size - 1)
    assert board.ticket_ids(target).index(tid) == expected_index
    moved = a_before.pop(source)
    target_before.insert(expected_index, moved)
    assert titles(board, "A") == a_before
    assert titles(board, target) == target_before
    assert board.column_of(tid) == board.column(target).id
    # A peer loading the board sees the same.
    assert layout(Board.from_update(board.get_update())) == layout(board)


def test_move_to_where_it_is_changes_nothing() -> None:
    board = board_with({"A": 3})
    tid = ticket_at(board, "A", 1)
    sent: list[bytes] = []
    board.on_update(lambda update, source: sent.append(update))
    board.move_ticket(tid, "A", 1)
    assert sent == []
    assert titles(board, "A") == ["A 0", "A 1", "A 2"]


def test_move_by_number_and_column_title() -> None:
    board = board_with({"To do": 2, "Done": 0})
    board.move_ticket("#2", "done")
    assert layout(board) == [("To do", ["To do 0"]), ("Done", ["To do 1"])]


def test_long_series_of_moves_keeps_the_exact_order() -> None:
    board = board_with({"A": 6, "B": 6})
    expected = {"A": titles(board, "A"), "B": titles(board, "B")}
    for step in range(300):
        source = "A" if step % 3 else "B"
        if not expected[source]:
            continue
        target = "B" if step % 2 else "A"
        i = (step * 7) % len(expected[source])
        title = expected[source].pop(i)
        tid = next(t.id for t in board.tickets(source) if t.title == title)
        index = (step * 5) % (len(expected[target]) + 1)
        board.move_ticket(tid, target, index)
        expected[target].insert(index, title)
        assert titles(board, "A") == expected["A"], step
        assert titles(board, "B") == expected["B"], step


def test_delete_restore_and_purge() -> None:
    board = board_with({"A": 3})
    tid = ticket_at(board, "A", 1)
    board.delete_ticket(tid)
    assert titles(board, "A") == ["A 0", "A 2"]
    assert [(t.title, t.deleted) for t in board.trash()] == [("A 1", True)]
    assert board.column_of(tid) is None
    assert board.ticket("#2").deleted

    board.restore_ticket(tid)
    assert titles(board, "A") == ["A 0", "A 1", "A 2"]
    assert board.trash() == []

    board.delete_ticket(tid)
    board.purge_ticket(tid)
    assert board.trash() == []
    assert titles(board, "A") == ["A 0", "A 2"]
    assert [t.number for t in board.tickets(include_deleted=True)] == [1, 3]


def test_trash_lists_deleted_tickets_by_number() -> None:
    board = board_with({"A": 4})
    for ref in ("#3", "#1", "#4"):
        board.delete_ticket(ref)
    assert [(t.number, t.title) for t in board.trash()] == [(1, "A 0"), (3, "A 2"), (4, "A 3")]
    everything = board.tickets(include_deleted=True)
    assert [t.title for t in everything] == ["A 1", "A 0", "A 2", "A 3"]


def test_restored_ticket_returns_to_its_column_and_place() -> None:
    board = board_with({"A": 3, "B": 1})
    tid = ticket_at(board, "A", 1)
    board.delete_ticket(tid)
    board.move_ticket(ticket_at(board, "B", 0), "A", 1)
    board.restore_ticket(tid)
    shown = titles(board, "A")
    # Back between its old neighbours; "B 0" took that same gap meanwhile.
    assert [t for t in shown if t.startswith("A")] == ["A 0", "A 1", "A 2"]
    assert shown.index("B 0") in (1, 2)
    assert board.column_of(tid) == board.column("A").id


def test_restoring_into_a_deleted_column_shows_in_the_first_column() -> None:
    board = board_with({"A": 1, "B": 1})
    tid = ticket_at(board, "B", 0)
    board.delete_ticket(tid)
    board.delete_column("B")
    board.restore_ticket(tid)
    assert {t.title: t.misplaced for t in board.tickets("A")} == {"A 0": False, "B 0": True}


def test_numbers_count_up_and_trashed_tickets_keep_theirs() -> None:
    board = board_with({"A": 3})
    assert [t.number for t in board.tickets()] == [1, 2, 3]
    board.delete_ticket("#3")
    board.add_ticket("four")
    assert board.ticket("#4").title == "four"
    board.restore_ticket("#3")
    numbers = {t.number: t.title for t in board.tickets()}
    assert numbers == {1: "A 0", 2: "A 1", 3: "A 2", 4: "four"}


def test_purging_the_highest_number_frees_it() -> None:
    board = board_with({"A": 2})
    board.delete_ticket("#2")
    board.purge_ticket("#2")
    board.add_ticket("again")
    assert board.ticket("#2").title == "again"


def test_lookup_by_number() -> None:
    board = board_with({"A": 12})
    assert board.ticket("#12").title == "A 11"
    assert board.ticket(" #7 ").title == "A 6"
    with pytest.raises(BoardError, match="no ticket #13"):
        board.ticket("#13")
    with pytest.raises(BoardError, match="no ticket"):
        board.ticket("#x")


def test_comments_add_and_delete() -> None:
    board = Board.create("B", actor="ann", clock=Clock())
    tid = board.add_ticket("t")
    first = board.add_comment(tid, "  looks good 👍 ")
    second = board.add_comment(tid, "second")
    comments = board.ticket(tid).comments
    assert [(c.author, c.text) for c in comments] == [("ann", "looks good 👍"), ("ann", "second")]
    assert [c.id for c in comments] == [first, second]
    assert comments[0].at < comments[1].at
    board.delete_comment(tid, first)
    assert [c.text for c in board.ticket(tid).comments] == ["second"]
    peer = Board.from_update(board.get_update())
    assert [c.text for c in peer.ticket(tid).comments] == ["second"]


def test_comment_too_long_is_refused() -> None:
    board = Board.create("B")
    tid = board.add_ticket("t")
    with pytest.raises(BoardError, match="too long"):
        board.add_comment(tid, "x" * 100_001)
    assert board.ticket(tid).comments == ()
