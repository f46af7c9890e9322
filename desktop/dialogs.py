"""Small dialogs: who you are, settings, new board, join, trash (invite: invite_dialog.py)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lanban.model.board import Board
from lanban.model.limits import DEFAULT_COLUMNS

from .app_state import MAX_NAME
from .theme import USER_COLORS

SWATCH = 28  # px, a colour to pick
ERROR_COLOR = "#e5484d"
HINT_COLOR = "#b7791f"  # amber: readable on light and dark


class Swatch(QAbstractButton):
    """One colour to pick: a disc; the chosen one ringed in the text colour."""

    def __init__(self, color: str) -> None:
        super().__init__()
        self.color = QColor(color)
        self.setCheckable(True)
        self.setFixedSize(SWATCH, SWATCH)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(color)
        self.setAccessibleName(f"Colour {color}")

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        outer = QRectF(self.rect()).adjusted(1.5, 1.5, -1.5, -1.5)
        if self.isChecked():
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.WindowText), 2))
            painter.drawEllipse(outer)
        if self.hasFocus():
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), 2))
            painter.drawEllipse(outer)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.color)
        painter.drawEllipse(outer.adjusted(4, 4, -4, -4))
        painter.end()


class ColorPicker(QWidget):
    """A row of colour swatches; one is always chosen."""

    def __init__(self, current: str = "") -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        for i, color in enumerate(USER_COLORS):
            button = Swatch(color)
            self.group.addButton(button, i)
            layout.addWidget(button)
        layout.addStretch(1)
        chosen = USER_COLORS.index(current) if current in USER_COLORS else 0
        self.group.button(chosen).setChecked(True)

    def color(self) -> str:
        return USER_COLORS[max(0, self.group.checkedId())]


class IdentityDialog(QDialog):
    """First start (and Settings): display name, colour, relay."""

    def __init__(
        self,
        name: str = "",
        color: str = "",
        relay: str = "",
        token: str = "",
        first_start: bool = False,
        parent: QWidget | None = None,
        theme: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to Lanban" if first_start else "Settings")
        self.name = QLineEdit(name)
        self.name.setPlaceholderText("How others see you, e.g. Ada")
        self.name.setMaxLength(MAX_NAME)
        self.colors = ColorPicker(color)
        self.relay = QLineEdit(relay)
        self.relay.setPlaceholderText("ws://relay.example:1234 (optional)")
        self.token = QLineEdit(token)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.theme = QComboBox()
        self.theme.setAccessibleName("Appearance")
        for text, value in (("Same as the system", None), ("Light", "light"), ("Dark", "dark")):
            self.theme.addItem(text, value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(theme)))
        self.error = QLabel()
        self.error.setStyleSheet(f"color: {ERROR_COLOR}")
        form = QFormLayout()
        if first_start:
            intro = QLabel(
                "Pick a name and a colour. People on your boards see them next to "
                "what you are doing."
            )
            intro.setWordWrap(True)
            form.addRow(intro)
        form.addRow("Your name:", self.name)
        form.addRow("Your colour:", self.colors)
        if not first_start:
            form.addRow("Appearance:", self.theme)
            form.addRow("Relay URL:", self.relay)
            form.addRow("Relay token:", self.token)
            note = QLabel(
                "A relay lets boards sync across networks. It can read the boards it relays."
            )
            note.setWordWrap(True)
            form.addRow(note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Start" if first_start else "Save")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def chosen_theme(self) -> str | None:
        value = self.theme.currentData()
        return value if isinstance(value, str) else None

    def _accept(self) -> None:
        if not self.name.text().strip():
            self.error.setText("Please enter a name.")
            return
        problem = relay_problem(self.relay.text().strip())
        if problem:
            self.error.setText(problem)
            self.relay.setFocus()
            return
        self.accept()


def relay_problem(url: str) -> str:
    """Why ``url`` is not a relay's address ("" if it is one, or empty: no relay)."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port that is not a number
    except ValueError:
        return "That relay URL has a port that is not a number."
    if parts.scheme not in ("ws", "wss"):
        return "A relay URL starts with ws:// or wss://."
    if not parts.hostname or any(c.isspace() for c in url):
        return "A relay URL looks like ws://host:port or wss://host."
    del port
    return ""


