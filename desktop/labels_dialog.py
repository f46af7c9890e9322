"""Board → Labels…: the board's labels in one place, to rename, recolour or delete.

A label's name is edited in place (Enter saves); its colour is one of the
swatches (the people colours) or any colour from "Other…" (a QColorDialog
opened with open(), so no second event loop); "Delete…" asks first, then takes
the label off every ticket (model Board.delete_label). Changes from peers show
at once. A read-only board shows the labels only.
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from lanban.model.schema import Label

from .controller import BoardController
from .prompts import confirm
from .theme import USER_COLORS, Palette

SWATCH = 18


def swatch_icon(color: str, size: int = SWATCH) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


class LabelsDialog(QDialog):
    def __init__(self, controller: BoardController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.board = controller.board
        self.read_only = bool(controller.read_only_reason())
        self.setWindowTitle("Labels")
        self.resize(420, 360)
        self.list = QListWidget()
        self.list.setAccessibleName("Labels")
        self.list.currentRowChanged.connect(lambda _row: self._chosen())
        self.empty = QLabel("No labels yet: add them from a ticket's \u201c+ Label\u201d.")
        self.empty.setWordWrap(True)
        self.name = QLineEdit()
        self.name.setAccessibleName("Label name")
        self.name.setPlaceholderText("Name, then Enter")
        self.name.returnPressed.connect(self._rename)
        self.swatches: list[QToolButton] = []
        colors = QHBoxLayout()
        colors.setSpacing(4)
        for color in USER_COLORS:
            swatch = QToolButton()
            swatch.setIcon(swatch_icon(color))
            swatch.setAccessibleName(f"Colour {color}")
            swatch.setToolTip(color)
            swatch.setAutoRaise(True)
            swatch.clicked.connect(lambda _=False, c=color: self.recolor(c))
            colors.addWidget(swatch)
            self.swatches.append(swatch)
        self.other = QToolButton()
        self.other.setText("Other…")
        self.other.setAccessibleName("Other colour")
        self.other.clicked.connect(self.other_colour)
        colors.addWidget(self.other)
        colors.addStretch(1)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setAccessibleName("Delete label")
        self.delete_button.clicked.connect(self._delete)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {Palette().warning.name()}")
        self.error.hide()
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        for button in (self.delete_button, close.button(QDialogButtonBox.StandardButton.Close)):
            button.setAutoDefault(False)  # Enter in the name renames; it never closes
        self.editors = QWidget()
        form = QVBoxLayout(self.editors)
        form.setContentsMargins(0, 0, 0, 0)
        form.addWidget(QLabel("Name:"))
        form.addWidget(self.name)
        form.addWidget(QLabel("Colour:"))
        form.addLayout(colors)
        form.addWidget(self.delete_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.editors)
        layout.addWidget(self.error)
        layout.addWidget(close)
        controller.labelsChanged.connect(self.refresh)
        controller.closing.connect(self.close)
        self.finished.connect(self._finish)
        self.refresh()
        self.list.setCurrentRow(0)

    def labels(self) -> list[Label]:
        labels: list[Label] = self.board.labels()
        return labels

    def current(self) -> Label | None:
        item = self.list.currentItem()
        if item is None:
            return None
        wanted = item.data(Qt.ItemDataRole.UserRole)
        return next((lb for lb in self.labels() if lb.id == wanted), None)

    def refresh(self) -> None:
        chosen = self.current()
        self.list.blockSignals(True)
        self.list.clear()
        for label in self.labels():
            item = QListWidgetItem(swatch_icon(label.color), label.name)
            item.setData(Qt.ItemDataRole.UserRole, label.id)
            self.list.addItem(item)
            if chosen is not None and label.id == chosen.id:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        if self.list.currentRow() < 0 and self.list.count():
            self.list.setCurrentRow(0)
        self._chosen()

    def _chosen(self) -> None:
        label = self.current()
        has = label is not None
        self.empty.setVisible(self.list.count() == 0)
        self.editors.setEnabled(has and not self.read_only)
        self.editors.setVisible(not self.read_only)
        if label is not None and not self.name.hasFocus():
            self.name.setText(label.name)
        for swatch, color in zip(self.swatches, USER_COLORS, strict=True):
            swatch.setCheckable(True)
            swatch.setChecked(label is not None and label.color.casefold() == color.casefold())

    def _attempt(self, action: object) -> bool:
        assert callable(action)
        ok = self.controller.edit(action, shown_in=self._show_error)
        if ok:
            self.error.hide()
        return ok

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def _rename(self) -> None:
        label = self.current()
        name = self.name.text().strip()
        if label is not None and name and name != label.name:
            self._attempt(lambda: self.board.rename_label(label.id, name))
            self.refresh()

    def recolor(self, color: str) -> None:
        label = self.current()
        if label is not None and color.casefold() != label.color.casefold():
            self._attempt(lambda: self.board.set_label_color(label.id, color))

    def other_colour(self) -> QColorDialog | None:
        """ "Other…": any colour, from Qt's colour dialog (opened with open())."""
        label = self.current()
        if label is None:
            return None
        picker = QColorDialog(QColor(label.color), self)
        picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        picker.colorSelected.connect(lambda c: self.recolor(c.name()))
        picker.open()
        return picker

    def _delete(self) -> None:
        label = self.current()
        if label is None:
            return
        count = sum(label.id in t.labels for t in self.board.tickets())
        detail = (
            f"{count} ticket{'s' if count != 1 else ''} will lose it."
            if count
            else "No ticket has it."
        )
        confirm(
            self,
            "Delete label",
            f"Delete the label \u201c{label.name}\u201d?",
            lambda: self._attempt(lambda: self.board.delete_label(label.id)),
            verb="Delete label",
            detail=detail,
        )

    def _finish(self) -> None:
        for signal, slot in (
            (self.controller.labelsChanged, self.refresh),
            (self.controller.closing, self.close),
        ):
            with contextlib.suppress(RuntimeError, TypeError):
                signal.disconnect(slot)
