"""Members and access in the app (issue 9): invites with a role, switching a board to
members mode, the Members dialog, and removing a member from it (offscreen, real
nodes on loopback as test_roles.py and tests/sync/test_remove_member.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from lanban.desktop.invite_dialog import InviteDialog
from lanban.desktop.members_dialog import MembersDialog
from lanban.model.board import Board
from lanban.model.members import (
    Access,
    Role,
    access,
    add_member,
    invite_entry,
    member,
    remove_member,
    role_of,
    set_access,
)
from lanban.sync.invite import Invite
from lanban.sync.key_delivery import member_kex
from lanban.sync.node import Node
from lanban.sync.store import Store
from tests.desktop.harness import App, button, make_board, open_app, settle, shown
from tests.desktop.test_accessibility import unnamed
from tests.support import async_wait_until
from tests.sync.nodes import peer_of, running

Run = Callable[[Awaitable[Any]], Any]


def team(tmp_path: Path, *names: str, mode: Access = Access.OPEN) -> tuple[str, dict[str, Store]]:
    """A board made by the first store (the app's), the others its editors."""
    stores = {n: Store(tmp_path / n) for n in names}
    with stores[names[0]].create_board("Team", ["To do"], actor=names[0]) as bf:
        board_id, key = bf.board_id, bf.key
        for name in names[1:]:
            add_member(bf.board, stores[name].identity().member_id, name=name, role=Role.EDITOR)
        set_access(bf.board, mode)
        state = bf.board.get_update()
    for name in names[1:]:
        stores[name].add_board(Board.from_update(state), key=key, board_id=board_id).close()
    return board_id, stores


def fake_id(name: str) -> str:
    """A member id in form, for an entry whose computer never runs here."""
    return (name[:1].upper() + name.encode().hex())[:43].ljust(43, "0")


def given_board(
    app_dir: Path,
    role: Role | None,
    others: dict[str, Role] | None = None,
    mode: Access = Access.MEMBERS,
) -> str:
    """A board made by Olga (its owner, another computer) with this app's computer as
    ``role`` (None: the app makes the board and owns it) and ``others`` on the list."""
    app_store = Store(app_dir)
    maker = app_store if role is None else Store(app_dir.parent / f"{app_dir.name}-olga")
    # no saved name and none given: Olga's computer's entry has no name (shown by its id)
    with maker.create_board("Team board", ["To do", "Doing"], actor="") as bf:
        board_id, key = bf.board_id, bf.key
        if role is not None:
            me = app_store.signing_key().member_id
            add_member(bf.board, me, name="Ada Lovelace", color="#e91e63", role=role)
        for name, their_role in (others or {}).items():
            add_member(bf.board, fake_id(name), name=name, color="#03a9f4", role=their_role)
        set_access(bf.board, mode)
        state = bf.board.get_update()
    if role is not None:
        app_store.add_board(Board.from_update(state), key=key, board_id=board_id).close()
    return board_id


def invite_dialog(app: App) -> InviteDialog:
    dialog = app.window.invite()
    assert isinstance(dialog, InviteDialog) and shown(InviteDialog, app.window) is dialog
    return dialog


def members_dialog(app: App) -> MembersDialog:
    dialog = app.window.board_actions.members()
    assert isinstance(dialog, MembersDialog) and shown(MembersDialog, app.window) is dialog
    return dialog


def test_the_invite_dialog_offers_a_role_and_the_code_carries_it(tmp_path: Path, run: Run) -> None:
    given_board(tmp_path, None)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            dialog = invite_dialog(app)
            editor = dialog.role_buttons[Role.EDITOR]
            viewer = dialog.role_buttons[Role.VIEWER]
            assert editor.isVisible() and viewer.isVisible() and editor.isChecked()
            assert not dialog.members_only_button.isVisible()
            code = Invite.decode(dialog.current_code())
            assert code.board_id == app.board_id and code.role == "editor"
            assert "as an editor" in dialog.note.text()
            button(dialog, "Can view — see the board and who is on it; change nothing").click()
            code = Invite.decode(dialog.current_code())
            assert code.role == "viewer"
            entry = invite_entry(app.board, code.invite_id)
            assert entry is not None and entry.role is Role.VIEWER and not entry.used_by
            assert entry.by == app.store.signing_key().member_id
            assert "as a viewer" in dialog.note.text()
            assert unnamed(dialog) == []
            dialog.close()

    run(go())


def test_an_open_board_switches_to_members_mode_from_the_invite_dialog(
    tmp_path: Path, run: Run
) -> None:
    make_board(Store(tmp_path))  # the creator is its owner; the board is open

    async def go() -> None:
        async with open_app(tmp_path) as app:
            dialog = invite_dialog(app)
            assert "everyone who has this code can read and edit it" in dialog.heading.text()
            assert not dialog.role_buttons[Role.EDITOR].isVisible()
            assert Invite.decode(dialog.current_code()).role == ""  # a version 1 invite
            switch = dialog.members_only_button
            assert switch.isVisible() and switch.isEnabled()
            switch.click()
            question = shown(QMessageBox, dialog)
            assert "only people on the board's member list who can edit" in (
                question.informativeText()
            )
            button(question, "Keep it open").click()
            assert access(app.board) is Access.OPEN
            switch.click()
            button(shown(QMessageBox, dialog), "Only members can edit").click()
            assert access(app.board) is Access.MEMBERS
            assert not switch.isVisible() and dialog.role_buttons[Role.VIEWER].isVisible()
            assert Invite.decode(dialog.current_code()).role == "editor"
            dialog.close()

    run(go())


def test_only_an_owner_or_admin_switches_or_invites_to_a_members_board(
    tmp_path: Path, run: Run
) -> None:
    open_board = given_board(tmp_path, Role.EDITOR, mode=Access.OPEN)
    viewed = given_board(tmp_path, Role.VIEWER)
    edited = given_board(tmp_path, Role.EDITOR)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            app.window.show_board(open_board)
            dialog = invite_dialog(app)  # an editor on an open board: a code, no switch
            assert dialog.current_code() and not dialog.members_only_button.isEnabled()
            assert "owner or an admin" in dialog.members_only_button.toolTip()
            dialog.close()
            app.window.show_board(viewed)
            dialog = invite_dialog(app)
            assert not dialog.code.isVisible() and not dialog.copy.isVisible()
            assert "Only the board's owner or an admin invites people" in dialog.note.text()
            assert "as a viewer" in dialog.note.text()
            dialog.close()
            app.window.show_board(edited)  # an editor of a members board: no code either
            dialog = invite_dialog(app)
            assert not dialog.code.isVisible() and not dialog.role_buttons[Role.EDITOR].isVisible()
            assert dialog.note.text().startswith("Only the board's owner or an admin invites")
            dialog.close()

    run(go())


def test_the_members_dialog_lists_roles_and_an_owner_changes_one(tmp_path: Path, run: Run) -> None:
    board_id = given_board(tmp_path, None, {"Grace": Role.EDITOR, "Vic": Role.VIEWER})
    with Store(tmp_path).open(board_id) as bf:
        add_member(bf.board, fake_id("Zed"), name="Zed", role=Role.EDITOR)
        remove_member(bf.board, fake_id("Zed"))

    async def go() -> None:
        async with open_app(tmp_path) as app:
            dialog = members_dialog(app)
            rows = {r.shown_name: r for r in dialog.rows}
            assert set(rows) == {"Ada Lovelace", "Grace", "Vic"}
            assert rows["Ada Lovelace"].details.text().startswith("Owner · computer ")
            assert (
                "(you)" in rows["Ada Lovelace"].name.text() and rows["Ada Lovelace"].remove is None
            )
            assert rows["Grace"].details.text().startswith("Editor")
            assert rows["Vic"].details.text().startswith("Viewer")
            # the removed one is under a collapsed "Removed" section, greyed
            assert dialog.removed_toggle.text() == "Removed (1)"
            assert not dialog.removed_list.isVisible()
            dialog.removed_toggle.click()
            zed = dialog.row("Zed")
            assert zed.isVisible() and not zed.details.isEnabled() and zed.remove is None
            assert "a person with two computers is listed twice" in dialog.note.text()
            assert unnamed(dialog) == []
            # an owner makes Vic an editor
            role = rows["Vic"].role
            assert role is not None and role.currentText() == "Viewer"
            role.setCurrentIndex(role.findText("Editor"))
            role.activated.emit(role.currentIndex())
            vic = dialog.row("Vic").member.id
            assert role_of(app.board, vic) is Role.EDITOR
            await settle(lambda: dialog.row("Vic").details.text().startswith("Editor"))
            dialog.close()

    run(go())


def test_the_board_menu_and_the_presence_bar_open_the_members(tmp_path: Path, run: Run) -> None:
    given_board(tmp_path, Role.EDITOR, {"Grace": Role.VIEWER})

    async def go() -> None:
        async with open_app(tmp_path) as app:
            board_menu = next(
                a.menu() for a in app.window.menuBar().actions() if a.text() == "&Board"
            )
            (members,) = (a for a in board_menu.actions() if a.text() == "&Members…")
            members.trigger()
            dialog = shown(MembersDialog, app.window)
            assert dialog.windowTitle() == "Members of Team board"
            dialog.close()
            await settle(lambda: not dialog.isVisible(), what="the dialog to close")
            bar = app.window.presence
            await settle(lambda: bar.width() > 0, what="the presence bar laid out")
            QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.rect().center())
            dialog = shown(MembersDialog, app.window)
            assert {r.shown_name for r in dialog.rows} == {
                "Ada Lovelace",
                "Grace",
                "Computer "
                + (next(r.member.id for r in dialog.rows if r.member.role is Role.OWNER)[:8]),
            }
            dialog.close()

    run(go())


