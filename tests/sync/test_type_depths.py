"""sync/type_depths.py through the UpdateGuard: nesting counted across updates (issue 9).

Driven by bytes alone: pycrdt documents make the updates (a key holder's client), a
guard over another document checks them as a node or relay would (admit, apply,
applied), and forged bytes (tests/sync/test_update_check.py's encoder) try what an
honest client never sends.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map

from lanban.model.board import Board
from lanban.model.schema import REMOTE_SOURCE
from lanban.sync import type_depths
from lanban.sync.type_depths import TypeDepths
from lanban.sync.update_check import MAX_TYPE_DEPTH, UpdateRefused
from lanban.sync.update_guard import UpdateGuard
from tests.benchmarks.bench_history import make_board
from tests.sync.test_update_check import item, section, update

NESTED = "nested over"
UNKNOWN = "a type builds on changes this copy does not have yet"


class Receiver:
    """A document and its guard, taking updates as the sync core does."""

    def __init__(self, doc: Doc[Any] | None = None) -> None:
        self.doc: Doc[Any] = doc if doc is not None else Doc(skip_gc=True)
        self.guard = UpdateGuard(self.doc)

    def take(self, data: bytes) -> int:
        """Admit, apply, record; the update's type depth."""
        summary = self.guard.admit(data)
        self.doc.apply_update(data)
        self.guard.applied(data, summary)
        return summary.type_depth

    def refusal(self, data: bytes) -> str:
        with pytest.raises(UpdateRefused) as caught:
            self.take(data)
        return caught.value.reason

    def index_matches_a_fresh_one(self) -> None:
        assert_exact(self.guard, self.doc)


def assert_exact(guard: UpdateGuard, doc: Doc[Any] | Board) -> None:
    """What the guard kept update by update is what a walk of the document finds."""
    guard.admit(b"\x00\x00")  # catches up if it has to
    guard.depths.read_queued()  # the document's own writes, read when needed
    fresh = TypeDepths()
    fresh.catch_up(doc)
    assert guard.depths.ends == fresh.ends
    for client, end in fresh.ends.items():
        assert [guard.depths.entry(client, k) for k in range(end)] == [
            fresh.entry(client, k) for k in range(end)
        ]


def updates_of(write: Callable[[Doc[Any]], None], doc: Doc[Any]) -> list[bytes]:
    """The updates ``doc`` emits while ``write`` runs (one per transaction)."""
    sent: list[bytes] = []
    subscription = doc.observe(lambda event: sent.append(event.update))
    try:
        write(doc)
    finally:
        doc.unobserve(subscription)
    return sent


def chain_by_keys(levels: int) -> Callable[[Doc[Any]], None]:
    """A Map in a new key of the Map the previous update made (parent by ID)."""

    def write(doc: Doc[Any]) -> None:
        parent: Map[Any] = doc.get("tickets", type=Map)
        for _ in range(levels):
            parent["k"] = Map()
            parent = parent["k"]

    return write


def chain_by_origins(levels: int) -> Callable[[Doc[Any]], None]:
    """A Map written over the value of a key the previous update's Map holds: its
    origin is that value (outside the update), its parent is never written out."""

    def write(doc: Doc[Any]) -> None:
        parent: Map[Any] = doc.get("tickets", type=Map)
        parent["k"] = "value"
        for _ in range(levels):
            with doc.transaction():
                parent["k"] = child = Map()
                child["k"] = "value"
            parent = child

    return write


def chain_in_arrays(levels: int) -> Callable[[Doc[Any]], None]:
    """An Array appended after the value the previous update's Array holds."""

    def write(doc: Doc[Any]) -> None:
        parent: Array[Any] = doc.get("list", type=Array)
        parent.append("value")
        for _ in range(levels):
            with doc.transaction():
                child: Array[Any] = Array()
                parent.append(child)
                child.append("value")
            parent = child

    return write


