"""What a board knows of its document without reading it again.

The column list, the ticket index (model.index) and the tickets' Maps, each
built on first use (loading a board does no per-ticket work). The board's own
commands keep them in step as they write; the change tracker (model.changes)
after anyone else's transaction.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Map

from .codec import TicketLists, board_id, read_column, read_lists, read_placement, read_ticket
from .index import TicketIndex
from .reading import entries
from .schema import BOARD, COLUMNS, LABELS, TICKETS, Column, Ticket


class BoardCache:
    def __init__(self, doc: Doc[Any]) -> None:
        self.doc = doc
        self.board: Map[Any] = doc.get(BOARD, type=Map)
        self.columns: Map[Any] = doc.get(COLUMNS, type=Map)
        self.tickets: Map[Any] = doc.get(TICKETS, type=Map)
        self.labels: Map[Any] = doc.get(LABELS, type=Map)
        self.index: TicketIndex | None = None
        # ticket id -> its Map: looking one up in the document costs a transaction
        self.maps: dict[str, Map[Any]] = {}
        # ticket id -> its comments, checklist and assignees: reading an Array
        # is slow (model.reading), and a read bounded in time should show the
        # same on every query
        self.lists: dict[str, TicketLists] = {}
        self.column_list: list[Column] | None = None  # every column, in order
        self.columns_by_id: dict[str, Column] = {}
        self.known_id = ""

    def board_id(self) -> str:
        """The board's id: the one its owner (a board file) names, else the
        first the document stated. The document's ``board.id`` is data any key
        holder can rewrite; a later value is never taken (issue 9)."""
        if not self.known_id:
            self.known_id = board_id(self.board)
        return self.known_id

    def roots(self) -> list[Map[Any]]:
        return [self.board, self.columns, self.tickets, self.labels]

    def all_columns(self) -> list[Column]:
        """Every column, deleted ones too, in display order."""
        if self.column_list is None:
            with self.doc.transaction():
                cols = [read_column(cid, m) for cid, m in entries(self.columns, "column")]
            cols.sort(key=lambda c: (c.rank, c.id))
            self.column_list = cols
            self.columns_by_id = {c.id: c for c in cols}
        return self.column_list

    def live_columns(self) -> list[Column]:
        return [c for c in self.all_columns() if not c.deleted]

    def idx(self) -> TicketIndex:
        if self.index is None:
            with self.doc.transaction():
                places = {tid: read_placement(m) for tid, m in entries(self.tickets, "ticket")}
            self.index = TicketIndex(places, [c.id for c in self.live_columns()])
        return self.index

    def columns_changed(self) -> None:
        """Forget the column list; the index follows the new live columns."""
        self.column_list = None
        if self.index is not None:
            self.index = TicketIndex(self.index.places, [c.id for c in self.live_columns()])

    def forget_tickets(self) -> None:
        """Build the index and the Maps afresh from the document on next use."""
        self.maps.clear()
        self.lists.clear()
        self.index = None

    def ticket_map(self, tid: str) -> Map[Any]:
        m = self.maps.get(tid)
        if m is None:
            m = self.maps[tid] = self.tickets[tid]
        return m

    def read_ticket(self, tid: str) -> Ticket:
        idx = self.idx()
        place = idx.places[tid]
        m = self.ticket_map(tid)
        lists = self.lists.get(tid)
        if lists is None:
            lists = self.lists[tid] = read_lists(m)
        return read_ticket(tid, m, place, idx.display_column(place), lists=lists)