def test_a_viewer_sees_the_members_read_only_and_cannot_remove(tmp_path: Path, run: Run) -> None:
    board_id = given_board(tmp_path, Role.VIEWER, {"Grace": Role.EDITOR})

    async def go() -> None:
        async with open_app(tmp_path) as app:
            dialog = members_dialog(app)
            assert all(r.role is None and r.remove is None for r in dialog.rows)
            assert "Only the board's owner or an admin can change" in dialog.mode.text()
            grace = dialog.row("Grace").member.id
            # even asked directly, the removal is refused in the dialog, not by a crash
            assert dialog.remove(grace) is None
            assert dialog.error.isVisible()
            assert dialog.error.text().startswith("Only the board's owner or an admin")
            assert role_of(app.board, grace) is Role.EDITOR
            assert not dialog.set_role(grace, Role.VIEWER)
            assert role_of(app.board, grace) is Role.EDITOR
            dialog.close()
            assert app.board_id == board_id

    run(go())


def test_an_owner_cannot_remove_the_owner_or_themselves_errors_show_inline(
    tmp_path: Path, run: Run
) -> None:
    given_board(tmp_path, Role.ADMIN)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            dialog = members_dialog(app)
            (olga,) = (r for r in dialog.rows if r.member.role is Role.OWNER)
            assert olga.shown_name.startswith("Computer ")  # her computer gave no name
            assert olga.remove is None and olga.role is None  # the owner stays
            assert dialog.remove(olga.member.id) is None
            assert "owner cannot be removed" in dialog.error.text()
            assert dialog.remove(app.store.signing_key().member_id) is None
            assert "cannot remove yourself" in dialog.error.text()
            dialog.close()

    run(go())