CHAINS = {"keys": chain_by_keys, "origins": chain_by_origins, "arrays": chain_in_arrays}


@pytest.mark.parametrize("chain", CHAINS, ids=CHAINS.keys())
def test_nesting_one_level_per_update_stops_at_the_limit(chain: str) -> None:
    updates = updates_of(CHAINS[chain](MAX_TYPE_DEPTH + 3), Doc(skip_gc=True))
    receiver = Receiver()
    depths = []
    for data in updates:
        try:
            depths.append(receiver.take(data))
        except UpdateRefused as exc:
            assert NESTED in exc.reason
            break
    # every update counted the levels the document had: 1, 2, ... up to the limit
    assert max(depths) == MAX_TYPE_DEPTH
    assert sorted(set(depths) - {0}) == list(range(1, MAX_TYPE_DEPTH + 1))
    receiver.index_matches_a_fresh_one()
    with pytest.raises(UpdateRefused, match=NESTED):  # and again, from a fresh guard
        Receiver(receiver.doc).take(updates[len(depths)])


def test_a_guard_over_a_document_that_already_nests_counts_its_levels() -> None:
    # the document got its levels before the guard was made (a board opened from its
    # file): the index is built from the whole state at the first update
    writer: Doc[Any] = Doc(skip_gc=True)
    updates = updates_of(chain_by_keys(MAX_TYPE_DEPTH + 1), writer)
    doc: Doc[Any] = Doc(skip_gc=True)
    for data in updates[:MAX_TYPE_DEPTH]:
        doc.apply_update(data)
    assert NESTED in Receiver(doc).refusal(updates[MAX_TYPE_DEPTH])


def test_local_edits_between_updates_are_counted() -> None:
    # the receiver's own client nests 6 levels, a peer adds 2 on top: 8 is taken, the
    # third on top is refused
    doc: Doc[Any] = Doc(skip_gc=True)
    receiver = Receiver(doc)
    receiver.take(updates_of(lambda d: d.get("board", type=Map).__setitem__("x", 1), Doc())[0])
    chain_by_keys(MAX_TYPE_DEPTH - 2)(doc)  # not through the guard: the user's own edits
    peer: Doc[Any] = Doc(skip_gc=True)
    peer.apply_update(doc.get_update())
    deepest = peer.get("tickets", type=Map)
    while "k" in deepest:
        deepest = deepest["k"]
    updates = updates_of(lambda _: _nest_under(deepest, 3), peer)
    assert [receiver.take(data) for data in updates[:2]] == [MAX_TYPE_DEPTH - 1, MAX_TYPE_DEPTH]
    assert NESTED in receiver.refusal(updates[2])
    receiver.index_matches_a_fresh_one()


def _nest_under(parent: Map[Any], levels: int) -> None:
    for _ in range(levels):
        parent["k"] = Map()
        parent = parent["k"]


def test_a_type_under_a_change_the_document_lacks_is_refused() -> None:
    writer: Doc[Any] = Doc(skip_gc=True)
    first, second = updates_of(chain_by_keys(2), writer)
    receiver = Receiver()
    assert UNKNOWN in receiver.refusal(second)  # its parent Map comes with ``first``
    assert receiver.doc.get_state() == b"\x00"  # nothing was applied
    receiver.take(first)
    receiver.take(second)  # in order, as a reconnect's sync sends them
    assert receiver.guard.depths.ends == {writer.client_id: 2}


