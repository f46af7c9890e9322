"""The ticket panel's description: Markdown, rendered when read, plain shared
text while edited.

As in Linear, Trello or Jira, the description reads as a page until you click
into it: a click (not on a link), Enter or F2 turns it into the plain
collaborative editor (the QPlainTextEdit with the others' carets); Esc, or the
caret leaving for another field, shows it rendered again. A window losing the
focus (another app, a popup) does not: you come back to what you were typing.
Links open in the browser (QDesktopServices.openUrl) when clicked in the
rendered text. A read-only panel only ever shows it rendered.

Rendering is QTextDocument's Markdown (CommonMark with GitHub's extensions:
headings, lists, task lists, links, code, tables).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QUrl
from PySide6.QtGui import (
    QDesktopServices,
    QFocusEvent,
    QKeyEvent,
    QMouseEvent,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPlainTextEdit,
    QStackedLayout,
    QTextBrowser,
    QWidget,
)

from .theme import Palette

PLACEHOLDER = "Describe the ticket (Markdown works). Several people can type here at once."
EDIT_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F2)
# focus that leaves with the window (another app, a menu) does not end the editing
STAYS = (Qt.FocusReason.ActiveWindowFocusReason, Qt.FocusReason.PopupFocusReason)


def shade_code(document: QTextDocument) -> None:
    """Code blocks on a shaded ground, as GitHub shows them (Qt's Markdown only
    sets a fixed-pitch font)."""
    ground = Palette().column
    block = document.firstBlock()
    cursor = QTextCursor(document)
    while block.isValid():
        form = block.blockFormat()
        if form.hasProperty(QTextFormat.Property.BlockCodeFence) or form.nonBreakableLines():
            form.setBackground(ground)
            cursor.setPosition(block.position())
            cursor.setBlockFormat(form)
        block = block.next()


class MarkdownDescription(QWidget):
    def __init__(self, editor: QPlainTextEdit) -> None:
        super().__init__()
        self.editor = editor
        self.read_only = False
        self.browser = QTextBrowser()
        self.browser.setObjectName("descriptionView")
        self.browser.setAccessibleName("Description")
        self.browser.setAccessibleDescription("Click, Enter or F2 to edit")
        self.browser.setOpenLinks(False)
        self.browser.setOpenExternalLinks(False)
        self.browser.anchorClicked.connect(self._open_link)
        self.browser.setPlaceholderText(PLACEHOLDER)
        self.browser.setTabChangesFocus(True)  # as the editor: Tab goes on to the next field
        # (no selecting by keyboard: that would show a caret in text that is not edited)
        self.browser.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.browser.viewport().installEventFilter(self)
        self.browser.installEventFilter(self)
        self.editor.installEventFilter(self)
        self.stack = QStackedLayout(self)
        self.stack.setContentsMargins(0, 0, 0, 0)
        self.stack.addWidget(self.browser)
        self.stack.addWidget(self.editor)
        self._markdown: str | None = None
        self.setFocusProxy(self.browser)
        self.hint = QLabel()  # beside the field's label: how to switch
        self.hint.setObjectName("markdownHint")
        self.hint.setStyleSheet("color: palette(placeholder-text); font-size: 11px;")
        self._say_mode()

    def _say_mode(self) -> None:
        self.hint.setText(
            ""
            if self.read_only
            else "Markdown · Esc shows it rendered"
            if self.editing
            else "Click, Enter or F2 to edit"
        )

    @property
    def editing(self) -> bool:
        return self.stack.currentWidget() is self.editor

    def show_text(self, text: str) -> None:
        """The description changed: the rendered view follows (the editor has
        its own binding)."""
        if text != self._markdown:
            self._markdown = text
            bar = self.browser.verticalScrollBar()
            at = bar.value()
            self.browser.setMarkdown(text)
            shade_code(self.browser.document())
            bar.setValue(at)

    def start_editing(self) -> None:
        if self.read_only:
            return
        self.stack.setCurrentWidget(self.editor)
        self.setFocusProxy(self.editor)
        self._say_mode()
        self.editor.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_rendered(self, focus: bool = False) -> None:
        had_focus = self.editor.hasFocus()
        self.stack.setCurrentWidget(self.browser)
        self.setFocusProxy(self.browser)
        self._say_mode()
        if focus or had_focus:
            self.browser.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_read_only(self, on: bool) -> None:
        self.read_only = on
        self.browser.setAccessibleDescription("" if on else "Click, Enter or F2 to edit")
        self.browser.setPlaceholderText("" if on else PLACEHOLDER)
        if on:
            self.show_rendered()
        self.browser.setFrameShape(QFrame.Shape.NoFrame if on else QFrame.Shape.StyledPanel)
        self.browser.setStyleSheet("QTextBrowser { background: transparent; }" if on else "")
        self._say_mode()

    def _open_link(self, url: QUrl) -> None:
        QDesktopServices.openUrl(url)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if watched is self.editor:
            if (
                kind == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent)
                and event.key() == Qt.Key.Key_Escape
                and self.editing
            ):
                self.show_rendered(focus=True)
                return True
            if (
                kind == QEvent.Type.FocusOut
                and isinstance(event, QFocusEvent)
                and event.reason() not in STAYS
                and self.editing
            ):
                self.show_rendered()
            return super().eventFilter(watched, event)
        if self.read_only:
            return super().eventFilter(watched, event)
        if (
            watched is self.browser.viewport()
            and kind == QEvent.Type.MouseButtonRelease
            and isinstance(event, QMouseEvent)
            and event.button() == Qt.MouseButton.LeftButton
            and not self.browser.anchorAt(event.position().toPoint())
            and not self.browser.textCursor().hasSelection()
        ):
            self.start_editing()
            return True
        if (
            watched is self.browser
            and kind == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in EDIT_KEYS
            and (event.key() == Qt.Key.Key_F2 or not self.browser.textCursor().hasSelection())
        ):
            self.start_editing()
            return True
        return super().eventFilter(watched, event)
