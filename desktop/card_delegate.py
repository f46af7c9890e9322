"""Paints one card: number, labels, title, assignee, comments, who is on it.

Cards have one height, so the list views can use uniform item sizes (fast
with thousands of cards); titles wrap to two lines and elide.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from lanban.model.limits import DEFAULT_LABEL_COLOR
from lanban.model.schema import Ticket

from .column_model import BadgesRole, FreshRole, LabelsRole, SelectedByRole, TicketRole
from .controller import Peer
from .icons import pixmap
from .theme import Palette, initials, safe_color, text_on

CARD_HEIGHT = 88
CARD_MARGIN = 4  # around each card, inside the row
PADDING = 10
FRESH_SECONDS = 0.9  # a card a peer just changed glows this long
SLIDE_PIXELS = 14.0  # and slides in from this far
AVATAR_TEXT = 0.8  # initials take at most this share of an avatar's width
RING_WIDTH = 2.5  # a peer's selection ring, in the margin around the card


class CardDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.palette = Palette()

    def refresh_palette(self) -> None:
        self.palette = Palette()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(max(120, option.rect.width()), CARD_HEIGHT + 2 * CARD_MARGIN)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        ticket: Ticket | None = index.data(TicketRole)
        if ticket is None:
            return
        pal = self.palette
        badges: list[tuple[Peer, str]] = index.data(BadgesRole) or []
        labels: list[tuple[str, str]] = index.data(LabelsRole) or []
        fresh_at = index.data(FreshRole)
        glow = 0.0
        if fresh_at is not None:
            glow = max(0.0, 1.0 - (time.monotonic() - fresh_at) / FRESH_SECONDS)

        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(option.rect).adjusted(CARD_MARGIN, CARD_MARGIN, -CARD_MARGIN, -CARD_MARGIN)
        rect.translate(SLIDE_PIXELS * glow * glow, 0)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        focused = bool(option.state & QStyle.StateFlag.State_HasFocus)

        # card body
        path = QPainterPath()
        path.addRoundedRect(rect, 8, 8)
        painter.fillPath(path, pal.card)
        border = QColor(pal.card_border)
        width = 1.0
        if badges:
            border = safe_color(badges[0][0].color, badges[0][0].user_id)
            width = 2.0
        if selected or focused:
            border = pal.highlight
            width = 2.0
            tint = QColor(pal.highlight)  # mine: tinted, a peer's only ringed
            tint.setAlphaF(0.08)
            painter.fillPath(path, tint)
        if glow > 0:
            halo = QColor(pal.highlight)
            halo.setAlphaF(0.35 * glow)
            painter.fillPath(path, halo)
        painter.setPen(QPen(border, width))
        painter.drawPath(path)
        selected_by: list[Peer] = index.data(SelectedByRole) or []
        if selected_by:  # the card a peer has selected: a ring in their colour, outside
            peer = selected_by[0]
            painter.setPen(QPen(safe_color(peer.color, peer.user_id), RING_WIDTH))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            ring = RING_WIDTH / 2 + 1
            painter.drawRoundedRect(rect.adjusted(-ring, -ring, ring, ring), 9, 9)

        inner = rect.adjusted(PADDING, 8, -PADDING, -8)
        base = QFont(option.font)
        small = QFont(base)
        small.setPointSizeF(max(7.0, base.pointSizeF() * 0.85))

        # top row: number, labels; right: who is on it
        painter.setFont(small)
        fm = QFontMetrics(small)
        x = inner.left()
        top = inner.top()
        number = f"#{ticket.number}"
        painter.setPen(pal.muted)
        painter.drawText(QPointF(x, top + fm.ascent()), number)
        x += fm.horizontalAdvance(number) + 8
        right = inner.right()
        faces = {peer.client_id: peer for peer in [p for p, _ in badges] + selected_by}
        for peer in list(faces.values())[:3]:
            right = (
                self._avatar(
                    painter,
                    peer.name,
                    safe_color(peer.color, peer.user_id),
                    right,
                    top,
                    fm.height() + 2,
                    small,
                )
                - 3
            )
        if any(what == "editing" for _, what in badges):
            size = fm.height()
            painter.drawPixmap(int(right - size), int(top), pixmap("lock", pal.text, size, 2.0))
            right -= size + 4
        for name, color in labels:
            chip = QColor(color) if QColor(color).isValid() else QColor(DEFAULT_LABEL_COLOR)
            width_chip = fm.horizontalAdvance(name) + 12
            if x + width_chip > right:
                break
            chip_rect = QRectF(x, top, width_chip, fm.height() + 2)
            chip_path = QPainterPath()
            chip_path.addRoundedRect(chip_rect, 6, 6)
            painter.fillPath(chip_path, chip)
            painter.setPen(text_on(chip))
            painter.drawText(chip_rect, Qt.AlignmentFlag.AlignCenter, name)
            x += width_chip + 4

        # title, two lines at most
        painter.setFont(base)
        bfm = QFontMetrics(base)
        title_rect = QRectF(
            inner.left(), top + fm.height() + 8, inner.width(), bfm.lineSpacing() * 2
        )
        painter.setPen(pal.text)
        self._title(painter, ticket.title, title_rect, bfm)

        # bottom row: presence text / misplaced / comments; assignee on the right
        bottom = inner.bottom() - fm.height()
        painter.setFont(small)
        if ticket.assignee:
            self._avatar(
                painter,
                ticket.assignee,
                QColor(pal.highlight),
                inner.right(),
                bottom - 1,
                fm.height() + 4,
                small,
            )
        status = ""
        status_color = pal.muted
        if badges:
            peer, what = badges[0]
            status = f"{peer.name} is {what} #{ticket.number}"
            status_color = safe_color(peer.color, peer.user_id)
        elif ticket.misplaced:
            status = "its column was deleted"
            status_color = pal.warning
        x = inner.left()
        if ticket.comments:
            size = fm.height()
            painter.drawPixmap(int(x), int(bottom), pixmap("comment", pal.muted, size, 2.0))
            x += size + 3
            painter.setPen(pal.muted)
            count = str(len(ticket.comments))
            painter.drawText(QPointF(x, bottom + fm.ascent()), count)
            x += fm.horizontalAdvance(count) + 10
        if status:
            painter.setPen(status_color)
            avail = int(inner.right() - x - (fm.height() + 12 if ticket.assignee else 0))
            painter.drawText(
                QPointF(x, bottom + fm.ascent()),
                fm.elidedText(status, Qt.TextElideMode.ElideRight, max(0, avail)),
            )
        painter.restore()

    @staticmethod
    def _title(painter: QPainter, title: str, rect: QRectF, fm: QFontMetrics) -> None:
        for i, line in enumerate(title_lines(title, int(rect.width()), fm)):
            painter.drawText(
                QPointF(rect.left(), rect.top() + fm.ascent() + i * fm.lineSpacing()), line
            )

    def _avatar(
        self,
        painter: QPainter,
        name: str,
        color: QColor,
        right: float,
        top: float,
        size: float,
        font: QFont,
    ) -> float:
        circle = QRectF(right - size, top, size, size)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawEllipse(circle)
        painter.setPen(text_on(color))
        tiny = QFont(font)
        tiny.setPointSizeF(max(6.0, font.pointSizeF() * 0.8))
        tiny.setBold(True)
        text = initials(name)
        width = QFontMetricsF(tiny).horizontalAdvance(text)
        if width > size * AVATAR_TEXT:  # two wide letters: shrink them into the circle
            tiny.setPointSizeF(max(5.0, tiny.pointSizeF() * size * AVATAR_TEXT / width))
        painter.setFont(tiny)
        painter.drawText(circle, Qt.AlignmentFlag.AlignCenter, text)
        painter.setFont(font)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        return circle.left()


def title_lines(title: str, width: int, fm: QFontMetrics) -> list[str]:
    """The title on at most two lines: the words that fit, then the rest, elided."""
    words = title.split()
    first = ""
    taken = 0
    while taken < len(words):
        candidate = f"{first} {words[taken]}".strip()
        # a little slack: elidedText() is stricter than horizontalAdvance()
        if first and fm.horizontalAdvance(candidate) > width - 4:
            break
        first = candidate
        taken += 1
    lines = [fm.elidedText(first, Qt.TextElideMode.ElideRight, width)]
    if taken < len(words):
        lines.append(fm.elidedText(" ".join(words[taken:]), Qt.TextElideMode.ElideRight, width))
    return lines
