"""Hostile board documents for tests: what an attacker's client writes (issue 9)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pycrdt import Doc, Map

from lanban.model.board import Board
from lanban.model.exchange import export_board
from lanban.model.limits import (
    MAX_ASSIGNEES,
    MAX_CHECKLIST_ITEMS,
    MAX_CHECKLIST_TEXT_LENGTH,
    MAX_COMMENTS_READ,
    MAX_ID_LENGTH,
    MAX_LABEL_NAME_LENGTH,
    MAX_LABELS_PER_TICKET,
    MAX_RANK_LENGTH_READ,
    MAX_TEXT_LENGTH,
    MAX_TICKET_NUMBER,
    MAX_TIME_MS,
    MAX_TITLE_LENGTH,
    MAX_WIP_LIMIT,
)
from lanban.model.schema import new_client_id
from tests.model.helpers import Clock

Write = Callable[[Doc[Any]], None]


def attack(board: Board, write: Write) -> bytes:
    """Apply to ``board`` what an attacker's client writes with ``write``."""
    attacker: Doc[Any] = Doc(client_id=new_client_id(), skip_gc=True)
    attacker.apply_update(board.get_update())
    with attacker.transaction():
        write(attacker)
    update = attacker.get_update(board.get_state())
    board.apply_update(update)
    return update


def root(doc: Doc[Any], name: str) -> Map[Any]:
    return doc.get(name, type=Map)


def sample_board() -> tuple[Board, str]:
    board = Board.create("Team", clock=Clock(), actor="ann")
    bug = board.add_label("bug")
    tid = board.add_ticket("first", description="words", labels=[bug], due="2026-12-01")
    board.add_comment(tid, "a comment")
    board.add_checklist_item(tid, "an item")
    board.add_ticket("second", "Doing")
    return board, tid


def assert_sane(board: Board) -> None:
    """Every query answers with typed values within the limits."""
    for column in board.columns(include_deleted=True):
        assert isinstance(column.title, str) and len(column.title) <= MAX_TITLE_LENGTH
        assert isinstance(column.rank, str) and len(column.rank) <= MAX_RANK_LENGTH_READ
        assert 0 <= column.wip_limit <= MAX_WIP_LIMIT
        assert isinstance(column.deleted, bool)
    for label in board.labels():
        assert len(label.name) <= MAX_LABEL_NAME_LENGTH and len(label.id) <= MAX_ID_LENGTH
    tickets = board.tickets(include_deleted=True)
    for t in tickets:
        assert 1 <= t.number <= MAX_TICKET_NUMBER
        assert isinstance(t.title, str) and len(t.title) <= MAX_TITLE_LENGTH
        assert isinstance(t.description, str) and len(t.description) <= MAX_TEXT_LENGTH
        assert len(t.stored_column) <= MAX_ID_LENGTH and len(t.rank) <= MAX_RANK_LENGTH_READ
        assert 0 <= t.created_at <= MAX_TIME_MS and 0 <= t.updated_at <= MAX_TIME_MS
        assert len(t.labels) <= MAX_LABELS_PER_TICKET and len(t.comments) <= MAX_COMMENTS_READ
        assert all(isinstance(c.text, str) and 0 <= c.at <= MAX_TIME_MS for c in t.comments)
        assert t.deleted or t.column in {c.id for c in board.columns()}
        assert len(t.checklist) <= MAX_CHECKLIST_ITEMS and isinstance(t.due, str)
        assert all(len(i.text) <= MAX_CHECKLIST_TEXT_LENGTH for i in t.checklist)
        assert len(t.assignees) <= MAX_ASSIGNEES and t.assignee == (t.assignees or ("",))[0]
    numbers = [t.number for t in tickets]
    assert len(numbers) == len(set(numbers)), "numbers are unique after the repair"
    assert isinstance(board.title, str) and isinstance(board.id, str)
    json.dumps(export_board(board, include_deleted=True))
    assert isinstance(board.ignored().summary(), str)


def assert_usable(board: Board) -> None:
    """A user can still add a ticket, and it gets the next sane number."""
    before = {t.number for t in board.tickets(include_deleted=True)}
    tid = board.add_ticket("after the attack")
    number = board.ticket(tid).number
    assert 1 <= number <= MAX_TICKET_NUMBER and number not in before
    copy = Board.from_update(board.get_update())
    assert copy.ticket(tid).title == "after the attack"
    assert_sane(copy)


DEPTH = 40_000  # the crash needed 17,500


def nest(parent: Map[Any], key: str, depth: int = DEPTH) -> None:
    """A Map under ``key`` holding a Map holding a Map ... ``depth`` deep."""
    for _ in range(depth):
        parent[key] = Map()
        parent = parent[key]
        key = "k"


def assert_editable(board: Board) -> None:
    """Values a few levels deep are replaced safely: every edit goes through."""
    columns = board.columns()
    for i, column in enumerate(columns):
        board.rename_column(column.id, f"Column {i}")
        board.set_wip_limit(column.id, 0)
    board.rename("Renamed")
    for t in board.tickets():
        board.edit_ticket(t.id, title="edited", description="fresh", assignee="", labels=[])
        board.move_ticket(t.id, columns[-1].id, 0)
        board.add_comment(t.id, "still here")
        board.edit_ticket(t.id, assignees=["ann", "bo"], due="2026-12-24")
        item = board.add_checklist_item(t.id, "still here")
        board.set_checklist_done(t.id, item)
        board.move_checklist_item(t.id, item, 0)
        board.remove_checklist_item(t.id, item)
        board.delete_ticket(t.id)
        board.restore_ticket(t.id)
    for label in board.labels():
        board.delete_label(label.id)
    assert_sane(board)