def kex_published(node: Node, board_id: str, store: Store) -> bool:
    entry = member(node.boards[board_id].board, store.identity().member_id)
    return entry is not None and member_kex(entry.id, entry.kex, entry.kex_sig) is not None


def titles(node: Node, board_id: str) -> set[str]:
    return {t.title for t in node.boards[board_id].board.tickets()}


@pytest.mark.parametrize("mode", [Access.OPEN, Access.MEMBERS])
def test_an_owner_removes_a_member_from_the_app(tmp_path: Path, run: Run, mode: Access) -> None:
    board_id, stores = team(tmp_path, "olga", "bob", "grace", mode=mode)
    grace_id = stores["grace"].identity().member_id

    async def go() -> None:
        async with open_app(tmp_path / "olga") as app, contextlib.AsyncExitStack() as stack:
            peers = [peer_of(app.node)]
            b = await stack.enter_async_context(running(stores["bob"], peers=peers))
            g = await stack.enter_async_context(running(stores["grace"], peers=peers))
            app.board.add_ticket("Before the removal")
            await async_wait_until(
                lambda: all(
                    "Before the removal" in titles(n, board_id)
                    and all(kex_published(n, board_id, s) for s in stores.values())
                    for n in (app.node, b, g)
                ),
                what="all three synced, each one's key-agreement key known to all",
            )
            dialog = members_dialog(app)
            await settle(lambda: "online now" in dialog.row("grace").details.text())
            grace = dialog.row("grace")
            assert grace.remove is not None
            grace.remove.click()
            question = shown(QMessageBox, dialog)
            said = question.informativeText()
            assert f"grace's computer ({grace_id[:8]})" in said
            assert "will get no change made after this" in said
            assert "Everyone else gets a new board key automatically" in said
            assert "relay" not in said  # this board uses none
            button(question, "Remove").click()
            await settle(lambda: dialog.outcome.isVisible(), what="the removal's outcome")
            assert dialog.outcome.text().startswith("Removed grace. The new board key went to 2")
            assert [r.shown_name for r in dialog.removed_rows] == ["grace"]
            # her link closed at the removal: the dialog says when she was last linked
            await settle(
                lambda: dialog.row("grace").details.text().endswith("last seen just now"),
                what="Grace's entry to say when she was last seen",
            )
            assert member(app.board, grace_id).removed  # type: ignore[union-attr]

            hub = app.node.boards[board_id]
            new_key = hub.file.key
            app.board.add_ticket("Olga after the removal")
            await async_wait_until(
                lambda: (
                    "Olga after the removal" in titles(b, board_id)
                    and b.boards[board_id].file.key == new_key
                ),
                what="Bob has the new key and the change made after the removal",
            )
            # Grace writes once the removal is through (as in test_remove_member.py):
            # a frame already on its way when her link is closed may still be taken.
            g.boards[board_id].board.add_ticket("Grace after the removal")
            b.boards[board_id].board.add_ticket("Bob after the removal")
            await async_wait_until(
                lambda: "Bob after the removal" in titles(app.node, board_id),
                what="Bob keeps syncing with the owner",
            )
            # Grace keeps dialling with the old key: wait until she is refused after
            # all of the above, so anything leaked would have arrived.
            refused = hub.keys.refused_old
            await async_wait_until(
                lambda: hub.keys.refused_old > refused, seconds=40, what="Grace refused again"
            )
            assert not {"Olga after the removal", "Bob after the removal"} & titles(g, board_id)
            assert "Grace after the removal" not in titles(app.node, board_id)
            assert "Grace after the removal" not in titles(b, board_id)
            assert g.boards[board_id].file.keys.keys() == {0}
            dialog.close()

    run(go())
