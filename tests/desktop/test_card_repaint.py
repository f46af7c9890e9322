"""A peer's move repaints the two card lists, and nothing behind them (issue 8:
remote move to repaint): the cards' viewport is opaque, in the column's colour."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pycrdt import merge_updates
from PySide6.QtCore import QEvent, QObject, QPoint, QRect
from PySide6.QtGui import QPaintEvent, QRegion
from PySide6.QtWidgets import QApplication, QWidget

from lanban.desktop.theme import Palette
from lanban.model.board import Board
from lanban.sync.store import Store
from tests.desktop.harness import make_board, open_app, pause_events, settle

Run = Callable[[Awaitable[Any]], Any]


class Painted(QObject):
    """The regions each watched widget was asked to paint."""

    def __init__(self, widgets: list[QWidget]) -> None:
        super().__init__()
        self.regions: dict[QWidget, QRegion] = {w: QRegion() for w in widgets}
        for widget in widgets:
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QPaintEvent) and isinstance(watched, QWidget):
            self.regions[watched] = self.regions[watched].united(event.region())
        return False


def peer_move(board: Board, column: str, row: int, to: str) -> bytes:
    """The update of a peer (Grace, on a copy of ``board``) moving the card on ``row``
    of ``column`` to the top of column ``to``."""
    peer = Board.from_update(board.get_update(), actor="Grace")
    sent: list[bytes] = []
    peer.on_update(lambda update, _source: sent.append(update))
    peer.move_ticket(peer.ticket_ids(peer.column(column).id)[row], peer.column(to).id, 0)
    return merge_updates(*sent)


def test_a_peers_move_repaints_the_cards_not_the_column_behind(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets={"To do": ["a", "b", "c"], "Doing": ["d"]})

    async def go() -> None:
        async with open_app(tmp_path) as app:
            app.window.resize(1280, 800)
            todo, doing = app.column("To do"), app.column("Doing")
            await settle(lambda: todo.view.viewport().width() > 100 and app.shown("To do"))
            await pause_events()
            board = app.board
            update = peer_move(board, "To do", 0, "Doing")
            painted = Painted([todo, doing, todo.view.viewport(), doing.view.viewport()])

            board.apply_update(update)  # as the node applies a peer's update
            for column in (todo, doing):
                column.view.executeDelayedItemsLayout()
            QApplication.sendEvent(app.window, QEvent(QEvent.Type.UpdateRequest))

            assert (app.shown("To do"), app.shown("Doing")) == (["b", "c"], ["a", "d"])
            assert (todo.header.count.text(), doing.header.count.text()) == ("2", "2")
            for column in (todo, doing):
                viewport = column.view.viewport()
                assert not painted.regions[viewport].isEmpty(), "the cards were repainted"
                under = QRect(viewport.mapTo(column, QPoint(0, 0)), viewport.size())
                behind = painted.regions[column].intersected(under)
                assert behind.isEmpty(), f"{column.column.title} painted behind its cards"
            # the same look: below the last card, the column's colour
            image = doing.view.viewport().grab().toImage()
            below = doing.view.visualRect(doing.model.index(1)).bottom() + 10
            assert image.pixelColor(image.width() // 2, below) == Palette().column

    run(go())


def test_the_cards_viewport_follows_the_theme(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets={"To do": ["a"]})

    async def go() -> None:
        async with open_app(tmp_path) as app:
            app.window.resize(1280, 800)
            todo = app.column("To do")
            await settle(lambda: todo.view.viewport().width() > 100 and app.shown("To do"))
            for theme in ("dark", "light"):
                app.window.settings.set_theme(theme)
                await settle(lambda theme=theme: Palette().dark == (theme == "dark"))
                await pause_events()
                image = todo.view.viewport().grab().toImage()
                below = todo.view.visualRect(todo.model.index(0)).bottom() + 10
                assert image.pixelColor(image.width() // 2, below) == Palette().column, theme

    run(go())


def test_a_peers_move_into_a_long_column_shows_in_the_next_paint(tmp_path: Path, run: Run) -> None:
    """A column of 1,000 cards loads in batches; a peer's move lays it out again in one,
    so the next paint shows its cards rather than some turns of the event loop later."""
    make_board(Store(tmp_path), tickets={"To do": [f"card {i}" for i in range(1000)]})

    async def go() -> None:
        async with open_app(tmp_path) as app:
            app.window.resize(1280, 800)
            todo = app.column("To do")
            await settle(lambda: todo.view.viewport().width() > 100 and app.shown("To do"))
            await pause_events()
            board = app.board
            update = peer_move(board, "To do", 500, "To do")
            cards: list[int] = []
            delegate = todo.view.itemDelegate()
            paint = delegate.paint

            def counted(*args: Any) -> None:
                cards.append(1)
                paint(*args)

            delegate.paint = counted  # type: ignore[method-assign]
            board.apply_update(update)
            todo.view.executeDelayedItemsLayout()
            QApplication.sendEvent(app.window, QEvent(QEvent.Type.UpdateRequest))
            assert app.shown("To do")[0] == "card 500"
            assert cards, "the column painted no card after the move"

    run(go())
