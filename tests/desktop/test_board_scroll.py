"""The board scrolls to what the user acts on (issue 10, defect 4, the rest).

Offscreen: drag events are sent by hand and the pointer's place is given to the board;
tests/desktop/test_xvfb_board.py drags with a real mouse.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog, QWidget

from lanban.desktop.column_model import TICKET_MIME
from lanban.desktop.column_view import COLUMN_MIME
from lanban.sync.store import Store
from tests.desktop.harness import App, make_board, open_app, pause_events, settle, shown

Run = Callable[[Awaitable[Any]], Any]

COLUMNS = ("To do", "Doing", "Review", "Test", "Done")
TICKETS = {"To do": ["Write spec", "Fix login"], "Doing": ["Review PR"]}


def visible_in_board(app: App, widget: QWidget) -> bool:
    view = app.view()
    left = widget.mapTo(view.viewport(), QPoint(0, 0)).x()
    return left >= 0 and left + widget.width() <= view.viewport().width()


async def narrow(app: App) -> None:
    app.window.show()
    app.window.resize(640, 700)
    await settle(
        lambda: app.view().horizontalScrollBar().maximum() > 0, what="a board wider than its view"
    )


def test_the_view_follows_ctrl_arrow_moves_and_a_new_column(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), columns=COLUMNS, tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            await narrow(app)
            spec = app.board.ticket("#1").id
            app.column("To do").view.select_ticket(spec)
            for title in COLUMNS[1:]:
                view = app.window.focusWidget()
                QTest.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
                assert app.column(title).view.current_ticket() == spec
                await settle(lambda t=title: visible_in_board(app, app.column(t)), what=title)
            for title in reversed(COLUMNS[:-1]):
                view = app.window.focusWidget()
                QTest.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
                await settle(lambda t=title: visible_in_board(app, app.column(t)), what=title)
            app.view().add_column_button.click()
            ask = shown(QInputDialog, app.window)
            ask.setTextValue("Shipped")
            ask.accept()
            await settle(lambda: "Shipped" in [c.title for c in app.board.columns()])
            shipped, done = app.column("Shipped"), app.column("Done")
            await settle(lambda: shipped.x() > done.x(), what="the layout to put Shipped last")
            await pause_events()
            assert visible_in_board(app, shipped)

    run(go())


def drag_event(
    kind: type[QDragEnterEvent] | type[QDragMoveEvent], pos: QPoint, mime: QMimeData
) -> Any:
    return kind(
        QPointF(pos),
        Qt.DropAction.MoveAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )


def test_dragging_a_card_to_the_edge_scrolls_the_board(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), columns=COLUMNS, tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            await narrow(app)
            bar = app.view().horizontalScrollBar()
            # where the pointer is (QCursor.setPos would also move the mouse offscreen)
            pointer = [QPoint()]
            app.view().edge_scroller.pointer = lambda: pointer[0]
            spec = app.board.ticket("#1").id
            mime = QMimeData()
            mime.setData(
                TICKET_MIME, json.dumps({"board": app.board_id, "tickets": [spec]}).encode()
            )
            target = app.column("Doing").view
            viewport = app.view().viewport()
            edge = viewport.mapToGlobal(QPoint(viewport.width() - 4, viewport.height() // 2))
            at = target.viewport().mapFromGlobal(edge)
            assert target.viewport().rect().contains(at), "Doing is not under the right edge"
            pointer[0] = edge
            QApplication.sendEvent(target.viewport(), drag_event(QDragEnterEvent, at, mime))
            QApplication.sendEvent(target.viewport(), drag_event(QDragMoveEvent, at, mime))
            # the pointer stays at the edge: the board keeps scrolling to its end
            await settle(lambda: bar.value() == bar.maximum(), what="the board to scroll right")
            middle = viewport.mapToGlobal(viewport.rect().center())
            pointer[0] = middle
            await pause_events()
            held = bar.value()
            await pause_events(0.1)
            assert bar.value() == held  # away from the edge it stops
            left = viewport.mapToGlobal(QPoint(3, viewport.height() // 2))
            pointer[0] = left
            column = next(
                c
                for c in app.view().column_widgets()
                if c.view.viewport().rect().contains(c.view.viewport().mapFromGlobal(left))
            )
            at = column.view.viewport().mapFromGlobal(left)
            QApplication.sendEvent(column.view.viewport(), drag_event(QDragEnterEvent, at, mime))
            QApplication.sendEvent(column.view.viewport(), drag_event(QDragMoveEvent, at, mime))
            await settle(lambda: bar.value() == 0, what="the board to scroll left")
            drop = QDropEvent(
                QPointF(at),
                Qt.DropAction.MoveAction,
                mime,
                Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier,
            )
            pointer[0] = edge
            QApplication.sendEvent(column.view.viewport(), drop)
            await pause_events(0.1)
            assert bar.value() == 0  # dropped: no more scrolling

    run(go())


def test_dragging_a_column_to_the_edge_scrolls_the_board(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), columns=COLUMNS, tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            await narrow(app)
            view = app.view()
            bar = view.horizontalScrollBar()
            pointer = [QPoint()]
            view.edge_scroller.pointer = lambda: pointer[0]
            mime = QMimeData()
            column = app.column("To do").column.id
            mime.setData(
                COLUMN_MIME, json.dumps({"board": app.board_id, "column": column}).encode()
            )
            viewport = view.viewport()
            pointer[0] = viewport.mapToGlobal(QPoint(viewport.width() - 4, 40))
            at = view.strip.mapFromGlobal(pointer[0])
            QApplication.sendEvent(view.strip, drag_event(QDragEnterEvent, at, mime))
            QApplication.sendEvent(view.strip, drag_event(QDragMoveEvent, at, mime))
            await settle(lambda: bar.value() == bar.maximum(), what="the board to scroll right")
            # the drag ends (dropped or cancelled) with the pointer still at the edge
            bar.setValue(0)
            app.column("To do").view.dragEnded.emit()
            await pause_events(0.1)
            assert bar.value() == 0

    run(go())


def test_the_view_follows_a_column_moved_by_its_menu(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), columns=COLUMNS, tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            await narrow(app)
            todo = app.column("To do")
            for _ in COLUMNS[1:]:
                todo.move_by(1)
            assert [c.title for c in app.board.columns()][-1] == "To do"
            done = app.column("Done")
            await settle(lambda: todo.x() > done.x(), what="the layout to put To do last")
            await pause_events()
            assert visible_in_board(app, todo)
            todo.move_by(-4)
            await settle(lambda: todo.x() < done.x(), what="the layout to put To do first")
            await pause_events()
            assert visible_in_board(app, todo)
            assert app.view().horizontalScrollBar().value() == 0

    run(go())
