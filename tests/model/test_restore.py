"""Undoing a wipe: a member brings back a board as it was before (issue 9, finding 13)."""

from __future__ import annotations

from typing import Any

import pytest
from pycrdt import Doc

from lanban.model.board import Board
from tests.model.helpers import layout
from tests.model.hostile import attack, root, sample_board


def wipe(doc: Doc[Any]) -> None:
    for name in ("tickets", "columns", "labels"):
        m = root(doc, name)
        for key in list(m.keys()):
            del m[key]


def test_a_wipe_is_undone_from_a_snapshot_taken_before() -> None:
    board, tid = sample_board()
    board.delete_ticket("#2")  # in the trash before the wipe: back in the trash
    before = layout(board), board.trash(), board.labels()
    snapshot = board.snapshot()
    peer = Board.from_update(board.get_update())
    update = attack(board, wipe)
    assert len(update) < 100 and board.tickets(include_deleted=True) == []
    peer.apply_update(update)
    board.on_update(lambda u, _source: peer.apply_update(u))

    restored = board.restore_from(board.as_of(snapshot))

    assert (restored.columns, restored.labels, restored.tickets) == (3, 1, 2)
    assert (layout(board), board.trash(), board.labels()) == before
    assert board.ticket(tid).comments[0].text == "a comment"
    assert board.ticket(tid).description == "words"
    # an ordinary change: it reached the peer, and this user can undo it
    assert layout(peer) == before[0]
    assert board.can_undo() and board.undo() and board.tickets() == []


def test_a_restore_keeps_what_happened_since_and_undeletes_soft_deletes() -> None:
    board, _ = sample_board()
    earlier = Board.from_update(board.get_update())

    def soft_wipe(doc: Doc[Any]) -> None:
        for m in root(doc, "tickets").values():
            m["deleted"] = True
        first = next(iter(root(doc, "columns").values()))
        first["deleted"] = True

    attack(board, soft_wipe)
    newer = board.add_ticket("made after the wipe", "Done")
    restored = board.restore_from(earlier)
    assert (restored.columns, restored.tickets) == (1, 2)
    assert {t.title for t in board.tickets()} == {"first", "second", "made after the wipe"}
    assert board.ticket(newer).column == board.column("Done").id
    assert board.restore_from(earlier).total == 0  # nothing left to bring back


def test_a_recreated_ticket_whose_number_was_taken_gets_a_free_one() -> None:
    board, tid = sample_board()
    earlier = Board.from_update(board.get_update())
    attack(board, wipe)
    board.add_column("Fresh")
    squatter = board.add_ticket("new #1")
    board.restore_from(earlier)
    numbers = sorted(t.number for t in board.tickets())
    assert board.ticket(squatter).number == 1 and numbers == [1, 2, 3]
    assert board.ticket(tid).title == "first" and board.ticket(tid).number != 1


def test_a_snapshot_of_garbage_is_refused() -> None:
    board, _ = sample_board()
    with pytest.raises(ValueError, match="not a board snapshot"):
        board.as_of(b"\x01garbage")
