"""The boards of the window (issue 10, defects 6, 9 and 10): the sidebar keeps the
board you look at selected whatever changes elsewhere, the app comes back where you
left it, equal titles are told apart, renumbered tickets are announced, and the
new-board, join and leave dialogs say what is true."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QInputDialog, QMainWindow, QMessageBox

from lanban.desktop.boards_model import BoardsModel
from lanban.model.board import Board
from lanban.sync.store import Store
from tests.desktop.harness import (
    App,
    button,
    make_board,
    open_app,
    pause_events,
    settle,
    shown,
)
from tests.support import timeout

Run = Callable[[Awaitable[Any]], Any]
ROOT = Path(__file__).resolve().parents[2]


def lanban(data_dir: Path, *args: str) -> str:
    """The real command line, as a user runs it in a terminal beside the app."""
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    }
    done = subprocess.run(
        [sys.executable, "-m", "lanban.desktop.cli", "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout(60),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def selected_board(app: App) -> str | None:
    """The board the sidebar shows selected (current and selected), if any."""
    sidebar = app.window.sidebar
    index = sidebar.currentIndex()
    if not index.isValid() or not sidebar.selectionModel().isSelected(index):
        return None
    value = index.data(BoardsModel.IdRole)
    return value if isinstance(value, str) else None


def sidebar_texts(app: App) -> list[str]:
    model = app.window.boards_model
    return [str(model.index(row).data()) for row in range(model.rowCount())]


# ------------------------------------------------------------------ defect 6


def test_the_selection_stays_when_the_command_line_adds_or_renames_boards(
    tmp_path: Path, run: Run
) -> None:
    middle = make_board(Store(tmp_path), title="Middle")

    async def go() -> None:
        async with open_app(tmp_path) as app:
            assert selected_board(app) == middle
            # a board created elsewhere sorts first: it neither steals nor drops the selection
            await asyncio.to_thread(lanban, tmp_path, "board", "create", "Aardvark")
            await settle(lambda: app.window.boards_model.rowCount() == 2, what="the new board")
            await pause_events()
            assert sidebar_texts(app) == ["Aardvark", "Middle"]
            assert selected_board(app) == middle and app.window.current == middle
            # renamed elsewhere, it moves in the list and stays selected
            await asyncio.to_thread(lanban, tmp_path, "board", "rename", middle, "AAA first")
            await settle(
                lambda: sidebar_texts(app) == ["AAA first", "Aardvark"],
                what=f"rename: {sidebar_texts(app)} {app.board.title}",
            )
            await pause_events()
            assert selected_board(app) == middle
            assert app.window.board_title.text() == "AAA first"
            # a board created and left elsewhere: still the same selection
            other = await asyncio.to_thread(lanban, tmp_path, "board", "create", "0 zero")
            await settle(lambda: app.window.boards_model.rowCount() == 3, what="another board")
            await asyncio.to_thread(lanban, tmp_path, "board", "leave", other)
            await settle(lambda: app.window.boards_model.rowCount() == 2, what="it to go")
            await pause_events()
            assert selected_board(app) == middle
            # a board the window has not opened, renamed elsewhere, moves in the list too
            await asyncio.to_thread(lanban, tmp_path, "board", "rename", "Aardvark", "0 first")
            await settle(lambda: sidebar_texts(app) == ["0 first", "AAA first"], what="its rename")
            await pause_events()
            assert selected_board(app) == middle

    run(go())


def test_the_app_reopens_the_last_board_where_its_window_was(tmp_path: Path, run: Run) -> None:
    store = Store(tmp_path)
    make_board(store, title="Alpha")
    beta = make_board(store, title="Beta")
    place = QRect(30, 40, 640, 480)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            window = app.window
            window.sidebar.setCurrentIndex(window.boards_model.index(1))
            assert window.current == beta
            window.setGeometry(place)
            await pause_events()
        async with open_app(tmp_path) as app:
            assert app.window.current == beta and selected_board(app) == beta
            assert app.window.geometry() == place and not app.window.isMaximized()
            app.window.showMaximized()
            await settle(app.window.isMaximized, what="maximized")
        async with open_app(tmp_path) as app:
            assert app.window.isMaximized()
            app.window.showNormal()
            await settle(lambda: not app.window.isMaximized(), what="not maximized")
            assert app.window.normalGeometry() == place

    run(go())


def test_a_window_saved_on_a_monitor_that_is_gone_opens_on_screen(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), title="Alpha")
    elsewhere = QMainWindow()
    elsewhere.setGeometry(5000, 4000, 640, 480)  # a second monitor, since unplugged
    Store(tmp_path).set_settings(
        window=base64.b64encode(bytes(elsewhere.saveGeometry().data())).decode("ascii")
    )
    elsewhere.deleteLater()

    async def go() -> None:
        async with open_app(tmp_path) as app:
            await pause_events()
            screen = QGuiApplication.primaryScreen().availableGeometry()
            assert screen.contains(app.window.geometry().topLeft())
            assert app.window.geometry().size().width() == 640

    run(go())


# ------------------------------------------------------------------ defect 9


def test_boards_with_one_title_are_told_apart_in_the_sidebar(tmp_path: Path, run: Run) -> None:
    store = Store(tmp_path)
    mine = make_board(store, title="Team")
    unique = make_board(store, title="Other")
    # Grace's boards "Team" and "Plans", joined here: their owner is Grace
    grace_store = Store(tmp_path / "grace")
    grace_store.set_user("Grace Hopper", "#03a9f4")
    graces = []
    for title in ("team", "Plans", "PLANS"):
        with grace_store.create_board(title, actor="Grace Hopper") as bf:
            store.add_board(Board.from_update(bf.board.get_update()), key=bf.key).close()
            graces.append(bf.board_id)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            texts = sidebar_texts(app)
            assert "Other" in texts
            # whose board it is where that tells them apart, else the start of the id
            assert f"Team — {mine[:6]}" in texts
            assert "team — from Grace Hopper" in texts
            assert f"Plans — from Grace Hopper · {graces[1][:6]}" in texts
            assert f"PLANS — from Grace Hopper · {graces[2][:6]}" in texts
            model = app.window.boards_model
            row = model.row_of(unique)
            assert model.index(row).data(BoardsModel.SuffixRole) == ""
            # a new board may take a title another has: the dialog says what will happen
            dialog = app.window.new_board()
            dialog.title.setText("other")
            assert dialog.message.isVisible() and "already have a board called" in (
                dialog.message.text()
            )
            dialog.title.setText("Launch")
            assert not dialog.message.isVisible()
            dialog.title.setText("OTHER ")
            button(dialog, "Create board").click()
            await settle(lambda: model.rowCount() == 6, what="the new board")
            assert len(model.titled("other")) == 2
            assert all(" — " in t for t in sidebar_texts(app) if t.casefold().startswith("other"))
            # renaming onto a taken title works, and says the sidebar tells them apart
            app.window.rename_board()
            ask = shown(QInputDialog, app.window)
            ask.setTextValue("Team")
            ask.accept()
            await settle(lambda: len(model.titled("team")) == 3, what="the rename")
            assert any(
                "Another board is also called 'Team'" in m for m in app.window.toasts.messages()
            )

    run(go())


def test_a_ticket_renumbered_by_a_merge_is_announced(tmp_path: Path, run: Run) -> None:
    store = Store(tmp_path)
    make_board(store, title="Team", tickets={"To do": ["Write spec", "Plan party"]})

    async def go() -> None:
        async with open_app(tmp_path) as app:
            board = app.board
            # Grace's copy, apart since now: she adds #3 first (an earlier clock)
            graces = Board(actor="Grace Hopper", clock=lambda: 1, board_id=board.id)
            graces.apply_update(board.get_update())
            graces.add_ticket("Grace's idea", "To do")
            mine = board.add_ticket("Fix login", "To do")
            await settle(lambda: "Fix login" in app.shown("To do"), what="my card")
            assert board.ticket(mine).number == 3 and not app.window.toasts.messages()
            board.apply_update(graces.get_update(board.doc.get_state()))
            assert board.ticket(mine).number == 4
            await settle(lambda: app.window.toasts.messages(), what="the notice")
            (notice,) = app.window.toasts.messages()
            assert notice == (
                "#3 'Fix login' is now #4: merged with Grace Hopper's copy, whose #3 came first"
            )
            # a ticket edit or move later says nothing more
            board.move_ticket(mine, "Doing")
            board.apply_update(graces.get_update(board.doc.get_state()))
            await pause_events()
            assert app.window.toasts.messages() == [notice]

    run(go())


# ----------------------------------------------------------------- defect 10


def test_a_new_board_needs_a_title_and_the_dialog_says_so(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), title="Team")

    async def go() -> None:
        async with open_app(tmp_path) as app:
            dialog = app.window.new_board()
            for title in ("", "   "):
                dialog.title.setText(title)
                button(dialog, "Create board").click()
                assert dialog.isVisible(), "the dialog stays open"
                assert dialog.message.isVisible()
                assert dialog.message.text() == "Please give the board a title."
            assert app.window.boards_model.rowCount() == 1
            dialog.title.setText("Launch")
            assert not dialog.message.isVisible()
            button(dialog, "Create board").click()
            assert not dialog.isVisible()
            await settle(lambda: app.window.board_title.text() == "Launch")

    run(go())


def test_joining_a_board_you_have_says_so_and_selects_it(tmp_path: Path, run: Run) -> None:
    store = Store(tmp_path)
    team = make_board(store, title="Team")
    make_board(store, title="Another")

    async def go() -> None:
        async with open_app(tmp_path) as app:
            assert app.window.current != team  # "Another" sorts first
            code = app.node.invite(team).encode()
            dialog = app.window.join_board()
            dialog.code.setPlainText(code)
            button(dialog, "Join board").click()
            assert not dialog.isVisible()
            assert app.window.current == team and selected_board(app) == team
            assert "You already have 'Team': here it is." in app.window.toasts.messages()
            assert app.window.boards_model.rowCount() == 2

    run(go())


def test_leaving_says_whether_anyone_else_has_the_board(tmp_path: Path, run: Run) -> None:
    store = Store(tmp_path)
    solo = make_board(store, title="Solo")
    # a board joined from Grace: she has it
    grace_store = Store(tmp_path / "grace")
    with grace_store.create_board("Shared", actor="Grace Hopper") as bf:
        store.add_board(Board.from_update(bf.board.get_update()), key=bf.key).close()
        shared = bf.board_id

    async def go() -> None:
        async with open_app(tmp_path) as app:
            window = app.window
            window.show_board(solo)
            box = window.leave_board()
            assert box is not None and shown(QMessageBox, window) is box
            assert box.text() == "Delete 'Solo'?"
            said = box.informativeText()
            assert "This board exists only on this computer" in said
            assert "deletes it for good" in said and "Teammates" not in said
            assert "invited" not in said
            button(box, "Cancel").click()
            assert solo in store.board_ids()
            # invited, but nobody has it yet: still only here, and it says so
            invite = window.invite()
            assert invite is not None
            invite.reject()
            box = window.leave_board()
            assert box is not None and box.text() == "Delete 'Solo'?"
            assert "Nobody you invited has received it yet." in box.informativeText()
            button(box, "Cancel").click()

            window.show_board(shared)
            box = window.leave_board()
            assert box is not None
            assert box.text() == "Stop keeping 'Shared' on this computer?"
            said = box.informativeText()
            assert said == "Teammates keep their copies; you can rejoin with an invite."
            button(box, "Leave board").click()
            await settle(lambda: shared not in store.board_ids(), what="Shared to go")
            assert window.current == solo and selected_board(app) == solo

            box = window.leave_board()
            assert box is not None
            button(box, "Delete board").click()
            await settle(lambda: window.boards_model.rowCount() == 0, what="Solo to go")
            assert window.current is None and solo not in store.board_ids()

    run(go())
