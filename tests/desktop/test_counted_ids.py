"""CountedIdListModel (a column's rows): Qt counts the rows, the ids follow, and
whoever hears a row signal sees ids and row count agree."""

from __future__ import annotations

import random
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QApplication, QListView

from lanban.desktop.column_model import diff_operations
from lanban.desktop.id_list_model import CountedIdListModel


class Ids(CountedIdListModel):
    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        return self.id_at(index) if role == Qt.ItemDataRole.DisplayRole else None

    def follow(self, new: list[str]) -> None:
        """As ColumnModel._apply does."""
        for op, a, b in diff_operations(self._ids, new):
            if op == "remove":
                self.remove_ids(a, b)
            elif op == "insert":
                self.insert_id(a, new[a])
            else:
                self.move_id(a, b)


def test_rows_follow_the_ids_and_every_listener_sees_them_agree(qapp: QApplication) -> None:
    model = Ids()
    model.reset_ids(["a", "b", "c"])
    view = QListView()
    view.setModel(model)
    seen: list[tuple[str, bool]] = []

    def check(kind: str) -> None:
        shown = [model.index(r).data() for r in range(model.rowCount())]
        seen.append((kind, shown == model._ids))

    model.rowsInserted.connect(lambda *_: check("inserted"))
    model.rowsRemoved.connect(lambda *_: check("removed"))
    model.rowsMoved.connect(lambda *_: check("moved"))
    kept = QPersistentModelIndex(model.index(2))  # "c"

    model.follow(["c", "x", "a"])
    assert model._ids == ["c", "x", "a"] and model.rowCount() == 3
    assert kept.row() == 0 and kept.data() == "c"  # a persistent index follows its card
    assert {kind for kind, _ in seen} == {"inserted", "removed", "moved"}
    assert all(agree for _, agree in seen), seen

    # rows change only through the model's own calls: Qt's list API is refused
    before = list(model._ids)
    assert not model.insertRows(0, 1) and not model.removeRows(0, 1)
    assert not model.moveRows(QModelIndex(), 0, 1, QModelIndex(), 2)
    assert model._ids == before and model.rowCount() == len(before)
    assert model.itemData(model.index(0))[Qt.ItemDataRole.DisplayRole] == before[0]

    shuffle = random.Random(8)
    pool = [f"t{i}" for i in range(30)]
    for _ in range(200):
        new = shuffle.sample(pool, shuffle.randint(0, len(pool)))
        model.follow(new)
        assert model._ids == new and model.rowCount() == len(new)
        assert [model.index(r).data() for r in range(model.rowCount())] == new
    assert all(agree for _, agree in seen)
