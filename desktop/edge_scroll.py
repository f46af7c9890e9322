"""Scrolling a board sideways while a card is dragged near its left or right edge.

Qt's item views scroll themselves near their top and bottom during a drag
(QAbstractItemView.autoScroll); nothing does that for the scroll area around the
columns. While a drag hovers within ``EDGE`` pixels of the area's side, a timer
scrolls it, faster nearer the edge, for as long as the pointer stays there (the
pointer is read at each step, as Qt's own auto scroll does: a drag that does not
move sends no events).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPoint, QTimer
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QAbstractScrollArea

EDGE = 48  # px from the area's left or right side where a drag scrolls it
STEP_MS = 16
MAX_STEP = 28  # px per step at the very edge


class EdgeScroller(QObject):
    def __init__(self, area: QAbstractScrollArea) -> None:
        super().__init__(area)
        self.area = area
        self.pointer: Callable[[], QPoint] = QCursor.pos  # where the drag is now (global)
        self._timer = QTimer(self)
        self._timer.setInterval(STEP_MS)
        self._timer.timeout.connect(self._step)

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def track(self, global_pos: QPoint) -> None:
        """A drag is at ``global_pos``: scroll while it stays near an edge."""
        if self.speed(global_pos):
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()

    def stop(self) -> None:
        self._timer.stop()

    def speed(self, global_pos: QPoint) -> int:
        """Pixels per step: negative to the left, 0 outside the edges."""
        viewport = self.area.viewport()
        pos = viewport.mapFromGlobal(global_pos)
        if not viewport.rect().contains(pos):
            return 0
        bar = self.area.horizontalScrollBar()
        if pos.x() < EDGE and bar.value() > bar.minimum():
            return -max(1, MAX_STEP * (EDGE - pos.x()) // EDGE)
        right = viewport.width() - pos.x()
        if right <= EDGE and bar.value() < bar.maximum():
            return max(1, MAX_STEP * (EDGE - right) // EDGE)
        return 0

    def _step(self) -> None:
        speed = self.speed(self.pointer())
        if not speed:
            self._timer.stop()
            return
        bar = self.area.horizontalScrollBar()
        bar.setValue(bar.value() + speed)
