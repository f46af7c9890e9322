"""The state vector an UpdateGuard keeps is the document's after every update, also
where it took it from pycrdt's record of the update that landed instead of reading
it (a Board's on_update, a relay room's observer): when what landed is not the
update (structs held back, or released by it), it reads the document."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Map

from lanban.model.board import Board
from lanban.sync.relay_room import Room
from lanban.sync.update_check import state_vector_clocks
from lanban.sync.update_guard import OWN_CLOCKS_FROM_UPDATE, UpdateGuard
from tests.sync.test_type_depths import assert_exact


def writes(client: int, count: int, base: bytes = b"") -> list[bytes]:
    """A writer's updates, one map entry each."""
    doc: Doc[Any] = Doc(client_id=client)
    if base:
        doc.apply_update(base)
    m = doc.get("m", type=Map)
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    for i in range(count):
        m[f"{client}-{i}"] = i
    return updates


def take(guard: UpdateGuard, doc: Any, update: bytes) -> None:
    summary = guard.admit(update)
    doc.apply_update(update)
    guard.applied(update, summary)


def clocks_of(guard: UpdateGuard) -> dict[int, int]:
    guard.admit(b"\x00\x00")  # reads what it has to
    return guard._known.clocks


def test_a_boards_guard_knows_the_clocks_through_held_back_and_released_updates() -> None:
    board = Board.create("Clocks", ["To do"], actor="ada")
    ticket = board.add_ticket("mine")
    guard = UpdateGuard(board)
    ann, bob = writes(11, 6), writes(22, 4)
    take(guard, board, ann[0])
    take(guard, board, ann[2])  # waits for ann[1]
    assert clocks_of(guard) == state_vector_clocks(board.get_state())
    take(guard, board, bob[0])
    take(guard, board, ann[1])  # releases ann[2]: more landed than this update
    assert clocks_of(guard) == state_vector_clocks(board.get_state())
    for update in ann[3:] + bob[1:]:  # each lands in full
        take(guard, board, update)
        board.edit_ticket(ticket, title=f"mine {len(update)}")  # and the board's own write
        assert clocks_of(guard) == state_vector_clocks(board.get_state())
    assert guard.pending_bytes == 0
    assert_exact(guard, board)


def test_a_rooms_guard_knows_the_clocks_through_held_back_and_released_updates() -> None:
    doc: Doc[Any] = Doc()
    room = Room("r", doc, max_awareness_ids_per_connection=4, on_change=lambda r, u: None)
    guard = room.guard
    ann = writes(300, 5)  # clocks and clients of varUints longer than a byte
    many = writes(3_000_000_000, 200, base=ann[0])
    others = {c: writes(c, 140) for c in (7, 1_000, 70_000, 123_456_789, 2**40)}
    take(guard, doc, ann[0])
    for updates in others.values():
        take(guard, doc, updates[0])
    take(guard, doc, many[150])  # waits
    take(guard, doc, ann[1])
    assert clocks_of(guard) == state_vector_clocks(doc.get_state())
    # the first 150 release 150; a clock of many grows a byte at 128, and the others
    # write after it (some are after it in yrs' order)
    mixed = []
    for i, update in enumerate(many[:150]):
        mixed.append(update)
        if i >= 100:
            mixed += [o[i - 99] for o in others.values()]
    # then the others' clocks grow a byte at 128, one after the other
    after = [o[i] for i in range(51, 140) for o in others.values()]
    for update in mixed + many[151:] + ann[2:] + after:
        clients = set(state_vector_clocks(doc.get_state()))
        take(guard, doc, update)
        if set(state_vector_clocks(doc.get_state())) == clients:
            # in yrs' order, as get_state encodes it (a new client: yrs' order is its own)
            assert guard._known.encoded == doc.get_state()
        assert clocks_of(guard) == state_vector_clocks(doc.get_state())
    assert guard.pending_bytes == 0
    assert_exact(guard, doc)
    room.discard()


def test_a_boards_own_writes_on_a_board_of_many_clients_keep_the_clocks() -> None:
    """Past OWN_CLOCKS_FROM_UPDATE clients, the clocks of the board's own write are
    read from its update: they are the document's, and so is the encoding."""
    board = Board.create("Many", ["To do"], actor="ada")
    ticket = board.add_ticket("mine")
    base = board.get_update()
    for k in range(OWN_CLOCKS_FROM_UPDATE + 5):  # earlier sessions, one write each
        (update,) = writes(1_000 + 7_919 * k, 1, base=base)
        board.apply_update(update)
    guard = UpdateGuard(board)
    peer = writes(99, 40, base=board.get_update())
    for i, update in enumerate(peer):
        take(guard, board, update)
        board.edit_ticket(ticket, title=f"mine {i}", description="ü" * i)
        assert guard._known.encoded == board.get_state()
        assert clocks_of(guard) == state_vector_clocks(board.get_state())
    assert_exact(guard, board)
