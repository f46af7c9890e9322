"""The status bar's truth about sync, and the peers panel behind it.

The words come from :mod:`lanban.sync.status_text`, which ``lanban status``
prints too: only on this computer / no teammates online (with the changes
waiting) / reconnecting to whom and when / syncing / live.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyle,
    QStyleOptionFocusRect,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lanban.sync.status_text import (
    Summary,
    SyncState,
    ago,
    dial_text,
    link_text,
    nobody_text,
    summarize,
    who,
)

from .app_state import Messages
from .elided_label import ElidedLabel
from .icons import icon
from .node_facade import BoardStatus, DialStatus, LinkStatus, NodeFacade
from .prompts import ask_text
from .theme import Palette

ICONS = {  # state -> (icon, palette colour)
    SyncState.LIVE: ("live", "ok"),
    SyncState.SYNCING: ("sync", "pending"),
    SyncState.RECONNECTING: ("sync", "pending"),
    SyncState.AWAY: ("offline", "muted"),
    SyncState.LOCAL: ("computer", "muted"),
    SyncState.NONE: ("offline", "muted"),
}


class SyncStatus(QAbstractButton):
    """A button (Tab reaches it; Space opens the peers panel) showing an icon and text."""

    def __init__(self) -> None:
        super().__init__()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.status_icon = QLabel()  # (a button's icon() and text() are its own)
        self.label = ElidedLabel()
        self.label.setObjectName("syncStatus")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(self.status_icon)
        layout.addWidget(self.label)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Peers and connections")
        self.state = SyncState.NONE.value

    def show_board(self, board: BoardStatus | None, local_only: str = "") -> None:
        """Show the board's state; ``local_only``: another process syncs this data
        directory (then that sentence)."""
        self.show_summary(Summary(SyncState.LIVE, local_only) if local_only else summarize(board))

    def show_summary(self, summary: Summary) -> None:
        name, color = ICONS[summary.state]
        self.status_icon.setPixmap(icon(name, getattr(Palette(), color)).pixmap(16, 16))
        self.label.setText(summary.text)
        self.state = summary.state.value
        lines = (summary.text, *summary.tries, summary.waiting, "Click for peers and addresses")
        self.setToolTip("\n".join(line for line in lines if line))
        self.setAccessibleName(f"Sync status: {summary.text}")

    def paintEvent(self, event: QPaintEvent) -> None:
        """The icon and text paint themselves; the button only shows it has the focus."""
        if self.hasFocus():
            option = QStyleOptionFocusRect()
            option.initFrom(self)
            painter = QPainter(self)
            self.style().drawPrimitive(QStyle.PrimitiveElement.PE_FrameFocusRect, option, painter)
            painter.end()


COUNTDOWN_MS = 1000
COLUMNS = ("Who", "Address", "Through", "State", "Last heard")


def peer_rows(board: BoardStatus, now: float) -> list[list[str]]:
    """The panel's rows: the board's links, then whom the node tries (and why not)."""
    rows = [
        [named(link), link.address, through(link.kind), link_text(link), ago(link.last_heard, now)]
        for link in board.links
    ]
    linked = {link.node_id for link in board.links if link.node_id}
    relay_linked = any(link.kind == "relay" for link in board.links)
    for dial in board.dials:
        if dial.state == "linked" or dial.node_id in linked:
            continue
        if dial.kind == "relay" and relay_linked:
            continue
        heard = ago(dial.ended, now) if dial.ended else "never"
        rows.append([named(dial), dial.address, through(dial.kind), dial_text(dial, now), heard])
    return rows


def named(end: LinkStatus | DialStatus) -> str:
    if end.kind == "relay":
        return who(end)
    return end.name or end.node_id[:12] or "—"


def through(kind: str) -> str:
    return "LAN" if kind == "lan" else "relay"


class PeersDialog(QDialog):
    """Who we are linked with for this board, and adding a peer by address."""

    def __init__(
        self,
        node: NodeFacade,
        messages: Messages,
        board_id: str | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.node = node
        self.messages = messages
        self.board_id = board_id
        self.setWindowTitle("Peers")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("Peers and addresses")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("State"), QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.summary = QLabel()
        self.board_line = QLabel()  # the status bar's sentence, and what waits
        self.board_line.setWordWrap(True)
        self.nobody = QLabel()  # instead of an empty table
        self.nobody.setWordWrap(True)
        self.nobody.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.error = QLabel()
        self.error.setStyleSheet("color: #e5484d")
        self.error.setWordWrap(True)
        self.error.hide()
        self.add_button = QPushButton("Add peer by address…")
        self.add_button.clicked.connect(self.ask_for_peer)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.add_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.board_line)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.nobody, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(760, 300)
        node.linksChanged.connect(self._links_changed)
        self._ticker = QTimer(self)  # the "next try in N s" count down
        self._ticker.setInterval(COUNTDOWN_MS)
        self._ticker.timeout.connect(self.refresh)
        self._ticker.start()
        self.refresh()
        close.setDefault(True)
        close.setFocus()  # not the table's first cell

    def _links_changed(self, board_id: str) -> None:
        if board_id in ("", self.board_id):
            self.refresh()

    def refresh(self) -> None:
        board = self.node.board_status(self.board_id) if self.board_id else None
        now = time.time()
        rows = peer_rows(board, now) if board is not None else []
        node = self.node.node_status()
        said = summarize(board, now)
        self.board_line.setText(f"This board: {said.text}. {said.waiting}".strip())
        self.nobody.setText(nobody_text(board, node.discovery) if board is not None else "")
        self.table.setVisible(bool(rows))
        self.nobody.setVisible(not rows)
        self.table.setRowCount(len(rows))
        for row, cells in enumerate(rows):
            for col, text in enumerate(cells):
                item = self.table.item(row, col)  # kept, so a selection stays put
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, col, item)
                item.setText(text)
                item.setToolTip(text)
        self.summary.setText(
            f"You are {node.name or 'unnamed'}; this computer listens on "
            f"{node.listening}." + ("" if node.discovery else " LAN discovery is off.")
        )

    def ask_for_peer(self) -> None:
        ask_text(self, "Add peer", "Address of another Lanban computer (host:port):", self.add_peer)

    def add_peer(self, text: str) -> None:
        if not text.strip():
            return
        address = text.strip()
        if self.messages.attempt(lambda: self.node.add_peer(address), self._show_error):
            self.error.hide()
            self.refresh()

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
