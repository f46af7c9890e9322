"""The box under a ticket's comments: write a comment (Enter adds it), or edit
one of mine (CommentList's "Edit": the box takes its text; Enter saves, Esc
leaves the edit and not the panel). "Delete" asks first (prompts.confirm: a
window-modal question opened with open(), no second event loop)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget

from lanban.model.board import Board

from .comment_list import CommentList
from .prompts import confirm
from .question import Question
from .typing_signal import TypingSignal

Edit = Callable[[Callable[[], object]], bool]  # the panel's edit: runs it, says why not
COMMENT_PROMPT = "Write a comment and press Enter"
PREVIEW = 120  # characters of a comment the delete question quotes


class CommentBox(QLineEdit):
    def __init__(
        self,
        board: Board,
        ticket_id: str,
        edit: Edit,
        comments: CommentList,
        typing: TypingSignal,
    ) -> None:
        super().__init__()
        self.board = board
        self.ticket_id = ticket_id
        self._edit = edit
        self.comments = comments
        self.typing = typing
        self.editing: str | None = None  # the comment being edited, if any
        self.question: Question | None = None
        self._say(None)
        self.returnPressed.connect(self._submit)
        self.textEdited.connect(
            lambda text: self.typing.typed(bool(text)) if not self.editing else None
        )
        comments.editRequested.connect(self.start_edit)
        comments.deleteRequested.connect(self.ask_delete)

    def _say(self, editing: str | None) -> None:
        self.editing = editing
        self.setPlaceholderText(
            "Your comment (Enter saves, Esc cancels)" if editing else COMMENT_PROMPT
        )
        self.setAccessibleName("Edit your comment" if editing else "Write a comment")

    def _submit(self) -> None:
        text = self.text().strip()
        editing = self.editing
        if not text:
            return
        if editing is not None:
            if self._edit(lambda: self.board.edit_comment(self.ticket_id, editing, text)):
                self.stop_edit()
        elif self._edit(lambda: self.board.add_comment(self.ticket_id, text)):
            self.clear()
            self.typing.stop()

    def start_edit(self, comment_id: str) -> None:
        comment = self.comments.comment(comment_id)
        if comment is None or self.isReadOnly() or not self.comments.actions_for(comment_id):
            return
        self._say(comment_id)
        self.setText(comment.text)
        self.setFocus()
        self.selectAll()

    def stop_edit(self) -> None:
        self._say(None)
        self.clear()

    def ask_delete(self, comment_id: str) -> None:
        comment = self.comments.comment(comment_id)
        if comment is None or self.isReadOnly() or not self.comments.actions_for(comment_id):
            return
        text = comment.text
        preview = text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"
        parent = self.window()
        assert isinstance(parent, QWidget)
        self.question = confirm(
            parent,
            "Delete comment",
            "Delete your comment?",
            lambda: self._edit(lambda: self.board.delete_comment(self.ticket_id, comment_id)),
            verb="Delete comment",
            detail=preview,
        )

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.editing is not None:
            self.stop_edit()  # Esc leaves the edit, not the panel
            return
        super().keyPressEvent(event)
