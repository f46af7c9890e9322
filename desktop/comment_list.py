"""The ticket panel's comments: who wrote each and when, "(edited)" with the time
of the edit in its tooltip; deleted ones are gone (model.cards keeps them, hidden).

Only your own comments can be edited or deleted: their context menu (right
click, or the Menu key) offers "Edit comment" and "Delete comment…", and F2 and
Delete do the same on a selected one. Others' comments offer nothing. The panel
does the editing (in its comment box) and asks before deleting.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QContextMenuEvent, QKeyEvent
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QMenu

from lanban.model.schema import Comment

from .prompts import popup

EDIT = "Edit comment"
DELETE = "Delete comment…"


def when(ms: int) -> str:
    if not ms:
        return "?"
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


class CommentList(QListWidget):
    editRequested = Signal(str)  # a comment id
    deleteRequested = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setAccessibleName("Comments")
        self.setAlternatingRowColors(True)  # where one comment ends
        self.setSpacing(2)
        self.me = ""
        self.read_only = False
        self._comments: dict[str, Comment] = {}

    def fill(self, comments: tuple[Comment, ...], me: str, read_only: bool) -> None:
        self.me, self.read_only = me, read_only
        self._comments = {c.id: c for c in comments}
        current = self.currentItem()
        keep = current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        bar = self.verticalScrollBar()
        at_end, value = bar.value() == bar.maximum(), bar.value()
        self.clear()
        for comment in comments:
            edited = " (edited)" if comment.edited_at else ""
            item = QListWidgetItem(
                f"{comment.author or 'someone'} · {when(comment.at)}{edited}\n{comment.text}"
            )
            item.setData(Qt.ItemDataRole.UserRole, comment.id)
            if comment.edited_at:
                item.setToolTip(f"Edited {when(comment.edited_at)}")
            self.addItem(item)
            if comment.id == keep:
                self.setCurrentItem(item)
        bar.setValue(bar.maximum() if at_end else value)

    def comment(self, comment_id: str) -> Comment | None:
        return self._comments.get(comment_id)

    def actions_for(self, comment_id: str) -> list[str]:
        """What this user may do with the comment: edit and delete only their own."""
        comment = self._comments.get(comment_id)
        if self.read_only or comment is None or comment.author != self.me or not self.me:
            return []
        return [EDIT, DELETE]

    def _selected(self) -> str | None:
        item = self.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        item = self.itemAt(event.pos())
        if item is None:
            return
        self.setCurrentItem(item)
        self.menu_for(str(item.data(Qt.ItemDataRole.UserRole)), event.globalPos())

    def menu_for(self, comment_id: str, at: QPoint) -> QMenu | None:
        actions = self.actions_for(comment_id)
        if not actions:
            return None
        menu = QMenu(self)
        menu.addAction(EDIT).triggered.connect(lambda: self.editRequested.emit(comment_id))
        menu.addAction(DELETE).triggered.connect(lambda: self.deleteRequested.emit(comment_id))
        return popup(menu, at)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        chosen = self._selected()
        if chosen is not None and self.actions_for(chosen):
            if event.key() == Qt.Key.Key_F2:
                self.editRequested.emit(chosen)
                return
            if event.key() == Qt.Key.Key_Delete:
                self.deleteRequested.emit(chosen)
                return
        super().keyPressEvent(event)
