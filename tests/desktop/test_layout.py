"""The window fits half a screen whatever the board's title (issue 10)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QPushButton, QWidget

from lanban.desktop.column_view import COLUMN_MIN_WIDTH
from lanban.desktop.main_window import MainWindow
from lanban.sync.store import Store
from tests.desktop.harness import App, make_board, open_app, settle

Run = Callable[[Awaitable[Any]], Any]

NARROW = 640  # about a third of a 1920 px screen, with room to spare
LONG_TITLES = ("Quarterly planning " * 9)[:160], ("看板のタイトル" * 23)[:160]


def place(window: MainWindow, widget: QWidget) -> QRect:
    return QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())


def in_window(window: MainWindow, widget: QWidget) -> QRect:
    """The widget's rectangle in window coordinates, checked to lie inside the window."""
    rect = place(window, widget)
    assert window.rect().contains(rect), f"{widget.objectName()} at {rect} leaves {window.rect()}"
    return rect


async def laid_out(window: MainWindow, widgets: list[QWidget]) -> None:
    await settle(
        lambda: all(window.rect().contains(place(window, w)) for w in widgets),
        what="the widgets to be laid out inside the window",
    )


async def resize(window: MainWindow, width: int) -> None:
    window.resize(width, 800)
    await settle(lambda: window.width() == width, what=f"the window to be {width} px wide")


async def shown_window(app: App) -> MainWindow:
    window = app.window
    window.show()
    await settle(window.isVisible)
    return window


def test_a_long_title_elides_and_never_widens_the_window(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path))

    async def go() -> None:
        async with open_app(tmp_path) as app:
            window = await shown_window(app)
            invite = window.findChild(QPushButton, "inviteButton")
            assert isinstance(invite, QPushButton)
            for title in LONG_TITLES:
                assert len(title) == 160
                app.board.rename(title)  # as a peer's rename arrives
                await settle(lambda t=title: window.board_title.text() == t)
                assert window.minimumSizeHint().width() <= NARROW
                assert window.minimumWidth() <= NARROW
                await resize(window, 900)
                await settle(lambda: window.board_title.toolTip() == window.board_title.text())
                await laid_out(window, [invite, window.filters, window.sync_status])
                in_window(window, invite)
                in_window(window, window.filters)
                in_window(window, window.sync_status)
            app.board.rename("Team")
            await settle(lambda: window.board_title.text() == "Team")
            await resize(window, NARROW)
            assert window.board_title.toolTip() == ""  # nothing hidden

    run(go())


def test_the_header_fits_a_narrow_window_and_columns_share_the_width(
    tmp_path: Path, run: Run
) -> None:
    make_board(Store(tmp_path), title="Team board with a title of a usual length")

    async def go() -> None:
        async with open_app(tmp_path) as app:
            window = await shown_window(app)
            invite = window.findChild(QPushButton, "inviteButton")
            assert isinstance(invite, QPushButton)
            await resize(window, NARROW)
            parts = [window.board_title, window.presence, *window.filters.children(), invite]
            widgets = [w for w in parts if isinstance(w, QWidget)]
            assert len(widgets) == 6

            def overlaps() -> list[tuple[QRect, QRect]]:
                rects = [place(window, w) for w in widgets]
                return [
                    (a, b) for i, a in enumerate(rects) for b in rects[i + 1 :] if a.intersects(b)
                ]

            # the layout may pass through a squeezed state while it switches to two rows
            await laid_out(window, widgets)
            await settle(lambda: not overlaps(), what="the header's widgets not to overlap")
            for widget in widgets:
                in_window(window, widget)
            in_window(window, window.sync_status)

            def widths() -> list[int]:
                return [c.width() for c in app.view().column_widgets()]

            narrow = widths()
            assert len(narrow) == 3 and min(narrow) >= COLUMN_MIN_WIDTH
            await resize(window, 1600)
            await settle(lambda: min(widths()) > max(narrow), what="wider columns")
            wide = widths()
            strip = app.view().viewport().width()
            assert sum(wide) > strip / 2  # they fill the board, not a corner of it
            await resize(window, 900)
            await settle(lambda: widths() == narrow, what="the columns to narrow again")

    run(go())
