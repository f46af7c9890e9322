"""Building app windows for tests: a data dir, a node, the real MainWindow."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

from lanban.desktop.app import run_app
from lanban.desktop.board_view import BoardView
from lanban.desktop.column_view import ColumnWidget
from lanban.desktop.main_window import MainWindow
from lanban.model.board import Board
from lanban.sync.node import Node, NodeOptions
from lanban.sync.store import Store
from tests.support import async_wait_until

ADA = {"id": "ada", "name": "Ada Lovelace", "color": "#e91e63"}
GRACE = {"id": "grace", "name": "Grace Hopper", "color": "#03a9f4"}


@dataclass
class App:
    window: MainWindow
    node: Node
    store: Store

    @property
    def board_id(self) -> str:
        assert self.window.current is not None
        return self.window.current

    @property
    def board(self) -> Board:
        return self.node.boards[self.board_id].board

    def view(self) -> BoardView:
        view = self.window.view()
        assert view is not None
        return view

    def column(self, title: str) -> ColumnWidget:
        for widget in self.view().column_widgets():
            if widget.column.title == title:
                return widget
        raise AssertionError(f"no column {title!r} on screen")

    def shown(self, title: str) -> list[str]:
        """Titles of the cards the column shows, top to bottom."""
        column = self.column(title)
        return [column.model.ticket(t).title for t in column.model.ticket_ids]


def make_board(
    store: Store,
    title: str = "Team board",
    columns: tuple[str, ...] = ("To do", "Doing", "Done"),
    tickets: dict[str, list[str]] | None = None,
) -> str:
    with store.create_board(title, columns, actor="Ada") as bf:
        for column, titles in (tickets or {}).items():
            for t in titles:
                bf.board.add_ticket(t, column)
        return bf.board_id


@contextlib.asynccontextmanager
async def open_app(path: Path, me: dict[str, str] = ADA, **options: object) -> AsyncIterator[App]:
    store = Store(path)
    opts: dict[str, object] = {"host": "127.0.0.1", "discovery": False, "name": me["name"]}
    node = Node(store, NodeOptions(**(opts | options)))  # type: ignore[arg-type]
    window = await run_app(store, node, dict(me))
    try:
        yield App(window, node, store)
    finally:
        window.close()
        await node.stop()
        window.deleteLater()


def send_drag(target: QWidget, mime: QMimeData, pos: QPoint) -> bool:
    """Offscreen, QDrag.exec() returns at once: drive the drop with events."""
    at = QPointF(pos)
    args = (
        Qt.DropAction.MoveAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(target, QDragEnterEvent(at, *args))
    QApplication.sendEvent(target, QDragMoveEvent(at, *args))
    drop = QDropEvent(at, *args)
    QApplication.sendEvent(target, drop)
    return drop.isAccepted()


def shown[W: QWidget](kind: type[W], parent: QWidget | None = None) -> W:
    """The one visible dialog (or menu) of this type, of ``parent``'s window or of
    the app. Dialogs open with open()/popup() and return at once: no poller needed."""
    pool = parent.findChildren(kind) if parent is not None else QApplication.topLevelWidgets()
    found = [w for w in pool if isinstance(w, kind) and w.isVisible()]
    assert len(found) == 1, f"{len(found)} visible {kind.__name__} windows, wanted 1"
    return found[0]


def button(dialog: QWidget, text: str) -> QAbstractButton:
    """A dialog's button by its text (QMessageBox, QDialogButtonBox)."""
    for candidate in dialog.findChildren(QAbstractButton):
        if candidate.text().replace("&", "") == text and candidate.isVisible():
            return candidate
    raise AssertionError(f"no button {text!r} in {dialog.windowTitle()!r}")


async def settle(condition: Callable[[], object], seconds: float = 5.0, what: str = "") -> None:
    await async_wait_until(condition, seconds=seconds, what=what or "the UI to settle")


async def pause_events(seconds: float = 0.05) -> None:
    """Let Qt lay out and paint. Never QApplication.processEvents() inside a
    coroutine: with qasync that would step other asyncio tasks re-entrantly."""
    await asyncio.sleep(seconds)
