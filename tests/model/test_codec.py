"""The schema codec (model.codec) and the write gateway's fast path (model.writes.put)."""

from __future__ import annotations

from typing import Any

import pytest
from pycrdt import Doc, Map

from lanban.model import codec
from lanban.model.board import Board
from lanban.model.exchange import export_board, import_board
from lanban.model.schema import Column, Comment, Label, Ticket
from lanban.model.writes import put

from .helpers import Clock


def _ticket(**changes: Any) -> Ticket:
    fields: dict[str, Any] = {
        "id": "t1",
        "number": 7,
        "title": "Write the codec",
        "description": "déjà vu 😀",
        "column": "c1",
        "stored_column": "c1",
        "rank": "a1",
        "assignee": "ann",
        "labels": ("l1", "l2"),
        "comments": (Comment("k1", "bob", "looks good", 1_700_000_000_123),),
        "created_by": "ann",
        "created_at": 1_700_000_000_000,
        "updated_by": "bob",
        "updated_at": 1_700_000_000_999,
        "deleted": False,
    }
    fields.update(changes)
    return Ticket(**fields)


def test_a_ticket_written_and_read_back_is_the_same_ticket() -> None:
    doc: Doc[Any] = Doc()
    tickets = doc.get("tickets", type=Map)
    ticket = _ticket()
    tickets[ticket.id] = codec.ticket_map(ticket)
    # Another replica reads it from the bytes: numbers arrive as floats there.
    other: Doc[Any] = Doc()
    other.apply_update(doc.get_update())
    m = other.get("tickets", type=Map)[ticket.id]
    assert isinstance(m["number"], float)
    place = codec.read_placement(m)
    assert codec.read_ticket(ticket.id, m, place, "c1") == ticket


def test_columns_and_labels_round_trip() -> None:
    doc: Doc[Any] = Doc()
    column = Column("c1", "Doing", "a1", 3, True)
    label = Label("l1", "bug", "#ff0000")
    doc.get("columns", type=Map)[column.id] = codec.column_map(column)
    doc.get("labels", type=Map)[label.id] = codec.label_map(label)
    assert codec.read_column(column.id, doc.get("columns", type=Map)[column.id]) == column
    assert codec.read_label(label.id, doc.get("labels", type=Map)[label.id]) == label


def test_reading_values_another_client_wrote_badly_gives_defaults() -> None:
    doc: Doc[Any] = Doc()
    doc.get("tickets", type=Map)["t"] = Map(
        {"number": "seven", "rank": 12, "labels": "not a map", "comments": 5, "deleted": 1}
    )
    m = doc.get("tickets", type=Map)["t"]
    place = codec.read_placement(m)
    ticket = codec.read_ticket("t", m, place, None)
    assert (ticket.number, ticket.title, ticket.labels, ticket.comments) == (0, "", (), ())
    assert ticket.rank == "12.0"  # a rank is any string: this one sorts as one
    assert ticket.deleted and ticket.description == ""


def test_the_json_import_writes_the_same_fields_as_the_board() -> None:
    board = Board.create("B", clock=Clock(), actor="ann")
    board.add_label("bug", "#ff0000")
    tid = board.add_ticket("t", description="d", assignee="bob", labels=["bug"])
    board.add_comment(tid, "hi")
    copy = import_board(export_board(board), actor="ann")
    ticket_keys = {frozenset(m.keys()) for m in board.doc.get("tickets", type=Map).values()}
    copy_keys = {frozenset(m.keys()) for m in copy.doc.get("tickets", type=Map).values()}
    assert ticket_keys == copy_keys
    column_keys = {frozenset(m.keys()) for m in board.doc.get("columns", type=Map).values()}
    assert column_keys == {frozenset(m.keys()) for m in copy.doc.get("columns", type=Map).values()}
    assert set(board.doc.get("board", type=Map).keys()) == set(
        copy.doc.get("board", type=Map).keys()
    )
    assert copy.ticket("#1").labels == (copy.label("bug").id,)


@pytest.mark.parametrize("value", ["text", 3, 2.5, True])
def test_put_writes_exactly_what_setitem_writes(value: Any) -> None:
    def written(fast: bool) -> bytes:
        doc: Doc[Any] = Doc(client_id=7)
        root = doc.get("tickets", type=Map)
        root["t"] = Map({"rank": "a0"})
        m = root["t"]
        state = doc.get_state()
        with doc.transaction():
            if fast:
                put(m, "rank", value)
                put(m, "new", value)
            else:
                m["rank"] = value
                m["new"] = value
        return doc.get_update(state)

    assert written(fast=True) == written(fast=False)


def test_put_needs_a_transaction() -> None:
    doc: Doc[Any] = Doc()
    doc.get("tickets", type=Map)["t"] = Map()
    with pytest.raises(AssertionError):
        put(doc.get("tickets", type=Map)["t"], "rank", "a0")
