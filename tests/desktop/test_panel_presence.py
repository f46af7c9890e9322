"""Collaboration people can see in the ticket panel (issue 10), two real nodes on
loopback, offscreen: peers' carets and selections in the description, typing
indicators, locks on the last-writer-wins fields, the notice when a concurrent
change replaced mine, and a read-only view that looks and says so (defect 14)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFrame, QMessageBox, QPlainTextEdit, QToolButton, QWidget

from lanban.desktop.ticket_dialog import TicketDialog
from tests.desktop.harness import App, button, settle, shown
from tests.desktop.test_collaboration import pair
from tests.desktop.test_ticket_panel import editors

Run = Callable[[Awaitable[Any]], Any]


async def both_open(ada: App, grace: App, number: str) -> tuple[TicketDialog, TicketDialog]:
    """Ada's panel, then Grace's ("Edit anyway")."""
    ticket_id = ada.board.ticket(number).id
    mine = ada.window.open_ticket(ticket_id)
    assert isinstance(mine, TicketDialog)
    await settle(lambda: editors(grace, ticket_id) == ["Ada Lovelace"], what="Grace to see Ada")
    assert grace.window.open_ticket(ticket_id) is None
    await answer(grace, "Edit anyway")
    theirs = grace.window.dialogs[(grace.board_id, ticket_id)]
    return mine, theirs


async def answer(app: App, choice: str) -> None:
    """Answer the "someone is editing" warning; wait until it is gone for good
    (else its late activation takes the keyboard focus from a field)."""
    box = shown(QMessageBox, app.window)
    gone: list[object] = []
    box.destroyed.connect(lambda *_: gone.append(True))
    button(box, choice).click()
    await settle(lambda: gone, what="the warning to go")


async def focus(panel: TicketDialog, widget: QWidget) -> None:
    """Put the keyboard focus in a field of a panel (two apps share one process
    here: only one window is active at a time)."""
    panel.activateWindow()
    await settle(panel.isActiveWindow, what="the panel to be the active window")
    if widget is panel.description and not panel.markdown.editing:
        panel.markdown.start_editing()  # a rendered description: clicked into first
    widget.setFocus()
    await settle(widget.hasFocus, what="the focus")


def select(editor: QPlainTextEdit, anchor: int, head: int) -> None:
    cursor = editor.textCursor()
    cursor.setPosition(anchor)
    cursor.setPosition(head, QTextCursor.MoveMode.KeepAnchor)
    editor.setTextCursor(cursor)


def test_a_peers_caret_and_selection_show_and_stay_put(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            review = ada.board.ticket("#3").id
            ada.board.edit_ticket(review, description="Hello world")
            await settle(lambda: grace.board.description(review) == "Hello world")
            a, g = await both_open(ada, grace, "#3")
            await focus(a, a.description)
            select(a.description, 6, 11)  # "world"
            await settle(
                lambda: g.carets.shown() == [("Ada Lovelace", 6, 11)],
                what="Ada's selection at Grace's",
            )
            assert len(g.description.extraSelections()) == 1  # the highlight
            # Grace types before it: Ada's selection stays on "world"
            cursor = g.description.textCursor()
            cursor.setPosition(0)
            g.description.setTextCursor(cursor)
            QTest.keyClicks(g.description, "Oh ")
            await settle(
                lambda: g.carets.shown() == [("Ada Lovelace", 9, 14)],
                what="the selection to move with the text",
            )
            await settle(lambda: a.description.toPlainText() == "Oh Hello world")
            # Grace's caret shows at Ada's once her window has the focus (Ada's goes)
            await focus(g, g.description)
            await settle(lambda: a.carets.shown() == [("Grace Hopper", 3, 3)])
            a.close()
            await settle(lambda: not g.carets.shown(), what="the caret to go with the panel")
            assert not g.description.extraSelections()
            g.close()

    run(go())


def test_typing_in_the_description_and_title_shows(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            a, g = await both_open(ada, grace, "#3")
            QTest.keyClicks(a.description, "Notes")
            await settle(
                lambda: g.description_note.text() == "Ada Lovelace is typing…",
                what="typing in the description",
            )
            assert g.typing_note.text() == ""  # not in the comments
            await settle(lambda: g.description_note.text() == "", seconds=5)
            await focus(a, a.title)
            QTest.keyClicks(a.title, "!")
            await settle(lambda: "typing" in g.title_note.text(), what="typing in the title")
            a.close()
            g.close()

    run(go())


def test_a_field_a_peer_edits_is_locked_until_their_caret_leaves(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            a, g = await both_open(ada, grace, "#1")
            await focus(a, a.title)
            await settle(lambda: g.title.isReadOnly(), what="the title to lock at Grace's")
            assert "Ada Lovelace is editing the title" in g.title_note.text()
            assert not g.assignee.isReadOnly() and not g.description.isReadOnly()
            assert not a.title.isReadOnly()  # the holder edits
            await focus(a, a.assignee)
            await settle(lambda: not g.title.isReadOnly(), what="the title to unlock")
            await settle(lambda: g.assignee.isReadOnly(), what="the assignee to lock")
            assert "Ada Lovelace is editing the assignee" in g.assignee_note.text()
            await focus(a, a.due)
            await settle(lambda: g.due.isReadOnly(), what="the due date to lock")
            assert "Ada Lovelace is editing the due date" in g.due_note.text()
            await focus(a, a.description)  # text that merges is never locked
            await settle(lambda: not g.due.isReadOnly(), what="the due date to unlock")
            await settle(lambda: not g.assignee.isReadOnly(), what="the assignee to unlock")
            assert not g.title.isReadOnly()
            # labels: a chip in focus holds them
            ada.board.add_label("bug", "#e5484d")
            await settle(lambda: g.label_chips() and a.label_chips())
            await focus(a, a.label_chips()[0])
            await settle(
                lambda: not any(c.isEnabled() for c in g.label_chips()),
                what="the labels to lock",
            )
            assert "Ada Lovelace is editing the labels" in g.labels_note.text()
            await focus(a, a.title)
            await settle(lambda: all(c.isEnabled() for c in g.label_chips()))
            await settle(lambda: g.title.isReadOnly())
            # Ada's link drops (her node stops): the lock goes within a second
            await ada.node.stop()
            await settle(lambda: not g.title.isReadOnly(), seconds=1, what="the link drop")
            assert g.title_note.text() == ""
            g.close()

    run(go())


def test_the_title_a_peer_types_shows_in_my_locked_field_with_their_caret(
    tmp_path: Path, run: Run
) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            a, g = await both_open(ada, grace, "#3")
            await focus(a, a.title)
            a.title.end(False)
            QTest.keyClicks(a.title, " now")  # not saved yet: her caret is still in it
            await settle(lambda: g.title.text() == "Review PR now", what="Ada's draft")
            assert g.title.isReadOnly()
            assert g.title_drafts.shown is not None
            name, draft = g.title_drafts.shown
            assert name == "Ada Lovelace" and draft.head == draft.anchor == len("Review PR now")
            a.title.setSelection(0, 6)  # "Review" selected, caret after it
            await settle(
                lambda: (
                    g.title_drafts.shown is not None
                    and (g.title_drafts.shown[1].anchor, g.title_drafts.shown[1].head) == (0, 6)
                ),
                what="Ada's selection",
            )
            grace_board = grace.board
            assert grace_board.ticket("#3").title == "Review PR"  # a draft, not a change
            await focus(a, a.assignee)  # her caret leaves: saved, and the draft goes
            await settle(lambda: grace_board.ticket("#3").title == "Review PR now")
            await settle(lambda: g.title_drafts.shown is None, what="the draft to go")
            assert g.title.text() == "Review PR now"
            a.close()
            g.close()

    run(go())


def test_two_peers_claiming_one_field_agree_on_the_holder(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            a, g = await both_open(ada, grace, "#1")
            # both at once: neither has heard of the other's claim yet
            ada_ctl, grace_ctl = ada.window.controller(), grace.window.controller()
            assert ada_ctl is not None and grace_ctl is not None
            ticket = a.ticket_id
            ada_ctl.claim_field(ticket, "title")
            grace_ctl.claim_field(ticket, "title")
            await settle(
                lambda: (
                    ada_ctl.field_holder(ticket, "title") is not None
                    or grace_ctl.field_holder(ticket, "title") is not None
                ),
                what="a holder",
            )
            await settle(
                lambda: (
                    (ada_ctl.field_holder(ticket, "title") is None)
                    != (grace_ctl.field_holder(ticket, "title") is None)
                ),
                what="exactly one of them to hold it",
            )
            a.close()
            await settle(lambda: grace_ctl.field_holder(ticket, "title") is None)
            g.close()

    run(go())


def test_every_way_a_panel_closes_ends_its_locks_at_the_peer(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            review = ada.board.ticket("#3").id
            g_ctl = grace.window.controller()
            assert g_ctl is not None

            async def held_by_ada() -> TicketDialog:
                panel = ada.window.open_ticket(review)
                assert isinstance(panel, TicketDialog)
                await focus(panel, panel.title)
                await settle(lambda: g_ctl.field_holder(review, "title") is not None)
                return panel

            def free() -> bool:
                return g_ctl.field_holder(review, "title") is None

            QTest.keyClick(await held_by_ada(), Qt.Key.Key_Escape)
            await settle(free, seconds=1, what="Esc")
            button(await held_by_ada(), "Close").click()
            await settle(free, seconds=1, what="Close")
            (await held_by_ada()).deleteLater()
            await settle(free, seconds=1, what="the panel deleted")
            await held_by_ada()
            grace.board.delete_ticket(review)
            await settle(free, seconds=1, what="a peer trashing the ticket")
            grace.board.restore_ticket(review)
            await settle(lambda: not ada.board.ticket(review).deleted)
            await held_by_ada()
            ada.window.close()
            await settle(free, seconds=1, what="quitting")

    run(go())


def test_a_concurrent_change_that_replaced_mine_is_told_and_can_be_undone(
    tmp_path: Path, run: Run
) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            a, g = await both_open(ada, grace, "#1")
            spec = a.ticket_id
            # both rename it at once: neither has seen the other's change
            for panel, title in ((a, "Ada's title"), (g, "Grace's title")):
                panel.title.setText(title)
                panel.title.editingFinished.emit()
            await settle(
                lambda: ada.board.ticket(spec).title == grace.board.ticket(spec).title,
                what="the copies to agree",
            )
            won = ada.board.ticket(spec).title
            loser, winner = (g, a) if won == "Ada's title" else (a, g)
            lost = "Grace's title" if loser is g else "Ada's title"
            by = "Ada Lovelace" if winner is a else "Grace Hopper"
            await settle(lambda: loser.override_note.isVisible(), what="the notice")
            assert loser.override_note.text() == f"{by}'s title replaced yours: '{lost}' → '{won}'"
            assert not winner.override_note.isVisible()
            loser.override_note.put_back.click()
            await settle(
                lambda: ada.board.ticket(spec).title == lost == grace.board.ticket(spec).title
            )
            assert not loser.override_note.isVisible()
            # a peer who changes it later, having seen mine, did not override it
            loser.controller.overrides.window_s = 0.0
            winner.title.setText("Later")
            winner.title.editingFinished.emit()
            await settle(lambda: loser.title.text() == "Later")
            assert not loser.override_note.isVisible()
            a.close()
            g.close()

    run(go())


def test_an_override_after_my_panel_closed_is_told_in_the_status_bar(
    tmp_path: Path, run: Run
) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            a, g = await both_open(ada, grace, "#1")
            spec = a.ticket_id
            # each renames it and closes the panel at once (Enter, Esc)
            for panel, title in ((a, "Ada's title"), (g, "Grace's title")):
                panel.title.setText(title)
                panel.title.editingFinished.emit()
                panel.close()
            await settle(
                lambda: ada.board.ticket(spec).title == grace.board.ticket(spec).title,
                what="the copies to agree",
            )
            won = ada.board.ticket(spec).title
            loser = grace if won == "Ada's title" else ada
            lost = "Grace's title" if loser is grace else "Ada's title"
            by = "Ada Lovelace" if loser is grace else "Grace Hopper"
            await settle(
                lambda: (
                    loser.window.statusBar().currentMessage()
                    == f"#1: {by}'s title replaced yours: '{lost}' → '{won}'"
                ),
                what="the notice in the loser's status bar",
            )

    run(go())


def test_the_read_only_view_looks_and_says_so(tmp_path: Path, run: Run) -> None:
    """Defect 14: it looked editable and said "editing this ticket too"."""

    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            review = ada.board.ticket("#3").id
            theirs = grace.window.open_ticket(review)
            assert isinstance(theirs, TicketDialog)
            await settle(lambda: editors(ada, review) == ["Grace Hopper"])
            assert ada.window.open_ticket(review) is None
            await answer(ada, "Open read-only")
            mine = ada.window.dialogs[(ada.board_id, review)]
            assert mine.view_only.isVisible() and mine.view_only.text() == "View only"
            assert mine.editors_note.text() == "Grace Hopper is editing this ticket."
            assert "too" not in mine.editors_note.text()
            # no edit affordances: fields read as text, nothing to press
            assert mine.title.isReadOnly() and not mine.title.hasFrame()
            assert mine.assignee.isReadOnly() and not mine.assignee.add_button.isVisible()
            assert not any(b.isVisible() for b in mine.assignee.findChildren(QToolButton))
            assert mine.description.isReadOnly()
            assert mine.markdown.browser.frameShape() == QFrame.Shape.NoFrame
            mine.markdown.start_editing()  # a view stays rendered: no editor to click into
            assert not mine.markdown.editing and not mine.markdown.browser.placeholderText()
            assert mine.comment_input.isHidden() and mine.delete_button.isHidden()
            assert not mine.title.placeholderText()
            assert mine.due.isReadOnly() and not mine.due.hasFrame()
            assert mine.due.none_button.isHidden() and mine.due.none_label.isVisible()
            assert not mine.add_label_button.isVisible()
            assert mine.checklist.add_box.isHidden()
            # she claims nothing: Grace sees no "editing", no caret, no lock
            await focus(mine, mine.title)
            await focus(mine, mine.markdown.browser)  # a view's description: rendered
            select(mine.description, 0, 3)
            g_ctl = grace.window.controller()
            assert g_ctl is not None
            await settle(lambda: theirs.carets.shown() == [] and not theirs.title.isReadOnly())
            assert editors(grace, review) == []
            assert all(p.cursor is None and p.focus is None for p in g_ctl.peers())
            mine.close()
            theirs.close()

    run(go())
