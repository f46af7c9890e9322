"""The status bar's truth about sync: Live / Offline with N local changes / Reconnecting."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lanban.sync.node import Node, NodeError

from .icons import icon
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


def summarize(board: dict[str, Any] | None, dialing: bool, local_only: str = "") -> tuple[str, str]:
    """(state, text): state is "live", "reconnecting" or "offline"."""
    if local_only:
        return "live", local_only
    if board is None:
        return "offline", "No board open"
    links = board.get("links", [])
    synced = [lk for lk in links if lk.get("synced")]
    peers = {lk.get("node_id") or lk.get("address") for lk in synced if lk.get("kind") == "lan"}
    relays = [lk for lk in synced if lk.get("kind") == "relay"]
    pending = int(board.get("local_changes_not_seen_by_peers", 0))
    if synced:
        parts = [f"{len(peers)} peer{'s' if len(peers) != 1 else ''}"]
        if relays:
            parts.append("relay")
        return "live", "Live (" + ", ".join(parts) + ")"
    if links or dialing:
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
        self.text = QLabel()
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

    def __init__(self, node: Node, board_id: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.node = node
        self.board_id = board_id
        self.setWindowTitle("Peers")
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Who", "Address", "Last heard", "Through"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.summary = QLabel()
        add = QPushButton("Add peer by address…")
        add.clicked.connect(self.add_peer)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.addButton(add, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, 300)
        self.refresh()

    def refresh(self) -> None:
        status = self.node.status()
        boards = [b for b in status["boards"] if b["id"] == self.board_id]
        links = boards[0]["links"] if boards else []
        self.table.setRowCount(len(links))
        for row, link in enumerate(links):
            who = link.get("name") or (link.get("node_id", "")[:12] or "relay")
            cells = [
                who,
                link.get("address", ""),
                ago(link.get("last_heard")),
                "LAN" if link.get("kind") == "lan" else "relay",
            ]
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(str(text)))
        self.summary.setText(
            f"You are {status['name'] or 'unnamed'}; this computer listens on "
            f"{status['listening']}." + ("" if status["discovery"] else " LAN discovery is off.")
        )

    def add_peer(self) -> None:
        text, ok = QInputDialog.getText(
            self, "Add peer", "Address of another Lanban computer (host:port):"
        )
        if not ok or not text.strip():
            return
        try:
            self.node.add_peer(text.strip())
        except NodeError as exc:
            QMessageBox.warning(self, "Add peer", str(exc))
            return
        self.refresh()
