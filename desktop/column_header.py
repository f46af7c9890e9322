"""A column's header: title (double-click to rename, drag to reorder), count / WIP, menu."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QPoint, Qt
from PySide6.QtGui import QColor, QDrag, QMouseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QMenu, QToolButton, QWidget

from .icons import set_icon
from .prompts import popup

if TYPE_CHECKING:
    from .column_view import ColumnWidget

COLUMN_MIME = "application/x-lanban-column"
WIDTH_STEP = 40  # px a column grows or shrinks by from its menu


class ColumnHeader(QWidget):
    def __init__(self, column: ColumnWidget) -> None:
        super().__init__()
        self.column = column
        self.title = QLabel()
        self.title.setObjectName("columnTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.count = QLabel()
        self.count.setObjectName("columnCount")
        self.editor = QLineEdit()
        self.editor.hide()
        self.editor.returnPressed.connect(self._finish_rename)
        self.editor.editingFinished.connect(self._finish_rename)
        self.menu_button = QToolButton()
        self.menu_button.setAutoRaise(True)
        set_icon(self.menu_button, "menu")
        self.menu_button.setToolTip("Column actions (Menu key on the board)")
        # not a tab stop of its own: the board is one; the Menu key opens it from there
        self.menu_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # A plain button with popup(): a QToolButton menu would run QMenu.exec().
        self.menu_button.clicked.connect(self.show_menu)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.addWidget(self.title, 1)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.menu_button)
        self._press: QPoint | None = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.update_title()

    def show_menu(self) -> QMenu:
        column = self.column
        menu = QMenu(self)
        menu.addAction("Rename", column.rename)
        menu.addAction("Set WIP limit…", column.set_wip)
        menu.addAction("Move left", lambda: column.move_by(-1))
        menu.addAction("Move right", lambda: column.move_by(1))
        width = menu.addMenu("Width")  # the keyboard's way to resize (else drag its edge)
        width.addAction("Wider", lambda: column.resize_by(WIDTH_STEP))
        width.addAction("Narrower", lambda: column.resize_by(-WIDTH_STEP))
        width.addAction("Usual width", lambda: column.resize_by(0))
        menu.addSeparator()
        menu.addAction("Delete column", column.delete)
        button = self.menu_button
        return popup(menu, button.mapToGlobal(button.rect().bottomLeft()))

    def update_title(self) -> None:
        title = self.column.column.title
        self.title.setText(title)
        self.title.setToolTip(f"{title} — double-click to rename, drag to move")
        self.menu_button.setAccessibleName(f"{title}: column actions")

    def update_count(self) -> None:
        """ "3" or "3 / 5" (WIP limit); "1 of 3" while a filter hides some."""
        pal = self.column.colors  # not read afresh for each card moved
        model = self.column.model
        count = model.total
        limit = self.column.column.wip_limit
        if model.filtering and count:
            text = f"{model.rowCount()} of {count}"
        else:
            text = f"{count} / {limit}" if limit else str(count)
        self.count.setText(text)
        over = bool(limit) and count > limit
        color = pal.warning.name() if over else pal.muted.name(QColor.NameFormat.HexArgb)
        style = f"color: {'white' if over else color}; padding: 1px 7px; border-radius: 8px;" + (
            f"background: {pal.warning.name()};" if over else ""
        )
        if style != self.count.styleSheet():  # a style sheet change re-polishes: not per event
            self.count.setStyleSheet(style)
        tips = [
            f"Over the WIP limit of {limit}"
            if over
            else (f"WIP limit {limit}" if limit else "No WIP limit")
        ]
        if model.filtering and count:
            tips.insert(0, f"{model.rowCount()} of its {count} tickets match the filter")
        tip = "\n".join(tips)
        if tip != self.count.toolTip():  # a tooltip change is an event: not per card moved
            self.count.setToolTip(tip)
        self.column.setProperty("overLimit", over)
        self.column.update_accessible_names(count)

    def start_rename(self) -> None:
        self.editor.setText(self.column.column.title)
        self.title.hide()
        self.editor.show()
        self.editor.selectAll()
        self.editor.setFocus()

    def _finish_rename(self) -> None:
        if self.editor.isHidden():
            return
        text = self.editor.text().strip()
        self.editor.hide()
        self.title.show()
        if text and text != self.column.column.title:
            self.column.controller.edit(
                lambda: self.column.controller.board.rename_column(self.column.column.id, text)
            )

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.start_rename()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None:
            return
        if (event.position().toPoint() - self._press).manhattanLength() < 8:
            return
        self._press = None
        drag = QDrag(self)
        mime = QMimeData()
        mime.setData(
            COLUMN_MIME,
            json.dumps(
                {
                    "board": self.column.controller.board_id,
                    "column": self.column.column.id,
                }
            ).encode(),
        )
        drag.setMimeData(mime)
        drag.setPixmap(self.column.grab().scaledToWidth(160))
        try:
            drag.exec(Qt.DropAction.MoveAction)
        finally:  # dropped or cancelled: the board stops scrolling at its edge
            self.column.view.dragEnded.emit()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None
