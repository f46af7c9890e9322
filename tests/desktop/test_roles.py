"""A viewer sees the board read-only; the board's problems and ignored data show (offscreen)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Map
from PySide6.QtCore import QMimeData, QPoint, Qt
from PySide6.QtTest import QTest

from lanban.desktop.column_model import TICKET_MIME
from lanban.desktop.controller import read_only_reason
from lanban.desktop.node_facade import BoardStatus
from lanban.model.board import Board
from lanban.model.members import Access, Grant, Role, add_member, set_access, write_grant
from lanban.sync.member_signing import next_version, signed
from lanban.sync.store import Store
from tests.desktop.harness import make_board, open_app, send_drag, settle

Run = Callable[[Awaitable[Any]], Any]

TICKETS = {"To do": ["Write spec", "Fix login"], "Doing": ["Review PR"]}
VIEWER = "You can view this board, not change it: you were invited as a viewer."


def members_board(store: Store, role: Role) -> str:
    """A members-only board on which this node's member has ``role``: made by another
    node, its owner (an owner stays the owner), and copied here as a sync would."""
    owner = Store(store.root.parent / f"{store.root.name}-owner")
    board_id = make_board(owner, tickets=TICKETS)
    with owner.open(board_id) as bf:
        add_member(bf.board, store.signing_key().member_id, role=role)
        set_access(bf.board, Access.MEMBERS)
        state, key = bf.board.get_update(), bf.key
    store.add_board(Board.from_update(state), key=key, board_id=board_id).close()
    return board_id


def owner_makes(store: Store, board: Board, role: Role) -> None:
    """The owner's signed change of this node's role, arriving as a peer's would."""
    owner = Store(store.root.parent / f"{store.root.name}-owner")
    me = store.signing_key().member_id
    version = next_version(None, board, me)
    change = signed(owner.signing_key(), board.id, me, Grant(role, False, "", version, ""))
    write_grant(board, me, change)


def test_why_a_board_is_read_only() -> None:
    assert read_only_reason(False, Role.VIEWER, False) == ""  # an open board: all write
    assert read_only_reason(True, Role.EDITOR, False) == ""
    assert read_only_reason(True, Role.VIEWER, False) == VIEWER
    assert "removed" in read_only_reason(True, Role.EDITOR, True)
    assert "until a member lets you in" in read_only_reason(True, None, False)


def test_a_viewer_sees_the_board_read_only_until_made_an_editor(tmp_path: Path, run: Run) -> None:
    store = Store(tmp_path)
    members_board(store, Role.VIEWER)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            notes = app.window.board_notes
            await settle(lambda: notes.texts(), what="the read-only banner")
            assert notes.texts() == [VIEWER] and notes.isVisible()
            todo = app.column("To do")
            assert todo.quick_add.isHidden()
            assert not todo.view.dragEnabled()
            assert not app.view().add_column_button.isEnabled()
            spec = app.board.ticket("#1").id

            # Ctrl+arrows and drops are refused with the reason; the board stays as it was
            todo.view.select_ticket(spec)
            QTest.keyClick(todo.view, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
            assert app.shown("To do") == ["Write spec", "Fix login"]
            assert app.window.error_bar.text() == VIEWER
            doing = app.column("Doing").view
            mime = QMimeData()
            mime.setData(
                TICKET_MIME, json.dumps({"board": app.board_id, "tickets": [spec]}).encode()
            )
            top = doing.visualRect(doing.model().index(0)).topLeft() + QPoint(20, 8)
            assert not send_drag(doing.viewport(), mime, top)
            assert app.shown("Doing") == ["Review PR"]

            # the ticket panel opens read-only
            dialog = app.window.open_ticket(spec)
            assert dialog is not None and dialog.read_only
            assert dialog.title.isReadOnly() and dialog.description.isReadOnly()
            assert "(read-only)" in dialog.windowTitle()
            dialog.close()

            # made an editor (by anyone, e.g. an owner's change arriving): editable again
            owner_makes(store, app.board, Role.EDITOR)
            await settle(lambda: not notes.isVisible(), what="the banner to go")
            assert not todo.quick_add.isHidden() and todo.view.dragEnabled()
            QTest.keyClick(todo.view, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
            assert app.shown("To do") == ["Fix login", "Write spec"]

            # a viewer again: an open panel turns read-only; undoing that move is refused
            mine = app.board.add_comment(spec, "Mine")
            panel = app.window.open_ticket(spec)
            assert panel is not None and not panel.title.isReadOnly()
            assert panel.markdown.editing and panel.comments.actions_for(mine)
            owner_makes(store, app.board, Role.VIEWER)
            await settle(lambda: notes.isVisible(), what="the banner to come back")
            assert panel.read_only and panel.description.isReadOnly()
            # and so do its richer parts (issue 11)
            assert panel.assignee.isReadOnly() and panel.due.isReadOnly()
            assert panel.checklist.add_box.isHidden() and not panel.markdown.editing
            assert panel.comments.actions_for(mine) == []
            labels = app.window.show_labels()  # Board > Labels: a list, nothing to change
            assert labels is not None and labels.read_only and labels.editors.isHidden()
            labels.close()
            app.window.error_bar.hide()
            app.window.undo()
            assert app.window.error_bar.text() == VIEWER
            assert app.shown("To do") == ["Fix login", "Write spec"]

    run(go())


def test_an_editor_on_a_members_board_edits(tmp_path: Path, run: Run) -> None:
    members_board(Store(tmp_path), Role.EDITOR)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            todo = app.column("To do")
            assert todo.quick_add.isEnabled() and not app.window.board_notes.texts()
            todo.quick_add.setText("New one")
            QTest.keyClick(todo.quick_add, Qt.Key.Key_Return)
            assert app.shown("To do")[-1] == "New one"

    run(go())


def test_the_boards_problem_shows_under_its_title(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk is made for real in tests/sync/test_store_damage.py; here the
    # node's status carries the sentence it makes, and the window must show it.
    make_board(Store(tmp_path))
    problem = "not saved: 2 changes only in memory, x.lanban cannot be written (full)"

    async def go() -> None:
        async with open_app(tmp_path) as app:
            facade = app.window.node
            real = facade.board_status

            def with_problem(board_id: str) -> BoardStatus | None:
                status = real(board_id)
                return status and dataclasses.replace(status, problem=problem)

            monkeypatch.setattr(facade, "board_status", with_problem)
            app.window.refresh_status()
            notes = app.window.board_notes
            assert notes.texts() == ["N" + problem[1:]] and notes.isVisible()
            assert "#e5484d" in notes.problem.styleSheet()  # the warning colour
            monkeypatch.setattr(facade, "board_status", real)
            app.window.refresh_status()
            assert not notes.isVisible()

    run(go())


def test_ignored_parts_of_the_board_are_told_once(tmp_path: Path, run: Run) -> None:
    store = Store(tmp_path)
    board_id = make_board(store, tickets=TICKETS)
    with store.open(board_id) as bf:
        bf.board.doc.get("tickets", type=Map)["not-a-ticket"] = 5  # as a broken peer might
        summary = bf.board.ignored().summary()
    assert summary

    async def go() -> None:
        async with open_app(tmp_path) as app:
            assert app.window.statusBar().currentMessage() == summary
            shown: list[str] = []
            app.window.messages.info.connect(lambda text, _ms: shown.append(text))
            other = app.window.node.create_board("Other")
            app.window.show_board(other)
            app.window.show_board(board_id)
            assert summary not in shown

    run(go())