def test_a_value_under_a_change_the_document_lacks_waits_and_is_counted_when_it_lands() -> None:
    # Values (not types) may wait for what they build on, as before: pycrdt holds them
    # aside. When the missing change lands, more lands than its update carried: the
    # index catches up from the document, so a Map put over the value that waited is
    # counted at its real depth (before, it could not be placed at all).
    writer: Doc[Any] = Doc(skip_gc=True)
    updates = updates_of(chain_by_keys(5), writer)
    other: Doc[Any] = Doc(skip_gc=True)
    for data in updates:
        other.apply_update(data)
    fifth = other.get("tickets", type=Map)
    for _ in range(5):
        fifth = fifth["k"]
    (value,) = updates_of(lambda _: fifth.__setitem__("other", "value"), other)
    third: Doc[Any] = Doc(skip_gc=True)
    third.apply_update(other.get_update())
    deep = third.get("tickets", type=Map)
    for _ in range(5):
        deep = deep["k"]
    (over_it,) = updates_of(lambda _: deep.__setitem__("other", Map()), third)

    receiver = Receiver()
    for data in updates[:4]:
        receiver.take(data)
    receiver.take(value)  # its Map comes with the fifth update: it waits
    assert receiver.guard.pending_bytes > 0
    assert UNKNOWN in receiver.refusal(over_it)
    receiver.take(updates[4])  # both land
    assert receiver.guard.pending_bytes == 0
    assert receiver.take(over_it) == 6
    receiver.index_matches_a_fresh_one()


def test_a_held_type_resent_with_another_parent_counts_as_the_document_has_it() -> None:
    # A forger resends the deepest Map the document holds claiming it sits in a root,
    # and a Map in it. yrs keeps the Map it holds: the new one is one level deeper
    # than that, not than the forged copy.
    writer: Doc[Any] = Doc(skip_gc=True)
    receiver = Receiver()
    for data in updates_of(chain_by_keys(MAX_TYPE_DEPTH), writer):
        receiver.take(data)
    client = writer.client_id
    deepest = max(receiver.guard.depths.ends[client] - 1, 0)
    forged = update(
        section(
            client,
            deepest,
            [item(7, b"\x01", root="decoy", sub="k"), item(7, b"\x01", parent=(client, deepest))],
        )
    )
    assert NESTED in receiver.refusal(forged)


def test_a_parent_the_document_holds_as_a_value_is_refused() -> None:
    writer: Doc[Any] = Doc(skip_gc=True)
    (first,) = updates_of(lambda d: d.get("tickets", type=Map).__setitem__("k", "v"), writer)
    receiver = Receiver()
    receiver.take(first)
    forged = update(section(777, 0, [item(7, b"\x01", parent=(writer.client_id, 0), sub="x")]))
    assert "not a type" in receiver.refusal(forged)


# ------------------------------------------------------------------ honest traffic


def test_two_boards_editing_concurrently_never_meet_a_refusal() -> None:
    """Two members edit at once; each one's updates reach the other in order, at random
    moments between the other's own edits (as over a link or the relay), and each side
    takes them through its guard. Nothing is refused and each index stays exact. A
    relay's room (a document with garbage collection on) takes every update as it is
    made, through its guard, and refuses nothing either."""
    rng = random.Random(5)
    ada = Board.create("Depths", ["To do", "Doing", "Done"], actor="ada")
    bob = Board.from_update(ada.get_update(), actor="bob")
    guards = {id(ada): UpdateGuard(ada), id(bob): UpdateGuard(bob)}
    queues: dict[int, list[bytes]] = {id(ada): [], id(bob): []}
    room = Receiver(Doc())
    room.take(ada.get_update())
    for board, other in ((ada, bob), (bob, ada)):
        board.on_update(
            lambda data, source, other=other: (
                (queues[id(other)].append(data), room.take(data))
                if source != REMOTE_SOURCE
                else None
            )
        )

    def deliver(board: Board, count: int) -> None:
        guard, queue = guards[id(board)], queues[id(board)]
        for _ in range(min(count, len(queue))):
            data = queue.pop(0)
            summary = guard.admit(data)
            board.apply_update(data)
            guard.applied(data, summary)

    for step in range(600):
        board = rng.choice((ada, bob))
        tickets = [t.id for t in board.tickets()]
        roll = rng.random()
        if roll < 0.2 or len(tickets) < 3:
            board.add_ticket(f"t{step}", rng.choice(board.columns()).id, description="d" * step)
        elif roll < 0.4:
            board.move_ticket(rng.choice(tickets), rng.choice(board.columns()).id)
        elif roll < 0.55:
            board.add_comment(rng.choice(tickets), f"comment {step}")
        elif roll < 0.7:
            board.edit_ticket(rng.choice(tickets), description=f"text {step}")
        elif roll < 0.75:
            board.add_checklist_item(rng.choice(tickets), f"item {step}")
        elif roll < 0.78:
            board.delete_ticket(rng.choice(tickets))
        elif roll < 0.8:
            board.undo()
        elif roll < 0.82:
            deleted = [t.id for t in board.tickets(include_deleted=True) if t.deleted]
            if deleted:
                board.purge_ticket(rng.choice(deleted))
        deliver(rng.choice((ada, bob)), rng.randrange(4))
    while queues[id(ada)] or queues[id(bob)]:  # taking one may make a repair to send
        deliver(ada, len(queues[id(ada)]))
        deliver(bob, len(queues[id(bob)]))
    assert ada.get_state() == bob.get_state() == room.doc.get_state()
    for board in (ada, bob):
        assert_exact(guards[id(board)], board)


