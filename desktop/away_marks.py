"""While you were away (issue 11): the cards others changed since I last looked
carry a dot, and a line under the board's header says "12 changes since
yesterday — Show / Dismiss".

What I have seen is this computer's business: the marks are kept in the board
file's meta (model.away, NodeFacade.seen_marks), never in the document. The
news is read when a board is first shown in a session, and again (at most once
every RECOUNT_MS: it reads the whole history) while the node catches up with
the changes peers made while the app was closed, which arrive a moment after
the board opens: until every link of the board has synced (read once more
then), or CATCH_UP_MS. After that, what peers change while I watch is seen as
it happens. Opening a card marks it seen; Dismiss marks the whole board seen;
leaving the board with no dot left marks it seen too (with dots left, they stay
for next time).
"""

from __future__ import annotations

import contextlib
import time

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from lanban.model.activity import Activity
from lanban.model.away import Away, Meta, since
from lanban.model.errors import BoardError
from lanban.model.events import BoardEvent, Origin
from lanban.sync.store import StoreError

from .controller import BoardController
from .theme import Palette

# Not news: nodes write members' signed grants back on their own (PROTOCOL.md 7.5),
# and a member's own new name or colour (Settings) is no change to the board's work.
QUIET_KINDS = frozenset({"member_changed", "member_updated_self"})
CATCH_UP_MS = 60_000  # at most this long after opening, peers' changes are news
RECOUNT_MS = 2000  # the news is read again at most this often while catching up
FIRST_READ_MS = 300  # after a board is shown, its news is read


class AwayMarks(QObject):
    """The news of one board since my last look, and its marks."""

    changed = Signal()

    def __init__(self, controller: BoardController, store: Meta) -> None:
        super().__init__(controller)
        self.controller = controller
        self.store = store
        self.since = 0  # when I last looked (ms), 0: never
        self.changes: list[Activity] = []  # newest first
        self._opened = time.monotonic()
        self._caught_up = False
        self._recount = QTimer(self)
        self._recount.setSingleShot(True)
        self._recount.setInterval(RECOUNT_MS)
        self._recount.timeout.connect(self.read)
        controller.ticketsChanged.connect(self._on_tickets)
        controller.node.linksChanged.connect(self._on_links)
        controller.closing.connect(self.leave)
        # Reading the news reads the board's whole history (a few hundred ms on a big
        # board): after the board is on screen, not before.
        self._first = QTimer(self)
        self._first.setSingleShot(True)
        self._first.timeout.connect(self._first_read)
        self._first.start(FIRST_READ_MS)

    def _first_read(self) -> None:
        try:
            first = self.controller.board.away(self.store)
        except StoreError:
            return  # the board's file closed meanwhile (left, or the app quits)
        if first.since == 0:  # never looked here: nothing is news, from now on
            self.controller.board.mark_seen(self.store)
            self.read()
        else:
            self._show(first)

    @property
    def count(self) -> int:
        return len({a.moment for a in self.changes})

    def line(self) -> str:
        """ "12 changes since yesterday" ("" when nothing is new)."""
        if not self.changes:
            return ""
        n = self.count
        return f"{n} change{'s' if n != 1 else ''} since {since(self.since)}"

    def read(self) -> None:
        """Read the news from the board and the marks."""
        self._caught_up = self._caught_up or self._synced()
        self._show(self.controller.board.away(self.store))

    def _show(self, news: Away) -> None:
        self.since = news.since
        self.changes = [a for a in news.changes if a.kind not in QUIET_KINDS]
        self.controller.unseen = set(news.tickets)
        self.changed.emit()

    def _synced(self) -> bool:
        """Whether every link of the board has synced (has what its peer had)."""
        status = self.controller.node.board_status(self.controller.board_id)
        return status is not None and bool(status.links) and all(x.synced for x in status.links)

    def _on_tickets(self, event: BoardEvent) -> None:
        late = (time.monotonic() - self._opened) * 1000 >= CATCH_UP_MS
        if event.origin != Origin.REMOTE or self._caught_up or late:
            return
        if not self._recount.isActive():
            self._recount.start()

    def _on_links(self, board_id: str) -> None:
        """Every link has caught up: read the news once more; later changes come as I watch."""
        if self._caught_up or board_id not in ("", self.controller.board_id) or not self._synced():
            return
        self._caught_up = True
        if not self._first.isActive():  # else the first read reads them
            self._recount.stop()
            self.read()

    def opened(self, ticket_id: str) -> None:
        """I opened this card: its dot goes."""
        if ticket_id not in self.controller.unseen:
            return
        try:
            self.controller.board.mark_seen(self.store, ticket_id)
        except BoardError:
            return
        self.controller.unseen.discard(ticket_id)
        self.changes = [a for a in self.changes if a.ticket != ticket_id]
        self.changed.emit()

    def dismiss(self) -> None:
        """Everything seen: every dot goes."""
        self._recount.stop()
        self._caught_up = True  # what comes now is seen as it comes
        self.controller.board.mark_seen(self.store)
        self.controller.unseen = set()
        self.changes = []
        self.changed.emit()

    def leave(self) -> None:
        """The board closes (or the app quits): with no dot left, I saw it all."""
        self._recount.stop()
        if self._first.isActive():  # closed before the news was read
            self._first.stop()
            with contextlib.suppress(Exception):
                if self.controller.board.away(self.store).since == 0:
                    self.controller.board.mark_seen(self.store)  # a first look: all seen
            return  # else what was news stays news: I never saw it
        if not self.controller.unseen:
            # a closing board file must not stop the quit
            with contextlib.suppress(Exception):
                self.controller.board.mark_seen(self.store)


class AwayLine(QWidget):
    """ "12 changes since yesterday — Show / Dismiss", under the board's header."""

    showRequested = Signal()
    dismissRequested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("awayLine")
        self.label = QLabel()
        self.label.setObjectName("awayText")
        self.show_button = QPushButton("Show")
        self.dismiss_button = QPushButton("Dismiss")
        for button, signal in (
            (self.show_button, self.showRequested),
            (self.dismiss_button, self.dismissRequested),
        ):
            button.setFlat(True)
            button.clicked.connect(signal.emit)
        self.dot = QLabel("●")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 2, 12, 0)
        layout.addWidget(self.dot)
        layout.addWidget(self.label)
        layout.addWidget(QLabel("—"))
        layout.addWidget(self.show_button)
        layout.addWidget(self.dismiss_button)
        layout.addStretch(1)
        self.marks: AwayMarks | None = None
        self.hide()

    def follow(self, marks: AwayMarks | None) -> None:
        """Show the news of this board's marks (None: no board)."""
        if self.marks is not None:
            self.marks.changed.disconnect(self.update_line)
        self.marks = marks
        if marks is not None:
            marks.changed.connect(self.update_line)
        self.update_line()

    def update_line(self) -> None:
        text = self.marks.line() if self.marks is not None else ""
        pal = Palette()
        self.dot.setStyleSheet(f"color: {pal.highlight.name()};")
        link = f"color: {pal.highlight.name()}; padding: 0 4px;"
        self.show_button.setStyleSheet(link)
        self.dismiss_button.setStyleSheet(link)
        self.label.setText(text)
        self.label.setAccessibleName(text)
        self.setVisible(bool(text))
