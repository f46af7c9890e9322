"""The handle on a column's right edge: drag to make the column wider or
narrower (COLUMN_MIN_WIDTH to COLUMN_RESIZE_MAX), double-click for its natural
width again. The board remembers each column's width (Settings.column_widths)."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from .theme import Palette

GRIP_WIDTH = 8
COLUMN_MIN_WIDTH = 220
COLUMN_MAX_WIDTH = 360  # a column's natural width grows up to this
COLUMN_RESIZE_MAX = 640  # and a user may drag it up to this


def clamp_width(width: int) -> int:
    return max(COLUMN_MIN_WIDTH, min(COLUMN_RESIZE_MAX, width))


class ColumnGrip(QWidget):
    """Lives on the column's right edge; reports widths, the column applies them."""

    dragged = Signal(int)  # the width the column should have now
    released = Signal(int)  # the width it ends with
    reset = Signal()  # back to the natural width

    def __init__(self, column: QWidget) -> None:
        super().__init__(column)
        self.column = column
        self.setCursor(Qt.CursorShape.SizeHorCursor)
        self.setToolTip("Drag to resize the column; double-click for its usual width")
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self._start: tuple[float, int] | None = None

    def place(self) -> None:
        parent = self.column.rect()
        self.setGeometry(QRect(parent.width() - GRIP_WIDTH, 12, GRIP_WIDTH, parent.height() - 24))
        self.raise_()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._start = (event.globalPosition().x(), self.column.width())
            event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._start is not None:
            x, width = self._start
            self.dragged.emit(clamp_width(round(width + event.globalPosition().x() - x)))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._start is not None:
            self._start = None
            self.released.emit(self.column.width())

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self._start = None
        self.reset.emit()

    def paintEvent(self, event: QPaintEvent) -> None:
        if not (self.underMouse() or self._start is not None):
            return
        painter = QPainter(self)
        color = QColor(Palette().highlight)
        color.setAlphaF(0.7)
        painter.fillRect(QRect(self.width() // 2 - 1, 0, 3, self.height()), color)
        painter.end()
