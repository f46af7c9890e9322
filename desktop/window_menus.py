"""The main window's menu bar: File, Edit, Board, View, Help and their shortcuts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from .icons import set_icon

if TYPE_CHECKING:
    from .main_window import MainWindow


def build_menus(window: MainWindow) -> None:
    """Fill the window's menu bar; keeps the actions tests and the window use
    (``quit_action``, ``undo_action``, ``redo_action``, ``pointers_action``)."""

    def action(
        menu: QMenu,
        text: str,
        slot: Callable[[], object],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        icon_name: str | None = None,
    ) -> QAction:
        act = QAction(text, window)
        if icon_name:
            set_icon(act, icon_name)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    file = window.menuBar().addMenu("&File")
    action(file, "&New board…", window.new_board, QKeySequence.StandardKey.New, "plus")
    action(file, "&Join board…", window.join_board, "Ctrl+J", "join")
    action(file, "&Invite to board…", window.invite, "Ctrl+I", "invite")
    action(file, "&Rename board…", window.rename_board)
    action(file, "&Leave board…", window.leave_board)
    file.addSeparator()
    action(file, "&Settings…", window.edit_settings, "Ctrl+,", "settings")
    file.addSeparator()
    window.quit_action = action(file, "&Quit", window.close, QKeySequence.StandardKey.Quit)
    edit = window.menuBar().addMenu("&Edit")
    window.undo_action = action(edit, "&Undo", window.undo, QKeySequence.StandardKey.Undo, "undo")
    window.redo_action = action(edit, "&Redo", window.redo, QKeySequence.StandardKey.Redo, "redo")
    edit.addSeparator()
    action(
        edit, "&Find…", lambda: window.search.setFocus(), QKeySequence.StandardKey.Find, "search"
    )
    board = window.menuBar().addMenu("&Board")
    action(board, "New &ticket", window.new_ticket, "Ctrl+T", "plus")
    action(board, "&Open ticket", window.open_current, None)
    action(board, "&Delete ticket", window.delete_current, QKeySequence.StandardKey.Delete, "trash")
    action(board, "Add &column…", window.add_column)
    board.addSeparator()
    action(board, "T&rash…", window.show_trash, None, "trash")
    action(board, "&Labels…", window.show_labels)
    action(board, "&Members…", window.board_actions.members, None, "users")
    action(board, "&Peers…", window.show_peers, None, "users")
    view_menu = window.menuBar().addMenu("&View")
    window.pointers_action = QAction("Show teammates' &pointers", window, checkable=True)
    window.pointers_action.setChecked(window.settings.show_pointers)
    window.pointers_action.toggled.connect(window.settings.set_show_pointers)
    view_menu.addAction(window.pointers_action)
    window.history.add_actions(view_menu)
    help_menu = window.menuBar().addMenu("&Help")
    action(help_menu, "&About Lanban", window.about)