def test_a_fresh_join_takes_the_whole_board_as_one_step_two() -> None:
    board, _ = make_board(2_000)
    receiver = Receiver()
    assert receiver.take(board.get_update()) == 3
    receiver.index_matches_a_fresh_one()


# ------------------------------------------------------------------ types that would wait


def deepest_type(doc: Doc[Any]) -> int:
    """How deep the document's deepest type sits, from a fresh walk of its state."""
    depths = TypeDepths()
    depths.catch_up(doc)
    deepest = 0
    for client, end in depths.ends.items():
        for clock in range(end):
            entry = depths.entry(client, clock)
            if entry & 3 == 2:  # a type
                deepest = max(deepest, (entry >> 2) + 1)
    return deepest


def deep_receiver() -> tuple[Receiver, int]:
    """A receiver holding a Map chain exactly as deep as the limit (its writer's id)."""
    writer: Doc[Any] = Doc(skip_gc=True)
    receiver = Receiver()
    for data in updates_of(chain_by_keys(MAX_TYPE_DEPTH), writer):
        receiver.take(data)
    assert deepest_type(receiver.doc) == MAX_TYPE_DEPTH
    return receiver, writer.client_id


def skip(length: int) -> bytes:
    return b"\x0a" + bytes([length])


FORGER = 555


def try_all(receiver: Receiver, *updates: bytes) -> list[str]:
    """Offer each update; the reasons of those refused."""
    reasons = []
    for data in updates:
        try:
            receiver.take(data)
        except UpdateRefused as exc:
            reasons.append(exc.reason)
    return reasons


def test_a_type_after_a_gap_in_its_clients_changes_is_refused() -> None:
    # The Map waits (its client's first change is skipped); the value that fills the
    # gap sits in the deepest Map, so the waiting Map would land one level too deep.
    receiver, writer = deep_receiver()
    waiting_map = update(section(FORGER, 0, [skip(1), item(7, b"\x01", origin=(FORGER, 0))]))
    filler = update(section(FORGER, 0, [item(8, b"\x01\x78", parent=(writer, 7), sub="v")]))
    reasons = try_all(receiver, waiting_map, filler)
    assert reasons == [UNKNOWN]
    assert deepest_type(receiver.doc) == MAX_TYPE_DEPTH


def test_a_type_after_a_value_that_waits_is_refused() -> None:
    # The value the Map goes after waits for a change nobody sent; when another value
    # with the same id comes, yrs may keep either: the Map's depth is unknowable.
    receiver, writer = deep_receiver()
    first = item(8, b"\x01\x78", root="r", sub="a")
    late = update(section(FORGER, 1, [item(8, b"\x01\x78", parent=(writer, 7), sub="v")]))
    shallow_copy = item(8, b"\x01\x78", root="r", sub="b")
    with_map = update(
        section(FORGER, 0, [first, shallow_copy, item(7, b"\x01", origin=(FORGER, 1))])
    )
    reasons = try_all(receiver, late, with_map)
    assert reasons == [UNKNOWN]
    assert deepest_type(receiver.doc) == MAX_TYPE_DEPTH


