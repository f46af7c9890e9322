"""The title as its editor types it, in everyone else's panel.

A title is last-writer-wins, so while a peer's caret is in it the field is locked to
them (field_locks.py) and what they type is saved when they leave it. Meanwhile their
draft, caret and selection go in their awareness state ("title_draft": text and
indexes, not Yjs positions: the text is theirs alone until saved), and the locked
field shows that draft with their caret and selection in their colour. When the
draft goes (saved, left, panel closed, link dropped) the field shows the ticket's
title again.
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtGui import QColor, QFocusEvent, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QLineEdit, QWidget

from lanban.model.errors import BoardError

from .controller import BoardController, TitleDraft
from .peer_carets import CARET_WIDTH, SELECTION_ALPHA
from .theme import safe_color

LINE_EDIT_MARGIN = 2  # px Qt's QLineEdit keeps between its frame and its text


class TitleDrafts(QWidget):
    """Over a panel's title field: mine told while I type, a peer's drawn."""

    def __init__(self, edit: QLineEdit, controller: BoardController, ticket_id: str) -> None:
        super().__init__(edit)
        self.edit = edit
        self.controller = controller
        self.ticket_id = ticket_id
        self.publish = True  # False for a read-only panel: it tells nothing
        self.shown: tuple[str, TitleDraft] | None = None  # (their name, draft) on show
        self._color = QColor()
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self._send = QTimer(self)  # one message for the signals of one change
        self._send.setSingleShot(True)
        self._send.setInterval(0)
        self._send.timeout.connect(self._publish)
        edit.textEdited.connect(self._send.start)
        edit.cursorPositionChanged.connect(self._send.start)
        edit.selectionChanged.connect(self._send.start)
        edit.installEventFilter(self)
        controller.presenceChanged.connect(self.refresh)
        self.setGeometry(edit.rect())
        self.refresh()

    def detach(self) -> None:
        with contextlib.suppress(RuntimeError, TypeError):
            self.controller.presenceChanged.disconnect(self.refresh)
        self.controller.set_title_draft(self.ticket_id, None)

    # ------------------------------------------------------------------ mine

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.setGeometry(self.edit.rect())
        elif (
            isinstance(event, QFocusEvent)
            and event.type() == QEvent.Type.FocusOut
            and event.reason() != Qt.FocusReason.PopupFocusReason
        ):
            self._send.stop()
            self.controller.set_title_draft(self.ticket_id, None)
        return False

    def _publish(self) -> None:
        edit = self.edit
        if not self.publish or not edit.hasFocus() or edit.isReadOnly():
            return
        head = edit.cursorPosition()
        start = edit.selectionStart()
        anchor = head if start < 0 else (start + edit.selectionLength() if start == head else start)
        self.controller.set_title_draft(self.ticket_id, edit.text(), anchor, head)

    # ---------------------------------------------------------------- theirs

    def refresh(self) -> None:
        drafts = self.controller.title_drafts(self.ticket_id)
        theirs = drafts[0] if drafts and self.edit.isReadOnly() else None
        if theirs is None:
            if self.shown is not None:
                self.shown = None
                with contextlib.suppress(BoardError):
                    self.edit.setText(self.controller.board.ticket(self.ticket_id).title)
                self.update()
            return
        peer, draft = theirs
        # Also when only the text differs: the panel may have put the saved title back.
        if self.edit.text() != draft.text:
            self.edit.setText(draft.text)  # not an edit of mine: textEdited stays quiet
        if self.shown != (peer.name, draft):
            self.shown = (peer.name, draft)
            self._color = safe_color(peer.color, peer.user_id)
            self.update()

    def _x(self, index: int) -> int:
        margins = self.edit.textMargins()
        left = self.edit.contentsRect().left() + margins.left() + LINE_EDIT_MARGIN
        return left + QFontMetrics(self.edit.font()).horizontalAdvance(self.edit.text()[:index])

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.shown is None:
            return
        _, draft = self.shown
        painter = QPainter(self)
        inner = self.edit.contentsRect().adjusted(0, 3, 0, -3)
        if draft.anchor != draft.head:
            shade = QColor(self._color)
            shade.setAlpha(SELECTION_ALPHA)
            a, b = sorted((self._x(draft.anchor), self._x(draft.head)))
            painter.fillRect(QRect(a, inner.top(), b - a, inner.height()), shade)
        caret = QRect(self._x(draft.head), inner.top(), CARET_WIDTH, inner.height())
        painter.fillRect(caret, self._color)
        painter.end()
