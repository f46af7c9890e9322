"""Documents written by other clients: newer schemas' extra keys, and bytes that are no update."""

from __future__ import annotations

from typing import Any

import pytest
from pycrdt import Array, Doc, Map, Text

from lanban.model.board import Board

from .helpers import Clock, layout, snapshot, titles


def newer_client_copy(board: Board) -> Doc[Any]:
    """A raw pycrdt replica of ``board``, as a client with a newer schema holds it."""
    doc: Doc[Any] = Doc()
    doc.apply_update(board.get_update())
    return doc


def test_unknown_keys_from_a_newer_client_survive_edits_moves_and_sync() -> None:
    board = Board.create("B", clock=Clock())
    tid = board.add_ticket("t", description="desc")
    board.add_ticket("other")
    done = board.column("Done").id

    newer = newer_client_copy(board)
    with newer.transaction():
        ticket = newer.get("tickets", type=Map)[tid]
        ticket["priority"] = "high"
        ticket["checklist"] = Array(["write", "test"])
        ticket["notes"] = Text("🎯 rich notes")
        newer.get("columns", type=Map)[done]["color"] = "#00ff00"
        newer.get("board", type=Map)["theme"] = "dark"
        newer.get("sprints", type=Map)["s1"] = Map({"name": "Sprint 1"})
    board.apply_update(newer.get_update(board.get_state()))

    # This client edits everything it knows about.
    board.edit_ticket(tid, title="renamed", assignee="ann", description="new desc")
    board.splice_description(tid, 0, 0, "✓ ")
    board.move_ticket(tid, "Done", 0)
    board.move_ticket(tid, "Doing")
    board.rename_column("Done", "Shipped")
    board.set_wip_limit("Shipped", 4)
    board.move_column("Shipped", 0)
    board.rename("Renamed board")
    board.add_comment(tid, "note")

    # The newer client's data is all still there, after a round trip.
    copy: Doc[Any] = Doc()
    copy.apply_update(board.get_update())
    ticket = copy.get("tickets", type=Map)[tid]
    assert ticket["priority"] == "high"
    assert list(ticket["checklist"]) == ["write", "test"]
    assert str(ticket["notes"]) == "🎯 rich notes"
    assert copy.get("columns", type=Map)[done]["color"] == "#00ff00"
    assert copy.get("board", type=Map)["theme"] == "dark"
    assert copy.get("sprints", type=Map)["s1"]["name"] == "Sprint 1"
    # And this client shows the board as usual.
    reloaded = Board.from_update(board.get_update())
    assert layout(reloaded) == [("Shipped", []), ("To do", ["other"]), ("Doing", ["renamed"])]
    assert reloaded.ticket(tid).description == "✓ new desc"


def test_a_newer_clients_edits_to_its_own_keys_do_not_disturb_the_board() -> None:
    board = Board.create("B", clock=Clock())
    tid = board.add_ticket("t")
    before = snapshot(board)
    newer = newer_client_copy(board)
    with newer.transaction():
        newer.get("tickets", type=Map)[tid]["estimate"] = 3
        newer.get("board", type=Map)["version_note"] = "from v2"
    board.apply_update(newer.get_update(board.get_state()))
    assert snapshot(board) == before


def test_fields_of_unexpected_types_read_as_empty_not_as_errors() -> None:
    """Another client wrote a number where a string belongs, and so on."""
    board = Board.create("B", clock=Clock())
    tid = board.add_ticket("t")
    foreign = newer_client_copy(board)
    with foreign.transaction():
        ticket = foreign.get("tickets", type=Map)[tid]
        ticket["assignee"] = None
        ticket["labels"] = "not a map"
        ticket["comments"] = 7
        ticket["number"] = "three"
        ticket["description"] = "plain string, not Text"
    board.apply_update(foreign.get_update(board.get_state()))
    shown = board.ticket(tid)
    assert shown.title == "t"
    assert shown.assignee == ""
    assert shown.labels == () and shown.comments == ()
    assert shown.description == "plain string, not Text"
    assert shown.number >= 1  # renumbered: "three" is no number
    # Editing repairs the fields it writes.
    board.edit_ticket(tid, description="fixed", labels=[])
    board.add_comment(tid, "works")
    assert board.ticket(tid).description == "fixed"
    assert [c.text for c in board.ticket(tid).comments] == ["works"]


def test_a_ticket_written_directly_by_a_foreign_client_shows_up() -> None:
    board = Board.create("B", clock=Clock())
    board.add_ticket("mine")
    foreign = newer_client_copy(board)
    doing = board.column("Doing").id
    with foreign.transaction():
        foreign.get("tickets", type=Map)["foreign-1"] = Map(
            {"title": "from yjs", "column": doing, "rank": "a0", "number": 2}
        )
    board.apply_update(foreign.get_update(board.get_state()))
    assert layout(board) == [("To do", ["mine"]), ("Doing", ["from yjs"]), ("Done", [])]
    board.move_ticket("#2", "Done")
    assert titles(board, "Done") == ["from yjs"]


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\x00", b"not an update", b"\xff" * 16, b"\x01\x01\x01"],
    ids=["empty", "zero", "text", "ff", "short"],
)
def test_bad_bytes_raise_value_error_and_change_nothing(garbage: bytes) -> None:
    board = Board.create("B", clock=Clock())
    board.add_ticket("t")
    before = snapshot(board)
    sent: list[bytes] = []
    board.on_update(lambda update, source: sent.append(update))
    with pytest.raises(ValueError, match="not a valid board update"):
        board.apply_update(garbage)
    assert snapshot(board) == before
    assert sent == []
    # The board still works, and still takes good updates.
    board.add_ticket("after")
    peer = Board.from_update(board.get_update())
    peer.add_ticket("from peer")
    board.apply_update(peer.get_update(board.get_state()))
    assert titles(board, "To do") == ["t", "after", "from peer"]


def test_a_truncated_update_is_refused() -> None:
    board = Board.create("B", clock=Clock())
    other = Board.create("Other", clock=Clock())
    other.add_ticket("x", description="some text")
    update = other.get_update()
    before = snapshot(board)
    for cut in (1, len(update) // 2, len(update) - 1):
        with pytest.raises(ValueError):
            board.apply_update(update[:cut])
        assert snapshot(board) == before
