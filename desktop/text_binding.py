"""A QPlainTextEdit bound to a ticket's collaborative description.

Local typing becomes the smallest splice of the shared text; a change from
anywhere else is applied to the editor as the smallest edit too, through a
separate cursor, so the user's cursor and selection stay where they were
(Qt shifts them past text inserted before them). Qt's own undo is off: the
board's undo (only this user's changes) is the one that counts.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QPlainTextEdit

from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.model.text import text_diff

PARAGRAPH = "\u2029"  # how QTextDocument stores line breaks in raw text


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def editor_text(editor: QPlainTextEdit) -> str:
    # toPlainText() would turn no-break spaces into spaces; raw text keeps them.
    return editor.document().toRawText().replace(PARAGRAPH, "\n")


class DescriptionBinding(QObject):
    def __init__(self, editor: QPlainTextEdit, board: Board, ticket_id: str) -> None:
        super().__init__(editor)
        self.editor = editor
        self.board = board
        self.ticket_id = ticket_id
        self._applying = False
        editor.setUndoRedoEnabled(False)
        self._mirror = board.description(ticket_id)
        self._applying = True
        editor.setPlainText(self._mirror)
        self._applying = False
        editor.document().contentsChanged.connect(self._local_edit)
        self.on_error: Callable[[str], None] = lambda message: None
        self.on_local_edit: Callable[[], object] = lambda: None  # my typing reached the board

    @property
    def text(self) -> str:
        return self._mirror

    def _local_edit(self) -> None:
        if self._applying:
            return
        new = editor_text(self.editor)
        if new == self._mirror:
            return
        start, removed, inserted = text_diff(self._mirror, new)
        try:
            self.board.splice_description(self.ticket_id, start, removed, inserted)
        except BoardError as exc:  # e.g. too long: put the shared text back
            self.on_error(str(exc))
            self.refresh()
            return
        self._mirror = new
        self.on_local_edit()

    def refresh(self) -> None:
        """The shared text changed (a peer, or undo): show it, keeping the cursor."""
        try:
            new = self.board.description(self.ticket_id)
        except BoardError:
            return
        current = editor_text(self.editor)
        if new == current:
            self._mirror = new
            return
        start, removed, inserted = text_diff(current, new)
        cursor = QTextCursor(self.editor.document())
        begin = utf16_length(current[:start])
        cursor.setPosition(begin)
        cursor.setPosition(
            begin + utf16_length(current[start : start + removed]), QTextCursor.MoveMode.KeepAnchor
        )
        self._applying = True
        try:
            cursor.insertText(inserted)
        finally:
            self._applying = False
        self._mirror = new
