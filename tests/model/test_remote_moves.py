"""A peer's move is followed from pycrdt's events (model.changes): what the board
then shows and keeps in its index is what a fresh load of the same document
reads, whatever values the peer wrote for the column and the rank."""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Map

from lanban.model.board import Board
from lanban.model.events import BoardEvent, Kind, Origin

from .helpers import snapshot


def _peers() -> tuple[Board, Board, list[BoardEvent]]:
    alice = Board.create("B", ["Todo", "Doing", "Done"])
    for i in range(5):
        alice.add_ticket(f"t{i}", "Todo")
    bob = Board.from_update(alice.get_update())
    alice.on_update(lambda update, _source: bob.apply_update(update))
    events: list[BoardEvent] = []
    bob.subscribe(events.append)
    bob.tickets()  # bob's index is built: his view is kept up to date from here on
    return alice, bob, events


def _same_as_a_fresh_load(board: Board) -> None:
    fresh = Board.from_update(board.get_update())
    assert snapshot(board) == snapshot(fresh)
    assert board._cache.idx().places == fresh._cache.idx().places
    assert board._cache.idx().orders == fresh._cache.idx().orders


def _write(board: Board, tid: str, **values: Any) -> None:
    """Write raw values into a ticket, as another client might."""
    ticket = board._cache.tickets[tid]
    with board.doc.transaction():
        for key, value in values.items():
            if value is None:
                del ticket[key]
            else:
                ticket[key] = value


def test_a_peers_moves_are_seen_as_a_fresh_load_sees_them() -> None:
    alice, bob, events = _peers()
    ids = [t.id for t in alice.tickets()]
    todo, doing, _done = (c.id for c in alice.columns())
    for tid, column, index in [
        (ids[0], doing, 0),
        (ids[1], doing, 0),
        (ids[2], todo, 2),  # within its column
        (ids[0], todo, 9),
        (ids[3], doing, 1),
    ]:
        events.clear()
        alice.move_ticket(tid, column, index)
        assert [(e.origin, c.kind, c.id) for e in events for c in e.changes] == [
            (Origin.REMOTE, Kind.TICKET_MOVED, tid)
        ]
        _same_as_a_fresh_load(bob)
        assert bob.ticket_ids(column) == alice.ticket_ids(column)


def test_odd_column_and_rank_values_from_a_peer_read_as_a_fresh_load_reads_them() -> None:
    alice, bob, events = _peers()
    tid = alice.tickets()[0].id
    doing = alice.columns()[1].id
    for values in [
        {"rank": 5},  # a number
        {"rank": "z" * 5000},  # longer than any rank read
        {"column": "no such column"},  # shows in the first column
        {"column": "\x1b[31mred"},  # no id: unprintable
        {"column": None},  # deleted
        {"column": doing, "rank": "m"},
        {"rank": Map({"nested": 1})},  # a shared value: the ticket is tainted
        {"rank": "n"},
        {"column": Array([1])},
        {"column": doing, "rank": "a"},
    ]:
        events.clear()
        _write(alice, tid, **values)
        assert all(e.origin is Origin.REMOTE for e in events)
        _same_as_a_fresh_load(bob)


def test_a_move_together_with_another_change_is_read_from_the_document() -> None:
    alice, bob, events = _peers()
    tid = alice.tickets()[0].id
    doing = alice.columns()[1].id
    _write(alice, tid, column=doing, rank="b", title="moved and renamed")
    kinds = {(c.kind, c.id) for e in events for c in e.changes}
    assert kinds == {(Kind.TICKET_MOVED, tid), (Kind.TICKET_CHANGED, tid)}
    assert bob.ticket(tid).title == "moved and renamed"
    _same_as_a_fresh_load(bob)


def test_a_peers_move_of_a_ticket_in_the_trash_keeps_it_there() -> None:
    alice, bob, events = _peers()
    tid = alice.tickets()[0].id
    alice.delete_ticket(tid)
    events.clear()
    _write(alice, tid, column=alice.columns()[2].id, rank="c")
    assert not [c for e in events for c in e.changes if c.kind is not Kind.TICKET_CHANGED]
    assert tid not in bob.ticket_ids(alice.columns()[2].id)
    _same_as_a_fresh_load(bob)
