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
        root(doc, "columns")[board.column("To do").id]["deleted"] = True

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


def test_another_members_wipe_is_undone_as_this_users_change() -> None:
    board, tid = sample_board()
    before = layout(board), board.trash(), board.labels()
    assert not board.can_undo_remote()
    peer = Board.from_update(board.get_update())
    board.move_ticket(tid, "Done")  # this user's own edits are not undone
    board.move_ticket(tid, "To do")
    update = attack(board, wipe)
    peer.apply_update(update)
    board.on_update(lambda u, _source: peer.apply_update(u))
    assert board.can_undo_remote()

    assert board.undo_remote()

    assert (layout(board), board.trash(), board.labels()) == before
    shown = board.ticket(tid)
    assert (shown.description, [c.text for c in shown.comments]) == ("words", ["a comment"])
    assert layout(peer) == before[0] and peer.ticket(tid).description == "words"
    assert not board.can_undo_remote()


def test_undoing_a_peers_change_keeps_what_others_did_since() -> None:
    board, tid = sample_board()
    attack(board, lambda doc: root(doc, "tickets")[tid].__setitem__("title", "vandalised"))
    attack(board, lambda doc: root(doc, "tickets")[tid].__setitem__("assignee", "bob"))
    board.add_comment(tid, "mine")
    assert board.undo_remote()  # the last one: the assignee
    assert (board.ticket(tid).title, board.ticket(tid).assignee) == ("vandalised", "")
    assert board.undo_remote()
    shown = board.ticket(tid)
    assert (shown.title, [c.text for c in shown.comments]) == ("first", ["a comment", "mine"])
