"""Where messages show in the window: the error bar, the board's notes and the toasts."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .icons import icon
from .theme import Palette

TOAST_MS = 3500


class ErrorBar(QWidget):
    """A dismissible message at the top of the window."""

    HIDE_AFTER_MS = 12_000

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("errorBar")
        self.label = QLabel()
        self.label.setObjectName("errorText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QPushButton("×")
        close.setFlat(True)
        close.setFixedWidth(28)
        close.setAccessibleName("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.addWidget(QLabel(pixmap=icon("warning", "#ffffff").pixmap(16, 16)))
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setStyleSheet(
            "QWidget#errorBar { background: #c53030; } QLabel, QPushButton { color: white; }"
        )
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_message(self, message: str) -> None:
        self.label.setText(message)
        self.show()
        self._timer.start(self.HIDE_AFTER_MS)

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class BoardNotes(QWidget):
    """Lines under the board's title that stay while true: this node may only view
    the board, and the board's problem (BoardStatus.problem: not saved, board full)."""

    def __init__(self) -> None:
        super().__init__()
        self.read_only, read_only_icon, read_only_row = self._line("readOnlyBanner")
        self.problem, problem_icon, problem_row = self._line("boardProblem")
        self._rows = {
            self.read_only: (read_only_icon, read_only_row),
            self.problem: (problem_icon, problem_row),
        }
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 4, 12, 0)
        layout.setSpacing(2)
        layout.addWidget(read_only_row)
        layout.addWidget(problem_row)
        self.hide()

    @staticmethod
    def _line(name: str) -> tuple[QLabel, QLabel, QWidget]:
        row = QWidget()
        row.setObjectName(f"{name}Row")
        label = QLabel()
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        icon_label = QLabel()
        layout.addWidget(icon_label, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(label, 1)
        row.hide()
        return label, icon_label, row

    def show_notes(self, read_only: str, problem: str | None) -> None:
        """Show ``read_only`` (why this node may only view the board) and ``problem``;
        "" or None hides a line."""
        pal = Palette()
        problem = problem[:1].upper() + problem[1:] if problem else ""
        for label, text, name, color in (
            (self.read_only, read_only, "lock", pal.text),
            (self.problem, problem, "warning", pal.warning),
        ):
            icon_label, row = self._rows[label]
            icon_label.setPixmap(icon(name, color).pixmap(16, 16))
            label.setStyleSheet(f"color: {color.name()}; font-weight: bold;")
            label.setText(text)
            label.setAccessibleName(text)
            row.setVisible(bool(text))
        self.setVisible(bool(read_only or problem))

    def texts(self) -> list[str]:
        return [label.text() for label, (_, row) in self._rows.items() if not row.isHidden()]


class Toasts(QWidget):
    """Short notices in the corner of the window ("Ada joined the board")."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self._labels: list[QLabel] = []
        self.hide()

    def messages(self) -> list[str]:
        return [label.text() for label in self._labels]

    def show_message(self, text: str, ms: int | None = None) -> None:
        """Show ``text`` for ``ms`` (default TOAST_MS)."""
        label = QLabel(text, self.parentWidget())
        label.setObjectName("toast")
        label.setStyleSheet(
            "QLabel#toast { background: rgba(30, 30, 35, 230); color: white;"
            " padding: 8px 14px; border-radius: 8px; }"
        )
        label.adjustSize()
        self._labels.append(label)
        self._place()
        label.show()
        label.raise_()
        # The label is the timer's context: if the window goes first, so does the timer.
        QTimer.singleShot(ms or TOAST_MS, label, lambda: self._drop(label))

    def _drop(self, label: QLabel) -> None:
        if label in self._labels:
            self._labels.remove(label)
            label.deleteLater()
            self._place()

    def _place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        y = parent.height() - 48
        for label in reversed(self._labels):
            label.adjustSize()
            y -= label.height() + 8
            label.move(parent.width() - label.width() - 20, y)

    def relayout(self) -> None:
        self._place()
