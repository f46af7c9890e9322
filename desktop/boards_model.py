"""The boards of the data directory, for the sidebar."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from .id_list_model import IdListModel, Index
from .node_facade import NodeFacade


class BoardsModel(IdListModel):
    """The boards of the data directory, for the sidebar."""

    IdRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, node: NodeFacade) -> None:
        super().__init__()
        self.node = node
        self._ids: list[str] = []
        self.reload()

    def reload(self) -> None:
        ids = sorted(self.node.board_ids(), key=lambda b: (self._title(b).casefold(), b))
        if ids != self._ids:
            self.beginResetModel()
            self._ids = ids
            self.endResetModel()
        elif ids:
            self.dataChanged.emit(self.index(0), self.index(len(ids) - 1))

    def _title(self, board_id: str) -> str:
        if not self.node.has_board(board_id):
            return board_id
        return self.node.title(board_id) or "(waiting for a peer)"

    def board_id(self, row: int) -> str:
        return self._ids[row]

    def row_of(self, board_id: str) -> int:
        return self._ids.index(board_id) if board_id in self._ids else -1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        board_id = self.id_at(index)
        if board_id is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._title(board_id)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{self._title(board_id)} ({board_id})"
        if role == self.IdRole:
            return board_id
        return None
