"""Accessibility (issue 10): every control of the main window, the ticket panel and the
dialogs has a name and a role for a screen reader (read through Qt's accessibility
interface, as assistive technology reads them), Tab reaches each control once, in the
order they are laid out, and never gets stuck in a text box; the menus' mnemonics are
unique. The board itself (cards, columns, its one tab stop) is in test_board_keys.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QComboBox, QMenu, QWidget

from lanban.desktop.presence_bar import Avatar
from lanban.desktop.ticket_dialog import TicketDialog
from lanban.sync.store import Store
from tests.desktop.harness import make_board, open_app, pause_events, settle

Run = Callable[[Awaitable[Any]], Any]
TICKETS = {"To do": ["Write spec", "Fix login"], "Doing": ["Review PR"]}
ROLELESS = (QAccessible.Role.NoRole, QAccessible.Role.Client)


def name_of(widget: QWidget) -> str:
    face = QAccessible.queryAccessibleInterface(widget)
    assert face is not None and face.isValid(), widget
    return face.text(QAccessible.Text.Name)


def label_or_choice(combo: QComboBox, label: str, choice: str) -> str:
    """What a screen reader calls a combo box: its label, or (Qt on Linux) its
    current choice, and then the label is its description."""
    face = QAccessible.queryAccessibleInterface(combo)
    assert face is not None
    name = face.text(QAccessible.Text.Name)
    if name == choice:
        assert face.text(QAccessible.Text.Description) == label
        return name
    assert name == label
    return name


def unnamed(root: QWidget) -> list[str]:
    """The controls Tab can reach under ``root`` with no name or no role to read."""
    bad = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not (widget.focusPolicy() & Qt.FocusPolicy.TabFocus and widget.isVisibleTo(root)):
            continue
        face = QAccessible.queryAccessibleInterface(widget)
        name = face.text(QAccessible.Text.Name).strip() if face is not None else ""
        role = face.role() if face is not None else QAccessible.Role.NoRole
        if not name or role in ROLELESS:
            bad.append(f"{type(widget).__name__}({widget.objectName()!r}) {name!r} {role}")
    return bad


async def tab_walk(start: QWidget, back: bool = False, most: int = 60) -> list[QWidget]:
    """Press Tab (Shift+Tab) from ``start`` until the focus comes back to it."""
    start.setFocus(Qt.FocusReason.OtherFocusReason)
    await settle(lambda: QApplication.focusWidget() is start, what="the focus")
    stops = [start]
    for _ in range(most):
        widget = QApplication.focusWidget()
        assert widget is not None
        modifier = Qt.KeyboardModifier.ShiftModifier if back else Qt.KeyboardModifier.NoModifier
        QTest.keyClick(widget, Qt.Key.Key_Backtab if back else Qt.Key.Key_Tab, modifier)
        await pause_events(0.01)
        now = QApplication.focusWidget()
        if now is start:  # round (a lone button keeps it, as it should)
            return stops
        assert now is not None and now is not widget, f"Tab stuck in {name_of(widget)!r}"
        assert now not in stops, f"{name_of(now)!r} twice: {[name_of(w) for w in stops]}"
        assert now.isVisible() and now.isEnabled(), name_of(now)
        stops.append(now)
    raise AssertionError(f"Tab never came back: {[name_of(w) for w in stops]}")


def test_the_main_window_s_controls_have_names_and_a_sensible_tab_order(
    tmp_path: Path, run: Run
) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            window = app.window
            window.resize(1280, 800)
            window.activateWindow()
            await pause_events(0.2)
            assert unnamed(window) == []
            stops = await tab_walk(window.sidebar)
            names = [name_of(w) for w in stops]
            # left to right, top to bottom: boards, the board's header, the board, status
            assert names[:7] == [
                "Boards",
                "New board",
                "Join…",
                "Filter tickets",
                label_or_choice(window.label_filter, "Filter by label", "All labels"),
                label_or_choice(window.assignee_filter, "Filter by assignee", "Anyone"),
                "Invite",
            ]
            assert names[7] == "To do column, 2 tickets"
            assert names[8].startswith("Sync status: ") and len(names) == 9
            status = QAccessible.queryAccessibleInterface(window.sync_status)
            assert status is not None and status.role() == QAccessible.Role.Button
            # Shift+Tab goes the same way back
            back = await tab_walk(window.sidebar, back=True)
            assert [name_of(w) for w in back] == [names[0], *reversed(names[1:])]
            # the status button opens the peers panel from the keyboard
            window.sync_status.setFocus()
            QTest.keyClick(window.sync_status, Qt.Key.Key_Space)
            await settle(
                lambda: any(
                    w.windowTitle() == "Peers" and w.isVisible()
                    for w in QApplication.topLevelWidgets()
                ),
                what="the peers panel",
            )
            # who is here: the presence bar and each avatar have names
            assert name_of(window.presence) == "People on this board"
            avatars = window.presence.findChildren(Avatar)
            assert avatars and all(name_of(a) for a in avatars)

    run(go())


def test_every_menu_entry_has_a_unique_mnemonic(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            bar = app.window.menuBar()
            menus = [a.menu() for a in bar.actions() if isinstance(a.menu(), QMenu)]
            titles = [a.text() for a in bar.actions()]
            assert {"&File", "&Edit", "&Board", "&View", "&Help"} <= set(titles)
            for group in [bar.actions(), *(m.actions() for m in menus)]:
                texts = [a.text() for a in group if not a.isSeparator()]
                keys = [t[t.index("&") + 1].casefold() for t in texts if "&" in t]
                assert len(keys) == len(texts), f"no mnemonic in {texts}"
                assert len(set(keys)) == len(keys), f"a mnemonic twice in {texts}"

    run(go())


def test_the_ticket_panel_s_fields_have_names_and_tab_goes_through_them(
    tmp_path: Path, run: Run
) -> None:
    board_id = make_board(Store(tmp_path), tickets=TICKETS)
    with Store(tmp_path).open(board_id) as bf:
        bf.board.add_label("bug", "#e5484d")

    async def go() -> None:
        async with open_app(tmp_path) as app:
            panel = app.window.open_ticket(app.board.ticket("#1").id)
            assert panel is not None
            panel.activateWindow()
            await settle(panel.isActiveWindow, what="the panel")
            assert unnamed(panel) == []
            names = [name_of(w) for w in await tab_walk(panel.title)]
            assert names == [
                "Title",
                "Assign someone",
                "Label bug",
                "Add a label",
                "Set a due date",
                "Add a checklist item",
                "Description",
                "Comments",
                "Write a comment",
                "Move to trash",
                "History",
                "Close",
            ]
            # Tab leaves the description (a tab character is not worth a trap)
            assert panel.description.toPlainText() == ""

    run(go())


def test_the_dialogs_controls_have_names(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            window = app.window
            openers = (
                window.edit_settings,
                window.new_board,
                window.join_board,
                window.invite,
                window.show_trash,
                window.show_peers,
                window.about,
                window.leave_board,
            )
            walks = {}
            for opener in openers:
                dialog = opener()
                assert dialog is not None
                dialog.activateWindow()
                await settle(dialog.isActiveWindow, what=dialog.windowTitle())
                assert unnamed(dialog) == [], dialog.windowTitle()
                # Tab goes round every control once (no text box keeps it)
                first = dialog.focusWidget() or dialog.nextInFocusChain()
                walks[opener.__name__] = [name_of(w) for w in await tab_walk(first)]
                dialog.close()
                await pause_events(0.05)
            assert walks["join_board"][0] == "Invite code" and len(walks["join_board"]) > 1
            assert "Invite code" in walks["invite"] and len(walks["invite"]) > 1

    run(go())


def test_an_empty_window_s_controls_have_names(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with open_app(tmp_path) as app:
            window = app.window
            window.activateWindow()
            await pause_events(0.2)
            assert window.current is None
            assert unnamed(window) == []
            stops = await tab_walk(window.sidebar)
            assert len(stops) >= 3  # the sidebar's list and buttons at least

    run(go())


def test_a_read_only_panel_and_the_error_bar_have_names_too(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            window = app.window
            window.show_error("The disk is full")
            await pause_events(0.05)
            assert window.error_bar.isVisible() and unnamed(window) == []
            controller = window.controller()
            assert controller is not None
            panel = TicketDialog(controller, app.board.ticket("#1").id, read_only=True)
            panel.show()
            panel.activateWindow()
            await settle(panel.isActiveWindow, what="the panel")
            assert unnamed(panel) == []
            names = [name_of(w) for w in await tab_walk(panel.title)]
            # a view: the fields read as text, nothing to add or trash
            assert names == [
                "Title",
                "Assignee: nobody",
                "Due date: none",
                "Description",
                "Comments",
                "History",
                "Close",
            ]
            panel.close()

    run(go())
