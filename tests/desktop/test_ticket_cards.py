"""Richer cards in the ticket panel (issue 11), two real apps on loopback,
offscreen: the due date picker, the checklist, the assignee picker, the
Markdown description, editing and deleting one's own comments, and the
board's labels dialog.

The one fake: QDesktopServices.openUrl is patched in the Markdown test, so a
clicked link does not start a browser; the test checks it was asked to.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, QEvent, QPoint, QPointF, Qt, QTime
from PySide6.QtGui import QColor, QDesktopServices, QMouseEvent, QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from lanban.desktop.comment_list import DELETE, EDIT
from lanban.desktop.labels_dialog import LabelsDialog
from lanban.desktop.ticket_dialog import TicketDialog
from tests.desktop.harness import App, button, settle, shown
from tests.desktop.test_collaboration import pair
from tests.desktop.test_panel_presence import both_open, focus
from tests.support import async_holds

Run = Callable[[Awaitable[Any]], Any]
ALT = Qt.KeyboardModifier.AltModifier


def panel_of(app: App, number: str) -> TicketDialog:
    panel = app.window.open_ticket(app.board.ticket(number).id)
    assert isinstance(panel, TicketDialog)
    return panel


def hover(widget: QWidget, at: QPoint) -> None:
    """The mouse moving over ``widget`` with no button down (QTest.mouseMove moves
    the cursor, which offscreen tells no widget)."""
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(at),
        QPointF(widget.mapToGlobal(at)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def test_the_due_date_picker_sets_and_clears_it_and_it_syncs(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            a, g = await both_open(ada, grace, "#1")
            spec = a.ticket_id
            assert a.due.none_button.isVisible() and not a.due.date.isVisible()
            await focus(a, a.due.none_button)
            a.due.none_button.click()  # "No due date": the picker, on today
            today = date.today()
            assert a.due.date.isVisible() and a.due.date.hasFocus()
            assert a.due.date.date() == QDate.currentDate()
            assert ada.board.ticket(spec).due == ""  # not written until picked
            a.due.date.editingFinished.emit()  # Enter, or the caret leaving it
            await settle(lambda: grace.board.ticket(spec).due == today.isoformat())
            await settle(lambda: g.due.value() == today.isoformat(), what="Grace's panel")
            assert a.due.status.text() == "due today" == g.due.status.text()
            tomorrow = today + timedelta(days=1)
            a.due.date.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
            a.due.date.editingFinished.emit()
            await settle(lambda: grace.board.ticket(spec).due == tomorrow.isoformat())
            await settle(lambda: g.due.status.text() == "due tomorrow")
            assert g.due.date.date() == QDate(tomorrow.year, tomorrow.month, tomorrow.day)
            # an optional time
            a.due.timed.setChecked(True)
            a.due.time.setTime(QTime(9, 30))
            a.due.time.editingFinished.emit()
            await settle(lambda: "T09:30" in grace.board.ticket(spec).due, what="the time")
            await settle(lambda: g.due.time.isVisible() and g.due.time.time() == QTime(9, 30))
            # the past, picked in the calendar: overdue
            a.due.timed.setChecked(False)
            a.due.date.calendarWidget().clicked.emit(QDate(2020, 1, 2))
            await settle(lambda: grace.board.ticket(spec).due == "2020-01-02")
            await settle(lambda: g.due.status.text() == "overdue")
            # cleared
            a.due.clear_button.click()
            await settle(lambda: grace.board.ticket(spec).due == "")
            # Ada's caret is still in the due date: at Grace's it is locked, and says None
            await settle(lambda: g.due.value() == "" and g.due.isReadOnly())
            assert g.due.none_label.isVisible() and not g.due.status.isVisible()
            assert "Ada Lovelace is editing the due date" in g.due_note.text()
            await focus(a, a.title)
            await settle(lambda: not g.due.isReadOnly(), what="the lock to go")
            assert g.due.none_button.isVisible() and not g.due.none_label.isVisible()
            a.close()
            g.close()

    run(go())


def test_the_checklist_adds_ticks_edits_removes_and_reorders(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            a, g = await both_open(ada, grace, "#1")
            spec = a.ticket_id
            box = a.checklist.add_box
            for text in ("Draft", "Review", "Ship", "Party"):
                QTest.keyClicks(box, text)
                QTest.keyClick(box, Qt.Key.Key_Return)
            assert box.text() == ""

            def texts(panel: TicketDialog) -> list[str]:
                return [item.text for item in panel.checklist.items()]

            await settle(lambda: texts(g) == ["Draft", "Review", "Ship", "Party"])
            assert g.checklist.count.text() == "0/4"
            rows = a.checklist.ordered_rows()
            rows[0].check.click()  # tick
            await settle(lambda: g.checklist.count.text() == "1/4", what="the tick")
            assert g.checklist.bar.value() == 1 and g.checklist.bar.maximum() == 4
            assert [i.done for i in grace.board.checklist(spec)] == [True, False, False, False]
            # edit in place
            rows[1].text.selectAll()
            QTest.keyClicks(rows[1].text, "Review the draft")
            QTest.keyClick(rows[1].text, Qt.Key.Key_Return)
            await settle(lambda: texts(g)[1] == "Review the draft", what="the edit")
            # remove: Delete on its box, and ×
            rows[3].check.setFocus()
            QTest.keyClick(rows[3].check, Qt.Key.Key_Delete)
            await settle(lambda: texts(g) == ["Draft", "Review the draft", "Ship"])
            a.checklist.ordered_rows()[2].remove.click()
            await settle(lambda: texts(g) == ["Draft", "Review the draft"])
            # reorder: Alt+Down, then a drag back to the top
            QTest.keyClick(a.checklist.ordered_rows()[0].text, Qt.Key.Key_Down, ALT)
            await settle(lambda: texts(g) == ["Review the draft", "Draft"], what="Alt+Down")
            assert texts(a) == ["Review the draft", "Draft"]
            QTest.keyClick(a.checklist.ordered_rows()[1].text, Qt.Key.Key_Up, ALT)
            await settle(lambda: texts(g) == ["Draft", "Review the draft"], what="Alt+Up")
            second = a.checklist.ordered_rows()[1]
            grip = second.grip
            top = grip.mapFromGlobal(
                a.checklist.mapToGlobal(a.checklist.ordered_rows()[0].geometry().topLeft())
            )
            QTest.mousePress(grip, Qt.MouseButton.LeftButton, pos=QPoint(3, 3))
            QTest.mouseMove(grip, QPoint(3, top.y() + 2))
            assert a.checklist.drop_line.isVisible()  # where it would go
            QTest.mouseRelease(grip, Qt.MouseButton.LeftButton, pos=QPoint(3, top.y() + 2))
            assert not a.checklist.drop_line.isVisible()
            await settle(lambda: texts(g) == ["Review the draft", "Draft"], what="the drag")
            a.close()
            g.close()

    run(go())


def test_a_peers_ticks_keep_the_item_i_am_typing_in(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            spec = ada.board.ticket("#1").id
            ada.board.add_checklist_item(spec, "Write")
            ada.board.add_checklist_item(spec, "Test")
            await settle(lambda: len(grace.board.checklist(spec)) == 2)
            a, g = await both_open(ada, grace, "#1")
            row = a.checklist.ordered_rows()[0]
            await focus(a, row.text)
            row.text.end(False)
            QTest.keyClicks(row.text, " the docs")  # not saved yet
            # Grace ticks both, and adds one before it, at once
            first, second = (i.id for i in grace.board.checklist(spec))
            grace.board.set_checklist_done(spec, first)
            grace.board.set_checklist_done(spec, second)
            grace.board.add_checklist_item(spec, "Plan", index=0)
            await settle(lambda: a.checklist.count.text() == "2/3", what="Grace's ticks")
            assert [i.text for i in a.checklist.items()] == ["Plan", "Write", "Test"]
            assert row.check.isChecked() and row.text.hasFocus()
            assert row.text.text() == "Write the docs"  # my typing stays, and my caret
            assert row.text.cursorPosition() == len("Write the docs")
            QTest.keyClick(row.text, Qt.Key.Key_Return)
            await settle(
                lambda: (
                    [(i.text, i.done) for i in grace.board.checklist(spec)]
                    == [("Plan", False), ("Write the docs", True), ("Test", True)]
                ),
                what="both changes at Grace's",
            )
            a.close()
            g.close()

    run(go())


def test_the_assignee_picker_adds_members_and_free_text(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            a, g = await both_open(ada, grace, "#1")
            spec = a.ticket_id
            picker = a.assignee
            assert picker.nobody.isVisible()
            await focus(a, picker.add_button)
            picker.add_button.click()
            assert picker.box.hasFocus()
            # the board's people: me, and Grace (online, and a writer of the board)
            assert {"Ada Lovelace", "Grace Hopper"} <= set(picker.candidates())
            popup = picker.completer.popup()
            assert popup is not None and popup.isVisible()
            QTest.keyClicks(picker.box, "grac")
            model = picker.completer.completionModel()
            assert [model.index(r, 0).data() for r in range(model.rowCount())] == ["Grace Hopper"]
            popup.setCurrentIndex(model.index(0, 0))
            QTest.keyClick(popup, Qt.Key.Key_Return)
            await settle(lambda: grace.board.ticket(spec).assignees == ("Grace Hopper",))
            await settle(lambda: picker.box.text() == "", what="the box to empty")
            QTest.keyClicks(picker.box, "Ada Lovelace")
            QTest.keyClick(picker.box, Qt.Key.Key_Return)
            await settle(
                lambda: grace.board.ticket(spec).assignees == ("Grace Hopper", "Ada Lovelace"),
                what="the second assignee",
            )
            # the card says so, at Grace's, and her panel shows both
            model_g = grace.column("To do").model
            spoken = model_g.index(model_g.row_of(spec)).data(Qt.ItemDataRole.AccessibleTextRole)
            assert "assigned to Grace Hopper and Ada Lovelace" in spoken
            await settle(lambda: g.assignee.names() == ["Grace Hopper", "Ada Lovelace"])
            assert [c.accessibleName() for c in g.assignee.chips()] == [
                "Grace Hopper",
                "Ada Lovelace",
            ]
            # free text, then × takes one off
            QTest.keyClicks(picker.box, "Bob the Builder")
            QTest.keyClick(picker.box, Qt.Key.Key_Return)
            await settle(lambda: len(grace.board.ticket(spec).assignees) == 3)
            unassign = next(
                b
                for b in picker.chips()[0].findChildren(type(picker.add_button))
                if b.accessibleName() == "Unassign Grace Hopper"
            )
            unassign.click()
            await settle(
                lambda: grace.board.ticket(spec).assignees == ("Ada Lovelace", "Bob the Builder")
            )
            # the lock: Ada's caret is in the picker, Grace's is read-only
            await focus(a, picker.add_button)
            await settle(lambda: g.assignee.isReadOnly(), what="the assignee lock")
            assert not g.assignee.add_button.isVisible()
            a.close()
            g.close()

    run(go())


def test_the_description_renders_markdown_and_opens_links(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()))
    text = "# Plan\n\nRead [the spec](https://example.com/spec) first.\n\n- [ ] `code` it\n"

    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            spec = ada.board.ticket("#1").id
            grace.board.edit_ticket(spec, description=text)
            await settle(lambda: ada.board.description(spec) == text)
            a = panel_of(ada, "#1")
            view = a.markdown
            assert not view.editing and view.browser.isVisible()
            doc = view.browser.document()
            assert doc.firstBlock().blockFormat().headingLevel() == 1
            assert doc.firstBlock().text() == "Plan"
            assert "the spec" in doc.toPlainText() and "](" not in doc.toPlainText()
            found = doc.find("the spec")
            assert found.charFormat().anchorHref() == "https://example.com/spec"
            # a click on the link opens it in the browser, and stays rendered
            cursor = QTextCursor(doc)
            cursor.setPosition(found.selectionStart() + 2)
            at = view.browser.cursorRect(cursor).center()
            a.activateWindow()
            await settle(a.isActiveWindow)
            QTest.mouseClick(view.browser.viewport(), Qt.MouseButton.LeftButton, pos=at)
            assert opened == ["https://example.com/spec"]
            assert not view.editing
            # a click elsewhere edits the plain text; Esc shows it rendered again
            QTest.mouseClick(view.browser.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
            assert view.editing and a.description.toPlainText() == text.rstrip("\n") + "\n"
            await settle(a.description.hasFocus)
            QTest.keyClick(a.description, Qt.Key.Key_Escape)
            assert not view.editing and a.isVisible()
            # a peer's typing shows rendered at once
            grace.board.splice_description(spec, len(text), 0, "\n## Later\n")
            await settle(lambda: "Later" in view.browser.document().lastBlock().text())
            assert view.browser.document().lastBlock().blockFormat().headingLevel() == 2
            QTest.keyClick(view.browser, Qt.Key.Key_F2)
            assert view.editing
            a.close()

    run(go())


def test_my_comments_can_be_edited_and_deleted_and_others_cannot(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            spec = ada.board.ticket("#1").id
            mine = ada.board.add_comment(spec, "Frist!")
            await settle(lambda: len(grace.board.ticket(spec).comments) == 1)
            theirs = grace.board.add_comment(spec, "Welcome")  # after mine, having seen it
            await settle(lambda: len(ada.board.ticket(spec).comments) == 2)
            a, g = await both_open(ada, grace, "#1")
            assert a.comments.actions_for(mine) == [EDIT, DELETE]
            assert a.comments.actions_for(theirs) == []
            assert a.comments.menu_for(theirs, QPoint(0, 0)) is None
            assert g.comments.actions_for(mine) == []
            # the mouse over Grace's comment shows nothing to click; over mine, Edit
            viewport = a.comments.viewport()
            await focus(a, a.comments)
            theirs_edit = a.comments.links_of(1)[EDIT].center()
            hover(viewport, theirs_edit)
            assert a.comments.hovered == 1
            QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=theirs_edit)
            assert a.comment_input.text() == ""
            mine_edit = a.comments.links_of(0)[EDIT].center()
            hover(viewport, mine_edit)
            QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=mine_edit)
            assert a.comment_input.text() == "Frist!"
            QTest.keyClick(a.comment_input, Qt.Key.Key_Escape)  # leaves the edit, not the panel
            assert a.comment_input.text() == "" and a.isVisible()
            # edit: F2 on it, the box below takes it, Enter saves
            a.comments.setCurrentRow(0)
            await focus(a, a.comments)
            QTest.keyClick(a.comments, Qt.Key.Key_F2)
            assert a.comment_input.text() == "Frist!" and a.comment_input.hasFocus()
            a.comment_input.setText("First!")
            QTest.keyClick(a.comment_input, Qt.Key.Key_Return)
            await settle(lambda: grace.board.ticket(spec).comments[0].text == "First!")
            await settle(lambda: "(edited)" in g.comments.item(0).text(), what="(edited)")
            assert g.comments.item(0).text().endswith("First!")
            assert g.comments.item(0).toolTip().startswith("Edited ")
            assert "(edited)" not in g.comments.item(1).text()
            assert a.comment_input.text() == "" and len(ada.board.ticket(spec).comments) == 2
            # delete: asks first (a window-modal box, no second event loop)
            a.comments.setCurrentRow(0)
            QTest.keyClick(a.comments, Qt.Key.Key_Delete)
            box = shown(QMessageBox, a)
            button(box, "Delete comment").click()
            await settle(lambda: g.comments.count() == 1, what="the comment to go")
            assert g.comments.item(0).text().endswith("Welcome")
            a.close()
            g.close()

    run(go())


def test_the_labels_dialog_renames_recolours_and_deletes(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            spec = ada.board.ticket("#1").id
            bug = ada.board.add_label("bug", "#e5484d")
            ada.board.add_label("docs", "#3f51b5")
            ada.board.edit_ticket(spec, labels=[bug])
            await settle(lambda: grace.board.ticket(spec).labels == (bug,))
            dialog = ada.window.show_labels()
            assert isinstance(dialog, LabelsDialog) and dialog.isVisible()
            assert [dialog.list.item(i).text() for i in range(dialog.list.count())] == [
                "bug",
                "docs",
            ]
            dialog.list.setCurrentRow(0)
            dialog.name.setText("defect")
            QTest.keyClick(dialog.name, Qt.Key.Key_Return)
            await settle(lambda: grace.board.label(bug).name == "defect", what="the rename")
            swatch = next(s for s in dialog.swatches if s.toolTip() == "#4caf50")
            swatch.click()
            await settle(lambda: grace.board.label(bug).color == "#4caf50", what="the colour")
            assert swatch.isChecked()
            # any colour: Qt's colour dialog, opened without a loop of its own
            picker = dialog.other_colour()
            assert picker is not None and picker.isVisible()
            picker.colorSelected.emit(QColor("#123456"))
            await settle(lambda: grace.board.label(bug).color == "#123456", what="Other…")
            picker.close()
            # a peer's change shows at once
            grace.board.rename_label(bug, "defects")
            await settle(lambda: dialog.list.item(0).text() == "defects")
            dialog.delete_button.click()
            box = shown(QMessageBox, dialog)
            assert "1 ticket will lose it" in box.informativeText()
            button(box, "Delete label").click()
            await settle(
                lambda: grace.board.ticket(spec).labels == (), what="the ticket to lose it"
            )
            assert [lb.name for lb in grace.board.labels()] == ["docs"]
            assert [dialog.list.item(i).text() for i in range(dialog.list.count())] == ["docs"]
            dialog.close()

    run(go())


def test_a_due_date_a_peer_set_at_once_is_told_and_can_be_put_back(
    tmp_path: Path, run: Run
) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            a, g = await both_open(ada, grace, "#1")
            spec = a.ticket_id
            # both pick a day at once: neither has seen the other's
            for panel, day in ((a, QDate(2026, 12, 1)), (g, QDate(2026, 12, 24))):
                panel.due.none_button.click()
                panel.due.date.calendarWidget().clicked.emit(day)
            await settle(
                lambda: ada.board.ticket(spec).due == grace.board.ticket(spec).due,
                what="the copies to agree",
            )
            won = ada.board.ticket(spec).due
            loser, winner = (g, a) if won == "2026-12-01" else (a, g)
            lost = "2026-12-24" if loser is g else "2026-12-01"
            by = "Ada Lovelace" if winner is a else "Grace Hopper"
            await settle(lambda: loser.override_note.isVisible(), what="the notice")
            assert (
                loser.override_note.text() == f"{by}'s due date replaced yours: '{lost}' → '{won}'"
            )
            loser.override_note.put_back.click()
            await settle(lambda: ada.board.ticket(spec).due == lost == grace.board.ticket(spec).due)
            await settle(lambda: winner.due.value() == lost, what="the winner's picker")
            a.close()
            g.close()

    run(go())


def test_the_due_date_stays_locked_while_its_calendar_is_open(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            spec = ada.board.ticket("#1").id
            ada.board.set_due(spec, "2026-12-01")
            await settle(lambda: grace.board.ticket(spec).due == "2026-12-01")
            a, g = await both_open(ada, grace, "#1")
            await focus(a, a.due.date)
            await settle(lambda: g.due.isReadOnly(), what="the lock")
            # the calendar is a popup window of its own: the caret in it still holds the lock
            date = a.due.date
            QTest.mouseClick(
                date, Qt.MouseButton.LeftButton, pos=QPoint(date.width() - 5, date.height() // 2)
            )  # its arrow
            calendar = date.calendarWidget()
            await settle(lambda: calendar.isVisible(), what="the calendar")
            focused = QApplication.focusWidget()
            assert focused is not None and calendar.isAncestorOf(focused)
            await async_holds(lambda: g.due.isReadOnly(), 0.5, "the lock")
            a.close()
            g.close()

    run(go())
