"""Teammates' mouse pointers over the board (issue 10): mine told, theirs drawn.

Mine: an application event filter sees every mouse move (Qt hands moves to the
application's filters even where no widget tracks the mouse). Over the board a move
becomes a Pointer anchored to the card under it (between cards, to the nearest
column), so it lands on the same card in a window of another size or scroll. It goes
out at most 20 times a second (the latest place, once the wait is over), only when it
changed, so nothing goes while the mouse rests; None goes when the mouse leaves the
board or the window loses the focus.

Theirs: a mouse-transparent overlay over the board's viewport draws each peer's
pointer as a small arrow in their colour with their name; a pointer that has not
moved for STALE_S is no longer drawn.

The View menu's "Show teammates' pointers" (Settings.show_pointers, on by default)
turns both off: with it off I see no pointers and send none of mine.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygon,
)
from PySide6.QtWidgets import QApplication, QScrollBar, QWidget

from .app_state import Settings
from .board_view import BoardView
from .controller import BoardController, Pointer
from .theme import safe_color, text_on

SEND_INTERVAL_S = 0.05  # at most 20 pointer updates a second
STALE_S = 10.0  # a pointer that has not moved for this long is not drawn
STALE_CHECK_MS = 1000
RELAYOUT_MS = 16  # a frame: the cards' layout has caught up by then
FRACTION_DIGITS = 3
# The arrow, tip at (0, 0), as a system pointer looks.
ARROW = QPolygon(
    [QPoint(x, y) for x, y in ((0, 0), (0, 15), (4, 11), (7, 17), (9, 16), (6, 10), (11, 10))]
)
TAG_OFFSET = QPoint(9, 15)  # the name's top left, from the tip
TAG_PADDING = 3
MAX_TAG_CHARS = 24


def _rect_in(widget: QWidget, ancestor: QWidget) -> QRect:
    return QRect(widget.mapTo(ancestor, QPoint(0, 0)), widget.size())


def _fraction(offset: int, length: int) -> float:
    value = offset / max(1, length)
    return round(min(2.0, max(-1.0, value)), FRACTION_DIGITS)


def anchor_at(view: BoardView, point: QPoint) -> Pointer | None:
    """The card (else the nearest column) under ``point``, a point in the view's
    viewport, as a Pointer; None off the board or on a board without columns."""
    viewport = view.viewport()
    columns = view.column_widgets()
    if not columns or not viewport.rect().contains(point):
        return None

    def distance(rect: QRect) -> int:
        return max(rect.left() - point.x(), 0, point.x() - rect.right())

    column = min(columns, key=lambda c: distance(_rect_in(c, viewport)))
    cards = column.view.viewport()
    local = cards.mapFrom(viewport, point)
    if cards.rect().contains(local):
        index = column.view.indexAt(local)
        if index.isValid() and index.row() < len(column.model.ticket_ids):
            rect = column.view.visualRect(index)
            return Pointer(
                column.column.id,
                column.model.ticket_ids[index.row()],
                _fraction(local.x() - rect.left(), rect.width()),
                _fraction(local.y() - rect.top(), rect.height()),
            )
    rect = _rect_in(column, viewport)
    return Pointer(
        column.column.id,
        "",
        _fraction(point.x() - rect.left(), rect.width()),
        _fraction(point.y() - rect.top(), rect.height()),
    )


def place(view: BoardView, pointer: Pointer) -> QPoint | None:
    """Where ``pointer`` is in the view's viewport: on its card (in whichever column
    shows it now), else on its column; None if that is not on screen here."""
    viewport = view.viewport()
    columns = view.column_widgets()
    if pointer.ticket:
        for column in sorted(columns, key=lambda c: c.column.id != pointer.column):
            row = column.model.row_of(pointer.ticket)
            if row < 0:
                continue
            rect = column.view.visualRect(column.model.index(row))
            at = QPointF(
                rect.left() + pointer.x * rect.width(), rect.top() + pointer.y * rect.height()
            )
            cards = column.view.viewport()
            if not cards.rect().contains(at.toPoint()):
                return None  # scrolled out of its column here
            point = cards.mapTo(viewport, at.toPoint())
            return point if viewport.rect().contains(point) else None
        return None  # not shown here (filtered out, deleted)
    home = next((c for c in columns if c.column.id == pointer.column), None)
    if home is None:
        return None
    rect = _rect_in(home, viewport)
    point = QPoint(
        round(rect.left() + pointer.x * rect.width()), round(rect.top() + pointer.y * rect.height())
    )
    return point if viewport.rect().contains(point) else None


class PointerPublisher(QObject):
    """Sends my pointer over ``view``'s board: throttled, only while it moves."""

    def __init__(self, view: BoardView, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(view)
        self.view = view
        self.controller: BoardController = view.controller
        self.clock = clock
        self.enabled = True
        self._installed = False
        self._pending: Pointer | None = None
        self._sent: Pointer | None = None
        self._last = -math.inf  # clock() when I last sent
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._flush)
        view.installEventFilter(self)
        self._watch()

    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        if not on:
            self.want(None)
        self._watch()

    def _watch(self) -> None:
        """The application's filter only while the board shows and pointers are on."""
        wanted = self.enabled and self.view.isVisible()
        app = QApplication.instance()
        if wanted != self._installed and app is not None:
            self._installed = wanted
            if wanted:
                app.installEventFilter(self)
            else:
                app.removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
            if isinstance(watched, QWidget):
                self._moved(watched, event)
        elif watched is self.view:
            if kind in (QEvent.Type.Show, QEvent.Type.Hide):
                if kind == QEvent.Type.Hide:
                    self.want(None)
                self._watch()
        elif (kind == QEvent.Type.Leave and watched is self.view.viewport()) or (
            kind == QEvent.Type.WindowDeactivate and watched is self.view.window()
        ):
            self.want(None)
        return False

    def _moved(self, widget: QWidget, event: QMouseEvent) -> None:
        viewport = self.view.viewport()
        if widget is viewport or viewport.isAncestorOf(widget):
            point = viewport.mapFromGlobal(event.globalPosition().toPoint())
            self.want(anchor_at(self.view, point))
        elif widget.window() is self.view.window() and (self._sent or self._pending):
            self.want(None)  # moved on elsewhere in the window (other windows: Leave)

    def want(self, pointer: Pointer | None) -> None:
        """My pointer is now here: send it now or when the interval is over."""
        self._pending = pointer
        if pointer == self._sent:
            self._timer.stop()
            return
        if not self._timer.isActive():
            self._flush()

    def _flush(self) -> None:
        wait = self._last + SEND_INTERVAL_S - self.clock()
        if wait > 0:
            self._timer.start(max(1, math.ceil(wait * 1000)))
            return
        if self._pending != self._sent:
            self._sent = self._pending
            self._last = self.clock()
            self.controller.set_pointer(self._sent)


