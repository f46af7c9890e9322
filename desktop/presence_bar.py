"""Avatars of everyone on the board, and a count."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from .controller import BoardController, Peer
from .theme import Palette, initials, safe_color, text_on

AVATAR = 28
MAX_AVATARS = 8


class Avatar(QWidget):
    def __init__(self, name: str, color: QColor, tooltip: str, ring: bool = False) -> None:
        super().__init__()
        self.name = name
        self.color = color
        self.ring = ring
        self.setFixedSize(QSize(AVATAR, AVATAR))
        self.setToolTip(tooltip)
        self.setAccessibleName(tooltip)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(1.5, 1.5, AVATAR - 3, AVATAR - 3)
        painter.setBrush(self.color)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(rect)
        if self.ring:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(Palette().highlight)
            painter.drawEllipse(rect)
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        painter.setPen(text_on(self.color))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, initials(self.name))
        painter.end()


def describe(peer: Peer) -> str:
    doing = []
    if peer.editing:
        doing.append("editing a ticket")
    if peer.dragging:
        doing.append("moving a ticket")
    if peer.typing:
        doing.append("typing a comment")
    return peer.name + (f" — {', '.join(doing)}" if doing else "")


class PresenceBar(QWidget):
    """Who is viewing this board: me first, then the others. A click asks for the
    board's members (``membersRequested``)."""

    membersRequested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.controller: BoardController | None = None
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(2)
        self.count = QLabel()
        self.count.setObjectName("presenceCount")
        self.setAccessibleName("People on this board")

    def set_controller(self, controller: BoardController | None) -> None:
        if self.controller is not None:
            self.controller.presenceChanged.disconnect(self.refresh)
            self.controller.settings.identityChanged.disconnect(self.refresh)
        self.controller = controller
        if controller is not None:
            controller.presenceChanged.connect(self.refresh)
            controller.settings.identityChanged.connect(self.refresh)
        self.refresh()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        event.accept()  # the release is ours then

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        inside = self.rect().contains(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and inside:
            self.membersRequested.emit()

    def avatars(self) -> list[Avatar]:
        items = (self.layout_.itemAt(i) for i in range(self.layout_.count()))
        return [w for item in items if item and isinstance(w := item.widget(), Avatar)]

    def refresh(self) -> None:
        while self.layout_.count():
            item = self.layout_.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None and widget is not self.count:
                widget.deleteLater()
        if self.controller is None:
            return
        me = self.controller.settings
        self.layout_.addWidget(
            Avatar(me.name, safe_color(me.color, me.user_id), f"{me.name} (you)", ring=True)
        )
        peers = self.controller.peers()
        for peer in peers[:MAX_AVATARS]:
            self.layout_.addWidget(
                Avatar(peer.name, safe_color(peer.color, peer.user_id), describe(peer))
            )
        total = len(peers) + 1
        more = f" (+{len(peers) - MAX_AVATARS})" if len(peers) > MAX_AVATARS else ""
        self.count.setText(f"  {total} viewing{more}" if peers else "  only you")
        names = ", ".join(p.name for p in peers) or "nobody else"
        self.count.setToolTip(f"On this board: you, {names}")
        self.layout_.addWidget(self.count)
