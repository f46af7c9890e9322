"""View > Activity: the board's feed, newest first ("Ada moved #12 from To do to
Doing, 3 min ago"), in a panel on the right of the window (issue 11).

The feed is read from the board's whole history (Board.activity: about 250 ms
at 10,000 changes), so it is never rebuilt on every change: only while the
panel is visible, at most once every REFRESH_MS, and once when it shows
again after changes. The "3 min ago" texts follow the clock every minute
without reading the board again. A click on an entry selects its ticket on
the board; a double click (or Enter) opens it. The same change made again and
again in a row by the same person (a checklist ticked through) is one entry
that says how many times.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
    SignalInstance,
)
from PySide6.QtGui import QFontMetrics, QHideEvent, QPainter, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from lanban.model.activity import Activity, ago
from lanban.model.errors import BoardError

from .controller import BoardController
from .theme import Palette

REFRESH_MS = 2000  # at most one rebuild of the feed this often, while visible
CLOCK_MS = 60_000  # "3 min ago" moves on
MAX_SHOWN = 1000  # entries listed (the newest); a long history says how many more
TicketRole = Qt.ItemDataRole.UserRole + 1
WhenRole = Qt.ItemDataRole.UserRole + 2  # "3 min ago", drawn muted under the sentence
RepeatsRole = Qt.ItemDataRole.UserRole + 3  # how many entries in a row the item stands for
SentenceRole = Qt.ItemDataRole.UserRole + 4  # (sentence, ticket): what a run repeats
Index = QModelIndex | QPersistentModelIndex
PAD = 6


class EntryDelegate(QStyledItemDelegate):
    """An entry: the sentence, wrapped, and under it how long ago, muted."""

    def _rects(self, option: QStyleOptionViewItem, text: str) -> tuple[QRect, QRect]:
        # the list's width less a scroll bar's, shown or not: a row's height must
        # not depend on whether the bar has appeared (sizeHint gets no rect)
        view = self.parent()
        full = option.rect.width()
        if isinstance(view, QListView):
            bar = view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
            full = view.width() - 2 * view.frameWidth() - bar
        width = max(40, full - 2 * PAD)
        fm = QFontMetrics(option.font)
        flags = int(Qt.TextFlag.TextWordWrap)
        body = fm.boundingRect(QRect(0, 0, width, 10_000), flags, text)
        top = option.rect.top() + PAD
        body = QRect(option.rect.left() + PAD, top, width, body.height())
        when = QRect(body.left(), body.bottom() + 2, width, fm.height())
        return body, when

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        body, when = self._rects(option, str(index.data(Qt.ItemDataRole.DisplayRole) or ""))
        extra = when.height() + 2 if index.data(WhenRole) else 0
        return QSize(body.width() + 2 * PAD, body.height() + extra + 2 * PAD)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        pal = Palette()
        painter.save()
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, pal.highlight.lighter(185))
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(option.rect, pal.column)
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        body, when = self._rects(option, text)
        painter.setFont(option.font)
        enabled = bool(index.flags() & Qt.ItemFlag.ItemIsEnabled) and index.data(TicketRole)
        painter.setPen(pal.text if enabled else pal.muted)
        painter.drawText(body, int(Qt.TextFlag.TextWordWrap), text)
        ago_text = index.data(WhenRole)
        if ago_text:
            painter.setPen(pal.muted)
            painter.drawText(when, int(Qt.AlignmentFlag.AlignLeft), str(ago_text))
        painter.setPen(pal.card_border)
        painter.drawLine(option.rect.bottomLeft(), option.rect.bottomRight())
        painter.restore()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class ActivityPanel(QDockWidget):
    ticketChosen = Signal(str)  # an entry clicked: select its ticket
    ticketOpened = Signal(str)  # double-clicked or Enter: open its panel

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Activity", parent)
        self.setObjectName("activityPanel")
        self.setAllowedAreas(
            Qt.DockWidgetArea.RightDockWidgetArea | Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.controller: BoardController | None = None
        self.ticket: str | None = None  # the one ticket shown, or all
        self._fixed: list[Activity] | None = None  # a given list ("changes since") instead
        self._scope_text = ""  # what the given list is
        self._entries: list[Activity] = []
        self._dirty = True
        self._last = 0.0  # monotonic time of the last rebuild
        self.rebuilds = 0  # how often the feed was read (tests check the debounce)

        body = QWidget()
        self.scope = QLabel()
        self.scope.setObjectName("activityScope")
        self.scope.setWordWrap(True)
        self.show_all = QPushButton("Show all")
        self.show_all.setObjectName("activityShowAll")
        self.show_all.clicked.connect(self.show_board)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.scope, 1)
        top.addWidget(self.show_all)
        self.list = QListWidget()
        self.list.setObjectName("activityList")
        self.list.setAccessibleName("Activity")
        self.list.setItemDelegate(EntryDelegate(self.list))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)  # wrapped again when resized
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setMouseTracking(True)
        self.list.itemClicked.connect(lambda item: self._chosen(item, opened=False))
        self.list.itemActivated.connect(lambda item: self._chosen(item, opened=True))
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 4, 8, 8)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        self.setWidget(body)
        self.setMinimumWidth(280)

        self._rebuild_timer = QTimer(self)
        self._rebuild_timer.setSingleShot(True)
        self._rebuild_timer.timeout.connect(self.rebuild)
        self._clock = QTimer(self)
        self._clock.setInterval(CLOCK_MS)
        self._clock.timeout.connect(self.list_entries)
        self._show_scope()

    # ------------------------------------------------------------- what it shows

    def set_controller(self, controller: BoardController | None) -> None:
        """Follow another board (None: no board shown)."""
        if controller is self.controller:
            return
        if self.controller is not None:
            for signal in self._signals(self.controller):
                signal.disconnect(self.changed)
        self.controller = controller
        self.ticket, self._fixed = None, None
        if controller is not None:
            for signal in self._signals(controller):
                signal.connect(self.changed)
        self._dirty = True
        self._show_scope()
        self.changed()

    @staticmethod
    def _signals(controller: BoardController) -> Sequence[SignalInstance]:
        return (
            controller.ticketsChanged,
            controller.columnsChanged,
            controller.labelsChanged,
            controller.titleChanged,
        )

    def show_board(self) -> None:
        """The whole board's feed."""
        self.ticket, self._fixed = None, None
        self._refilter()

    def show_ticket(self, ticket_id: str) -> None:
        """Only this ticket's entries (its "History")."""
        self.ticket, self._fixed = ticket_id, None
        self._refilter()

    def show_entries(self, entries: list[Activity], what: str) -> None:
        """These entries (newest first), e.g. the changes made while I was away."""
        self.ticket, self._fixed = None, entries
        self._scope_text = what
        self._refilter()

    def _refilter(self) -> None:
        self._dirty = True
        self._show_scope()
        self.show()
        self.raise_()
        self.rebuild()

    def _show_scope(self) -> None:
        if self._fixed is not None:
            text = self._scope_text
        elif self.ticket is not None and self.controller is not None:
            try:
                t = self.controller.board.ticket(self.ticket)
                text = f"#{t.number} {t.title}"
            except BoardError:
                text = "A ticket no longer on the board"
        else:
            text = "Everything on this board, newest first"
        self.scope.setText(text)
        self.show_all.setVisible(self._fixed is not None or self.ticket is not None)

    # ---------------------------------------------------------------- updates

    def changed(self) -> None:
        """The board changed: rebuild soon if shown, else when it shows."""
        self._dirty = True
        if self.isVisible() and not self._rebuild_timer.isActive():
            waited = (time.monotonic() - self._last) * 1000
            self._rebuild_timer.start(int(max(0.0, REFRESH_MS - waited)))

    def rebuild(self) -> None:
        """Read the feed again from the board (only while visible)."""
        self._rebuild_timer.stop()
        if not self.isVisible():
            return
        self._dirty = False
        self._last = time.monotonic()
        controller = self.controller
        if self._fixed is not None:
            self._entries = self._fixed
        elif controller is None:
            self._entries = []
        else:
            self.rebuilds += 1
            try:
                self._entries = controller.board.activity(self.ticket)
            except BoardError:
                self._entries = []
        self._show_scope()
        self.list_entries()

    def list_entries(self) -> None:
        """List the entries, their times as of now."""
        now = now_ms()
        self.list.clear()
        last: QListWidgetItem | None = None
        for entry in self._entries[:MAX_SHOWN]:
            sentence = f"{entry.author or 'someone'} {entry.what()}"
            if last is not None and last.data(SentenceRole) == (sentence, entry.ticket):
                # the same change again (ticking a checklist through): one entry, counted
                repeats = int(last.data(RepeatsRole)) + 1
                last.setData(RepeatsRole, repeats)
                last.setText(f"{sentence} ({repeats} times)")
                continue
            item = last = QListWidgetItem(sentence)
            item.setData(SentenceRole, (sentence, entry.ticket))
            item.setData(RepeatsRole, 1)
            item.setData(WhenRole, ago(entry.time, now))  # the newest of a run
            item.setData(TicketRole, entry.ticket)
            item.setToolTip(entry.text(now))
            self.list.addItem(item)
        more = len(self._entries) - MAX_SHOWN
        if more > 0:
            item = QListWidgetItem(f"… and {more:,} older entries")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(item)
        if not self._entries:
            item = QListWidgetItem("Nothing has happened here yet.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(item)

    def texts(self) -> list[str]:
        """The entries as listed, one line each (tests, screen readers)."""
        items = [self.list.item(i) for i in range(self.list.count())]
        return [", ".join(filter(None, (i.text(), i.data(WhenRole)))) for i in items]

    def _chosen(self, item: QListWidgetItem, opened: bool) -> None:
        ticket = item.data(TicketRole)
        if isinstance(ticket, str) and ticket:
            (self.ticketOpened if opened else self.ticketChosen).emit(ticket)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._clock.start()
        if self._dirty:
            QTimer.singleShot(0, self, self.rebuild)

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._clock.stop()
        self._rebuild_timer.stop()
