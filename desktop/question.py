"""A question in the app's own style: a heading, what will happen, and buttons
that say what they do ("Delete column", "Keep column"), never a bare Yes/No.

A QMessageBox underneath (platform button order, screen readers, Esc), with the
app's tinted icon, a bold heading, muted detail and a red button for what cannot
be taken back. It opens window-modal with ``open()`` (desktop/prompts.py: no
nested loop) and says which button was chosen by ``answered``.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QPushButton, QWidget

from .icons import pixmap
from .theme import Palette

DESTRUCTIVE_STYLE = (
    "QPushButton { background: #c53030; color: white; border: none; border-radius: 6px;"
    " padding: 6px 14px; font-weight: bold; }"
    " QPushButton:hover { background: #9b2c2c; }"
    " QPushButton:focus { border: 2px solid palette(highlight); }"
)
ACTION_STYLE = (
    "QPushButton { background: palette(highlight); color: palette(highlighted-text);"
    " border: none; border-radius: 6px; padding: 6px 14px; font-weight: bold; }"
    " QPushButton:focus { border: 2px solid palette(text); }"
)
ICON_SIZE = 36


class Question(QMessageBox):
    """``heading``, ``detail`` and the buttons: ``verb`` (does it), an optional
    ``alternative`` (a milder way), and ``keep`` (changes nothing; Esc). Enter
    keeps when the verb cannot be taken back (``destructive``), else does it, unless
    ``default`` names another button."""

    answered = Signal(str)  # the chosen button's text; "" when closed otherwise

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        heading: str,
        detail: str,
        verb: str,
        keep: str = "Cancel",
        destructive: bool = True,
        alternative: str = "",
        default: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("question")
        self.setWindowTitle(title)
        self.setText(heading)
        self.setInformativeText(detail)
        pal = Palette()
        tint = pal.warning if destructive else pal.highlight
        self.setIconPixmap(
            pixmap("warning" if destructive else "board", tint, ICON_SIZE, self.devicePixelRatioF())
        )
        muted = pal.muted.name(QColor.NameFormat.HexArgb)
        self.setStyleSheet(
            "QLabel#qt_msgbox_label { font-weight: bold; font-size: 11pt; }"
            f" QLabel#qt_msgbox_informativelabel {{ color: {muted}; min-width: 340px; }}"
        )
        role = QMessageBox.ButtonRole
        self.verb_button = self._button(
            verb, role.DestructiveRole if destructive else role.AcceptRole
        )
        self.verb_button.setStyleSheet(DESTRUCTIVE_STYLE if destructive else ACTION_STYLE)
        self.alternative_button = (
            self._button(alternative, role.ActionRole) if alternative else None
        )
        self.keep_button = self._button(keep, role.RejectRole)
        self.setEscapeButton(self.keep_button)
        chosen = next((b for b in self.buttons() if default and b.text() == default), None)
        fallback = self.keep_button if destructive else self.verb_button
        self.setDefaultButton(chosen if isinstance(chosen, QPushButton) else fallback)
        self._said = False
        self.buttonClicked.connect(self._clicked)
        self.finished.connect(lambda _result: self._answer(""))

    def _button(self, text: str, role: QMessageBox.ButtonRole) -> QPushButton:
        button = self.addButton(text, role)
        assert button is not None
        return button

    def _clicked(self, button: QAbstractButton) -> None:
        self._answer(button.text())

    def _answer(self, text: str) -> None:
        if not self._said:  # once: a click, then the box finishing
            self._said = True
            self.answered.emit(text)
