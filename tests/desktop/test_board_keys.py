"""One selection per board, and the board driven from the keyboard (issue 10, defects 8, 10).

Offscreen, with QTest key events; tests/desktop/test_xvfb_board.py presses the same
keys through a real X server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from lanban.desktop.column_view import ColumnWidget
from lanban.desktop.main_window import MainWindow
from lanban.desktop.ticket_dialog import TicketDialog
from lanban.model.board import Board
from lanban.sync.store import Store
from tests.desktop.harness import App, make_board, open_app, pause_events, settle

Run = Callable[[Awaitable[Any]], Any]

TICKETS = {
    "To do": ["Write spec", "Fix login", "Plan party"],
    "Doing": ["Review PR", "Ship it"],
}


def selected(app: App) -> dict[str, str]:
    """Every column that shows a selected or current card: title -> card title."""
    out = {}
    for column in app.view().column_widgets():
        view = column.view
        rows = {i.row() for i in view.selectionModel().selectedIndexes()}
        if view.currentIndex().isValid():
            rows.add(view.currentIndex().row())
        for row in rows:
            out[column.column.title] = column.model.ticket(column.model.ticket_ids[row]).title
    return out


def click_card(column: ColumnWidget, row: int) -> None:
    view = column.view
    point = view.visualRect(column.model.index(row)).center()
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)


def tab_stops(window: MainWindow) -> list[QWidget]:
    """The widgets Tab visits, in order, starting from the sidebar (as Qt walks them)."""
    stops: list[QWidget] = []
    widget: QWidget = window.sidebar
    for _ in range(500):
        if (
            widget.focusPolicy() & Qt.FocusPolicy.TabFocus
            and widget.isVisibleTo(window)
            and widget.isEnabled()
        ):
            if widget in stops:
                break
            stops.append(widget)
        widget = widget.nextInFocusChain()
    return stops


def test_one_selection_per_board(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            app.window.resize(1400, 900)
            await pause_events()
            click_card(app.column("To do"), 1)
            assert selected(app) == {"To do": "Fix login"}
            click_card(app.column("Doing"), 0)
            assert selected(app) == {"Doing": "Review PR"}  # not two cards
            app.column("To do").view.select_ticket(app.board.ticket("#3").id)
            assert selected(app) == {"To do": "Plan party"}
            # Delete acts on that one card
            app.window.delete_current()
            assert app.board.ticket("#3").deleted
            assert app.shown("Doing") == ["Review PR", "Ship it"]

    run(go())


def test_the_selection_follows_a_remote_move_and_survives_a_remote_edit(
    tmp_path: Path, run: Run
) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            fix = app.board.ticket("#2").id
            todo = app.column("To do").view
            todo.select_ticket(fix)
            assert app.window.focusWidget() is todo
            peer = Board.from_update(app.board.get_update())
            peer.edit_ticket(fix, title="Fix the login")
            app.board.apply_update(peer.get_update())
            assert selected(app) == {"To do": "Fix the login"}
            peer.move_ticket(fix, "Done")
            app.board.apply_update(peer.get_update())
            assert app.shown("Done") == ["Fix the login"]
            assert selected(app) == {"Done": "Fix the login"}  # it followed the card
            assert app.window.focusWidget() is app.column("Done").view
            # a remote move of another card does not move the selection
            peer.move_ticket(peer.ticket("#1").id, "Done", 0)
            app.board.apply_update(peer.get_update())
            assert selected(app) == {"Done": "Fix the login"}
            # and Enter opens it
            QTest.keyClick(app.column("Done").view, Qt.Key.Key_Return)
            await settle(lambda: (app.board_id, fix) in app.window.dialogs, what="the panel")
            panel = app.window.dialogs[(app.board_id, fix)]
            assert isinstance(panel, TicketDialog)
            panel.close()

    run(go())


def test_arrows_move_between_cards_and_columns(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            app.window.show()
            app.window.resize(640, 700)  # the board scrolls sideways
            await pause_events()
            bar = app.view().horizontalScrollBar()
            todo, doing, done = (app.column(t).view for t in ("To do", "Doing", "Done"))
            todo.select_ticket(app.board.ticket("#3").id)  # "Plan party", row 2
            before = bar.value()
            QTest.keyClick(todo, Qt.Key.Key_Down)  # at the bottom: nothing moves
            assert selected(app) == {"To do": "Plan party"} and bar.value() == before
            QTest.keyClick(todo, Qt.Key.Key_Up)
            assert selected(app) == {"To do": "Fix login"}
            QTest.keyClick(todo, Qt.Key.Key_Right)  # row 1 of Doing
            assert selected(app) == {"Doing": "Ship it"}
            assert app.window.focusWidget() is doing
            QTest.keyClick(doing, Qt.Key.Key_Home)
            assert selected(app) == {"Doing": "Review PR"}
            QTest.keyClick(doing, Qt.Key.Key_End)
            assert selected(app) == {"Doing": "Ship it"}
            QTest.keyClick(doing, Qt.Key.Key_Right)  # an empty column: the column itself
            assert selected(app) == {} and app.window.focusWidget() is done
            await settle(lambda: visible_in_board(app, app.column("Done")), what="Done shown")
            QTest.keyClick(done, Qt.Key.Key_Right)  # the last column: stays
            assert app.window.focusWidget() is done
            QTest.keyClick(done, Qt.Key.Key_Left)
            assert selected(app) == {"Doing": "Review PR"}
            QTest.keyClick(doing, Qt.Key.Key_Left)
            assert selected(app) == {"To do": "Write spec"}
            await settle(lambda: visible_in_board(app, app.column("To do")), what="To do shown")
            QTest.keyClick(todo, Qt.Key.Key_Left)  # the first column: nothing scrolls
            assert selected(app) == {"To do": "Write spec"}
            assert bar.value() == 0

    run(go())


def visible_in_board(app: App, widget: QWidget) -> bool:
    view = app.view()
    top_left = widget.mapTo(view.viewport(), QPoint(0, 0))
    return top_left.x() >= 0 and top_left.x() + widget.width() <= view.viewport().width()


def test_esc_leaves_quick_add_and_shortcuts_reach_the_column(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            app.window.show()
            doing = app.column("Doing")
            doing.view.select_ticket(app.board.ticket("#4").id)
            app.window.new_ticket()  # Ctrl+T: the quick add of the selected card's column
            assert app.window.focusWidget() is doing.quick_add
            QTest.keyClicks(doing.quick_add, "half typed")
            QTest.keyClick(doing.quick_add, Qt.Key.Key_Escape)
            assert doing.quick_add.text() == ""
            assert app.window.focusWidget() is doing.view
            assert selected(app) == {"Doing": "Review PR"}
            # Down past the last card reaches the quick add too; Up goes back
            QTest.keyClick(doing.view, Qt.Key.Key_End)
            QTest.keyClick(doing.view, Qt.Key.Key_Down)
            assert app.window.focusWidget() is doing.quick_add
            QTest.keyClick(doing.quick_add, Qt.Key.Key_Up)
            assert app.window.focusWidget() is doing.view
            assert selected(app) == {"Doing": "Ship it"}
            # the context-menu key opens the column's menu
            QTest.keyClick(doing.view, Qt.Key.Key_Menu)
            menu = QApplication.activePopupWidget()
            assert menu is not None and "Rename" in [a.text() for a in menu.actions()]
            menu.close()

    run(go())


def test_the_board_is_one_tab_stop(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            window = app.window
            window.show()
            await pause_events()
            stops = tab_stops(window)
            board = [w for w in stops if app.view().isAncestorOf(w)]
            assert board == [app.column("To do").view], [type(w).__name__ for w in board]
            order = [stops.index(w) for w in (window.sidebar, window.search, board[0])]
            assert order == sorted(order)
            # the stop is the column of the selection
            app.column("Doing").view.select_ticket(app.board.ticket("#5").id)
            board = [w for w in tab_stops(window) if app.view().isAncestorOf(w)]
            assert board == [app.column("Doing").view]

    run(go())


def test_accessible_names_on_cards_and_columns(tmp_path: Path, run: Run) -> None:
    store = Store(tmp_path)
    board_id = make_board(store, tickets=TICKETS)
    with store.open(board_id) as bf:
        bf.board.edit_ticket("#5", assignee="Ada")

    async def go() -> None:
        async with open_app(tmp_path) as app:
            app.window.show()
            await pause_events()
            doing = app.column("Doing")
            view = QAccessible.queryAccessibleInterface(doing.view)
            assert view is not None
            assert view.text(QAccessible.Text.Name) == "Doing column, 2 tickets"
            names = [view.child(i).text(QAccessible.Text.Name) for i in range(view.childCount())]
            assert "#4 Review PR, in Doing" in names
            assert "#5 Ship it, in Doing, assigned to Ada" in names
            column = QAccessible.queryAccessibleInterface(doing)
            assert column is not None and column.text(QAccessible.Text.Name) == "Doing column"
            menu = QAccessible.queryAccessibleInterface(doing.header.menu_button)
            assert menu is not None and menu.text(QAccessible.Text.Name) == "Doing: column actions"

    run(go())


def test_a_filter_hides_the_selection_for_a_while(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            app.column("To do").view.select_ticket(app.board.ticket("#2").id)
            app.window.search.setText("plan")
            assert selected(app) == {}
            app.window.delete_current()  # nothing shown is selected: nothing is deleted
            assert not any(t.deleted for t in app.board.tickets())
            app.window.search.clear()
            assert selected(app) == {"To do": "Fix login"}
            # its column deleted by a peer: the card shows in the first column, still selected
            app.column("Doing").view.select_ticket(app.board.ticket("#4").id)
            peer = Board.from_update(app.board.get_update())
            peer.delete_column(peer.column("Doing").id)
            app.board.apply_update(peer.get_update())
            assert selected(app) == {"To do": "Review PR"}

    run(go())
