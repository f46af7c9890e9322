"""Every dialog and menu of the window, as a user answers it (offscreen).

They all open without a nested event loop (window-modal open(), menus by
popup()): the call returns at once and the test answers the dialog it finds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QInputDialog, QMenu, QMessageBox, QToolButton

from lanban.desktop.app_state import Settings
from lanban.desktop.theme import USER_COLORS, Palette, apply_scheme
from lanban.desktop.ticket_dialog import TicketDialog
from lanban.sync.invite import Invite
from lanban.sync.store import Store
from tests.desktop.harness import button, make_board, open_app, settle, shown

Run = Callable[[Awaitable[Any]], Any]
TICKETS = {"To do": ["Write spec", "Fix login", "Plan party"], "Doing": ["Review PR"]}


def action(menu: QMenu, text: str) -> None:
    next(a for a in menu.actions() if a.text() == text).trigger()
    menu.close()


def test_rename_board_from_the_menu_and_the_sidebar(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            window = app.window
            window.rename_board()
            ask = shown(QInputDialog, window)
            assert ask.isModal() and ask.windowTitle() == "Rename board"
            assert ask.textValue() == "Team board"
            ask.setTextValue("Renamed")
            ask.accept()
            assert app.board.title == "Renamed"
            await settle(lambda: window.board_title.text() == "Renamed")
            assert window.windowTitle() == "Renamed — Lanban"
            # the sidebar's context menu pops up (no loop of its own) and works
            rect = window.sidebar.visualRect(window.boards_model.index(0))
            window.sidebar.customContextMenuRequested.emit(rect.center())
            menu = shown(QMenu, window)
            assert [a.text() for a in menu.actions()] == ["Invite…", "Rename…", "Leave…"]
            action(menu, "Rename…")
            ask = shown(QInputDialog, window)
            assert ask.textValue() == "Renamed"
            ask.reject()
            assert app.board.title == "Renamed"

    run(go())


def test_column_menu_sets_the_wip_limit_and_moves_the_column(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            header = app.column("To do").header
            header.menu_button.click()
            menu = shown(QMenu, header)
            assert [a.text() for a in menu.actions() if a.text()] == [
                "Rename",
                "Set WIP limit…",
                "Move left",
                "Move right",
                "Width",
                "Delete column",
            ]
            action(menu, "Set WIP limit…")
            ask = shown(QInputDialog, app.window)
            assert ask.intValue() == 0 and "'To do'" in ask.labelText()
            ask.setIntValue(2)
            ask.accept()
            assert app.board.column("To do").wip_limit == 2
            await settle(lambda: app.column("To do").header.count.text() == "3 / 2")
            header.menu_button.click()
            action(shown(QMenu, header), "Move right")
            await settle(lambda: [c.title for c in app.board.columns()][:2] == ["Doing", "To do"])
            assert [w.column.title for w in app.view().column_widgets()][:2] == ["Doing", "To do"]

    run(go())


def test_leave_board_asks_first(tmp_path: Path, run: Run) -> None:
    store = Store(tmp_path)
    board_id = make_board(store, tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            app.window.leave_board()
            box = shown(QMessageBox, app.window)
            assert "Delete 'Team board'?" in box.text()  # nobody else has it
            button(box, "Cancel").click()
            assert app.window.current == board_id and board_id in store.board_ids()
            app.window.leave_board()
            button(shown(QMessageBox, app.window), "Delete board").click()
            await settle(lambda: app.window.boards_model.rowCount() == 0)
            assert app.window.current is None and board_id not in store.board_ids()
            assert app.window.board_title.text() == ""

    run(go())


def test_new_board_invite_and_about(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            dialog = app.window.new_board()
            assert shown(type(dialog), app.window) is dialog and dialog.isModal()
            dialog.title.setText("Launch")
            dialog.columns.setText("Ideas, Doing")
            button(dialog, "Create board").click()
            await settle(lambda: app.window.board_title.text() == "Launch")
            assert [w.column.title for w in app.view().column_widgets()] == ["Ideas", "Doing"]
            assert app.window.boards_model.rowCount() == 2

            invite = app.window.invite()
            assert invite is not None and invite.windowTitle() == "Invite to Launch"
            code = invite.code.toPlainText()
            assert Invite.decode(code).board_id == app.board_id
            button(invite, "Copy").click()
            assert QGuiApplication.clipboard().text() == code
            button(invite, "Close").click()
            assert not invite.isVisible()

            about = app.window.about()
            assert "Boards sync peer to peer" in about.text() and about.isModal()
            button(about, "OK").click()
            assert not about.isVisible()

    run(go())


def test_trash_and_status_messages(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            window = app.window
            window.redo()
            assert window.statusBar().currentMessage() == "Nothing to redo"
            todo = app.column("To do").view
            todo.select_ticket(app.board.ticket("#1").id)
            window.delete_current()
            assert window.statusBar().currentMessage() == (
                "#1 moved to the trash (Undo brings it back)"
            )
            trash = window.show_trash()
            assert trash is not None and shown(type(trash), window) is trash
            assert trash.list.item(0).text() == "#1  Write spec"
            trash.list.setCurrentRow(0)
            trash.restore_button.click()
            assert not app.board.ticket("#1").deleted
            assert trash.list.item(0).text() == "The trash is empty."
            button(trash, "Close").click()
            assert "Write spec" in app.shown("To do")

    run(go())


def test_peers_dialog_adds_a_peer_and_refuses_a_bad_address(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            dialog = app.window.show_peers()
            assert dialog.isModal()
            summary = dialog.summary.text()
            assert "You are Ada Lovelace; this computer listens on 127.0.0.1:" in summary
            assert "LAN discovery is off" in summary
            dialog.add_button.click()
            ask = shown(QInputDialog, dialog)
            ask.setTextValue("not an address")
            ask.accept()
            assert dialog.isVisible() and dialog.error.isVisible() and dialog.error.text()
            assert app.window.error_bar.text() == ""  # shown in place, not behind the dialog
            dialog.add_peer("127.0.0.1:9")
            assert not dialog.error.isVisible()
            button(dialog, "Close").click()
            assert not dialog.isVisible()

    run(go())


def test_settings_change_name_colour_relay_and_theme_everywhere(
    tmp_path: Path, run: Run, qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LANBAN_THEME", raising=False)
    store = Store(tmp_path)
    make_board(store, tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            dialog = app.window.edit_settings()
            assert dialog.isModal() and dialog.windowTitle() == "Settings"
            assert dialog.name.text() == "Ada Lovelace"
            dialog.name.setText("Ada King")
            dialog.colors.group.button(USER_COLORS.index("#4caf50")).click()
            dialog.relay.setText("http://relay.example")
            button(dialog, "Save").click()
            assert dialog.isVisible() and "ws://" in dialog.error.text()
            dialog.relay.setText("ws://127.0.0.1:9")
            assert dialog.theme.currentText() == "Same as the system" and not Palette().dark
            dialog.theme.setCurrentText("Dark")
            try:
                button(dialog, "Save").click()
                assert not dialog.isVisible()
                assert Palette().dark
                await settle(
                    lambda: Palette().column.name() in app.column("To do").styleSheet(),
                    what="the board to go dark",
                )
                assert Settings.load(Store(tmp_path)).theme == "dark"  # the next start too
            finally:
                apply_scheme(qapp, None)
            identity = store.identity()
            assert (identity.name, identity.color) == ("Ada King", "#4caf50")
            assert store.settings()["relay"] == "ws://127.0.0.1:9"
            me = app.window.presence.avatars()[0]
            assert me.toolTip() == "Ada King (you)" and me.color.name() == "#4caf50"
            ticket = app.board.add_ticket("Signed anew")
            assert app.board.ticket(ticket).created_by == "Ada King"
            peers = app.window.show_peers()
            assert "You are Ada King;" in peers.summary.text()
            peers.reject()

    run(go())


def test_ticket_panel_adds_a_label_and_shows_refusals_in_place(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            spec = app.board.ticket("#1").id
            panel = app.window.open_ticket(spec)
            assert isinstance(panel, TicketDialog)
            add = next(b for b in panel.findChildren(QToolButton) if b.text() == "+ Label")
            add.click()
            ask = shown(QInputDialog, panel)
            assert ask.windowTitle() == "New label"
            ask.setTextValue("urgent")
            ask.accept()
            labels = {lb.id: lb.name for lb in app.board.labels()}
            assert [labels[x] for x in app.board.ticket(spec).labels] == ["urgent"]
            await settle(
                lambda: any(
                    b.text() == "urgent" and b.isChecked() for b in panel.findChildren(QToolButton)
                ),
                what="the new label's chip, on",
            )
            panel.title.setText("x" * 600)
            panel.title.editingFinished.emit()
            assert "too long" in panel.error_note.text() and not panel.error_note.isHidden()
            assert app.board.ticket(spec).title == "Write spec"
            assert app.window.error_bar.text() == ""
            panel.close()

    run(go())