@dataclass(frozen=True)
class ShownPointer:
    name: str
    color: QColor
    tip: QPoint  # in the overlay (= the board's viewport)
    tag: QRect


class PointerOverlay(QWidget):
    """Peers' pointers over ``view``'s viewport (a child of the view, not of the
    viewport, and laid over it), drawn where their cards are in this window."""

    def __init__(self, view: BoardView, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(view)
        self.view = view
        self.controller = view.controller
        self.clock = clock
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._font = QFont(view.font())
        self._font.setPointSizeF(max(7.0, view.font().pointSizeF() * 0.85))
        self._font.setBold(True)
        self._moved_at: dict[int, tuple[Pointer, float]] = {}  # client id: when it last moved
        self._shown: list[ShownPointer] = []
        self._relayout = QTimer(self)
        self._relayout.setSingleShot(True)
        self._relayout.setInterval(RELAYOUT_MS)
        self._relayout.timeout.connect(self.relayout)
        self._stale = QTimer(self)
        self._stale.setInterval(STALE_CHECK_MS)
        self._stale.timeout.connect(self.relayout)
        self.controller.presenceChanged.connect(self._on_presence)
        self.controller.ticketsChanged.connect(self._soon)
        self.controller.columnsChanged.connect(self._soon)
        view.horizontalScrollBar().valueChanged.connect(self.relayout)
        view.viewport().installEventFilter(self)
        self._place()
        self._on_presence()

    def shown(self) -> list[tuple[str, QPoint]]:
        """(name, tip in the board's viewport) of each pointer drawn, for tests and tools."""
        return [(p.name, p.tip) for p in self._shown] if self.isVisible() else []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Move):
            self._place()
            self._relayout.start()
        return False

    def _place(self) -> None:
        self.setGeometry(self.view.viewport().geometry())
        self.raise_()

    def _on_presence(self) -> None:
        now = self.clock()
        pointers = {peer.client_id: pointer for peer, pointer in self.controller.pointers()}
        self._moved_at = {
            cid: (
                pointer,
                moved[1] if (moved := self._moved_at.get(cid)) and moved[0] == pointer else now,
            )
            for cid, pointer in pointers.items()
        }
        self.relayout()

    def relayout(self) -> None:
        """Work out where each pointer is now; repaint only where one was or is."""
        self._hook_columns()
        now = self.clock()
        peers = {peer.client_id: peer for peer, _ in self.controller.pointers()}
        metrics = QFontMetrics(self._font)
        shown: list[ShownPointer] = []
        for cid, (pointer, moved) in self._moved_at.items():
            peer = peers.get(cid)
            if peer is None or now - moved >= STALE_S:
                continue
            tip = place(self.view, pointer)
            if tip is None:
                continue
            name = (
                peer.name
                if len(peer.name) <= MAX_TAG_CHARS
                else peer.name[: MAX_TAG_CHARS - 1] + "…"
            )
            tag = metrics.boundingRect(name).adjusted(-TAG_PADDING, -1, TAG_PADDING, 1)
            tag.moveTopLeft(tip + TAG_OFFSET)
            shown.append(ShownPointer(name, safe_color(peer.color, peer.user_id), tip, tag))
        if shown != self._shown:
            for item in (*self._shown, *shown):
                self.update(self._bounds(item))
            self._shown = shown
        live = any(now - moved < STALE_S for _, moved in self._moved_at.values())
        if live and not self._stale.isActive():
            self._stale.start()
        elif not live:
            self._stale.stop()

    def _hook_columns(self) -> None:
        """Each column's scrolling and rows (a filter, a move) move the cards."""
        for column in self.view.column_widgets():
            bar: QScrollBar = column.view.verticalScrollBar()
            if not bar.property("pointerOverlay"):
                bar.setProperty("pointerOverlay", True)
                bar.valueChanged.connect(self.relayout)
                model = column.model
                model.modelReset.connect(self._soon)
                model.rowsInserted.connect(self._soon)
                model.rowsRemoved.connect(self._soon)
                model.layoutChanged.connect(self._soon)

    def _soon(self, *_: object) -> None:
        """Once the cards' layout has caught up (it is delayed to the next turn)."""
        self._relayout.start()

    @staticmethod
    def _bounds(item: ShownPointer) -> QRect:
        return ARROW.boundingRect().translated(item.tip).adjusted(-2, -2, 2, 2).united(item.tag)

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._shown:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(self._font)
        halo = QPen(QColor(0, 0, 0, 70), 3)  # reads on a white card and a dark board
        halo.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        for item in self._shown:
            arrow = ARROW.translated(item.tip)
            painter.setPen(halo)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPolygon(arrow)
            painter.setPen(QColor("white"))
            painter.setBrush(item.color)
            painter.drawPolygon(arrow)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(item.tag, 3, 3)
            painter.setPen(text_on(item.color))
            painter.drawText(item.tag, Qt.AlignmentFlag.AlignCenter, item.name)
        painter.end()


class PeerPointers(QObject):
    """The board's pointers, mine and theirs, on or off as the View menu says."""

    def __init__(self, view: BoardView, settings: Settings) -> None:
        super().__init__(view)
        self.settings = settings
        self.publisher = PointerPublisher(view)
        self.overlay = PointerOverlay(view)
        settings.pointersChanged.connect(self._apply)
        self._apply()

    def _apply(self) -> None:
        on = self.settings.show_pointers
        self.publisher.set_enabled(on)
        self.overlay.setVisible(on)
        if on:
            self.overlay.relayout()
