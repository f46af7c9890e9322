"""The ticket panel's bar for an override (overrides.py): what replaced mine, and a
button that puts mine back as a new change."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from .overrides import Override


class OverrideNote(QWidget):
    """A bar at the top of the panel; hidden until an override happens."""

    def __init__(self, put_back: Callable[[str, str], object], parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("overrideNote")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)  # its tint and frame
        self._put_back = put_back
        self._shown: Override | None = None
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.put_back = QPushButton("Put mine back")
        self.put_back.setAutoDefault(False)
        self.put_back.clicked.connect(self._restore)
        dismiss = QToolButton()
        dismiss.setText("✕")
        dismiss.setToolTip("Dismiss")
        dismiss.setAutoRaise(True)
        dismiss.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 4, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.put_back)
        row.addWidget(dismiss)
        self.setStyleSheet(
            "#overrideNote { background: rgba(255, 152, 0, 40); border: 1px solid #ff9800;"
            " border-radius: 4px; }"
        )
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def show_override(self, override: Override) -> None:
        self._shown = override
        self.label.setText(override.sentence())
        self.show()

    def _restore(self) -> None:
        if self._shown is not None:
            field, value = self._shown.field, self._shown.mine
            self._shown = None
            self._put_back(field, value)
        self.hide()
