"""The ticket panel's checklist: "3/5" with a thin bar, a row per item (a grip to
drag it, a box to tick, its text to edit in place, × to remove), and "Add an item".

Keys: Enter in "Add an item" adds one; Enter or leaving an item's text saves it;
Alt+Up / Alt+Down move the item the caret is in; Delete on its box, or in its
emptied text, removes it.

Several people tick and edit at once (model.checklists keeps every change): a
change from anywhere updates the rows in place, by item id. A row being edited
keeps its widget, its caret and its unsaved text; rows move by being taken out
of the layout and put back, which keeps the keyboard focus where it was.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.model.schema import ChecklistItem

Edit = Callable[[Callable[[], object]], bool]  # the panel's edit: runs it, says why not


class Grip(QLabel):
    """The handle a row is dragged by: pressed, moved and released over the
    checklist, it tells the checklist where (no QDrag: that runs a loop of its own)."""

    def __init__(self, item_id: str) -> None:
        super().__init__("⠿")
        self.item_id = item_id
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setToolTip("Drag to reorder (or Alt+Up, Alt+Down)")
        self.setStyleSheet("color: palette(placeholder-text);")
        self.on_drag: Callable[[str, QPoint | None, bool], object] = lambda *_: None
        self._pressed: QPoint | None = None
        self._dragging = False

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._pressed = event.position().toPoint()
            self._dragging = False

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pressed is None:
            return
        at = event.position().toPoint()
        if not self._dragging:
            if (at - self._pressed).manhattanLength() < QApplication.startDragDistance():
                return
            self._dragging = True
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        self.on_drag(self.item_id, self.mapToGlobal(at), False)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._dragging:
            self.on_drag(self.item_id, self.mapToGlobal(event.position().toPoint()), True)
        self._pressed = None
        self._dragging = False
        self.setCursor(Qt.CursorShape.OpenHandCursor)


class ItemRow(QWidget):
    def __init__(self, item: ChecklistItem) -> None:
        super().__init__()
        self.item = item
        self.grip = Grip(item.id)
        self.check = QCheckBox()
        self.check.setAccessibleName(f"Done: {item.text}")
        self.text = QLineEdit(item.text)
        self.text.setFrame(False)
        self.text.setAccessibleName("Checklist item")
        self.text.setStyleSheet("QLineEdit { background: transparent; }")
        self.remove = QToolButton()
        self.remove.setText("×")
        self.remove.setAutoRaise(True)
        self.remove.setAccessibleName(f"Remove {item.text}")
        self.remove.setToolTip("Remove this item")
        self.remove.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Delete does it from the keyboard
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.grip)
        row.addWidget(self.check)
        row.addWidget(self.text, 1)
        row.addWidget(self.remove)
        self.show_item(item)

    def show_item(self, item: ChecklistItem) -> None:
        """The item as the board has it; unsaved typing in its text stays."""
        self.item = item
        self.check.blockSignals(True)
        self.check.setChecked(item.done)
        self.check.blockSignals(False)
        self.check.setAccessibleName(f"Done: {item.text}")
        self.remove.setAccessibleName(f"Remove {item.text}")
        if not self.text.isModified() and self.text.text() != item.text:
            at = self.text.cursorPosition()
            self.text.setText(item.text)
            self.text.setCursorPosition(min(at, len(item.text)))
        font = self.text.font()
        font.setStrikeOut(item.done)
        self.text.setFont(font)


class ChecklistWidget(QWidget):
    def __init__(self, board: Board, ticket_id: str, edit: Edit) -> None:
        super().__init__()
        self.setObjectName("checklist")
        self.board = board
        self.ticket_id = ticket_id
        self._edit = edit
        self.read_only = False
        self.rows: dict[str, ItemRow] = {}
        self.count = QLabel()
        self.count.setObjectName("checklistCount")
        self.bar = QProgressBar()
        self.bar.setObjectName("checklistBar")
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(4)
        self.bar.setAccessibleName("Checklist progress")
        self.list = QVBoxLayout()
        self.list.setContentsMargins(0, 0, 0, 0)
        self.list.setSpacing(0)
        self.add_box = QLineEdit()
        self.add_box.setObjectName("addItem")
        self.add_box.setPlaceholderText("Add an item")
        self.add_box.setAccessibleName("Add a checklist item")
        self.add_box.returnPressed.connect(self._add)
        head = QHBoxLayout()
        head.addWidget(self.count)
        head.addWidget(self.bar, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(head)
        column.addLayout(self.list)
        column.addWidget(self.add_box)
        self.drop_line = QFrame(self)  # where a dragged row would go
        self.drop_line.setStyleSheet("background: palette(highlight);")
        self.drop_line.hide()
        self.refresh()

    # --------------------------------------------------------------- showing

    def items(self) -> list[ChecklistItem]:
        """The items in the order shown."""
        return [row.item for row in self.ordered_rows()]

    def ordered_rows(self) -> list[ItemRow]:
        found = (self.list.itemAt(i) for i in range(self.list.count()))
        return [w for it in found if it is not None and isinstance(w := it.widget(), ItemRow)]

    def refresh(self) -> None:
        """Show the board's checklist: rows updated in place, added, removed, moved."""
        try:
            items = self.board.checklist(self.ticket_id)
        except BoardError:
            return
        for gone in self.rows.keys() - {item.id for item in items}:
            row = self.rows.pop(gone)
            focused = QApplication.focusWidget()
            if focused is not None and row.isAncestorOf(focused):
                self.add_box.setFocus()
            self.list.removeWidget(row)
            row.deleteLater()
        for item in items:
            found = self.rows.get(item.id)
            if found is None:
                self.rows[item.id] = self._new_row(item)
            else:
                found.show_item(item)
        if [row.item.id for row in self.ordered_rows()] != [item.id for item in items]:
            for row in self.ordered_rows():
                self.list.removeWidget(row)
            for item in items:
                self.list.addWidget(self.rows[item.id])
        done = sum(item.done for item in items)
        self.count.setText(f"{done}/{len(items)}" if items else "No items")
        self.bar.setVisible(bool(items))
        self.bar.setRange(0, max(1, len(items)))
        self.bar.setValue(done)
        self.set_read_only(self.read_only)

    def set_read_only(self, on: bool) -> None:
        self.read_only = on
        self.add_box.setHidden(on)
        for row in self.rows.values():
            row.check.setEnabled(not on)
            row.text.setReadOnly(on)
            row.remove.setHidden(on)
            row.grip.setVisible(not on)

    def _new_row(self, item: ChecklistItem) -> ItemRow:
        row = ItemRow(item)
        row.grip.on_drag = self._dragged
        row.check.toggled.connect(lambda on, r=row: self._tick(r, on))
        row.text.editingFinished.connect(lambda r=row: self._save_text(r))
        row.remove.clicked.connect(lambda _=False, r=row: self.remove(r.item.id))
        for widget in (row.check, row.text):
            widget.installEventFilter(self)
        return row

    # --------------------------------------------------------------- editing

    def _tick(self, row: ItemRow, on: bool) -> None:
        if not self.read_only:
            self._edit(lambda: self.board.set_checklist_done(self.ticket_id, row.item.id, on))

    def _save_text(self, row: ItemRow) -> None:
        text = row.text.text().strip()
        if self.read_only or not row.text.isModified():
            return
        row.text.setModified(False)
        if not text:
            self.remove(row.item.id)
        elif text != row.item.text:
            self._edit(lambda: self.board.edit_checklist_item(self.ticket_id, row.item.id, text))

    def _add(self) -> None:
        text = self.add_box.text().strip()
        if (
            text
            and not self.read_only
            and self._edit(lambda: self.board.add_checklist_item(self.ticket_id, text))
        ):
            self.add_box.clear()

    def remove(self, item_id: str) -> None:
        if not self.read_only:
            self._edit(lambda: self.board.remove_checklist_item(self.ticket_id, item_id))

    def move_item(self, item_id: str, index: int) -> None:
        if not self.read_only:
            self._edit(lambda: self.board.move_checklist_item(self.ticket_id, item_id, index))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not (isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress):
            return super().eventFilter(watched, event)
        row = next((r for r in self.rows.values() if watched in (r.check, r.text)), None)
        if row is None or self.read_only:
            return super().eventFilter(watched, event)
        alt = event.modifiers() & Qt.KeyboardModifier.AltModifier
        if alt and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            index = self.ordered_rows().index(row) + (-1 if event.key() == Qt.Key.Key_Up else 1)
            if 0 <= index < len(self.rows):
                self._save_text(row)
                self.move_item(row.item.id, index)
            return True
        if event.key() == Qt.Key.Key_Delete and (watched is row.check or not row.text.text()):
            self.remove(row.item.id)
            return True
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------- dragging

    def drop_index(self, y: int) -> int:
        """Where a row dropped at ``y`` goes: before the first row whose middle is below."""
        for i, row in enumerate(self.ordered_rows()):
            if y < row.geometry().center().y():
                return i
        return len(self.rows)

    def _dragged(self, item_id: str, at: QPoint | None, dropped: bool) -> None:
        """A row's grip moves (a line shows where it would go) or is let go (it goes there)."""
        order = [row.item.id for row in self.ordered_rows()]
        if at is None or item_id not in order or self.read_only:
            self.drop_line.hide()
            return
        y = self.mapFromGlobal(at).y()
        index = self.drop_index(y)
        if not dropped:
            rows = self.ordered_rows()
            line_y = (
                rows[index].geometry().top() if index < len(rows) else rows[-1].geometry().bottom()
            )
            self.drop_line.setGeometry(0, line_y - 1, self.width(), 2)
            self.drop_line.show()
            self.drop_line.raise_()
            return
        self.drop_line.hide()
        if index > order.index(item_id):
            index -= 1  # the row leaves its own place first
        self.move_item(item_id, index)
