"""A question in the app's own style: a heading, what will happen, and buttons
that say what they do ("Delete column", "Keep column"), never a bare Yes/No.

It opens window-modal with ``open()`` (desktop/prompts.py: no nested loop) and
says what was chosen by its ``chosen`` signal.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .icons import pixmap
from .theme import Palette

DESTRUCTIVE_STYLE = (
    "QPushButton { background: #c53030; color: white; border: none; border-radius: 6px;"
    " padding: 6px 14px; font-weight: bold; }"
    " QPushButton:hover { background: #9b2c2c; }"
    " QPushButton:focus { outline: none; border: 2px solid palette(highlight); }"
)
ACTION_STYLE = (
    "QPushButton { background: palette(highlight); color: palette(highlighted-text);"
    " border: none; border-radius: 6px; padding: 6px 14px; font-weight: bold; }"
    " QPushButton:focus { outline: none; border: 2px solid palette(text); }"
)
ICON_SIZE = 32


class Question(QDialog):
    """``heading``, ``detail`` and two buttons: ``verb`` (does it) and ``keep``
    (changes nothing, the default, also Esc)."""

    chosen = Signal(bool)  # True: the verb; False: keep (or closed)

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        heading: str,
        detail: str,
        verb: str,
        keep: str = "Cancel",
        destructive: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("question")
        pal = Palette()
        icon = QLabel()
        icon.setPixmap(
            pixmap(
                "warning" if destructive else "board",
                pal.warning if destructive else pal.highlight,
                ICON_SIZE,
                self.devicePixelRatioF(),
            )
        )
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.heading = QLabel(heading)
        self.heading.setObjectName("questionHeading")
        self.heading.setWordWrap(True)
        font = QFont(self.heading.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.heading.setFont(font)
        self.detail = QLabel(detail)
        self.detail.setObjectName("questionDetail")
        self.detail.setWordWrap(True)
        self.detail.setVisible(bool(detail))
        self.detail.setStyleSheet(f"color: {pal.muted.name(pal.muted.NameFormat.HexArgb)};")

        self.keep_button = QPushButton(keep)
        self.verb_button = QPushButton(verb)
        self.verb_button.setStyleSheet(DESTRUCTIVE_STYLE if destructive else ACTION_STYLE)
        self.keep_button.setDefault(destructive)  # Enter does the harmless thing
        self.verb_button.setDefault(not destructive)
        self.keep_button.clicked.connect(self.reject)
        self.verb_button.clicked.connect(self.accept)
        self.finished.connect(lambda result: self.chosen.emit(result == self.DialogCode.Accepted))

        text = QVBoxLayout()
        text.setSpacing(6)
        text.addWidget(self.heading)
        text.addWidget(self.detail)
        body = QHBoxLayout()
        body.setSpacing(14)
        body.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        body.addLayout(text, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.keep_button)
        buttons.addWidget(self.verb_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(16)
        layout.addLayout(body)
        layout.addLayout(buttons)
        self.setMinimumWidth(420)
        self.setMaximumWidth(560)
