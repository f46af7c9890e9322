"""A Qt list model whose rows are ids (boards in the sidebar, tickets in a column)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex

Index = QModelIndex | QPersistentModelIndex


class IdListModel(QAbstractListModel):
    """Row ``n`` is ``self._ids[n]``; subclasses fill ``_ids`` and answer ``data``."""

    _ids: list[str]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def id_at(self, index: Index) -> str | None:
        """The id on ``index``'s row; None for an invalid index or a row gone meanwhile."""
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        return self._ids[index.row()]
