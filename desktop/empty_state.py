"""What the window shows when there is no board: what to do, with the buttons to do it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QHideEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .icons import set_icon


class EmptyState(QWidget):
    """ "No boards yet": create one, or join one with an invite code."""

    def __init__(
        self,
        new_board: Callable[[], object],
        join_board: Callable[[], object],
        hides: tuple[QWidget, ...] = (),
    ) -> None:
        super().__init__()
        self.hides = hides  # what makes no sense without a board (the board's header)
        self.setObjectName("emptyState")
        self.heading = QLabel("No boards yet")
        font = QFont(self.heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.heading.setFont(font)
        self.text = QLabel(
            "Create a board for your team,\nor join one with the invite code a teammate sent you."
        )
        self.text.setObjectName("emptyStateText")
        self.new_button = QPushButton("Create a board…")
        set_icon(self.new_button, "plus")
        self.new_button.clicked.connect(new_board)
        self.join_button = QPushButton("Join with an invite…")
        set_icon(self.join_button, "join")
        self.join_button.clicked.connect(join_board)
        self.new_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.join_button)
        buttons.addStretch(1)
        for label in (self.heading, self.text):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box = QVBoxLayout(self)
        box.addStretch(2)
        box.addWidget(self.heading)
        box.addWidget(self.text)
        box.addSpacing(12)
        box.addLayout(buttons)
        box.addStretch(3)
        self.setAccessibleName("No boards yet")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        for widget in self.hides:
            widget.hide()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        for widget in self.hides:
            widget.show()
