"""Qt list models whose rows are ids (boards in the sidebar, tickets in a column)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QStringListModel,
)

Index = QModelIndex | QPersistentModelIndex


class IdRows:
    """Row ``n`` is ``self._ids[n]``: what both list models below share."""

    _ids: list[str]

    def id_at(self, index: Index) -> str | None:
        """The id on ``index``'s row; None for an invalid index or a row gone meanwhile."""
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        return self._ids[index.row()]


class IdListModel(IdRows, QAbstractListModel):
    """Subclasses fill ``_ids`` and answer ``data``."""

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)


class CountedIdListModel(IdRows, QStringListModel):
    """Row ``n`` is ``self._ids[n]``, as in IdListModel, but Qt counts the rows: a
    list view lays out every row again after each row change and asks the row
    count twice per row, which a Python ``rowCount`` made most of a long
    column's layout. Qt's own list holds one placeholder per row; rows change
    only through ``reset_ids``, ``insert_id``, ``remove_ids`` and ``move_id``,
    and ``_ids`` follows in the first slot of Qt's row signals, so it matches
    the row count for everyone who hears them. Subclasses answer ``data``."""

    def __init__(self) -> None:
        super().__init__()
        self._ids: list[str] = []
        self._incoming = ""
        # connected before any view's: the ids are in place when views hear of rows
        self.rowsInserted.connect(self._inserted)
        self.rowsRemoved.connect(self._removed)
        self.rowsMoved.connect(self._moved)

    def reset_ids(self, ids: list[str]) -> None:
        """All rows anew (a model reset)."""
        self._ids = list(ids)
        self.setStringList([""] * len(ids))

    def insert_id(self, row: int, ticket_id: str) -> None:
        self._incoming = ticket_id
        QStringListModel.insertRows(self, row, 1)

    def remove_ids(self, row: int, count: int) -> None:
        QStringListModel.removeRows(self, row, count)

    def move_id(self, row: int, to_row: int) -> None:
        """The id on ``row`` to ``to_row`` (counted before the move, as Qt does)."""
        QStringListModel.moveRows(self, QModelIndex(), row, 1, QModelIndex(), to_row)

    # Rows change only as above: others asking Qt's list model to insert, remove
    # or move rows are refused (after a move-drop Qt asks the source to remove the
    # rows: the board has moved the ticket already, and the rows follow the board),
    # and items are read through data().

    def insertRows(self, row: int, count: int, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return False

    def removeRows(self, row: int, count: int, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return False

    def moveRows(
        self,
        source_parent: Index,
        source_row: int,
        count: int,
        destination_parent: Index,
        destination_child: int,
    ) -> bool:
        return False

    def itemData(self, index: Index) -> dict[int, Any]:
        return QAbstractItemModel.itemData(self, index)

    def _inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        self._ids[first:first] = [self._incoming] * (last - first + 1)

    def _removed(self, _parent: QModelIndex, first: int, last: int) -> None:
        del self._ids[first : last + 1]

    def _moved(
        self, _parent: QModelIndex, start: int, end: int, _destination: QModelIndex, row: int
    ) -> None:
        moving = self._ids[start : end + 1]
        del self._ids[start : end + 1]
        at = row if row < start else row - len(moving)
        self._ids[at:at] = moving
