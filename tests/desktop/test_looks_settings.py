"""Issue 10, Looks and Settings: questions with verb buttons (never Yes/No),
resizable columns that stay as sized, the empty window, styled scroll bars in
both themes, and settings that reach peers at once and are remembered."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from lanban.desktop.column_grip import COLUMN_MAX_WIDTH, COLUMN_MIN_WIDTH, COLUMN_RESIZE_MAX
from lanban.desktop.dialogs import IdentityDialog, JoinDialog, NewBoardDialog
from lanban.desktop.question import Question
from lanban.desktop.theme import Palette, apply_scheme, scrollbar_sheet
from lanban.sync.store import Store
from tests.desktop.harness import button, make_board, open_app, pause_events, settle, shown
from tests.desktop.test_collaboration import pair

Run = Callable[[Awaitable[Any]], Any]
DESKTOP = Path(__file__).resolve().parents[2] / "desktop"
TICKETS = {"To do": ["Write spec", "Fix login"], "Doing": ["Review PR"]}


def test_no_question_in_the_app_is_a_bare_yes_or_no() -> None:
    bare = re.compile(r"StandardButton\.(Yes|No)\b|QMessageBox\.question")
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted(DESKTOP.glob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if bare.search(line)
    ]
    assert found == []


def test_deleting_a_column_asks_with_buttons_that_say_what_they_do(
    tmp_path: Path, run: Run
) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    def delete_from_menu(header: Any) -> Question:
        header.menu_button.click()
        menu = shown(QMenu, header)
        next(a for a in menu.actions() if a.text() == "Delete column").trigger()
        menu.close()
        return shown(Question, app_window[0])

    app_window: list[Any] = []

    async def go() -> None:
        async with open_app(tmp_path) as app:
            app_window.append(app.window)
            question = delete_from_menu(app.column("To do").header)
            assert question.isModal() and question.windowTitle() == "Delete column"
            assert "'To do'" in question.text() and "2 tickets" in question.informativeText()
            texts = sorted(b.text() for b in question.buttons())
            assert texts == ["Delete column", "Keep column"]
            assert question.defaultButton() is question.keep_button  # Enter keeps it
            assert question.escapeButton() is question.keep_button
            button(question, "Keep column").click()
            await pause_events()
            assert [c.title for c in app.board.columns()] == ["To do", "Doing", "Done"]
            question = delete_from_menu(app.column("To do").header)
            button(question, "Delete column").click()
            await settle(lambda: [c.title for c in app.board.columns()] == ["Doing", "Done"])

    run(go())


def test_a_column_resized_by_its_edge_keeps_its_width(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    def drag(grip: Any, dx: int) -> None:
        start = QPoint(grip.width() // 2, grip.height() // 2)
        QTest.mousePress(grip, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        QTest.mouseMove(grip, start + QPoint(dx, 0))  # (the grip moves with the edge)
        QTest.mouseRelease(
            grip, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(dx, 0)
        )

    async def go() -> None:
        async with open_app(tmp_path) as app:
            app.window.resize(1400, 800)
            column = app.column("Doing")
            await settle(lambda: column.width() > COLUMN_MIN_WIDTH)
            before = column.width()
            grip = column.grip
            assert grip.isVisible() and grip.geometry().right() == column.width() - 1
            drag(grip, 150)
            await settle(lambda: column.width() == min(before + 150, COLUMN_RESIZE_MAX))
            wide = column.width()
            drag(grip, -2000)  # never narrower than the minimum
            await settle(lambda: column.width() == COLUMN_MIN_WIDTH)
            drag(grip, wide - COLUMN_MIN_WIDTH)
            await settle(lambda: column.width() == wide)
            column_id = column.column.id
        async with open_app(tmp_path) as app:  # the next start: as the user left it
            app.window.resize(1400, 800)
            column = app.column("Doing")
            assert column.column.id == column_id
            await settle(lambda: column.width() == wide, what="the saved width")
            QTest.mouseDClick(column.grip, Qt.MouseButton.LeftButton)
            await settle(lambda: column.maximumWidth() == COLUMN_MAX_WIDTH, what="natural")
            assert app.window.settings.column_widths(app.board_id) == {}

            def width() -> int:
                app.view().strip.layout_.activate()  # laid out now, not later
                return column.width()

            natural = width()
            assert natural != wide

            def width_menu(choice: str) -> None:  # the keyboard's way (Menu key, Width)
                header = column.header
                menu = header.show_menu()
                sub = next(a for a in menu.actions() if a.text() == "Width").menu()
                next(a for a in sub.actions() if a.text() == choice).trigger()
                menu.close()

            width_menu("Wider")
            await settle(lambda: width() == natural + 40, what="wider")
            assert app.window.settings.column_widths(app.board_id) == {column_id: natural + 40}
            for _ in range(20):
                width_menu("Narrower")
            await settle(lambda: column.width() == COLUMN_MIN_WIDTH, what="narrowest")
            width_menu("Usual width")
            await settle(lambda: width() == natural, what="the usual width")
            assert app.window.settings.column_widths(app.board_id) == {}

    run(go())


def test_an_empty_column_says_what_to_do(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            done = app.column("Done").view
            assert done.empty_text() == "No tickets yet"
            assert done.empty_hint() == "Drag a card here, or add one below"
            assert app.column("To do").view.empty_hint() == ""
            app.window.search.setText("login")
            await settle(lambda: app.column("Doing").view.empty_text() == "None of 1 match")
            assert app.column("Doing").view.empty_hint() == "Change or clear the filter to see it"
            app.column("Done").set_read_only("viewer")  # nothing to add: no hint to add
            assert done.empty_hint() == ""

    run(go())


def test_an_empty_window_says_what_to_do(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with open_app(tmp_path) as app:
            window = app.window
            assert window.stack.currentWidget() is window.empty
            assert "join one with the invite code" in window.empty.text.text()
            button(window.empty, "Create a board…").click()
            dialog = shown(NewBoardDialog, window)
            dialog.reject()
            button(window.empty, "Join with an invite…").click()
            shown(JoinDialog, window).reject()

    run(go())


def test_settings_open_with_ctrl_comma_and_name_and_colour_reach_a_peer_at_once(
    tmp_path: Path, run: Run
) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            actions = ada.window.findChildren(QAction)
            settings = next(a for a in actions if a.text() == "&Settings…")
            assert settings.shortcut() == QKeySequence("Ctrl+,")
            settings.trigger()
            assert grace.view().people.color("Ada Lovelace") == QColor("#e91e63")
            dialog = shown(IdentityDialog, ada.window)
            dialog.name.setText("Ada King")
            dialog.colors.group.button(5).click()  # "#4caf50"
            for bad, said in (
                ("relay.example:1234", "ws://"),
                ("ws://", "ws://host:port"),
                ("ws://relay.example:port", "not a number"),
            ):
                dialog.relay.setText(bad)
                button(dialog, "Save").click()
                assert dialog.isVisible() and said in dialog.error.text(), bad
            dialog.relay.setText("ws://127.0.0.1:9")
            dialog.token.setText("s3cret")
            button(dialog, "Save").click()
            assert not dialog.isVisible()
            assert (ada.node.options.relay, ada.node.options.relay_token) == (
                "ws://127.0.0.1:9",
                "s3cret",
            )  # the node uses it now

            def grace_sees() -> bool:
                peers = grace.window.controller().peers()  # type: ignore[union-attr]
                return any(p.name == "Ada King" and p.color == "#4caf50" for p in peers)

            await settle(grace_sees, what="Grace to see Ada's new name and colour")
            tips = [a.toolTip() for a in grace.window.presence.avatars()]
            assert any(t.startswith("Ada King") for t in tips)
            # a card assigned to her shows her avatar in her new colour
            assert grace.view().people.color("Ada King") == QColor("#4caf50")

    run(go())


def test_theme_switch_restyles_everything_live_and_is_remembered(
    tmp_path: Path, run: Run, qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LANBAN_THEME", raising=False)
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            light_sheet = qapp.styleSheet()
            assert light_sheet == scrollbar_sheet(Palette()) and not Palette().dark
            assert "add-page, QScrollBar::sub-page { background: transparent" in light_sheet
            try:
                app.window.settings.set_theme("dark")
                await settle(lambda: Palette().dark, what="a dark palette")
                assert qapp.styleSheet() == scrollbar_sheet(Palette()) != light_sheet
                await settle(
                    lambda: Palette().column.name() in app.column("To do").styleSheet(),
                    what="the board to go dark",
                )
                assert Store(tmp_path).settings()["theme"] == "dark"
                app.window.settings.set_theme(None)
                await settle(lambda: not Palette().dark, what="the system's light again")
                assert qapp.styleSheet() == light_sheet
                assert "theme" not in Store(tmp_path).settings()
            finally:
                apply_scheme(qapp, None)

    run(go())
