"""Undo and redo: this user's own changes only, one step per operation, sent to peers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lanban.model.board import Board
from lanban.model.schema import LOCAL_SOURCE

from .helpers import Clock, layout, snapshot, titles, two_replicas


def test_undo_and_redo_an_add() -> None:
    board = Board.create("B", clock=Clock())
    board.add_ticket("one")
    board.add_ticket("two", description="text 😀")
    assert board.undo()
    assert titles(board, "To do") == ["one"]
    assert board.redo()
    assert titles(board, "To do") == ["one", "two"]
    assert board.ticket("#2").description == "text 😀"


def test_undo_a_move_puts_the_ticket_back_exactly() -> None:
    board = Board.create("B", clock=Clock())
    for n in range(4):
        board.add_ticket(f"t{n}")
    board.move_ticket("#2", "Done")
    board.move_ticket("#4", "To do", 0)
    assert layout(board) == [("To do", ["t3", "t0", "t2"]), ("Doing", []), ("Done", ["t1"])]
    board.undo()
    assert layout(board) == [("To do", ["t0", "t2", "t3"]), ("Doing", []), ("Done", ["t1"])]
    board.undo()
    assert layout(board) == [("To do", ["t0", "t1", "t2", "t3"]), ("Doing", []), ("Done", [])]
    board.redo()
    board.redo()
    assert layout(board) == [("To do", ["t3", "t0", "t2"]), ("Doing", []), ("Done", ["t1"])]


def test_undo_an_edit() -> None:
    board = Board.create("B", clock=Clock())
    board.add_label("bug")
    tid = board.add_ticket("old", assignee="ann", description="before")
    board.edit_ticket(tid, title="new", assignee="bob", labels=["bug"], description="after")
    board.undo()
    ticket = board.ticket(tid)
    assert (ticket.title, ticket.assignee, ticket.labels, ticket.description) == (
        "old",
        "ann",
        (),
        "before",
    )


def test_undo_delete_restore_and_purge() -> None:
    board = Board.create("B", clock=Clock())
    tid = board.add_ticket("t")
    board.delete_ticket(tid)
    board.undo()
    assert titles(board, "To do") == ["t"] and board.trash() == []
    board.redo()
    board.purge_ticket(tid)
    assert board.tickets(include_deleted=True) == []
    board.undo()
    assert [t.title for t in board.trash()] == ["t"]
    board.undo()
    assert titles(board, "To do") == ["t"]


def test_undo_column_changes() -> None:
    board = Board.create("B", clock=Clock())
    board.add_ticket("t", "Done")
    board.add_column("Review", index=1)
    board.move_column("Done", 0)
    board.delete_column("Doing")
    board.rename_column("To do", "Backlog")
    board.set_wip_limit("Review", 3)
    assert [c.title for c in board.columns()] == ["Done", "Backlog", "Review"]
    for _ in range(5):
        board.undo()
    assert layout(board) == [("To do", []), ("Doing", []), ("Done", ["t"])]
    assert board.column("Done").wip_limit == 0


def test_undo_of_a_column_delete_brings_its_tickets_back() -> None:
    board = Board.create("B", clock=Clock())
    board.add_ticket("d", "Doing")
    board.delete_column("Doing")
    assert [(t.title, t.misplaced) for t in board.tickets("To do")] == [("d", True)]
    board.undo()
    assert layout(board) == [("To do", []), ("Doing", ["d"]), ("Done", [])]


def test_separate_operations_are_separate_steps() -> None:
    board = Board.create("B", clock=Clock(step=0))  # all at the same millisecond
    tid = board.add_ticket("t")
    board.edit_ticket(tid, title="t2")
    board.move_ticket(tid, "Done")
    board.edit_ticket(tid, assignee="ann")
    board.undo()
    assert (board.ticket(tid).assignee, board.column_of(tid)) == ("", board.column("Done").id)
    board.undo()
    assert board.column_of(tid) == board.column("To do").id
    assert board.ticket(tid).title == "t2"
    board.undo()
    assert board.ticket(tid).title == "t"
    board.undo()
    assert board.tickets() == []
    assert not board.can_undo()
    assert not board.undo()


def test_typing_in_a_description_is_one_step() -> None:
    board = Board.create("B", clock=Clock(step=10))
    tid = board.add_ticket("t", description="")
    for n, char in enumerate("hello"):
        board.splice_description(tid, n, 0, char)
    board.undo()
    assert board.ticket(tid).description == ""
    assert titles(board, "To do") == ["t"]


def test_a_new_change_clears_redo() -> None:
    board = Board.create("B", clock=Clock())
    board.add_ticket("a")
    board.undo()
    assert board.can_redo()
    board.add_ticket("b")
    assert not board.can_redo()
    assert not board.redo()
    assert titles(board, "To do") == ["b"]


def test_undo_never_reverts_a_peers_change() -> None:
    alice, bob, net = two_replicas()
    tid = alice.add_ticket("alice's")
    net.settle()
    bob.add_ticket("bob's")
    net.settle()
    assert alice.undo()  # her add
    assert titles(alice, "To do") == ["bob's"]
    assert not alice.can_undo()
    assert not alice.undo()  # Bob's add is not hers to undo
    assert titles(alice, "To do") == ["bob's"]
    net.settle()
    assert titles(bob, "To do") == ["bob's"]
    assert tid not in {t.id for t in bob.tickets(include_deleted=True)}


def test_undo_skips_a_peers_change_interleaved_with_mine() -> None:
    alice, bob, net = two_replicas()
    tid = alice.add_ticket("t")
    net.settle()
    alice.edit_ticket(tid, title="alice's title")
    net.settle()
    bob.edit_ticket(tid, assignee="bob")
    bob.move_ticket(tid, "Doing")
    net.settle()
    alice.undo()
    ticket = alice.ticket(tid)
    assert ticket.title == "t"
    assert ticket.assignee == "bob"
    assert alice.column_of(tid) == alice.column("Doing").id
    net.settle()
    assert snapshot(bob) == snapshot(alice)


def test_undo_after_a_peer_overwrote_the_same_field_keeps_the_peers_value() -> None:
    alice, bob, net = two_replicas()
    tid = bob.add_ticket("t")
    net.settle()
    alice.edit_ticket(tid, title="alice")
    net.settle()
    bob.edit_ticket(tid, title="bob")
    net.settle()
    alice.undo()  # nothing of hers is left to revert
    net.settle()
    assert alice.ticket(tid).title == bob.ticket(tid).title == "bob"


def test_undo_is_sent_to_peers() -> None:
    alice, bob, net = two_replicas()
    sent: list[tuple[bytes, object]] = []
    alice.on_update(lambda update, source: sent.append((update, source)))
    alice.add_ticket("t")
    alice.move_ticket("#1", "Done")
    net.settle()
    sent.clear()
    alice.undo()
    assert sent and all(source == LOCAL_SOURCE for _, source in sent)
    net.settle()
    assert layout(bob) == [("To do", ["t"]), ("Doing", []), ("Done", [])]
    alice.redo()
    net.settle()
    assert layout(bob) == [("To do", []), ("Doing", []), ("Done", ["t"])]


OPS = st.lists(
    st.tuples(
        st.sampled_from(["add", "move", "edit", "delete", "restore", "column", "splice"]),
        st.integers(0, 20),
        st.integers(0, 5),
    ),
    min_size=1,
    max_size=15,
)


@settings(max_examples=60, deadline=None)
@given(OPS)
def test_undo_all_then_redo_all_walks_back_and_forth_through_the_same_boards(
    ops: list[tuple[str, int, int]],
) -> None:
    board = Board.create("B", clock=Clock())
    history = [snapshot(board)]  # creating the board is not an undo step
    sent: list[bytes] = []
    board.on_update(lambda update, source: sent.append(update))
    typing = False
    for step, (name, a, b) in enumerate([("add", 0, 0), ("add", 0, 1), *ops]):
        sent.clear()
        live = board.tickets()
        trash = board.trash()
        if name == "add":
            board.add_ticket(f"n{a}", board.columns()[b % len(board.columns())].id, index=a)
        elif name == "move" and live:
            board.move_ticket(live[a % len(live)].id, board.columns()[b % 3].id, a)
        elif name == "edit" and live:
            board.edit_ticket(live[a % len(live)].id, title=f"e{step}", assignee=f"p{b}")
        elif name == "delete" and live:
            board.delete_ticket(live[a % len(live)].id)
        elif name == "restore" and trash:
            board.restore_ticket(trash[a % len(trash)].id)
        elif name == "column":
            board.move_column(board.columns()[a % 3].id, b)
        elif name == "splice" and live:
            board.splice_description(live[a % len(live)].id, 0, 0, "✓")
        if not sent:
            continue
        if name == "splice" and typing:
            history[-1] = snapshot(board)  # typing on: the same undo step
        else:
            history.append(snapshot(board))
        typing = name == "splice"
    steps = len(history) - 1
    for back in range(1, steps + 1):
        assert board.undo()
        assert snapshot(board) == history[-1 - back]
    assert not board.can_undo()
    for forward in range(1, steps + 1):
        assert board.redo()
        assert snapshot(board) == history[forward]
    assert not board.can_redo()
