"""Where things go on a card, and how tall it is: measured, not fixed.

A card is a top row (number, labels, who is on it), its title on one to three
lines (wrapped as the script wants, the third elided with "…"), and a bottom
row (comments, checklist, due date, assignees' avatars) when it has any of
those. The card delegate paints what this measures; both use one CardMetrics.
"""

from __future__ import annotations

import unicodedata

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetrics, QTextLayout, QTextOption

from lanban.model.schema import Ticket

TITLE_LINES = 3
CARD_MARGIN = 4  # around each card, inside the row
PADDING = 10  # left and right inside the card
TOP_PADDING = 8
BOTTOM_PADDING = 8
ROW_GAP = 6  # between the top row, the title and the bottom row
MAX_AVATARS = 3  # assignees drawn; more say "+N"
AWAY_DOT = 8  # the dot of a card others changed since I looked (away_marks.py)


def title_lines(title: str, width: int, font: QFont, most: int = TITLE_LINES) -> list[str]:
    """``title`` on at most ``most`` lines of ``width`` px: wrapped where the script
    allows (between words, or anywhere in a long word or in scripts without spaces),
    the last line elided with "…" when text is left over. Always at least one line."""
    width = max(1, width)
    text = " ".join(title.split())
    if not text:
        return [""]
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    # QTextLayout counts UTF-16 code units; Python strings count code points.
    units = text.encode("utf-16-le")
    spans: list[tuple[int, int]] = []
    layout.beginLayout()
    while len(spans) < most:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        spans.append((line.textStart(), line.textLength()))
    layout.endLayout()

    def cut(start: int, end: int | None = None) -> str:
        return units[2 * start : None if end is None else 2 * end].decode("utf-16-le", "replace")

    lines = [cut(start, start + length).strip() for start, length in spans]
    last_start, last_length = spans[-1]
    if last_start + last_length < len(units) // 2:  # more than fits: the last line elided
        rest = cut(last_start).strip()
        elided = QFontMetrics(font).elidedText(rest, Qt.TextElideMode.ElideRight, width)
        lines[-1] = elided[:-1].rstrip() + "…" if elided.endswith("…") else elided
    return lines or [""]


def right_to_left(text: str) -> bool:
    """Whether ``text`` reads right to left (its first strong letter is Arabic,
    Hebrew, ...): its lines then align right."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def has_bottom_row(ticket: Ticket) -> bool:
    """Whether the card has anything for its bottom row."""
    return bool(
        ticket.assignees
        or any(not c.deleted for c in ticket.comments)
        or ticket.checklist
        or ticket.due
        or ticket.misplaced
    )


class CardMetrics:
    """Fonts and row heights of a card for one base font."""

    def __init__(self, base: QFont) -> None:
        self.base = QFont(base)
        self.small = QFont(base)
        self.small.setPointSizeF(max(7.0, base.pointSizeF() * 0.85))
        self.fm = QFontMetrics(self.small)
        self.bfm = QFontMetrics(self.base)
        self.top_row = self.fm.height() + 2
        self.avatar = self.fm.height() + 6
        self.bottom_row = self.avatar
        self.key = (self.base.key(), self.small.key())

    def title_width(self, card_width: int) -> int:
        """The title's width in a row (one card) ``card_width`` px wide."""
        return card_width - 2 * CARD_MARGIN - 2 * PADDING

    def height(self, lines: int, bottom: bool) -> int:
        """A row's height: the card and the margin around it."""
        inner = TOP_PADDING + self.top_row + ROW_GAP + lines * self.bfm.lineSpacing()
        if bottom:
            inner += ROW_GAP + self.bottom_row
        return inner + BOTTOM_PADDING + 2 * CARD_MARGIN

    def title_rect(self, inner: QRectF, lines: int) -> QRectF:
        """Where the title goes in a card's ``inner`` rectangle (inside its padding)."""
        top = inner.top() + self.top_row + ROW_GAP
        return QRectF(inner.left(), top, inner.width(), lines * self.bfm.lineSpacing())

    def away_dot(self, inner: QRectF) -> QRectF:
        """The "changed since you looked" dot: the top row's right end."""
        top = inner.top() + (self.top_row - AWAY_DOT) / 2
        return QRectF(inner.right() - AWAY_DOT, top, AWAY_DOT, AWAY_DOT)

    def avatar_rects(self, inner: QRectF, count: int) -> list[QRectF]:
        """The assignees' avatars, right to left from the bottom right corner,
        touching (their outlines overlap); the first one is the rightmost."""
        size = self.avatar
        top = inner.bottom() - size
        step = size - 2
        return [
            QRectF(inner.right() - size - i * step, top, size, size)
            for i in range(min(count, MAX_AVATARS))
        ]