def test_a_type_whose_right_neighbour_is_missing_is_refused() -> None:
    # pycrdt keeps an item whose right origin it lacks waiting too
    receiver, _ = deep_receiver()
    value = item(8, b"\x01\x78", root="r")
    waiting_map = item(7, b"\x01", origin=(FORGER, 0), right=(FORGER + 1, 0))
    assert receiver.refusal(update(section(FORGER, 0, [value, waiting_map]))) == UNKNOWN


def test_a_type_after_a_value_whose_right_neighbour_is_missing_is_refused() -> None:
    receiver, writer = deep_receiver()
    value = item(8, b"\x01\x78", origin=(writer, 7 - 1), right=(FORGER + 1, 0))
    forged = update(section(FORGER, 0, [value, item(7, b"\x01", origin=(FORGER, 0))]))
    assert receiver.refusal(forged) == UNKNOWN


# ------------------------------------------------------------------ forged, at random

FORGERS = (555,)
HOW = ("root", "parent", "origin", "both", "skip")


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_order_of_forged_updates_takes_a_type_past_the_limit(data: st.DataObject) -> None:
    """Forgers send values and Maps next to or inside ids sent before (the chain's
    deepest Maps, their own), continuing their clocks, skipping one (a gap), or
    sending earlier ones again (other versions of ids), with Skips among them: whatever the
    guard takes, no type of the document is deeper than the limit, as pycrdt shows it."""
    receiver, writer = deep_receiver()
    made = [(writer, MAX_TYPE_DEPTH - 1)]
    next_clock = dict.fromkeys(FORGERS, 0)
    for _ in range(data.draw(st.integers(1, 12))):
        client = data.draw(st.sampled_from(FORGERS))
        clock = data.draw(st.integers(0, next_clock[client] + 1))
        structs = []
        for own in range(clock, clock + data.draw(st.integers(1, 3))):
            earlier = [i for i in made if not (i[0] == client and i[1] >= own)]
            how = data.draw(st.sampled_from(HOW)) if earlier else "root"
            ref, right = (data.draw(st.sampled_from(earlier)) for _ in range(2))
            content = (7, b"\x01") if data.draw(st.booleans()) else (8, b"\x01\x78")
            structs.append(
                skip(1)
                if how == "skip"
                else item(*content, root="r", sub=f"k{own}")
                if how == "root"
                else item(*content, parent=ref, sub="k")
                if how == "parent"
                else item(*content, origin=ref)
                if how == "origin"
                else item(*content, origin=ref, right=right)
            )
            made.append((client, own))
        next_clock[client] = max(next_clock[client], clock + len(structs))
        forged = update(section(client, clock, structs))
        try:
            summary = receiver.guard.admit(forged)
        except UpdateRefused:
            continue
        try:
            receiver.doc.apply_update(forged)
        except Exception:  # pycrdt failed half-way: a node or relay drops such a copy
            return
        receiver.guard.applied(forged, summary)
        assert shown_depth(receiver.doc) <= MAX_TYPE_DEPTH


def shown_depth(doc: Doc[Any]) -> int:
    """How deep the types a reader of the document meets nest (pycrdt's own view)."""
    deepest = 0
    todo: list[tuple[Any, int]] = [(doc.get(name, type=Map), 0) for name in ("tickets", "r")]
    while todo:
        value, depth = todo.pop()
        children = list(value.values()) if isinstance(value, Map) else list(value)
        for child in children:
            if isinstance(child, (Map, Array)):
                deepest = max(deepest, depth + 1)
                todo.append((child, depth + 1))
    return deepest


