"""The ticket panel's comments: who wrote each and when, "(edited)" with the time
of the edit in its tooltip; deleted ones are gone (model.cards keeps them, hidden).

Only your own comments can be edited or deleted: the mouse over one shows "Edit"
and "Delete" at its top right, its context menu (right click, or the Menu key)
offers "Edit comment" and "Delete comment…", and F2 and Delete do the same on a
selected one. Others' comments offer nothing. The panel
does the editing (in its comment box) and asks before deleting.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    Qt,
    Signal,
)
from PySide6.QtGui import QContextMenuEvent, QKeyEvent, QMouseEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QListWidget,
    QListWidgetItem,
    QMenu,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

from lanban.model.schema import Comment

from .prompts import popup

EDIT = "Edit comment"
DELETE = "Delete comment…"


def when(ms: int) -> str:
    if not ms:
        return "?"
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


LINKS = (("Edit", EDIT), ("Delete", DELETE))  # shown on the hovered comment, right to left
LINK_GAP = 10


class CommentDelegate(QStyledItemDelegate):
    """Draws "Edit" and "Delete" on the comment under the mouse, if it is mine,
    and takes clicks on them."""

    def __init__(self, owner: CommentList) -> None:
        super().__init__(owner)
        self.owner = owner

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        super().paint(painter, option, index)
        comment_id = str(index.data(Qt.ItemDataRole.UserRole))
        if index.row() != self.owner.hovered or not self.owner.actions_for(comment_id):
            return
        painter.save()
        painter.setPen(self.owner.palette().color(QPalette.ColorRole.Link))
        for word, _action, rect in self.owner.link_rects(option.rect):
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, word)
        painter.restore()

    def editorEvent(
        self,
        event: QEvent,
        model: QAbstractItemModel,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        if (
            event.type() == QEvent.Type.MouseButtonRelease
            and isinstance(event, QMouseEvent)
            and event.button() == Qt.MouseButton.LeftButton
        ):
            comment_id = str(index.data(Qt.ItemDataRole.UserRole))
            if self.owner.actions_for(comment_id):
                at = event.position().toPoint()
                for _word, action, rect in self.owner.link_rects(option.rect):
                    if rect.contains(at):
                        signal = (
                            self.owner.editRequested
                            if action == EDIT
                            else self.owner.deleteRequested
                        )
                        signal.emit(comment_id)
                        return True
        return super().editorEvent(event, model, option, index)


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
        self.hovered = -1  # the row under the mouse
        self.setMouseTracking(True)
        self.setItemDelegate(CommentDelegate(self))

    def link_rects(self, row_rect: QRect) -> list[tuple[str, str, QRect]]:
        """Where "Edit" and "Delete" go on a comment's row: (word, action, rect)."""
        metrics = self.fontMetrics()
        right = row_rect.right() - 6
        found = []
        for word, action in reversed(LINKS):
            width = metrics.horizontalAdvance(word) + 4
            rect = QRect(right - width, row_rect.top() + 2, width, metrics.height())
            found.append((word, action, rect))
            right -= width + LINK_GAP
        return found[::-1]

    def links_of(self, row: int) -> dict[str, QRect]:
        """The hover links of a row, in the viewport (for tests and screen readers' peers)."""
        item = self.item(row)
        if item is None:
            return {}
        return {action: rect for _w, action, rect in self.link_rects(self.visualItemRect(item))}

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        item = self.itemAt(event.position().toPoint())
        row = self.row(item) if item is not None else -1
        if row != self.hovered:
            self.hovered = row
            self.viewport().update()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self.hovered = -1
        self.viewport().update()
        super().leaveEvent(event)

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
