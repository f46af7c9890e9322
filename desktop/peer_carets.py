"""Carets and selections in a ticket's description: mine told, the others' drawn.

Mine: while the editor has focus, its caret (head) and selection (anchor) go into
my awareness state as Yjs relative positions (lanban.model.positions), so they
stay on the same characters whatever the others type; they go when the focus
leaves. Theirs: each peer's selection is a translucent highlight in their colour
(the editor's extraSelections) and their caret a thin bar with their name in a
small tag, drawn by an overlay over the editor's viewport. Both are worked out
again whenever presence or the text changes, so they move with the text.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

from lanban.model.positions import description_index, description_position, known_clocks

from .controller import BoardController
from .theme import safe_color

SELECTION_ALPHA = 70  # of 255: the text stays readable under a peer's selection
CARET_WIDTH = 2
TAG_PADDING = 3


@dataclass(frozen=True)
class PeerCaret:
    name: str
    color: QColor
    anchor: int  # positions in the editor's document (UTF-16 units)
    head: int


class PeerCarets(QWidget):
    """Over ``editor``'s viewport (a child of the editor, not of the viewport,
    which moves its children when it scrolls)."""

    def __init__(self, editor: QPlainTextEdit, controller: BoardController, ticket_id: str):
        super().__init__(editor)
        self.editor = editor
        self.controller = controller
        self.ticket_id = ticket_id
        self.publish = True  # False for a read-only panel: it tells nothing
        self.carets: list[PeerCaret] = []
        self.painted_at = 0.0  # perf_counter() at the end of the last paint (benchmarks)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self._tag_font = QFont(editor.font())
        self._tag_font.setPointSizeF(max(7.0, editor.font().pointSizeF() * 0.8))
        self._tag_font.setBold(True)
        # Several signals may come for one change: one message, on the next turn.
        self._send = QTimer(self)
        self._send.setSingleShot(True)
        self._send.setInterval(0)
        self._send.timeout.connect(self._publish)
        editor.cursorPositionChanged.connect(self._send.start)
        editor.selectionChanged.connect(self._send.start)
        editor.document().contentsChanged.connect(self.refresh)
        editor.verticalScrollBar().valueChanged.connect(self.update)
        editor.horizontalScrollBar().valueChanged.connect(self.update)
        self._viewport = editor.viewport()
        editor.installEventFilter(self)
        self._viewport.installEventFilter(self)
        controller.presenceChanged.connect(self.refresh)
        self._place()
        self.refresh()

    def detach(self) -> None:
        """The panel is going: stop listening to the board's presence."""
        with contextlib.suppress(RuntimeError, TypeError):
            self.controller.presenceChanged.disconnect(self.refresh)

    # ------------------------------------------------------------------ mine

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._viewport and event.type() == QEvent.Type.Resize:
            self._place()
        elif watched is self.editor and isinstance(event, QFocusEvent):
            if event.type() == QEvent.Type.FocusIn:
                self._send.start()
            elif event.reason() != Qt.FocusReason.PopupFocusReason:
                self._send.stop()
                self.controller.set_cursor(self.ticket_id, None)
        return False

    def _publish(self) -> None:
        if not self.publish or not self.editor.hasFocus():
            return
        cursor = self.editor.textCursor()
        board = self.controller.board
        anchor = description_position(board, self.ticket_id, cursor.anchor())
        head = (
            anchor
            if cursor.position() == cursor.anchor()
            else description_position(board, self.ticket_id, cursor.position())
        )
        if anchor is not None and head is not None:
            self.controller.set_cursor(self.ticket_id, anchor, head)

    # ---------------------------------------------------------------- theirs

    def shown(self) -> list[tuple[str, int, int]]:
        """(name, anchor, head) of each peer's caret shown, for tests and tools."""
        return [(c.name, c.anchor, c.head) for c in self.carets]

    def refresh(self) -> None:
        board = self.controller.board
        last = max(0, self.editor.document().characterCount() - 1)
        carets: list[PeerCaret] = []
        clocks: dict[int, int] | None = None
        for peer, theirs in self.controller.cursors(self.ticket_id):
            clocks = clocks if clocks is not None else known_clocks(board)
            head = description_index(board, self.ticket_id, theirs.head, clocks)
            anchor = (
                head
                if theirs.anchor == theirs.head  # a caret without a selection: once
                else description_index(board, self.ticket_id, theirs.anchor, clocks)
            )
            if head is None:
                continue
            color = safe_color(peer.color, peer.user_id)
            anchor = head if anchor is None else anchor
            carets.append(PeerCaret(peer.name, color, min(anchor, last), min(head, last)))
        if carets == self.carets:
            return
        self.carets = carets
        selections = []
        for caret in carets:
            if caret.anchor == caret.head:
                continue
            selection = QTextEdit.ExtraSelection()
            fmt = QTextCharFormat()
            shade = QColor(caret.color)
            shade.setAlpha(SELECTION_ALPHA)
            fmt.setBackground(shade)
            selection.format = fmt
            cursor = QTextCursor(self.editor.document())
            cursor.setPosition(caret.anchor)
            cursor.setPosition(caret.head, QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor
            selections.append(selection)
        self.editor.setExtraSelections(selections)
        self.update()

    def _place(self) -> None:
        self.setGeometry(self.editor.viewport().geometry())
        self.raise_()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.carets:
            painter = QPainter(self)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setFont(self._tag_font)
            metrics = QFontMetrics(self._tag_font)
            for caret in self.carets:
                cursor = QTextCursor(self.editor.document())
                cursor.setPosition(caret.head)
                at = self.editor.cursorRect(cursor)
                painter.fillRect(QRect(at.left(), at.top(), CARET_WIDTH, at.height()), caret.color)
                tag = metrics.boundingRect(caret.name).adjusted(-TAG_PADDING, -1, TAG_PADDING, 1)
                top = at.top() - tag.height() if at.top() >= tag.height() else at.bottom()
                tag.moveTo(min(at.left(), max(0, self.width() - tag.width())), top)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(caret.color)
                painter.drawRoundedRect(tag, 3, 3)
                painter.setPen(QColor("white"))
                painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, caret.name)
            painter.end()
        self.painted_at = time.perf_counter()