def test_a_boards_own_edits_go_into_the_index_as_they_are_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the user's edits between peers' updates: no catch-up (a diff of the document)
    ada = Board.create("Own", ["To do", "Done"], actor="ada")
    bob = Board.from_update(ada.get_update(), actor="bob")
    sent: list[bytes] = []
    bob.on_update(lambda data, source: sent.append(data))
    guard = UpdateGuard(ada)
    bob.add_ticket("from bob")
    guard_take(guard, ada, sent.pop())  # builds the index
    catch_ups: list[TypeDepths] = []
    real = TypeDepths.catch_up
    monkeypatch.setattr(
        TypeDepths, "catch_up", lambda self, doc: catch_ups.append(self) or real(self, doc)
    )
    ticket = ada.add_ticket("mine", description="text")
    ada.add_comment(ticket, "a comment")
    ada.add_checklist_item(ticket, "an item")
    bob.apply_update(ada.get_update(bob.get_state()))
    bob.add_comment(ticket, "bob's comment")
    guard_take(guard, ada, sent.pop())
    assert catch_ups == []
    assert_exact(guard, ada)


def guard_take(guard: UpdateGuard, board: Board, data: bytes) -> None:
    summary = guard.admit(data)
    board.apply_update(data)
    guard.applied(data, summary)


def test_an_answer_written_while_a_peers_update_lands_needs_no_catch_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a board event handler moves a card as a peer's move lands (bench_sync's pong):
    # its write happens inside the checked update's apply, and is recorded after it
    ada = Board.create("Ping", ["Q1", "Q2"], actor="ada")
    ping, pong = ada.add_ticket("ping"), ada.add_ticket("pong")
    bob = Board.from_update(ada.get_update(), actor="bob")
    q1, q2 = (c.id for c in bob.columns())
    sent: list[bytes] = []
    ada.on_update(lambda data, source: sent.append(data))
    guard = UpdateGuard(bob)
    ada.move_ticket(ping, q2)
    guard_take(guard, bob, sent.pop())  # builds the index

    seen = [bob.ticket(ping).column]

    def answer(event: object) -> None:
        if bob.ticket(ping).column != seen[-1]:  # ping moved (not pong, by this answer)
            seen.append(bob.ticket(ping).column)
            column = bob.ticket(pong).column
            bob.move_ticket(pong, q1 if column == q2 else q2)

    bob.subscribe(answer)
    catch_ups: list[TypeDepths] = []
    real = TypeDepths.catch_up
    monkeypatch.setattr(
        TypeDepths, "catch_up", lambda self, doc: catch_ups.append(self) or real(self, doc)
    )
    for column in (q1, q2, q1):
        ada.move_ticket(ping, column)
        guard_take(guard, bob, sent.pop())
    assert bob.ticket(pong).column == q2  # answered three times
    assert catch_ups == []
    assert_exact(guard, bob)


def test_own_writes_past_the_queue_cap_are_caught_up_with_a_diff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ada = Board.create("Cap", ["To do"], actor="ada")
    bob = Board.from_update(ada.get_update(), actor="bob")
    sent: list[bytes] = []
    bob.on_update(lambda data, source: sent.append(data))
    guard = UpdateGuard(ada)
    bob.add_ticket("from bob")
    guard_take(guard, ada, sent.pop())
    monkeypatch.setattr(type_depths, "MAX_QUEUED_BYTES", 2_000)
    catch_ups: list[TypeDepths] = []
    real = TypeDepths.catch_up
    monkeypatch.setattr(
        TypeDepths, "catch_up", lambda self, doc: catch_ups.append(self) or real(self, doc)
    )
    tickets = [ada.add_ticket(f"mine {i}", description="x" * 100) for i in range(10)]
    bob.apply_update(ada.get_update(bob.get_state()))
    bob.add_comment(tickets[-1], "on ada's latest")  # names what ada's own write made
    guard_take(guard, ada, sent.pop())
    assert len(catch_ups) == 1
    assert_exact(guard, ada)
