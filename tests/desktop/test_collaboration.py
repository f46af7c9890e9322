"""Two app windows, each with its own node and data directory, on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from lanban.desktop.column_model import BadgesRole
from lanban.desktop.dialogs import JoinDialog
from lanban.desktop.ticket_dialog import TicketDialog
from lanban.model.board import Board
from lanban.sync.store import Store
from tests.desktop.harness import (
    ADA,
    GRACE,
    App,
    button,
    make_board,
    open_app,
    settle,
    shown,
)

Run = Callable[[Awaitable[Any]], Any]
TICKETS = {"To do": ["Write spec", "Fix login"], "Doing": ["Review PR"]}


@contextlib.asynccontextmanager
async def pair(tmp_path: Path) -> AsyncIterator[tuple[App, App]]:
    ada_dir, grace_dir = tmp_path / "ada", tmp_path / "grace"
    board_id = make_board(Store(ada_dir), tickets=TICKETS)
    with Store(ada_dir).open(board_id) as bf:
        key = bf.key
    Store(grace_dir).add_board(Board(), key=key, board_id=board_id).close()
    async with (
        open_app(ada_dir, ADA) as ada,
        open_app(grace_dir, GRACE, peers=[f"127.0.0.1:{ada.node.address[1]}"]) as grace,
    ):
        await settle(
            lambda: grace.window.current == board_id and len(grace.board.tickets()) == 3,
            what="Grace to get the board",
        )
        await settle(
            lambda: ada.window.presence.count.text().strip() == "2 viewing",
            what="Ada to see Grace",
        )
        yield ada, grace


def test_moves_edits_and_adds_appear_at_once(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            spec = ada.board.ticket("#1").id
            # Grace has a card selected and scrolled; Ada's move must not steal it
            review = grace.board.ticket("#3").id
            grace.column("Doing").view.select_ticket(review)
            ada.board.move_ticket(spec, "Done")
            await settle(lambda: grace.shown("Done") == ["Write spec"], what="the move")
            assert grace.column("Doing").view.current_ticket() == review
            ada.board.edit_ticket(spec, title="Write the spec")
            await settle(lambda: grace.shown("Done") == ["Write the spec"], what="the edit")
            QTest.keyClicks(grace.column("To do").quick_add, "From Grace")
            QTest.keyClick(grace.column("To do").quick_add, Qt.Key.Key_Return)
            await settle(lambda: "From Grace" in ada.shown("To do"), what="the add")
            # a remote change glows for a moment, a local one does not
            model = ada.column("To do").model
            assert (
                model.data(model.index(model.row_of(ada.board.ticket("#4").id)), 0x0100 + 5)
                is not None
            )
            ada.board.delete_ticket("#2")
            await settle(lambda: "Fix login" not in grace.shown("To do"), what="the delete")

    run(go())


def test_presence_bar_toasts_and_status(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            avatars = [a.toolTip() for a in ada.window.presence.avatars()]
            assert avatars[0] == "Ada Lovelace (you)" and avatars[1].startswith("Grace Hopper")
            await settle(lambda: "Grace Hopper joined the board" in ada.window.toasts.messages())
            await settle(
                lambda: ada.window.sync_status.label.text() == "Live (1 peer)",
                what="Live in the status bar",
            )
            await settle(
                lambda: ada.node.status().boards[0].local_changes_not_seen_by_peers == 0,
                what="Ada's changes to count as seen by Grace",
            )
            await grace.node.stop()
            await settle(
                lambda: ada.window.presence.count.text().strip() == "only you",
                seconds=3,
                what="Grace to leave the presence bar",
            )
            assert "Grace Hopper left the board" in ada.window.toasts.messages()
            await settle(lambda: ada.window.sync_status.state != "live", seconds=3)
            ada.board.add_ticket("while alone")
            ada.window.refresh_status()
            text = ada.window.sync_status.label.text()
            # Grace quit normally: calm, with the change that waits for her
            assert text == "No teammates online — 1 change will sync when one is"

    run(go())


def test_editing_badge_and_warning_before_editing(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            review = ada.board.ticket("#3").id
            dialog = grace.window.open_ticket(review)
            assert isinstance(dialog, TicketDialog)
            doing = ada.column("Doing").model
            index = doing.index(doing.row_of(review))
            await settle(
                lambda: (
                    [(p.name, w) for p, w in index.data(BadgesRole)]
                    == [("Grace Hopper", "editing")]
                ),
                what="the editing badge",
            )
            assert "Grace Hopper is editing" in index.data(Qt.ItemDataRole.ToolTipRole)
            # Ada opens it too: she is warned first and picks read-only
            assert ada.window.open_ticket(review) is None  # not yet: she is asked first
            warning = shown(QMessageBox, ada.window)
            assert warning.text() == "Grace Hopper is editing this ticket."
            button(warning, "Open read-only").click()
            assert (ada.board_id, review) in ada.window.dialogs
            mine = ada.window.dialogs[(ada.board_id, review)]
            assert mine.read_only and mine.description.isReadOnly()
            # it says who edits; a view never says "too" (defect 14)
            assert mine.editors_note.text() == "Grace Hopper is editing this ticket."
            mine.close()
            dialog.close()
            await settle(lambda: not index.data(BadgesRole), what="the badge to go")

    run(go())


def test_both_type_in_one_description(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            review = ada.board.ticket("#3").id
            ada.board.edit_ticket(review, description="Hello world")
            await settle(lambda: grace.board.description(review) == "Hello world")
            a = ada.window.open_ticket(review)
            await settle(
                lambda: grace.window.controller().editors(review),  # type: ignore[union-attr]
                what="Grace to see Ada editing",
            )
            assert grace.window.open_ticket(review) is None
            button(shown(QMessageBox, grace.window), "Edit anyway").click()
            assert (grace.board_id, review) in grace.window.dialogs
            g = grace.window.dialogs[(grace.board_id, review)]
            assert isinstance(a, TicketDialog)
            # Ada types at the start, Grace at the end, at the same time
            cursor = a.description.textCursor()
            cursor.setPosition(0)
            a.description.setTextCursor(cursor)
            g_cursor = g.description.textCursor()
            g_cursor.movePosition(QTextCursor.MoveOperation.End)
            g.description.setTextCursor(g_cursor)
            QTest.keyClicks(a.description, "Oh, ")
            QTest.keyClicks(g.description, "! ")
            g.description.insertPlainText("😀")  # as an input method would; QTest cannot type it
            want = "Oh, Hello world! 😀"
            await settle(
                lambda: a.description.toPlainText() == want == g.description.toPlainText(),
                what="both editors to show both edits",
            )
            assert a.description.textCursor().position() == len("Oh, ")
            assert g.description.textCursor().position() == len("Oh, Hello world! ") + 2
            assert ada.board.description(review) == want
            a.close()
            g.close()

    run(go())


def test_ticket_panel_edits_comments_labels_and_trash(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            spec = ada.board.ticket("#1").id
            dialog = ada.window.open_ticket(spec)
            assert isinstance(dialog, TicketDialog)
            dialog.title.setText("Write the spec")
            dialog.title.editingFinished.emit()
            dialog.assignee.open_box()
            QTest.keyClicks(dialog.assignee.box, "Ada")
            QTest.keyClick(dialog.assignee.box, Qt.Key.Key_Return)
            QTest.keyClicks(dialog.comment_input, "Draft is up")
            await settle(
                lambda: any(p.typing == spec for p in grace.window.controller().peers()),
                what="Grace to see Ada typing",
            )
            QTest.keyClick(dialog.comment_input, Qt.Key.Key_Return)
            await settle(
                lambda: [c.text for c in grace.board.ticket(spec).comments] == ["Draft is up"],
                what="the comment at Grace's",
            )
            ticket = grace.board.ticket(spec)
            assert (ticket.title, ticket.assignee) == ("Write the spec", "Ada")
            assert "Created by Ada" in dialog.info.text()
            dialog.delete_button.click()
            await settle(lambda: grace.board.ticket(spec).deleted)
            assert dialog.delete_button.text() == "Restore from trash"
            dialog.delete_button.click()
            await settle(lambda: not grace.board.ticket(spec).deleted)
            dialog.close()

    run(go())


def test_join_with_an_invite_code_and_refuse_a_bad_one(tmp_path: Path, run: Run) -> None:
    ada_dir, bob_dir = tmp_path / "ada", tmp_path / "bob"
    make_board(Store(ada_dir), title="Invited board", tickets=TICKETS)
    Store(bob_dir)

    async def go() -> None:
        async with open_app(ada_dir, ADA) as ada, open_app(bob_dir, GRACE) as bob:
            code = ada.node.invite(ada.board_id).encode()
            errors: list[str] = []
            dialog = bob.window.join_board()
            assert shown(JoinDialog, bob.window) is dialog and dialog.isModal()
            # a damaged code keeps the dialog open with the reason; then a good one
            for text in ("lanban:not-really-a-code", code):
                errors.append(dialog.error.text())
                dialog.code.setPlainText(text)
                button(dialog, "Join board").click()
            assert not dialog.isVisible()
            await settle(lambda: bob.window.current == ada.board_id, what="Bob to open it")
            assert errors[0] == "" and "invite code" in errors[1]
            await settle(lambda: len(bob.board.tickets()) == 3, what="the board to fill in")
            assert bob.window.board_title.text() == "Invited board"

    run(go())
