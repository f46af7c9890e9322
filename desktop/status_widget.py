"""The status bar's truth about sync: Live / Offline with N local changes / Reconnecting."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .app_state import Messages
from .elided_label import ElidedLabel
from .icons import icon
from .node_facade import BoardStatus, NodeFacade
from .prompts import ask_text
from .theme import Palette


def ago(at: float | None) -> str:
    if not at:
        return "never"
    seconds = max(0.0, time.time() - at)
    if seconds < 5:
        return "just now"
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    return f"{seconds / 60:.0f} min ago"


def summarize(board: BoardStatus | None, dialing: bool, local_only: str = "") -> tuple[str, str]:
    """(state, text): state is "live", "reconnecting" or "offline"."""
    if local_only:
        return "live", local_only
    if board is None:
        return "offline", "No board open"
    synced = [lk for lk in board.links if lk.synced]
    peers = {lk.node_id or lk.address for lk in synced if lk.kind == "lan"}
    relays = [lk for lk in synced if lk.kind == "relay"]
    pending = board.local_changes_not_seen_by_peers
    if synced:
        parts = [f"{len(peers)} peer{'s' if len(peers) != 1 else ''}"]
        if relays:
            parts.append("relay")
        return "live", "Live (" + ", ".join(parts) + ")"
    if board.links or dialing:
        return "reconnecting", "Reconnecting…" + (
            f" {pending} change{'s' if pending != 1 else ''} saved locally" if pending else ""
        )
    saved = f"{pending} change{'s' if pending != 1 else ''} saved locally"
    return "offline", f"Offline, {saved}"


class SyncStatus(QWidget):
    clicked = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.icon = QLabel()
        self.text = ElidedLabel()
        self.text.setObjectName("syncStatus")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(self.icon)
        layout.addWidget(self.text)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Peers and connections")
        self.state = "offline"

    def show_state(self, state: str, text: str) -> None:
        pal = Palette()
        color = {"live": pal.ok, "reconnecting": pal.pending, "offline": pal.muted}[state]
        name = "live" if state == "live" else ("sync" if state == "reconnecting" else "offline")
        self.icon.setPixmap(icon(name, color).pixmap(16, 16))
        self.text.setText(text)
        self.state = state
        self.setAccessibleName(f"Sync status: {text}")

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.clicked.emit()


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
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Who", "Address", "Last heard", "Through"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.summary = QLabel()
        self.error = QLabel()
        self.error.setStyleSheet("color: #e5484d")
        self.error.setWordWrap(True)
        self.error.hide()
        self.add_button = QPushButton("Add peer by address…")
        self.add_button.clicked.connect(self.ask_for_peer)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.addButton(self.add_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(560, 300)
        node.linksChanged.connect(self._links_changed)
        self.refresh()

    def _links_changed(self, board_id: str) -> None:
        if board_id in ("", self.board_id):
            self.refresh()

    def refresh(self) -> None:
        board = self.node.board_status(self.board_id) if self.board_id else None
        links = board.links if board is not None else ()
        self.table.setRowCount(len(links))
        for row, link in enumerate(links):
            who = link.name or (link.node_id[:12] or "relay")
            cells = [
                who,
                link.address,
                ago(link.last_heard),
                "LAN" if link.kind == "lan" else "relay",
            ]
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        node = self.node.node_status()
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
