"""Avatars of everyone on the board, a count, and join/leave toasts."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from .controller import BoardController, Peer
from .theme import Palette, initials, safe_color, text_on

AVATAR = 28
MAX_AVATARS = 8
TOAST_MS = 3500


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
    """Who is viewing this board: me first, then the others."""

    def __init__(self) -> None:
        super().__init__()
        self.controller: BoardController | None = None
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


class Toasts(QWidget):
    """Short notices in the corner of the window ("Ada joined the board")."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self._labels: list[QLabel] = []
        self.hide()

    def messages(self) -> list[str]:
        return [label.text() for label in self._labels]

    def show_message(self, text: str) -> None:
        label = QLabel(text, self.parentWidget())
        label.setObjectName("toast")
        label.setStyleSheet(
            "QLabel#toast { background: rgba(30, 30, 35, 230); color: white;"
            " padding: 8px 14px; border-radius: 8px; }"
        )
        label.adjustSize()
        self._labels.append(label)
        self._place()
        label.show()
        label.raise_()
        # The label is the timer's context: if the window goes first, so does the timer.
        QTimer.singleShot(TOAST_MS, label, lambda: self._drop(label))

    def _drop(self, label: QLabel) -> None:
        if label in self._labels:
            self._labels.remove(label)
            label.deleteLater()
            self._place()

    def _place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        y = parent.height() - 48
        for label in reversed(self._labels):
            label.adjustSize()
            y -= label.height() + 8
            label.move(parent.width() - label.width() - 20, y)

    def relayout(self) -> None:
        self._place()
