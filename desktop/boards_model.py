"""The boards of the data directory, for the sidebar.

Rows are board ids sorted by title. A reload moves, inserts and removes rows
(never a reset), so the sidebar's selection stays on the board it was on
whatever changes elsewhere (issue 10, defect 6). Boards that share a title are
told apart by a suffix (issue 10, defect 9): whose board it is if someone else
created it, else (or also, if that is not enough) the start of its id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QModelIndex, Qt

from lanban.model.board import Board
from lanban.model.events import BoardEvent, Kind
from lanban.model.members import Role, members

from .id_list_model import IdListModel, Index
from .node_facade import NodeFacade

SHORT_ID = 6  # characters of a board id that tell boards with one title apart


class BoardsModel(IdListModel):
    """The boards of the data directory, for the sidebar."""

    IdRole = Qt.ItemDataRole.UserRole + 1
    TitleRole = Qt.ItemDataRole.UserRole + 2  # the title alone (DisplayRole adds the suffix)
    SuffixRole = Qt.ItemDataRole.UserRole + 3  # what tells equal titles apart, or ""

    def __init__(self, node: NodeFacade) -> None:
        super().__init__()
        self.node = node
        self._ids: list[str] = []
        self._titles: dict[str, str] = {}
        self._suffixes: dict[str, str] = {}
        self._watched: dict[str, tuple[Board, Callable[[], None]]] = {}
        self.reload()

    def close(self) -> None:
        """Stop following the boards' titles (the window is going)."""
        for _board, unsubscribe in self._watched.values():
            unsubscribe()
        self._watched.clear()

    def reload(self) -> None:
        titles = {b: self._title(b) for b in self.node.board_ids()}
        self._watch(titles)
        ids = sorted(titles, key=lambda b: (titles[b].casefold(), b))
        self._titles = titles
        self._suffixes = self._tell_apart(titles)
        gone = [row for row, b in enumerate(self._ids) if b not in titles]
        for row in reversed(gone):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._ids[row]
            self.endRemoveRows()
        known = set(self._ids)
        new = [b for b in ids if b not in known]
        if new:
            end = len(self._ids)
            self.beginInsertRows(QModelIndex(), end, end + len(new) - 1)
            self._ids.extend(new)
            self.endInsertRows()
        if self._ids != ids:
            self._reorder(ids)
        if ids:
            self.dataChanged.emit(self.index(0), self.index(len(ids) - 1))

    def _watch(self, board_ids: Iterable[str]) -> None:
        """Follow the title of every board listed (a rename from the command line or
        a peer), also of boards the window has not opened."""
        boards = {b: self.node.board(b) for b in board_ids if self.node.has_board(b)}
        for board_id, (board, unsubscribe) in list(self._watched.items()):
            if boards.get(board_id) is not board:
                unsubscribe()
                del self._watched[board_id]
        for board_id, board in boards.items():
            if board_id not in self._watched:
                self._watched[board_id] = (board, board.subscribe(self._on_event))

    def _on_event(self, event: BoardEvent) -> None:
        if any(c.kind is Kind.BOARD_CHANGED for c in event.changes):
            self.reload()

    def _reorder(self, ids: list[str]) -> None:
        """Sort the rows as ``ids``; selections and other persistent indexes follow."""
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        moved = [self.index(ids.index(self._ids[i.row()]), i.column()) for i in before]
        self._ids = ids
        self.changePersistentIndexList(before, moved)
        self.layoutChanged.emit()

    def _title(self, board_id: str) -> str:
        if not self.node.has_board(board_id):
            return board_id
        return self.node.title(board_id) or "(waiting for a peer)"

    def _tell_apart(self, titles: dict[str, str]) -> dict[str, str]:
        """For boards that share a title: whose it is ("from Grace") where that tells
        it apart, else the start of its id too."""
        groups: dict[str, list[str]] = {}
        for board_id, title in titles.items():
            groups.setdefault(title.casefold(), []).append(board_id)
        suffixes = {}
        for group in (g for g in groups.values() if len(g) > 1):
            owners = {b: self._owner(b) for b in group}
            count = Counter(owners.values())
            for b, owner in owners.items():
                short = b[:SHORT_ID]
                if not owner:
                    suffixes[b] = short
                else:
                    suffixes[b] = f"from {owner}" + (f" · {short}" if count[owner] > 1 else "")
        return suffixes

    def _owner(self, board_id: str) -> str:
        """Who made the board, if that is someone else ("" for mine, or unknown)."""
        if not self.node.has_board(board_id):
            return ""
        mine = self.node.my_member(board_id)
        owners = [
            m.name
            for m in members(self.node.board(board_id), include_removed=True)
            if m.role is Role.OWNER and m.name and (mine is None or m.id != mine.id)
        ]
        return owners[0] if owners else ""

    def board_id(self, row: int) -> str:
        return self._ids[row]

    def row_of(self, board_id: str) -> int:
        return self._ids.index(board_id) if board_id in self._ids else -1

    def titled(self, title: str, *, besides: str | None = None) -> list[str]:
        """The boards called ``title`` (case-insensitive), but for ``besides``."""
        key = title.strip().casefold()
        return [b for b, t in self._titles.items() if t.casefold() == key and b != besides]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        board_id = self.id_at(index)
        if board_id is None:
            return None
        title = self._titles.get(board_id, board_id)
        suffix = self._suffixes.get(board_id, "")
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{title} — {suffix}" if suffix else title
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{title} ({board_id})"
        if role == self.IdRole:
            return board_id
        if role == self.TitleRole:
            return title
        if role == self.SuffixRole:
            return suffix
        return None