class NewBoardDialog(QDialog):
    """A title and columns. OK with no title says so and stays open; a title another
    board has is allowed, with a hint (the sidebar tells them apart)."""

    def __init__(
        self, parent: QWidget | None = None, taken: Callable[[str], bool] = lambda _t: False
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New board")
        self._taken = taken
        self.title = QLineEdit()
        self.title.setPlaceholderText("e.g. Team board")
        self.title.setAccessibleName("Board title")
        self.title.textChanged.connect(self._check)
        self.columns = QLineEdit(", ".join(DEFAULT_COLUMNS))
        self.columns.setAccessibleName("Columns")
        self.message = QLabel()
        self.message.setObjectName("titleMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create board")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Title:", self.title)
        form.addRow("", self.message)
        form.addRow("Columns:", self.columns)
        form.addRow(buttons)
        self.setMinimumWidth(460)

    def column_titles(self) -> list[str]:
        return [c.strip() for c in self.columns.text().split(",") if c.strip()]

    def chosen_title(self) -> str:
        return self.title.text().strip()

    def _say(self, text: str, color: str) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {color}")
        self.message.setAccessibleName(text)
        self.message.setVisible(bool(text))
        self.adjustSize()  # room for the wrapped message, or none without it

    def _check(self) -> None:
        title = self.chosen_title()
        if title and self._taken(title):
            self._say(
                f"You already have a board called {title!r}. You can use the "
                "title again: the sidebar tells the two apart.",
                HINT_COLOR,
            )
        else:
            self._say("", HINT_COLOR)

    def _accept(self) -> None:
        if not self.chosen_title():
            self._say("Please give the board a title.", ERROR_COLOR)
            self.title.setFocus()
            return
        self.accept()


class JoinDialog(QDialog):
    """OK hands the code to whoever listens to ``submitted``; they ``accept()`` the
    dialog, or ``refuse()`` the code and it stays open with the reason."""

    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Join a board")
        self.code = QPlainTextEdit()
        self.code.setPlaceholderText("Paste the invite code (it starts with lanban:)")
        self.code.setAccessibleName("Invite code")
        self.code.setTabChangesFocus(True)
        self.error = QLabel()
        self.error.setStyleSheet(f"color: {ERROR_COLOR}")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Join board")
        buttons.accepted.connect(lambda: self.submitted.emit(self.code.toPlainText()))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Invite code:"))
        layout.addWidget(self.code)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(460, 220)

    def refuse(self, reason: str) -> None:
        self.error.setText(reason)


class TrashDialog(QDialog):
    """Deleted tickets: restore or delete for good."""

    def __init__(self, board: Board, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.board = board
        self.setWindowTitle(f"Trash — {board.title}")
        self.list = QListWidget()
        self.list.setAccessibleName("Tickets in the trash")
        self.restore_button = QPushButton("Restore")
        self.purge_button = QPushButton("Delete forever")
        self.restore_button.clicked.connect(self.restore)
        self.purge_button.clicked.connect(self.purge)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.purge_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.resize(420, 360)
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        for ticket in self.board.trash():
            item = QListWidgetItem(f"#{ticket.number}  {ticket.title}")
            item.setData(Qt.ItemDataRole.UserRole, ticket.id)
            self.list.addItem(item)
        empty = self.list.count() == 0
        self.restore_button.setEnabled(not empty)
        self.purge_button.setEnabled(not empty)
        if empty:
            self.list.addItem(QListWidgetItem("The trash is empty."))
            self.list.item(0).setFlags(Qt.ItemFlag.NoItemFlags)

    def _selected(self) -> str | None:
        item = self.list.currentItem()
        value = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return value if isinstance(value, str) else None

    def restore(self) -> None:
        ticket = self._selected()
        if ticket:
            self.board.restore_ticket(ticket)
            self.refresh()

    def purge(self) -> None:
        ticket = self._selected()
        if ticket:
            self.board.purge_ticket(ticket)
            self.refresh()
