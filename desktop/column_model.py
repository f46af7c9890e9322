"""The tickets of one column, as a Qt list model kept in step with the board.

Changes arrive as board events (local or remote). The model turns the new
display order into the smallest set of row removals, insertions and moves,
with begin/end calls, so views keep their selection and scroll position and
persistent indexes follow the cards.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from PySide6.QtCore import (
    QMimeData,
    QModelIndex,
    Qt,
    Signal,
)

from lanban.model.errors import BoardError
from lanban.model.schema import Ticket

from .controller import BoardController, Peer
from .id_list_model import CountedIdListModel, Index

TICKET_MIME = "application/x-lanban-ticket"

TicketRole = Qt.ItemDataRole.UserRole + 1  # the Ticket (frozen dataclass)
IdRole = Qt.ItemDataRole.UserRole + 2
BadgesRole = Qt.ItemDataRole.UserRole + 3  # [(Peer, "editing" | "moving")]
LabelsRole = Qt.ItemDataRole.UserRole + 4  # [(name, colour)]
FreshRole = Qt.ItemDataRole.UserRole + 5  # ms since a peer changed it, or None
SelectedByRole = Qt.ItemDataRole.UserRole + 6  # [Peer] who have it selected on their board


class Card(NamedTuple):
    """What the card delegate paints for one row, read in one call."""

    ticket: Ticket
    badges: list[tuple[Peer, str]]  # (peer, "editing" | "moving")
    labels: list[tuple[str, str]]  # (name, colour)
    fresh_at: float | None  # when a peer changed it (monotonic), if lately
    selected_by: list[Peer]  # peers who have it selected on their board
    unseen: bool  # others changed it since I looked (away marks)


def diff_operations(old: Sequence[str], new: Sequence[str]) -> list[tuple[str, int, int]]:
    """Row operations turning ``old`` into ``new``, to apply in order:
    ("remove", row, count), ("insert", row, 1) and ("move", from_row, to_row)."""
    ops: list[tuple[str, int, int]] = []
    keep = set(new)
    current = list(old)
    row = len(current) - 1
    while row >= 0:  # removals, last first, so earlier rows keep their numbers
        if current[row] not in keep:
            end = row
            while row > 0 and current[row - 1] not in keep:
                row -= 1
            ops.append(("remove", row, end - row + 1))
            del current[row : end + 1]
        row -= 1
    present = set(current)
    for i, tid in enumerate(new):
        if i < len(current) and current[i] == tid:
            continue
        if tid not in present:
            ops.append(("insert", i, 1))
            current.insert(i, tid)
        else:
            j = current.index(tid, i)
            ops.append(("move", j, i))
            current.insert(i, current.pop(j))
    return ops


class ColumnModel(CountedIdListModel):
    countsChanged = Signal()  # how many it shows, or holds, or whether it filters

    def __init__(
        self,
        controller: BoardController,
        column_id: str,
        matches: Callable[[Ticket], bool] | None = None,
    ) -> None:
        super().__init__()
        self.controller = controller
        self.column_id = column_id
        self._matches = matches
        self._cache: dict[str, Ticket] = {}
        self._fresh: dict[str, float] = {}  # ticket id -> time a peer changed it
        self._held: set[str] = set()  # the column's tickets, filter or not, as last read
        self._matched: dict[str, tuple[Ticket, bool]] = {}  # the filter's answers
        self.reset_ids(self._current_ids())
        self._counts: tuple[int, int] | None = None  # (held, shown) as last announced
        self._labels: dict[str, tuple[str, str]] = {}
        self._refresh_labels()

    # ------------------------------------------------------------ queries

    @property
    def ticket_ids(self) -> list[str]:
        return list(self._ids)

    @property
    def filtering(self) -> bool:
        """Whether a filter may hide some of the column's tickets."""
        return self._matches is not None

    def row_of(self, ticket_id: str) -> int:
        try:
            return self._ids.index(ticket_id)
        except ValueError:
            return -1

    def ticket(self, ticket_id: str) -> Ticket:
        cached = self._cache.get(ticket_id)
        if cached is None:
            cached = self._cache[ticket_id] = self.controller.board.ticket(ticket_id)
        return cached

    def ticket_at(self, row: int) -> Ticket | None:
        """The ticket on ``row`` (None past the ends): the view's layout asks for
        every row's, so one call, not ``id_at`` and ``ticket``."""
        ids = self._ids
        if not 0 <= row < len(ids):
            return None
        return self._cache.get(ids[row]) or self.ticket(ids[row])

    def all_ids(self) -> list[str]:
        """The column's tickets without the filter."""
        try:
            return self.controller.board.ticket_ids(self.column_id)
        except BoardError:
            return []

    @property
    def total(self) -> int:
        """How many tickets the column holds, filter or not (as last read)."""
        return len(self._held)

    def concerned_by(self, ticket_ids: set[str], columns_now: set[str | None]) -> bool:
        """Whether a change of these tickets may change this column: it held one of
        them, or one of them is in it now (``columns_now``: where they are)."""
        return self.column_id in columns_now or not ticket_ids.isdisjoint(self._held)

    def _current_ids(self) -> list[str]:
        ids = self.all_ids()
        self._held = set(ids)
        matches = self._matches
        if matches is None:
            return ids
        # a filter's answer kept per Ticket object (a changed ticket is a new one):
        # a peer's move asks the filter about the one card that changed, not all
        known = self._matched
        shown = []
        for tid in ids:
            ticket = self.ticket(tid)
            hit = known.get(tid)
            if hit is None or hit[0] is not ticket:
                hit = known[tid] = (ticket, matches(ticket))
            if hit[1]:
                shown.append(tid)
        return shown

    # ---------------------------------------------------------- Qt model API

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        tid = self.id_at(index)
        if tid is None:
            return None
        if role == IdRole:
            return tid
        ticket = self.ticket(tid)
        if role == Qt.ItemDataRole.DisplayRole:
            return f"#{ticket.number} {ticket.title}"
        if role == TicketRole:
            return ticket
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f"#{ticket.number} {ticket.title}"]
            if ticket.assignees:
                lines.append(f"Assigned to {', '.join(ticket.assignees)}")
            for peer, what in self.controller.badges(tid):
                lines.append(f"{peer.name} is {what} this ticket")
            for peer in self.selected_by(tid):
                lines.append(f"{peer.name} has it selected")
            if ticket.misplaced:
                lines.append("Its column was deleted: move it somewhere")
            return "\n".join(lines)
        if role == BadgesRole:
            return self.controller.badges(tid)
        if role == LabelsRole:
            return self.labels_of(ticket)
        if role == FreshRole:
            return self._fresh.get(tid)
        if role == SelectedByRole:
            return self.selected_by(tid)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self.spoken(ticket)
        return None

    def card_at(self, row: int) -> Card | None:
        """The row's card as the delegate paints it: one call instead of a
        data() round trip per role (None past the ends)."""
        ticket = self.ticket_at(row)
        if ticket is None:
            return None
        tid = ticket.id
        controller = self.controller
        return Card(
            ticket,
            controller.badges(tid),
            self.labels_of(ticket),
            self._fresh.get(tid),
            self.selected_by(tid),
            tid in controller.unseen,
        )

    def labels_of(self, ticket: Ticket) -> list[tuple[str, str]]:
        """(name, colour) of its labels in the board's label order (by name), the
        same for everyone."""
        if not ticket.labels:
            return []
        return [label for lid, label in self._labels.items() if lid in ticket.labels]

    def spoken(self, ticket: Ticket) -> str:
        """A card as a screen reader says it: "#12 Fix login, in Doing, assigned to Ada"."""
        parts = [f"#{ticket.number} {ticket.title}"]
        with contextlib.suppress(BoardError):
            parts.append(f"in {self.controller.board.column(self.column_id).title}")
        if ticket.assignees:
            parts.append(f"assigned to {' and '.join(ticket.assignees)}")
        parts += [f"{peer.name} is {what} it" for peer, what in self.controller.badges(ticket.id)]
        parts += [f"selected by {peer.name}" for peer in self.selected_by(ticket.id)]
        return ", ".join(parts)

    def selected_by(self, ticket_id: str) -> list[Peer]:
        return self.controller.selected_by(ticket_id)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        return (
            Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        )

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [TICKET_MIME]

    def mimeData(self, indexes: Iterable[QModelIndex]) -> QMimeData:
        ids = [self._ids[i.row()] for i in indexes if i.isValid()]
        mime = QMimeData()
        payload = {"board": self.controller.board_id, "tickets": ids[:1]}
        mime.setData(TICKET_MIME, json.dumps(payload).encode())
        if ids:
            mime.setText(f"#{self.ticket(ids[0]).number} {self.ticket(ids[0]).title}")
        return mime

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        return data.hasFormat(TICKET_MIME) and self.dropped_ticket(data) is not None

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        ticket = self.dropped_ticket(data)
        if ticket is None:
            return False
        if row < 0:
            row = parent.row() if parent.isValid() else len(self._ids)
        self.drop_ticket(ticket, row)
        return True

    def dropped_ticket(self, data: QMimeData) -> str | None:
        try:
            payload = json.loads(bytes(data.data(TICKET_MIME).data()).decode())
            ticket = payload["tickets"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            return None
        if payload.get("board") != self.controller.board_id or not isinstance(ticket, str):
            return None
        return ticket

    # ------------------------------------------------------------- actions

    def board_index(self, visible_row: int, moving: str | None = None) -> int:
        """The board index for a drop before visible row ``visible_row``."""
        full = self.all_ids()
        if visible_row < len(self._ids):
            position = full.index(self._ids[visible_row])
        else:
            position = full.index(self._ids[-1]) + 1 if self._ids else len(full)
        if moving is not None and moving in full and full.index(moving) < position:
            position -= 1  # the ticket leaves its old place first
        return position

    def drop_ticket(self, ticket_id: str, visible_row: int) -> None:
        self.controller.board.move_ticket(
            ticket_id, self.column_id, self.board_index(visible_row, ticket_id)
        )

    # ------------------------------------------------------------- updates

    def set_filter(self, matches: Callable[[Ticket], bool] | None) -> None:
        self._matches = matches
        self._matched.clear()
        self._counts = None  # "3 of 5" or "5": announced even if the numbers stay
        self.refresh()

    def refresh(self, changed: Iterable[str] = (), fresh: Iterable[str] = ()) -> None:
        """Follow the board: new order, changed tickets, tickets a peer just touched."""
        for tid in changed:
            self._cache.pop(tid, None)
        new = self._current_ids()
        now = time.monotonic()
        for tid in self._held.intersection(fresh):
            self._fresh[tid] = now
        inserted = self._apply(new) if new != self._ids else set()
        # an inserted row is laid out and painted anew: no dataChanged for it
        rows = [self.row_of(tid) for tid in {*changed, *fresh} - inserted]
        for row in rows:
            if row >= 0:
                idx = self.index(row)
                self.dataChanged.emit(idx, idx)
        counts = (len(self._held), len(self._ids))
        if counts != self._counts:
            self._counts = counts
            self.countsChanged.emit()

    def presence_changed(self) -> None:
        if self._ids:
            last = self.index(len(self._ids) - 1)
            self.dataChanged.emit(self.index(0), last, [BadgesRole, SelectedByRole])

    def labels_changed(self) -> None:
        self._refresh_labels()
        self._cache.clear()
        if self._ids:
            self.dataChanged.emit(self.index(0), self.index(len(self._ids) - 1))

    def fresh_ids(self, now: float, window: float) -> list[str]:
        expired = [tid for tid, at in self._fresh.items() if now - at > window]
        for tid in expired:
            del self._fresh[tid]
        return list(self._fresh)

    def _refresh_labels(self) -> None:
        self._labels = {lb.id: (lb.name, lb.color) for lb in self.controller.board.labels()}

    def _apply(self, new: list[str]) -> set[str]:
        """Turn the rows into ``new``; the ids of the rows inserted."""
        inserted: set[str] = set()
        for op, a, b in diff_operations(self._ids, new):
            if op == "remove":
                self.remove_ids(a, b)
            elif op == "insert":
                self.insert_id(a, new[a])
                inserted.add(new[a])
            else:  # move row a to row b (b < a)
                self.move_id(a, b)
        assert self._ids == new and self.rowCount() == len(new), (self._ids, new)
        return inserted
