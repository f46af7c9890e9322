"""Ticket numbers stay unique when replicas that numbered tickets apart merge."""

from __future__ import annotations

from pycrdt import Doc, Map

from lanban.model.board import Board
from lanban.model.limits import MAX_TICKET_NUMBER
from lanban.model.numbers import free_numbers, renumbering

from .helpers import Clock, Network


def numbered(board: Board) -> dict[str, int]:
    """Ticket title -> number, trash included."""
    return {t.title: t.number for t in board.tickets(include_deleted=True)}


def offline_pair() -> tuple[Board, Board, Network]:
    """Alice and Bob with one shared ticket (#1), then working offline."""
    clock = Clock()
    alice = Board.create("B", actor="alice", clock=clock)
    alice.add_ticket("shared")
    net = Network(alice, 2, clock=clock)
    net.settle()
    return alice, net.boards[1], net


def test_offline_replicas_hand_out_the_same_numbers_then_merge_to_unique_ones() -> None:
    alice, bob, net = offline_pair()
    alice.add_ticket("alice 1")  # first created
    bob.add_ticket("bob 1")
    alice.add_ticket("alice 2")
    bob.add_ticket("bob 2")
    assert numbered(alice) == {"shared": 1, "alice 1": 2, "alice 2": 3}
    assert numbered(bob) == {"shared": 1, "bob 1": 2, "bob 2": 3}

    net.settle()  # both ways, repair updates included

    after = numbered(alice)
    assert after == numbered(bob)
    assert sorted(after.values()) == [1, 2, 3, 4, 5]
    # The ticket created first keeps its number; the rest follow, oldest first.
    assert after == {"shared": 1, "alice 1": 2, "bob 1": 4, "alice 2": 3, "bob 2": 5}


def test_lookup_by_number_agrees_after_the_merge() -> None:
    alice, bob, net = offline_pair()
    alice.add_ticket("from alice")
    bob.add_ticket("from bob")
    net.settle()
    for board in (alice, bob):
        assert board.ticket("#2").title == "from alice"
        assert board.ticket("#3").title == "from bob"


def test_a_replica_that_merges_first_tells_the_other_the_fix() -> None:
    """Bob repairs on receiving Alice's tickets; Alice learns the fix from Bob."""
    alice, bob, net = offline_pair()
    alice.add_ticket("alice")
    bob.add_ticket("bob")
    fixes: list[bytes] = []
    bob.on_update(lambda update, source: fixes.append(update))
    net.deliver(1)  # Bob gets Alice's ticket and renumbers his own
    assert numbered(bob) == {"shared": 1, "alice": 2, "bob": 3}
    assert fixes, "the fix is an update for peers"
    net.settle()
    assert numbered(alice) == numbered(bob) == {"shared": 1, "alice": 2, "bob": 3}


def test_three_replicas_with_the_same_numbers() -> None:
    clock = Clock()
    origin = Board.create("B", actor="a", clock=clock)
    net = Network(origin, 3, clock=clock)
    for n, board in enumerate(net.boards):
        board.add_ticket(f"r{n} first")
    for n, board in enumerate(net.boards):
        board.add_ticket(f"r{n} second")
    net.settle()
    views = [numbered(b) for b in net.boards]
    assert views[0] == views[1] == views[2]
    assert sorted(views[0].values()) == list(range(1, 7))
    assert views[0]["r0 first"] == 1  # created first


def test_trashed_tickets_take_part_in_the_fix() -> None:
    alice, bob, net = offline_pair()
    alice.add_ticket("alice")
    alice.delete_ticket("#2")
    bob.add_ticket("bob")
    net.settle()
    assert numbered(alice) == numbered(bob) == {"shared": 1, "alice": 2, "bob": 3}
    assert [t.title for t in alice.trash()] == ["alice"]


def test_equal_creation_times_are_ordered_by_id() -> None:
    stopped = Clock(step=0)  # every ticket created at the same millisecond
    alice = Board.create("B", clock=stopped)
    bob = Board(Doc(client_id=7), clock=stopped)
    bob.apply_update(alice.get_update())
    a = alice.add_ticket("a")
    b = bob.add_ticket("b")
    alice.apply_update(bob.get_update(alice.get_state()))
    bob.apply_update(alice.get_update(bob.get_state()))
    alice.apply_update(bob.get_update(alice.get_state()))
    first, second = sorted([a, b])
    for board in (alice, bob):
        assert board.ticket(first).number == 1
        assert board.ticket(second).number == 2


def test_a_foreign_number_below_one_is_renumbered() -> None:
    alice = Board.create("B", clock=Clock())
    tid = alice.add_ticket("odd")
    alice.add_ticket("fine")
    other = Board.from_update(alice.get_update())
    with other.doc.transaction():
        other.doc.get("tickets", type=Map)[tid]["number"] = 0
    alice.apply_update(other.get_update(alice.get_state()))
    assert numbered(alice) == {"odd": 3, "fine": 2}


def test_renumbering_rule() -> None:
    # (id, number, created_at) of tickets in a collision; highest on the board is 7
    rows = [("b", 5, 20), ("a", 5, 20), ("c", 5, 10), ("d", 6, 30), ("e", 6, 1)]
    assert renumbering(rows, 7) == {"a": 8, "b": 9, "d": 10}


def test_renumbering_at_the_top_of_the_range_takes_the_lowest_free_numbers() -> None:
    # someone wrote #2147483647 (the highest number there is): nothing fits above it
    rows = [("a", 0, 1), ("b", 0, 2), ("c", 4, 3), ("d", 4, 4)]
    taken = {0, 2, 4, MAX_TICKET_NUMBER}
    assert renumbering(rows, MAX_TICKET_NUMBER, taken) == {"a": 1, "b": 3, "d": 5}
    assert free_numbers({1, 2}, MAX_TICKET_NUMBER - 1, 3) == [MAX_TICKET_NUMBER, 3, 4]
