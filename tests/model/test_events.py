"""What observers are told: who changed the board (LOCAL or REMOTE) and what changed."""

from __future__ import annotations

from lanban.model.board import Board
from lanban.model.events import BoardEvent, Change, Kind, Origin
from lanban.model.schema import LOCAL_SOURCE, REMOTE_SOURCE

from .helpers import Clock, two_replicas


class Recorder:
    def __init__(self, board: Board) -> None:
        self.events: list[BoardEvent] = []
        self.stop = board.subscribe(self.events.append)

    def take(self) -> list[BoardEvent]:
        events = list(self.events)
        self.events.clear()
        return events

    def kinds(self) -> set[tuple[Origin, Kind, str | None]]:
        return {(e.origin, c.kind, c.id) for e in self.take() for c in e.changes}


def test_local_ticket_operations() -> None:
    board = Board.create("B", clock=Clock())
    seen = Recorder(board)
    tid = board.add_ticket("t")
    assert seen.take() == [BoardEvent(Origin.LOCAL, (Change(Kind.TICKET_ADDED, tid),))]

    board.edit_ticket(tid, title="t2", assignee="ann")
    [event] = seen.take()
    assert event.origin is Origin.LOCAL
    assert event.changes == (Change(Kind.TICKET_CHANGED, tid, frozenset({"title", "assignee"})),)

    board.splice_description(tid, 0, 0, "é")
    assert seen.take()[0].changes == (Change(Kind.TICKET_CHANGED, tid, frozenset({"description"})),)

    board.move_ticket(tid, "Done")
    assert seen.kinds() == {(Origin.LOCAL, Kind.TICKET_MOVED, tid)}
    board.delete_ticket(tid)
    assert seen.kinds() == {(Origin.LOCAL, Kind.TICKET_REMOVED, tid)}
    board.restore_ticket(tid)
    assert seen.kinds() == {(Origin.LOCAL, Kind.TICKET_ADDED, tid)}
    board.delete_ticket(tid)
    seen.take()
    board.purge_ticket(tid)
    assert seen.take()[0].changes == (Change(Kind.TICKET_REMOVED, tid, frozenset({"purged"})),)
    other = board.add_ticket("c")
    seen.take()
    board.add_comment(other, "hi")
    assert seen.take()[0].changes == (Change(Kind.TICKET_CHANGED, other, frozenset({"comments"})),)


def test_local_board_column_and_label_operations() -> None:
    board = Board.create("B", clock=Clock())
    seen = Recorder(board)
    board.rename("New")
    assert seen.kinds() == {(Origin.LOCAL, Kind.BOARD_CHANGED, board.id)}
    for operation in (
        lambda: board.add_column("Review"),
        lambda: board.rename_column("Review", "QA"),
        lambda: board.move_column("QA", 0),
        lambda: board.set_wip_limit("QA", 2),
        lambda: board.delete_column("QA"),
        lambda: board.restore_column("QA"),
    ):
        operation()
        assert [c.kind for e in seen.take() for c in e.changes] == [Kind.COLUMNS_CHANGED]
    lid = board.add_label("bug")
    assert seen.kinds() == {(Origin.LOCAL, Kind.LABELS_CHANGED, lid)}


def test_no_event_for_a_change_that_changes_nothing() -> None:
    board = Board.create("B")
    tid = board.add_ticket("t")
    seen = Recorder(board)
    board.edit_ticket(tid, title="t")
    board.move_ticket(tid, "To do", 0)
    assert seen.take() == []


def test_a_peers_changes_arrive_as_remote_events() -> None:
    alice, bob, net = two_replicas()
    seen = Recorder(alice)
    tid = bob.add_ticket("t")
    net.settle()
    assert seen.kinds() == {(Origin.REMOTE, Kind.TICKET_ADDED, tid)}

    bob.edit_ticket(tid, title="renamed")
    net.settle()
    [event] = seen.take()
    assert event.origin is Origin.REMOTE
    [change] = event.changes
    assert change.kind is Kind.TICKET_CHANGED and change.id == tid and "title" in change.fields

    bob.splice_description(tid, 0, 0, "😀")
    net.settle()
    [change] = seen.take()[0].changes
    assert (change.kind, "description" in change.fields) == (Kind.TICKET_CHANGED, True)

    bob.move_ticket(tid, "Doing")
    net.settle()
    assert seen.kinds() == {(Origin.REMOTE, Kind.TICKET_MOVED, tid)}

    bob.delete_ticket(tid)
    net.settle()
    assert (Origin.REMOTE, Kind.TICKET_REMOVED, tid) in seen.kinds()
    bob.restore_ticket(tid)
    net.settle()
    assert (Origin.REMOTE, Kind.TICKET_ADDED, tid) in seen.kinds()

    bob.add_column("Review")
    net.settle()
    assert seen.kinds() == {(Origin.REMOTE, Kind.COLUMNS_CHANGED, None)}
    bob.rename("Renamed board")
    net.settle()
    assert seen.kinds() == {(Origin.REMOTE, Kind.BOARD_CHANGED, alice.id)}
    bob.add_label("bug")
    net.settle()
    assert {kind for _, kind, _ in seen.kinds()} == {Kind.LABELS_CHANGED}


