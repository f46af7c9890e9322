"""Dialogs without nested event loops.

asyncio runs on Qt's loop (qasync): ``QDialog.exec()``, ``QInputDialog.getText()``,
the static ``QMessageBox`` calls and ``QMenu.exec()`` would each start a second
loop that steps asyncio re-entrantly. Here every dialog opens with ``open()``
(window-modal, returns at once) and its answer arrives by signal, or, for code
that runs as a coroutine, by an awaited future. tests/desktop/test_no_nested_loops.py
keeps it so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialog, QInputDialog, QMenu, QMessageBox, QWidget

from .question import Question


def open_dialog[D: QDialog](dialog: D, on_accept: Callable[[], object] | None = None) -> D:
    """Show ``dialog`` window-modal; ``on_accept`` runs when the user accepts it.
    The dialog deletes itself when it closes."""
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if on_accept is not None:
        dialog.accepted.connect(on_accept)
    dialog.open()
    return dialog


async def finished(dialog: QDialog) -> int:
    """Show ``dialog`` and wait, without a second event loop, until it closes:
    its result (QDialog.DialogCode)."""
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def done(result: int) -> None:
        if not future.done():
            future.set_result(result)

    dialog.finished.connect(done)
    dialog.open()
    return await future


def ask_text(
    parent: QWidget,
    title: str,
    label: str,
    on_text: Callable[[str], object],
    text: str = "",
) -> QInputDialog:
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setTextValue(text)
    dialog.textValueSelected.connect(on_text)
    return open_dialog(dialog)


def ask_int(
    parent: QWidget,
    title: str,
    label: str,
    on_value: Callable[[int], object],
    value: int,
    minimum: int,
    maximum: int,
) -> QInputDialog:
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setInputMode(QInputDialog.InputMode.IntInput)
    dialog.setIntRange(minimum, maximum)
    dialog.setIntValue(value)
    dialog.intValueSelected.connect(on_value)
    return open_dialog(dialog)


def confirm(
    parent: QWidget,
    title: str,
    heading: str,
    on_yes: Callable[[], object],
    *,
    verb: str,
    keep: str = "Cancel",
    detail: str = "",
    destructive: bool = True,
) -> Question:
    """Ask before doing something: buttons that say what they do (``verb``, ``keep``),
    never Yes/No; ``on_yes`` runs only for the verb."""
    box = Question(parent, title, heading, detail, verb, keep, destructive)
    box.answered.connect(lambda text: on_yes() if text == verb else None)
    return open_dialog(box)


def message_box(
    parent: QWidget | None, title: str, text: str, icon: QMessageBox.Icon
) -> QMessageBox:
    """A message with an OK button, not shown yet: ``open_dialog`` or ``finished`` it."""
    return QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)


def popup(menu: QMenu, at: QPoint) -> QMenu:
    """Show a context menu at a global position; it goes away by itself."""
    menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    menu.popup(at)
    return menu
