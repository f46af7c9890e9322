"""Paints one card: number, labels, title, who is on it (and a dot if others
changed it since I looked), and its bottom row
(comments, checklist, due date, assignees' avatars); measures it (card_layout.py).

Cards are as tall as their content: the title takes one to three lines. Each
card's lines are measured once per title, width and font and kept, so a view of
thousands of cards lays out from the cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QHelpEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
    QWidget,
)

from lanban.model.due import DueStatus, due_status
from lanban.model.limits import DEFAULT_LABEL_COLOR
from lanban.model.schema import Ticket

from .card_layout import (
    AWAY_DOT,
    BOTTOM_PADDING,
    CARD_MARGIN,
    MAX_AVATARS,
    PADDING,
    TOP_PADDING,
    CardMetrics,
    has_bottom_row,
    right_to_left,
    title_lines,
)
from .column_model import (
    BadgesRole,
    Card,
    ColumnModel,
    FreshRole,
    LabelsRole,
    SelectedByRole,
    TicketRole,
)
from .controller import Peer
from .due_field import short_due
from .icons import pixmap
from .theme import Palette, color_for, initials, safe_color, text_on

FRESH_SECONDS = 0.9  # a card a peer just changed glows this long
SLIDE_PIXELS = 14.0  # and slides in from this far
AVATAR_TEXT = 0.8  # initials take at most this share of an avatar's width
RING_WIDTH = 2.5  # a peer's selection ring, in the margin around the card
MIN_WIDTH = 120
MAX_CACHED = 20_000  # measured titles kept (a board's cards, a few widths)

__all__ = ["CARD_MARGIN", "FRESH_SECONDS", "CardDelegate", "title_lines"]


def default_person_color(name: str) -> QColor:
    return QColor(color_for(name))


class CardDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.palette = Palette()
        # an assignee's colour by name (the view asks the board's members and peers)
        self.person_color: Callable[[str], QColor] = default_person_color
        self._metrics: CardMetrics | None = None
        self._lines: dict[str, tuple[tuple[str, int, object], list[str]]] = {}
        # each card's size for the Ticket object it was measured for (a changed
        # ticket is a new object) and the width: layouts of long columns ask often
        self._sizes: dict[str, tuple[Ticket, int, QSize]] = {}
        self.width = 0  # the view's width, kept by the view (0: ask it)

    def measured_height(self, ticket_id: str) -> int | None:
        """The card's height when it was last measured (None if never)."""
        cached = self._sizes.get(ticket_id)
        return cached[2].height() if cached is not None else None

    def forget_sizes(self) -> None:
        """The font changed: measure every card again."""
        self._metrics = None
        self._lines.clear()
        self._sizes.clear()

    def refresh_palette(self) -> None:
        self.palette = Palette()

    # ------------------------------------------------------------- measuring

    def metrics(self, font: QFont) -> CardMetrics:
        metrics = self._metrics
        if metrics is None or metrics.key[0] != font.key():
            metrics = self._metrics = CardMetrics(font)
            self._lines.clear()
            self._sizes.clear()
        return metrics

    def lines(self, ticket: Ticket, card_width: int, metrics: CardMetrics) -> list[str]:
        """The title's lines on a card ``card_width`` px wide (cached)."""
        key = (ticket.title, card_width, metrics.key)
        cached = self._lines.get(ticket.id)
        if cached is not None and cached[0] == key:
            return cached[1]
        if len(self._lines) > MAX_CACHED:
            self._lines.clear()
        lines = title_lines(ticket.title, metrics.title_width(card_width), metrics.base)
        self._lines[ticket.id] = (key, lines)
        return lines

    def card_width(self, option: QStyleOptionViewItem) -> int:
        """The row's width: the view's, while Qt lays out rows it has not sized yet."""
        view = self.parent()
        if isinstance(view, QAbstractItemView):
            return max(MIN_WIDTH, view.viewport().width())
        return max(MIN_WIDTH, option.rect.width())

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        width = self.width or self.card_width(option)
        ticket = self._ticket(index)
        if ticket is None:
            return QSize(width, self.metrics(option.font).height(1, False))
        cached = self._sizes.get(ticket.id)
        if cached is not None and cached[0] is ticket and cached[1] == width:
            return cached[2]
        metrics = self.metrics(option.font)
        lines = self.lines(ticket, width, metrics)
        size = QSize(width, metrics.height(len(lines), has_bottom_row(ticket)))
        if len(self._sizes) > MAX_CACHED:
            self._sizes.clear()
        self._sizes[ticket.id] = (ticket, width, size)
        return size

    @staticmethod
    def _ticket(index: QModelIndex | QPersistentModelIndex) -> Ticket | None:
        """The card's ticket; straight from a column's model (layouts ask for
        every card's size: this skips Qt's data() round trip)."""
        model = index.model()
        if isinstance(model, ColumnModel):
            return model.ticket_at(index.row())
        ticket: Ticket | None = index.data(TicketRole)
        return ticket

    @staticmethod
    def _card(index: QModelIndex | QPersistentModelIndex) -> Card | None:
        """What to paint: straight from a column's model, else from data()'s roles."""
        model = index.model()
        if isinstance(model, ColumnModel):
            return model.card_at(index.row())
        ticket: Ticket | None = index.data(TicketRole)
        if ticket is None:
            return None
        return Card(
            ticket,
            index.data(BadgesRole) or [],
            index.data(LabelsRole) or [],
            index.data(FreshRole),
            index.data(SelectedByRole) or [],
            False,
        )

    # -------------------------------------------------------------- painting

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        card = self._card(index)
        if card is None:
            return
        ticket, badges, labels, fresh_at, selected_by, unseen = card
        pal = self.palette
        glow = 0.0
        if fresh_at is not None:
            glow = max(0.0, 1.0 - (time.monotonic() - fresh_at) / FRESH_SECONDS)
        metrics = self.metrics(option.font)
        ratio = painter.device().devicePixelRatioF()

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
        if selected_by:  # the card a peer has selected: a ring in their colour, outside
            peer = selected_by[0]
            painter.setPen(QPen(safe_color(peer.color, peer.user_id), RING_WIDTH))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            ring = RING_WIDTH / 2 + 1
            painter.drawRoundedRect(rect.adjusted(-ring, -ring, ring, ring), 9, 9)

        inner = rect.adjusted(PADDING, TOP_PADDING, -PADDING, -BOTTOM_PADDING)
        small, fm = metrics.small, metrics.fm

        # top row: number, labels; right: who is on it
        painter.setFont(small)
        x = inner.left()
        top = inner.top()
        number = f"#{ticket.number}"
        painter.setPen(pal.muted)
        painter.drawText(QPointF(x, top + fm.ascent()), number)
        x += fm.horizontalAdvance(number) + 8
        right = inner.right()
        if unseen:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(pal.highlight)
            painter.drawEllipse(metrics.away_dot(inner))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            right -= AWAY_DOT + 6
        faces = {peer.client_id: peer for peer in [p for p, _ in badges] + selected_by}
        for peer in list(faces.values())[:3]:
            circle = QRectF(right - metrics.top_row, top, metrics.top_row, metrics.top_row)
            self._avatar(painter, peer.name, safe_color(peer.color, peer.user_id), circle, small)
            right = circle.left() - 3
        if any(what == "editing" for _, what in badges):
            size = fm.height()
            painter.drawPixmap(int(right - size), int(top), pixmap("lock", pal.text, size, ratio))
            right -= size + 4
        for name, color in labels:
            chip = QColor(color) if QColor(color).isValid() else QColor(DEFAULT_LABEL_COLOR)
            width_chip = fm.horizontalAdvance(name) + 12
            if x + width_chip > right:
                break
            chip_rect = QRectF(x, top, width_chip, metrics.top_row)
            chip_path = QPainterPath()
            chip_path.addRoundedRect(chip_rect, 6, 6)
            painter.fillPath(chip_path, chip)
            painter.setPen(text_on(chip))
            painter.drawText(chip_rect, Qt.AlignmentFlag.AlignCenter, name)
            x += width_chip + 4

        # title, one to three lines
        lines = self.lines(ticket, self.width or self.card_width(option), metrics)
        painter.setFont(metrics.base)
        painter.setPen(pal.text)
        title_rect = metrics.title_rect(inner, len(lines))
        bfm = metrics.bfm
        rtl = right_to_left(ticket.title)
        for i, line in enumerate(lines):
            x = title_rect.right() - bfm.horizontalAdvance(line) if rtl else title_rect.left()
            painter.drawText(
                QPointF(x, title_rect.top() + bfm.ascent() + i * bfm.lineSpacing()), line
            )

        if has_bottom_row(ticket):
            self._bottom_row(painter, ticket, badges, inner, metrics, ratio)
        painter.restore()

    def _bottom_row(
        self,
        painter: QPainter,
        ticket: Ticket,
        badges: list[tuple[Peer, str]],
        inner: QRectF,
        metrics: CardMetrics,
        ratio: float,
    ) -> None:
        """Comments, checklist and due date on the left, assignees on the right."""
        pal, fm = self.palette, metrics.fm
        painter.setFont(metrics.small)
        row_top = inner.bottom() - metrics.bottom_row
        baseline = row_top + (metrics.bottom_row - fm.height()) / 2 + fm.ascent()
        icon_top = int(row_top + (metrics.bottom_row - fm.height()) / 2)
        avatars = metrics.avatar_rects(inner, len(ticket.assignees))
        right = avatars[-1].left() - 6 if avatars else inner.right()
        if len(ticket.assignees) > MAX_AVATARS and avatars:
            more = f"+{len(ticket.assignees) - MAX_AVATARS}"
            right -= fm.horizontalAdvance(more)
            painter.setPen(pal.muted)
            painter.drawText(QPointF(right, baseline), more)
            right -= 4
        for name, circle in reversed(list(zip(ticket.assignees, avatars, strict=False))):
            self._avatar(painter, name, self.person_color(name), circle, metrics.small, pal.card)

        x = inner.left()
        comments = sum(1 for c in ticket.comments if not c.deleted)
        if comments:
            size = fm.height()
            painter.drawPixmap(int(x), icon_top, pixmap("comment", pal.muted, size, ratio))
            x += size + 3
            painter.setPen(pal.muted)
            painter.drawText(QPointF(x, baseline), str(comments))
            x += fm.horizontalAdvance(str(comments)) + 10
        if ticket.checklist:
            done = sum(1 for item in ticket.checklist if item.done)
            text = f"☑ {done}/{len(ticket.checklist)}"
            painter.setPen(pal.ok if done == len(ticket.checklist) else pal.muted)
            painter.drawText(QPointF(x, baseline), text)
            x += fm.horizontalAdvance(text) + 10
        if ticket.due:
            status = due_status(ticket.due, int(time.time() * 1000))
            text = short_due(ticket.due)
            color = {DueStatus.OVERDUE: pal.warning, DueStatus.SOON: pal.pending}.get(
                status, pal.muted
            )
            painter.setPen(color)
            if x + fm.horizontalAdvance(text) <= right:
                painter.drawText(QPointF(x, baseline), text)
                x += fm.horizontalAdvance(text) + 10
        status_text = ""
        status_color = pal.muted
        if badges:
            peer, what = badges[0]
            status_text = f"{peer.name} is {what} #{ticket.number}"
            status_color = safe_color(peer.color, peer.user_id)
        elif ticket.misplaced:
            status_text = "its column was deleted"
            status_color = pal.warning
        if status_text:
            painter.setPen(status_color)
            avail = int(right - x)
            painter.drawText(
                QPointF(x, baseline),
                fm.elidedText(status_text, Qt.TextElideMode.ElideRight, max(0, avail)),
            )

    @staticmethod
    def _avatar(
        painter: QPainter,
        name: str,
        color: QColor,
        circle: QRectF,
        font: QFont,
        outline: QColor | None = None,
    ) -> None:
        """A disc in ``color`` with the person's initials in black or white,
        whichever reads better; ``outline`` separates overlapping ones."""
        painter.setPen(QPen(outline, 1.5) if outline is not None else Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawEllipse(circle)
        painter.setPen(text_on(color))
        tiny = QFont(font)
        tiny.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        tiny.setBold(True)
        text = initials(name)
        width = QFontMetricsF(tiny).horizontalAdvance(text)
        if width > circle.width() * AVATAR_TEXT:  # two wide letters: shrink them in
            tiny.setPointSizeF(max(5.0, tiny.pointSizeF() * circle.width() * AVATAR_TEXT / width))
        painter.setFont(tiny)
        painter.drawText(circle, Qt.AlignmentFlag.AlignCenter, text)
        painter.setFont(font)
        painter.setBrush(Qt.BrushStyle.NoBrush)

    # -------------------------------------------------------------- tooltips

    def assignee_at(
        self, option: QStyleOptionViewItem, ticket: Ticket, x: float, y: float
    ) -> str | None:
        """The assignee whose avatar is at (x, y) in the view, if any."""
        if not has_bottom_row(ticket):
            return None
        metrics = self.metrics(option.font)
        rect = QRectF(option.rect).adjusted(CARD_MARGIN, CARD_MARGIN, -CARD_MARGIN, -CARD_MARGIN)
        inner = rect.adjusted(PADDING, TOP_PADDING, -PADDING, -BOTTOM_PADDING)
        for name, circle in zip(
            ticket.assignees, metrics.avatar_rects(inner, len(ticket.assignees)), strict=False
        ):
            if circle.contains(QPointF(x, y)):
                return name
        return None

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        ticket: Ticket | None = index.data(TicketRole)
        if ticket is not None and event.type() == QHelpEvent.Type.ToolTip:
            name = self.assignee_at(option, ticket, event.pos().x(), event.pos().y())
            if name is not None:
                QToolTip.showText(event.globalPos(), f"Assigned to {name}", view)
                return True
        return super().helpEvent(event, view, option, index)
