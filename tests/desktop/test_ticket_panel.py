"""The ticket panel with a peer watching: however it closes, "Ada is editing"
goes at once; Ctrl+Z / Ctrl+Shift+Z in its fields take back only Ada's typing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from lanban.desktop.column_model import BadgesRole
from lanban.desktop.ticket_dialog import TicketDialog
from tests.desktop.harness import App, button, settle, shown
from tests.desktop.test_collaboration import pair

Run = Callable[[Awaitable[Any]], Any]
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def badges(app: App, column: str, ticket_id: str) -> list[tuple[str, str]]:
    model = app.column(column).model
    row = model.row_of(ticket_id)
    if row < 0:
        return []
    return [(p.name, w) for p, w in model.index(row).data(BadgesRole)]


def editors(app: App, ticket_id: str) -> list[str]:
    controller = app.window.controller()
    assert controller is not None
    return [p.name for p in controller.editors(ticket_id)]


async def open_panel(ada: App, grace: App, number: str) -> TicketDialog:
    ticket_id = ada.board.ticket(number).id
    panel = ada.window.open_ticket(ticket_id)
    assert isinstance(panel, TicketDialog)
    await settle(lambda: editors(grace, ticket_id) == ["Ada Lovelace"], what="Grace to see Ada")
    return panel


def test_every_way_the_panel_closes_clears_editing(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            review = ada.board.ticket("#3").id
            # Esc
            panel = await open_panel(ada, grace, "#3")
            await settle(
                lambda: badges(grace, "Doing", review) == [("Ada Lovelace", "editing")],
                what="the editing badge",
            )
            QTest.keyClick(panel, Qt.Key.Key_Escape)
            await settle(lambda: not badges(grace, "Doing", review), what="Esc to clear it")
            assert not editors(grace, review) and not ada.window.dialogs
            # Grace is not warned any more
            assert isinstance(grace.window.open_ticket(review), TicketDialog)
            grace.window.dialogs[(grace.board_id, review)].close()
            await settle(lambda: not editors(ada, review))
            # the Close button
            panel = await open_panel(ada, grace, "#3")
            button(panel, "Close").click()
            await settle(lambda: not badges(grace, "Doing", review), what="Close to clear it")
            assert not ada.window.dialogs
            # Grace moves the ticket to the trash: Ada's panel closes and says why
            spec = ada.board.ticket("#1").id
            panel = await open_panel(ada, grace, "#1")
            grace.board.delete_ticket(spec)
            await settle(lambda: not editors(grace, spec), what="a peer's delete to clear it")
            assert not ada.window.dialogs
            assert "#1 was moved to the trash by" in ada.window.statusBar().currentMessage()
            grace.board.restore_ticket(spec)
            await settle(lambda: not ada.board.ticket(spec).deleted)
            # Grace purges it
            panel = await open_panel(ada, grace, "#1")
            grace.board.delete_ticket(spec)
            grace.board.purge_ticket(spec)
            await settle(lambda: not editors(grace, spec), what="a peer's purge to clear it")
            assert not ada.window.dialogs
            # Ada leaves the board with a panel open
            panel = await open_panel(ada, grace, "#3")
            closed: list[object] = []
            panel.destroyed.connect(lambda *_: closed.append(True))
            ada.window.leave_board()
            button(shown(QMessageBox, ada.window), "Leave board").click()
            await settle(lambda: not editors(grace, review), what="leaving to clear it")
            await settle(lambda: closed, what="the panel to go with the board")

    run(go())


def test_a_deleted_panel_clears_editing(tmp_path: Path, run: Run) -> None:
    """A panel that goes without closing (deleted, e.g. after an error) too."""

    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            review = ada.board.ticket("#3").id
            panel = await open_panel(ada, grace, "#3")
            panel.deleteLater()
            await settle(lambda: not editors(grace, review), what="deletion to clear it")
            # a second panel (another ticket) keeps its own editing state
            spec = ada.board.ticket("#1").id
            first = await open_panel(ada, grace, "#1")
            second = await open_panel(ada, grace, "#3")
            second.close()
            await settle(lambda: editors(grace, spec) == ["Ada Lovelace"])
            await settle(lambda: not editors(grace, review))
            first.close()
            await settle(lambda: not editors(grace, spec))
            # Ada quits with a panel open: it closes with the window
            panel = await open_panel(ada, grace, "#3")
            finished: list[int] = []
            panel.finished.connect(finished.append)
            ada.window.close()
            assert finished and not ada.window.dialogs
            await settle(lambda: not editors(grace, review), what="quitting to clear it")

    run(go())


def test_undo_and_redo_in_the_description_take_back_only_my_typing(
    tmp_path: Path, run: Run
) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            review = ada.board.ticket("#3").id
            grace.board.edit_ticket(review, description="Hello")
            await settle(lambda: ada.board.description(review) == "Hello")
            panel = await open_panel(ada, grace, "#3")
            cursor = panel.description.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End)
            panel.description.setTextCursor(cursor)
            QTest.keyClicks(panel.description, " Ada")
            await settle(lambda: grace.board.description(review) == "Hello Ada")
            grace.board.splice_description(review, 0, 0, "Grace: ")  # a peer types too
            want = "Grace: Hello Ada"
            await settle(lambda: panel.description.toPlainText() == want, what="Grace's text")
            QTest.keyClick(panel.description, Qt.Key.Key_Z, CTRL)
            await settle(lambda: panel.description.toPlainText() == "Grace: Hello", what="the undo")
            await settle(lambda: grace.board.description(review) == "Grace: Hello")
            QTest.keyClick(panel.description, Qt.Key.Key_Z, CTRL | SHIFT)
            await settle(lambda: panel.description.toPlainText() == want, what="the redo")
            await settle(lambda: grace.board.description(review) == want)
            panel.close()

    run(go())


def test_undo_and_redo_in_the_title(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            review = ada.board.ticket("#3").id
            panel = await open_panel(ada, grace, "#3")
            panel.title.setFocus()
            panel.title.end(False)
            QTest.keyClicks(panel.title, " now")
            QTest.keyClick(panel.title, Qt.Key.Key_Z, CTRL)
            assert panel.title.text() == "Review PR"
            assert ada.board.ticket(review).title == "Review PR"
            QTest.keyClick(panel.title, Qt.Key.Key_Z, CTRL | SHIFT)
            assert panel.title.text() == "Review PR now"
            await settle(lambda: grace.board.ticket(review).title == "Review PR now")
            panel.close()

    run(go())
