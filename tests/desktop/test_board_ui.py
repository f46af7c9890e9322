"""The board window, driven as a user drives it (offscreen)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QInputDialog

from lanban.desktop.boards_model import BoardsModel
from lanban.desktop.column_model import TICKET_MIME, ColumnModel
from lanban.desktop.column_view import COLUMN_MIME
from lanban.desktop.question import Question
from lanban.model.board import Board
from lanban.sync.store import Store
from tests.desktop.harness import (
    button,
    make_board,
    open_app,
    pause_events,
    send_drag,
    settle,
    shown,
)

Run = Callable[[Awaitable[Any]], Any]

TICKETS = {"To do": ["Write spec", "Fix login", "Plan party"], "Doing": ["Review PR"]}


def test_column_model_passes_qt_model_tester(tmp_path: Path, run: Run, qtmodeltester: Any) -> None:
    store = Store(tmp_path)
    make_board(store, tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            todo = app.column("To do").model
            assert isinstance(todo, ColumnModel)
            qtmodeltester.check(todo)
            # and while the board changes under it
            app.board.move_ticket(app.board.ticket("#1").id, "Done")
            app.board.add_ticket("New one", "To do", index=0)
            app.board.move_ticket(app.board.ticket("#3").id, "To do", 0)
            app.window.search.setText("o")
            app.window.search.clear()

    run(go())


def test_boards_model_passes_qt_model_tester(tmp_path: Path, run: Run, qtmodeltester: Any) -> None:
    make_board(Store(tmp_path))

    async def go() -> None:
        async with open_app(tmp_path) as app:
            model = app.window.boards_model
            assert isinstance(model, BoardsModel)
            qtmodeltester.check(model)
            app.node.create_board("Another")
            app.board.rename("Renamed")
            app.window.boards_model.reload()

    run(go())


def test_columns_cards_counts_and_wip(tmp_path: Path, run: Run) -> None:
    store = Store(tmp_path)
    board_id = make_board(store, tickets=TICKETS)
    with store.open(board_id) as bf:
        bf.board.set_wip_limit("Doing", 1)
        bf.board.add_ticket("Second in Doing", "Doing")

    async def go() -> None:
        async with open_app(tmp_path) as app:
            assert [w.column.title for w in app.view().column_widgets()] == [
                "To do",
                "Doing",
                "Done",
            ]
            assert app.shown("To do") == ["Write spec", "Fix login", "Plan party"]
            assert app.column("To do").header.count.text() == "3"
            doing = app.column("Doing").header
            assert doing.count.text() == "2 / 1" and "Over the WIP limit" in doing.count.toolTip()
            assert app.window.board_title.text() == "Team board"
            card = app.column("To do").model.index(1)
            assert card.data() == "#2 Fix login"

    run(go())


def test_quick_add_and_inline_rename(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            column = app.column("Doing")
            QTest.keyClicks(column.quick_add, "Ship v1")
            QTest.keyClick(column.quick_add, Qt.Key.Key_Return)
            assert app.shown("Doing") == ["Review PR", "Ship v1"]
            assert column.quick_add.text() == ""
            header = column.header
            QTest.mouseDClick(header.title, Qt.MouseButton.LeftButton)
            assert header.editor.isVisible()
            header.editor.selectAll()
            QTest.keyClicks(header.editor, "In progress")
            QTest.keyClick(header.editor, Qt.Key.Key_Return)
            await settle(lambda: app.board.column("In progress") is not None)
            assert [w.column.title for w in app.view().column_widgets()][1] == "In progress"

    run(go())


def _ticket_mime(board_id: str, ticket_id: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(TICKET_MIME, json.dumps({"board": board_id, "tickets": [ticket_id]}).encode())
    return mime


def test_drag_and_drop_between_and_within_columns(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            app.window.resize(1400, 900)
            await pause_events()
            fix = app.board.ticket("#2").id
            doing = app.column("Doing").view
            # drop onto the top half of "Review PR": lands above it
            top = doing.visualRect(doing.model().index(0)).topLeft() + QPoint(20, 8)
            assert send_drag(doing.viewport(), _ticket_mime(app.board_id, fix), top)
            assert app.shown("Doing") == ["Fix login", "Review PR"]
            assert app.shown("To do") == ["Write spec", "Plan party"]
            # within a column: "Write spec" below "Plan party" (drop under the last card)
            todo = app.column("To do").view
            below = todo.visualRect(todo.model().index(1)).bottomLeft() + QPoint(20, 20)
            spec = app.board.ticket("#1").id
            assert send_drag(todo.viewport(), _ticket_mime(app.board_id, spec), below)
            assert app.shown("To do") == ["Plan party", "Write spec"]
            # a drop from another board is refused
            stranger = _ticket_mime("another-board", spec)
            assert not send_drag(todo.viewport(), stranger, below)

    run(go())


def test_keyboard_moves_follow_the_selection(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            todo = app.column("To do").view
            spec = app.board.ticket("#1").id
            todo.select_ticket(spec)
            QTest.keyClick(todo, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
            assert app.shown("To do") == ["Fix login", "Write spec", "Plan party"]
            assert todo.current_ticket() == spec
            QTest.keyClick(todo, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
            assert "Write spec" in app.shown("Doing")
            doing = app.column("Doing").view
            assert doing.current_ticket() == spec and app.window.focusWidget() is doing

    run(go())


def test_columns_reorder_by_dragging_the_header(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            app.window.resize(1400, 900)
            await pause_events()
            strip = app.view().strip
            done = app.column("Done")
            mime = QMimeData()
            mime.setData(
                COLUMN_MIME, json.dumps({"board": app.board_id, "column": done.column.id}).encode()
            )
            left = app.column("To do").geometry().topLeft() + QPoint(10, 40)
            assert send_drag(strip, mime, left)
            await settle(lambda: next(c.title for c in app.board.columns()) == "Done")
            assert [w.column.title for w in app.view().column_widgets()] == [
                "Done",
                "To do",
                "Doing",
            ]

    run(go())


def test_undo_and_redo_with_the_standard_shortcuts(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            spec = app.board.ticket("#1").id
            app.board.move_ticket(spec, "Done")
            assert app.shown("Done") == ["Write spec"]
            assert app.window.undo_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
            app.window.undo_action.trigger()
            assert app.shown("Done") == [] and app.shown("To do")[0] == "Write spec"
            app.window.redo_action.trigger()
            assert app.shown("Done") == ["Write spec"]

    run(go())


def test_undo_says_when_a_peer_replaced_your_last_change(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            said: list[str] = []
            app.window.messages.info.connect(lambda text, _ms: said.append(text))
            spec = app.board.ticket("#1").id
            app.board.edit_ticket(spec, title="Mine")
            peer = Board.from_update(app.board.get_update())
            peer.edit_ticket(spec, title="Theirs")
            app.board.apply_update(peer.get_update())
            app.window.undo_action.trigger()
            assert app.board.ticket(spec).title == "Theirs"
            assert said == ["Your last change was already replaced by someone else's"]
            while app.board.can_undo():
                app.board.undo()
            app.window.undo_action.trigger()
            assert said[-1] == "Nothing to undo"

    run(go())


def test_filter_by_text_label_and_assignee(tmp_path: Path, run: Run) -> None:
    store = Store(tmp_path)
    board_id = make_board(store, tickets=TICKETS)
    with store.open(board_id) as bf:
        bug = bf.board.add_label("bug")
        bf.board.edit_ticket("#2", labels=[bug], assignee="Ada")

    async def go() -> None:
        async with open_app(tmp_path) as app:
            QTest.keyClicks(app.window.search, "pla")
            assert app.shown("To do") == ["Plan party"] and app.shown("Doing") == []
            app.window.search.clear()
            assert len(app.shown("To do")) == 3
            app.window.label_filter.setCurrentText("bug")
            assert app.shown("To do") == ["Fix login"]
            app.window.label_filter.setCurrentIndex(0)
            app.window.assignee_filter.setCurrentText("Ada")
            assert app.shown("To do") == ["Fix login"]
            # a drop while filtered lands where the user sees it
            app.window.assignee_filter.setCurrentIndex(0)
            assert len(app.shown("To do")) == 3

    run(go())


def test_add_column_and_delete_one_with_tickets(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            app.view().add_column_button.click()
            ask = shown(QInputDialog, app.window)
            assert ask.windowTitle() == "Add column" and ask.isModal()
            ask.setTextValue("Review")
            ask.accept()
            await settle(lambda: "Review" in [c.title for c in app.board.columns()])
            app.column("Doing").delete()
            question = shown(Question, app.window)
            assert "Its 1 ticket will show in the first column" in question.informativeText()
            button(question, "Delete column").click()
            await settle(lambda: "Doing" not in [c.title for c in app.board.columns()])
            assert "Review PR" in app.shown("To do")  # shown in the first column, marked
            misplaced = app.board.ticket("#4")
            assert misplaced.misplaced
            app.window.undo_action.trigger()
            assert app.shown("Doing") == ["Review PR"]

    run(go())


def test_errors_show_as_plain_messages(tmp_path: Path, run: Run) -> None:
    store = Store(tmp_path)
    make_board(store, tickets=TICKETS)
    (store.boards_dir / "Broken.lanban").write_bytes(b"not a database at all" * 10)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            await settle(lambda: app.window.error_bar.text())
            message = app.window.error_bar.text()
            assert "Broken.lanban" in message and "Traceback" not in message
            # a failing action: moving a ticket nobody can find
            worked = app.window.messages.attempt(lambda: app.board.move_ticket("#99", "Done"))
            assert not worked
            assert "#99" in app.window.error_bar.text()
            assert "Traceback" not in app.window.error_bar.text()

    run(go())


def test_quitting_stops_the_node(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path))

    async def go() -> None:
        async with open_app(tmp_path) as app:
            assert (tmp_path / "node.json").exists()
            app.window.quit_action.trigger()
            assert not app.window.isVisible()
        assert not (tmp_path / "node.json").exists()

    run(go())
