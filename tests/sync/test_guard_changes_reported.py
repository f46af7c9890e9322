"""UpdateGuard(changes_reported=True): admit takes the state vector applied read as
current until the owner reports a change (a relay room reports every transaction)."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Map

from lanban.model.board import Board
from lanban.sync.relay_room import Room
from lanban.sync.update_check import UpdateLimits
from lanban.sync.update_guard import GuardLimits, UpdateGuard

LIMITS = GuardLimits(update=UpdateLimits(clock_jump=10))


def writes(count: int) -> tuple[Doc[Any], list[bytes]]:
    """A writer's doc and its updates, one map entry each (a clock each)."""
    doc: Doc[Any] = Doc()
    doc["m"] = m = Map()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    for i in range(count):
        m[f"k{i}"] = i
    return doc, updates


def take(guard: UpdateGuard, doc: Doc[Any], update: bytes) -> None:
    summary = guard.admit(update)
    doc.apply_update(update)
    guard.applied(update, summary)


def test_a_reported_change_is_read_before_the_next_update() -> None:
    _, updates = writes(30)
    doc: Doc[Any] = Doc()
    guard = UpdateGuard(doc, LIMITS, changes_reported=True)
    take(guard, doc, updates[0])
    for update in updates[1:20]:  # not through the guard: 20 clocks on, past clock_jump
        doc.apply_update(update)
    guard.doc_changed()
    take(guard, doc, updates[20])  # refused as a jump from clock 1 if the change were unread
    assert doc.get("m", type=Map).to_py() == {f"k{i}": i for i in range(21)}


def test_a_room_reports_its_documents_changes() -> None:
    _, updates = writes(30)
    doc: Doc[Any] = Doc()
    room = Room("r", doc, max_awareness_ids_per_connection=4, on_change=lambda r, u: None)
    room.guard.limits = LIMITS
    take(room.guard, doc, updates[0])
    for update in updates[1:20]:
        doc.apply_update(update)  # seen by the room's observer
    take(room.guard, doc, updates[20])
    room.discard()


def test_a_boards_guard_hears_its_changes_itself() -> None:
    """A Board's every transaction reaches its guard, which then reads the state
    vector once per peer update without being told (the node's hubs)."""
    _, updates = writes(30)
    board = Board()
    guard = UpdateGuard(board, LIMITS)
    summary = guard.admit(updates[0])
    board.apply_update(updates[0])
    guard.applied(updates[0], summary)
    for update in updates[1:20]:  # not through the guard: 20 clocks on, past clock_jump
        board.apply_update(update)
    summary = guard.admit(updates[20])  # refused as a jump if the change were unheard
    board.apply_update(updates[20])
    guard.applied(updates[20], summary)
    assert board.doc.get("m", type=Map).to_py() == {f"k{i}": i for i in range(21)}
