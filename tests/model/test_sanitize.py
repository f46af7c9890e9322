"""No terminal escapes or control characters in what a board stores or shows
(issue 10), and label colours as #rrggbb."""

from __future__ import annotations

import pytest
from pycrdt import Map, Text

from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.model.exchange import export_board, import_board
from tests.model.helpers import Clock

ESC_TITLE = "Fix \x1b[31mlogin\x1b[0m\x07 \x1b]0;owned\x07now\x9b2J"
CONTROL = set(map(chr, range(0x20))) | set(map(chr, range(0x7F, 0xA0)))


def no_control(text: str, *, lines: bool = False) -> bool:
    allowed = {"\n", "\t"} if lines else set()
    return not (set(text) & (CONTROL - allowed))


@pytest.mark.parametrize(
    ("raw", "line", "multi"),
    [
        ("plain text", "plain text", "plain text"),
        ("a\x1b[1;31mred\x1b[0m!", "ared!", "ared!"),
        ("t\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "tlink", "tlink"),
        ("one\r\ntwo\tthree\x00\x7f\x85four", "one two three four", "one\ntwo\tthree\nfour"),
        ("\x1bc\x1b(B\x9b31mend", "end", "end"),
    ],
)
def test_printable_leaves_out_escapes_and_control_characters(
    raw: str, line: str, multi: str
) -> None:
    from lanban.model.reading import printable  # new with the fix: the others fail, not error

    assert printable(raw) == line
    assert printable(raw, lines=True) == multi


def test_every_write_path_stores_no_escapes() -> None:
    board = Board.create("Board\x1b[2J", ["To\x00do"], clock=Clock())
    assert board.title == "Board" and board.columns()[0].title == "Todo"
    column = board.add_column("Do\x1b[5ming")
    board.rename_column(column, "Done\x1b]2;x\x07")
    board.rename("Team\x9b1m board")
    tid = board.add_ticket(
        ESC_TITLE, description="line 1\n\x1b[31mline 2\x1b[0m\tend", assignee="\x1b[7mAda"
    )
    label = board.add_label("bug\x1b[31m", "#e5484d")
    board.add_comment(tid, "first\x1b[1m\nsecond\x07")
    ticket = board.ticket(tid)
    assert ticket.title == "Fix login now"
    assert ticket.assignee == "Ada"
    assert board.description(tid) == "line 1\nline 2\tend"
    assert [c.text for c in board.ticket(tid).comments] == ["first\nsecond"]
    assert board.label(label).name == "bug"
    assert board.title == "Team board"
    assert [c.title for c in board.columns()] == ["Todo", "Done"]

    board.edit_ticket(tid, title="New\x1b[0m title", assignee="Gr\x00ace", description="d\x1b[m")
    board.splice_description(tid, 1, 0, "\x1b[31m!\r\n")
    ticket = board.ticket(tid)
    assert (ticket.title, ticket.assignee, board.description(tid)) == (
        "New title",
        "Grace",
        "d!\n",
    )
    # what is stored, as any other client reads it: nothing raw
    fresh = Board.from_update(board.get_update())
    raw = fresh.doc.get("tickets", type=Map)[tid]
    assert raw["title"] == "New title" and raw["assignee"] == "Grace"
    assert str(raw["description"]) == "d!\n"


def test_label_colours_are_rrggbb() -> None:
    board = Board.create("B", ["A"], clock=Clock())
    for bad in ("notacolor", "#12345", "#1234567", "red", "#ggg000", "#e5484d\x1b[0m"):
        with pytest.raises(BoardError, match="not a colour"):
            board.add_label(f"label {bad!r}", bad)
    assert board.labels() == []
    assert board.label(board.add_label("ok", "#A1b2C3")).color == "#A1b2C3"


def test_an_import_stores_no_escapes_nor_bad_colours() -> None:
    source = Board.create("B", ["A"], clock=Clock())
    source.add_label("bug", "#e5484d")
    data = export_board(source)
    data["title"] = "Imported\x1b[2J"
    data["labels"][0]["color"] = "notacolor"
    data["labels"][0]["name"] = "bug\x1b[31m"
    board = import_board(data, actor="me")
    assert board.title == "Imported"
    (label,) = board.labels()
    assert (label.name, label.color) == ("bug", "#8888aa")


def test_a_peers_raw_escapes_are_left_out_when_read() -> None:
    peer = Board.create("B", ["A"], clock=Clock())
    tid = peer.add_ticket("Title", description="Desc")
    lid = peer.add_label("bug", "#e5484d")
    peer.add_comment(tid, "ok")
    # what another client may write: anything, straight into the document
    with peer.doc.transaction():
        peer.doc.get("board", type=Map)["title"] = "Board\x1b]0;pwned\x07"
        ticket = peer.doc.get("tickets", type=Map)[tid]
        ticket["title"] = ESC_TITLE
        ticket["assignee"] = "\x1b[8mhidden"
        description = ticket["description"]
        assert isinstance(description, Text)
        description += "\x1b[2J\r\nmore"
        ticket["comments"][0]["text"] = "c\x1b[31m\nd\x00"
        ticket["comments"][0]["author"] = "Ev\x1b[1me"
        labels = peer.doc.get("labels", type=Map)
        labels[lid]["name"] = "bu\x1b[5mg"
        labels[lid]["color"] = "#e5484d\x1b[0m"

    mine = Board.from_update(peer.get_update())
    ticket_read = mine.ticket(tid)
    assert mine.title == "Board"
    assert ticket_read.title == "Fix login now"
    assert ticket_read.assignee == "hidden"
    assert mine.description(tid) == "Desc\nmore"
    (comment,) = mine.ticket(tid).comments
    assert (comment.text, comment.author) == ("c\nd", "Eve")
    assert (mine.label(lid).name, mine.label(lid).color) == ("bug", "#e5484d")
    every = [mine.title, ticket_read.title, ticket_read.assignee, comment.author]
    assert all(no_control(s) for s in every)
    assert no_control(mine.description(tid), lines=True) and no_control(comment.text, lines=True)

    # an edit at a place in the description as shown takes the escapes out too
    mine.splice_description(tid, 4, 0, "!")
    assert mine.description(tid) == "Desc!\nmore"
    assert str(mine.doc.get("tickets", type=Map)[tid]["description"]) == "Desc!\nmore"


def test_ids_a_peer_wrote_with_escapes_are_ignored() -> None:
    """Ids are printed (``label list``, ``ticket list --json``): one with control
    characters is read as missing, and counted."""
    peer = Board.create("B", ["A"], clock=Clock())
    tid = peer.add_ticket("Title")
    lid = peer.add_label("bug", "#e5484d")
    peer.edit_ticket(tid, labels=[lid])
    bad = "x\x1b[2J"
    with peer.doc.transaction():
        peer.doc.get("labels", type=Map)[bad] = Map({"name": "evil", "color": "#000000"})
        peer.doc.get("tickets", type=Map)[tid]["labels"][bad] = True
    mine = Board.from_update(peer.get_update())
    assert [lb.id for lb in mine.labels()] == [lid]
    assert mine.ticket(tid).labels == (lid,)
    assert "with control characters" in mine.ignored().summary()


def test_the_actor_is_written_without_escapes() -> None:
    board = Board.create("B", ["A"], clock=Clock(), actor="Ada\x1b[31m\x07")
    tid = board.add_ticket("T")
    board.add_comment(tid, "c")
    raw = Board.from_update(board.get_update()).doc.get("tickets", type=Map)[tid]
    assert raw["created_by"] == raw["updated_by"] == raw["comments"][0]["author"] == "Ada"
