"""Undo when a peer's concurrent change overrides this user's last step.

pycrdt's UndoManager, like Yjs's, passes over a step that no longer changes
anything and undoes the step before it in the same call. A board's undo takes
back one step only (model.writes._History): otherwise one undo after a delete
that a peer also made took back the ticket's creation, and it vanished from
the trash (found by test_convergence.test_replicas_converge).
"""

from __future__ import annotations

from pycrdt import Doc, Map, UndoManager

from lanban.model.board import Board
from lanban.model.events import BoardEvent, Change, Kind, Origin

from .helpers import Clock, Network, snapshot

ALICE_WINS = (2, 1)  # of two concurrent writes to one key, the higher client id's stays
BOB_WINS = (1, 2)
STAR = frozenset({"*"})  # a ticket's whole entry


def replicas(client_ids: tuple[int, int]) -> tuple[Board, Board, Network]:
    """Alice's board and Bob's copy, with these client ids."""
    template = Board.create("B", ["To do"], clock=Clock())
    alice = Board(Doc(client_id=client_ids[0], skip_gc=True), actor="alice", clock=Clock())
    alice.apply_update(template.get_update())
    net = Network(alice, 2, clock=Clock(), client_ids=client_ids, skip_gc=True)
    return alice, net.boards[1], net


def ids(board: Board) -> set[str]:
    return {t.id for t in board.tickets(include_deleted=True)}


def test_pycrdt_undo_passes_over_a_step_that_changes_nothing() -> None:
    """What Board.undo works around. When this fails, pycrdt stopped doing it
    and model.writes._History may go (Yjs 13.6 does the same, by design)."""
    doc = Doc(client_id=1, skip_gc=True)
    tickets = doc.get("tickets", type=Map)
    undo = UndoManager(scopes=[tickets], capture_timeout_millis=0)
    undo.include_origin("local")
    with doc.transaction(origin="local"):
        tickets["t"] = Map({"deleted": False})
    peer = Doc(client_id=2, skip_gc=True)
    peer.apply_update(doc.get_update())
    with doc.transaction(origin="local"):
        tickets["t"]["deleted"] = True
    peer.get("tickets", type=Map)["t"]["deleted"] = True  # the higher client id wins
    doc.apply_update(peer.get_update(doc.get_state()))
    assert len(undo.undo_stack) == 2
    assert undo.undo()  # the delete changes nothing now: the creation goes instead
    assert len(undo.undo_stack) == 0
    assert tickets.to_py() == {}


def test_undo_of_a_delete_a_peer_also_made_leaves_the_ticket_in_the_trash() -> None:
    alice, bob, net = replicas(BOB_WINS)
    tid = alice.add_ticket("t")
    net.settle()
    alice.delete_ticket(tid)
    bob.delete_ticket(tid)
    net.settle()
    events: list[BoardEvent] = []
    alice.subscribe(events.append)
    assert not alice.undo()  # Bob's delete stands: nothing of hers to take back
    assert alice.can_undo()
    net.settle()
    for board in (alice, bob):
        assert [t.id for t in board.trash()] == [tid]
    assert events == []
    # The next undo is the one that takes back her add.
    assert alice.undo()
    assert not alice.can_undo()
    assert events == [BoardEvent(Origin.LOCAL, (Change(Kind.TICKET_REMOVED, tid, STAR),))]
    net.settle()
    assert tid not in ids(alice) | ids(bob)


def test_undo_of_a_delete_that_won_over_a_peers_keeps_the_ticket() -> None:
    alice, bob, net = replicas(ALICE_WINS)
    tid = alice.add_ticket("t")
    net.settle()
    alice.delete_ticket(tid)
    bob.delete_ticket(tid)
    net.settle()
    assert alice.undo()
    assert alice.can_undo()  # her add is still hers to undo
    net.settle()
    assert tid in ids(alice)
    assert snapshot(alice) == snapshot(bob)


def test_redo_of_a_step_a_peer_overrode_redoes_nothing_else() -> None:
    alice, bob, net = replicas(BOB_WINS)
    tid = bob.add_ticket("t")
    net.settle()
    alice.edit_ticket(tid, title="alice's")
    added = alice.add_ticket("added")
    assert alice.undo() and alice.undo()
    assert (alice.ticket(tid).title, ids(alice)) == ("t", {tid})
    net.settle()
    bob.edit_ticket(tid, title="bob's")
    net.settle()
    assert not alice.redo()  # Bob's title stands; her add stays undone
    assert (alice.ticket(tid).title, ids(alice)) == ("bob's", {tid})
    assert alice.redo()
    assert ids(alice) == {tid, added}
    assert not alice.can_redo()
    net.settle()
    assert snapshot(alice) == snapshot(bob)


def test_undoing_the_add_of_a_ticket_a_peer_trashed_tells_listeners() -> None:
    alice, bob, net = replicas(BOB_WINS)
    tid = alice.add_ticket("t")
    net.settle()
    bob.delete_ticket(tid)
    net.settle()
    events: list[BoardEvent] = []
    alice.subscribe(events.append)
    assert alice.undo()
    assert tid not in ids(alice)
    assert events == [BoardEvent(Origin.LOCAL, (Change(Kind.TICKET_REMOVED, tid, STAR),))]


def test_a_peers_purge_of_a_trashed_ticket_tells_listeners() -> None:
    alice, bob, net = replicas(BOB_WINS)
    tid = alice.add_ticket("t")
    alice.delete_ticket(tid)
    net.settle()
    events: list[BoardEvent] = []
    alice.subscribe(events.append)
    bob.purge_ticket(tid)
    net.settle()
    assert tid not in ids(alice)
    assert events == [BoardEvent(Origin.REMOTE, (Change(Kind.TICKET_REMOVED, tid, STAR),))]


def test_undo_remote_takes_back_one_change() -> None:
    alice, bob, net = replicas(ALICE_WINS)
    tid = bob.add_ticket("t")
    net.settle()
    bob.edit_ticket(tid, title="bob's")
    net.settle()
    alice.edit_ticket(tid, title="alice's")  # over Bob's last change, which now changes nothing
    assert not alice.undo_remote()
    assert tid in ids(alice)  # Bob's add stays
    assert alice.undo_remote()
    assert tid not in ids(alice)
