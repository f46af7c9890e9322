"""Known pycrdt 0.14.13 (yrs 0.28) bugs that reach what a Lanban user sees.

Each test states what should happen and is marked as an expected failure
(strict): when a pycrdt release fixes the bug, the test passes, pytest
reports it, and the marker goes. Two come from updates of one sender
applied out of order; Yjs 13.6, fed the same bytes in the same order, gets
both right. The third, an undo that deletes a Map key, Yjs 13.6 shares
(yjs/yjs#514); a ticket it strikes still shows, in the first column, marked.
The fourth, a recursive delete that overflows the stack, runs in a subprocess (it
segfaults). It no longer reaches a Lanban node or relay: the update guard counts type
depths across updates (sync/type_depths.py), so a chain a key holder builds one level
per update stops at the depth limit (tests/sync/test_attacks_schema.py), and a board
file holding one has its rows past the limit quarantined; a chain an older version
compacted into one snapshot row is the case left.

A third bug is not here because it does not fail the same way twice (it can
segfault): with garbage collection on, a user's move and undo of a ticket
followed by a peer's purge of that ticket can corrupt the document, so that
``get_update()`` leaves out columns and tickets or crashes. The convergence
property test runs with ``skip_gc=True`` because of it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from pycrdt import Doc

from lanban.model.board import Board
from tests.support import timeout

from .helpers import Clock, Network, two_replicas


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="yrs 0.28: a Map key is lost when its new value arrives before its previous one",
)
def test_edits_arriving_out_of_order_keep_every_field() -> None:
    alice, bob, net = two_replicas()
    tid = alice.add_ticket("first", assignee="ann")
    alice.edit_ticket(tid, assignee="carol")
    alice.edit_ticket(tid, title="third", assignee="dave")
    first, second, third = (update for _, update in net.inboxes[1])
    for update in (first, third, second):  # the middle edit comes last
        bob.apply_update(update)
    assert (alice.ticket(tid).title, alice.ticket(tid).assignee) == ("third", "dave")
    assert (bob.ticket(tid).title, bob.ticket(tid).assignee) == ("third", "dave")


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="yrs 0.28: a Map key is lost when its new value arrives before its previous one",
)
def test_purge_arriving_before_an_earlier_edit() -> None:
    alice = Board.create("B", actor="alice", clock=Clock())
    keep = alice.add_ticket("keep")
    bob = Board.from_update(alice.get_update())
    sent: list[bytes] = []
    alice.on_update(lambda update, source: sent.append(update))
    alice.edit_ticket(keep, title="keep 2")
    alice.edit_ticket(keep, title="keep 3")
    gone = alice.add_ticket("gone")
    alice.delete_ticket(gone)
    alice.purge_ticket(gone)
    for update in sent[1:] + sent[:1]:  # the first edit comes last
        bob.apply_update(update)
    # pycrdt's event leaves out the purged key; the Board notices and rebuilds
    # its index (it used to raise KeyError here). The title is the other bug.
    assert [t.title for t in bob.tickets(include_deleted=True)] == ["keep 3"]


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="yrs 0.28 (as Yjs 13.6, yjs/yjs#514): undoing a Map write that won over a "
    "concurrent one deletes the key",
)
def test_undo_of_a_move_that_won_over_a_peers_keeps_a_place() -> None:
    template = Board.create("B", ["To do", "Doing", "Done"], clock=Clock())
    alice = Board(Doc(client_id=2, skip_gc=True), actor="alice", clock=Clock())
    alice.apply_update(template.get_update())
    net = Network(alice, 2, clock=Clock(), client_ids=[2, 1], skip_gc=True)
    bob = net.boards[1]
    tid = alice.add_ticket("t")
    net.settle()
    alice.move_ticket(tid, alice.column("Done").id)
    bob.move_ticket(tid, bob.column("Doing").id)  # the lower client id: Alice's move stays
    net.settle()
    assert alice.undo()
    net.settle()
    for board in (alice, bob):
        ticket = board.ticket(tid)
        # Where it was before, or where Bob put it; not without a column and rank.
        places = {board.column("To do").id, board.column("Doing").id}
        assert ticket.stored_column in places, ticket
        assert ticket.rank and not ticket.misplaced


_DEEP_DELETE = """
from pycrdt import Doc, Map, merge_updates

a, b = Doc(skip_gc=True), Doc(skip_gc=True)
tickets = a.get("tickets", type=Map)
with a.transaction():
    tickets["t"] = Map({"column": "x"})
b.apply_update(a.get_update())
before = b.get_state()
del b.get("tickets", type=Map)["t"]  # a peer deletes the ticket: one level
deletion = b.get_update(before)
parent, key = tickets["t"], "column"
for _ in range(40_000):  # meanwhile a key holder nests maps, one level per update
    parent[key] = Map()
    parent, key = parent[key], "k"
Doc(skip_gc=True).apply_update(merge_updates(a.get_update(), deletion))
print("applied")
"""


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="yrs 0.28 deletes a type's contents recursively: a deletion of a Map nested "
    "40,000 deep overflows the stack (issue 9: nesting built one level per update)",
)
def test_deleting_a_map_nested_deep_over_many_updates() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _DEEP_DELETE],
        capture_output=True,
        text=True,
        timeout=timeout(120),
        check=False,
    )
    assert done.returncode == 0 and "applied" in done.stdout, done.returncode