def test_the_boards_own_column_and_label_edits_between_peers_changes_are_not_theirs() -> None:
    alice, bob, net = two_replicas()
    seen = Recorder(alice)
    tid = bob.add_ticket("t")
    net.settle()  # the first peer's change: the other roots are watched from now on
    seen.take()
    alice.add_column("Mine")
    alice.add_label("mine")
    alice.rename("Alice's name for it")
    seen.take()
    bob.move_ticket(tid, "Doing")
    net.settle()
    assert seen.kinds() == {(Origin.REMOTE, Kind.TICKET_MOVED, tid)}
    bob.add_label("theirs")
    net.settle()
    assert {kind for _, kind, _ in seen.kinds()} == {Kind.LABELS_CHANGED}


def test_remote_purge_and_remote_column_delete() -> None:
    alice, bob, net = two_replicas()
    tid = alice.add_ticket("t", "Doing")
    alice.delete_ticket(tid)
    net.settle()
    seen = Recorder(alice)
    bob.purge_ticket(tid)
    bob.delete_column("Doing")
    net.settle()
    kinds = seen.kinds()
    assert (Origin.REMOTE, Kind.COLUMNS_CHANGED, None) in kinds
    assert not any(kind is Kind.TICKET_ADDED for _, kind, _ in kinds)
    assert alice.trash() == []


def test_undo_and_redo_are_local_events() -> None:
    board = Board.create("B", clock=Clock())
    tid = board.add_ticket("t")
    board.move_ticket(tid, "Done")
    seen = Recorder(board)
    board.undo()
    assert seen.kinds() == {(Origin.LOCAL, Kind.TICKET_MOVED, tid)}
    board.undo()
    assert seen.kinds() == {(Origin.LOCAL, Kind.TICKET_REMOVED, tid)}
    board.redo()
    assert seen.kinds() == {(Origin.LOCAL, Kind.TICKET_ADDED, tid)}
    board.edit_ticket(tid, title="x")
    seen.take()
    board.undo()
    [event] = seen.take()
    assert event.origin is Origin.LOCAL
    assert [(c.kind, "title" in c.fields) for c in event.changes] == [(Kind.TICKET_CHANGED, True)]
    board.delete_column("Doing")
    seen.take()
    board.undo()
    assert seen.kinds() == {(Origin.LOCAL, Kind.COLUMNS_CHANGED, None)}


def test_renumbering_after_a_merge_is_announced() -> None:
    alice, bob, net = two_replicas()
    a = alice.add_ticket("alice")
    b = bob.add_ticket("bob")
    seen = Recorder(alice)
    net.settle()
    events = seen.take()
    assert all(e.origin is Origin.REMOTE for e in events)
    changes = {(c.kind, c.id, c.fields) for e in events for c in e.changes}
    assert any(kind is Kind.TICKET_ADDED and tid == b for kind, tid, _ in changes)
    renumbered = a if alice.ticket(a).number != 1 else b
    assert alice.ticket(renumbered).number == 2
    assert (Kind.TICKET_CHANGED, renumbered, frozenset({"number"})) in changes


def test_a_renumbered_ticket_tells_the_number_it_had() -> None:
    alice = Board.create("B", actor="alice", clock=Clock(start=2_000))
    bob = Board(actor="bob", clock=Clock(start=1_000), board_id=alice.id)  # Bob's is older
    bob.apply_update(alice.get_update())
    a = alice.add_ticket("alice")
    b = bob.add_ticket("bob")
    carol = Board.from_update(alice.get_update(), actor="carol")  # Alice's copy, unmerged
    seen, carol_seen = Recorder(alice), Recorder(carol)
    alice.apply_update(bob.get_update(alice.doc.get_state()))
    assert (alice.ticket(a).number, alice.ticket(b).number) == (2, 1)  # Bob's came first
    # Alice's replica made the fix: it says what the number was
    fixes = [c for e in seen.take() for c in e.changes if c.previous_number is not None]
    assert [(c.kind, c.id, c.previous_number) for c in fixes] == [(Kind.TICKET_CHANGED, a, 1)]
    # Carol gets the fix made elsewhere (with Bob's ticket): she hears the same
    carol.apply_update(alice.get_update(carol.doc.get_state()))
    fixes = [c for e in carol_seen.take() for c in e.changes if c.previous_number is not None]
    assert [(c.id, c.previous_number, "number" in c.fields) for c in fixes] == [(a, 1, True)]
    assert carol.ticket(a).number == 2
    # an edit or a new ticket has no previous number
    alice.edit_ticket(a, title="x")
    alice.add_ticket("more")
    assert all(c.previous_number is None for e in seen.take() for c in e.changes)


def test_unsubscribed_listener_hears_nothing() -> None:
    board = Board.create("B")
    seen = Recorder(board)
    seen.stop()
    board.add_ticket("t")
    assert seen.take() == []


def test_update_listeners_get_each_transaction_with_its_source() -> None:
    alice, bob, net = two_replicas()
    sources: list[object] = []
    stop = bob.on_update(lambda update, source: sources.append(source))
    bob.add_ticket("mine")
    alice.add_ticket("theirs")
    net.settle()
    assert sources[0] == LOCAL_SOURCE
    assert REMOTE_SOURCE in sources
    heard = len(sources)
    stop()
    bob.add_ticket("unheard")
    assert len(sources) == heard
