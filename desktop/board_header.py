"""The row above the board: title, who is here, filters, Invite.

Narrow windows (half a screen) put the filters on a second row; the title elides.
Its minimum width is that of the two-row layout in either mode, so the window can
always be narrowed to it.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from .elided_label import ElidedLabel
from .filters import FilterBar
from .presence_bar import PresenceBar

TITLE_SPACING = 16
TITLE_ROOM = 240  # the title keeps at least this much before the filters move down


class BoardHeader(QWidget):
    def __init__(
        self, title: ElidedLabel, presence: PresenceBar, filters: FilterBar, invite: QPushButton
    ) -> None:
        super().__init__()
        self.title = title
        self.presence = presence
        self.filters = filters
        self.invite = invite
        self.top = QHBoxLayout()
        self.top.addWidget(title, 1)
        self.top.addSpacing(TITLE_SPACING)
        self.top.addWidget(presence)
        self.top.addStretch(0)
        self.top.addWidget(filters)
        self.top.addWidget(invite)
        self.second = QHBoxLayout()
        self.rows = QVBoxLayout(self)
        self.rows.setContentsMargins(12, 8, 12, 0)
        self.rows.addLayout(self.top)
        self.rows.addLayout(self.second)
        self.compact = False

    def _wide_width(self) -> int:
        """The width the one-row layout needs."""
        margins = self.rows.contentsMargins()
        spacing = self.top.spacing() * 4
        parts = (self.presence, self.filters, self.invite)
        return (
            margins.left()
            + margins.right()
            + TITLE_ROOM
            + TITLE_SPACING
            + spacing
            + sum(w.sizeHint().width() for w in parts)
        )

    def minimumSizeHint(self) -> QSize:
        margins = self.rows.contentsMargins()
        spacing = self.top.spacing() * 3
        top = (
            self.title.minimumSizeHint().width()
            + TITLE_SPACING
            + self.presence.minimumSizeHint().width()
            + self.invite.minimumSizeHint().width()
            + spacing
        )
        width = max(top, self.filters.minimumSizeHint().width())
        return QSize(width + margins.left() + margins.right(), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.set_compact(event.size().width() < self._wide_width())

    def set_compact(self, compact: bool) -> None:
        if compact == self.compact:
            return
        self.compact = compact
        if compact:
            self.top.removeWidget(self.filters)
            self.second.addWidget(self.filters)
        else:
            self.second.removeWidget(self.filters)
            self.top.insertWidget(self.top.indexOf(self.invite), self.filters)
