"""The ticket panel's assignees: a chip per person (an avatar with their initials
in their colour, their name, × to unassign) and "+ Assign".

"+ Assign" opens a box under the chips whose list offers the board's people:
its members and everyone who wrote to it (model.people), everyone already
assigned on the board, the peers online and me; typing narrows it, and any
other name is taken as typed (free text). The box stays
inside this widget, so the caret in it holds the assignee lock (field_locks)
and its list never takes the keyboard focus from it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QIcon,
    QKeyEvent,
    QPainter,
    QPixmap,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QCompleter,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from lanban.model.people import people

from .controller import BoardController
from .people_colors import PeopleColors
from .theme import Palette, initials, text_on

AVATAR = 20


def avatar_pixmap(name: str, color: QColor, size: int = AVATAR, ratio: float = 1.0) -> QPixmap:
    """A disc in ``color`` with the person's initials, black or white (theme.text_on)."""
    pixmap = QPixmap(int(size * ratio), int(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawEllipse(QRectF(0, 0, size, size))
    font = QFont()
    font.setPixelSize(max(7, int(size * 0.42)))
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(text_on(color))
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, initials(name))
    painter.end()
    return pixmap


def board_people(controller: BoardController) -> list[str]:
    """Everyone a ticket of this board might be assigned to, by name (once each,
    ignoring case; members first)."""
    board = controller.board
    names = [p.name for p in people(board)]  # its members, and everyone who wrote to it
    names += [a for t in board.tickets() for a in t.assignees]
    names += [p.name for p in controller.peers()]
    names.append(controller.settings.name)
    seen: set[str] = set()
    result = []
    for name in (" ".join(n.split()) for n in names):
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            result.append(name)
    return result


class AssigneePicker(QWidget):
    edited = Signal(list)  # the user changed the assignees: the names to write

    def __init__(self, controller: BoardController) -> None:
        super().__init__()
        self.controller = controller
        self.colors = PeopleColors(controller)
        self.setObjectName("assignees")
        self._names: list[str] = []
        self._read_only = False
        self._chips: list[QWidget] = []
        self.row = QHBoxLayout()
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(4)
        self.nobody = QLabel("Nobody")
        self.nobody.setStyleSheet("color: palette(placeholder-text);")
        self.add_button = QToolButton()
        self.add_button.setText("+ Assign")
        self.add_button.setAccessibleName("Assign someone")
        self.add_button.clicked.connect(self.open_box)
        self.box = QLineEdit()
        self.box.setObjectName("assigneeBox")
        self.box.setAccessibleName("Assign")
        self.box.setPlaceholderText("A name, then Enter (Esc: done)")
        self.box.hide()
        self.box.returnPressed.connect(self._take_typed)
        self.box.installEventFilter(self)
        self.people = QStandardItemModel(self)
        self.completer = QCompleter(self.people, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.box.setCompleter(self.completer)
        # after the box's own handler (it puts the choice in the box), so _take empties it
        self.completer.activated.connect(self._take)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(self.row)
        column.addWidget(self.box)
        self._layout_row()

    # --------------------------------------------------------------- showing

    def names(self) -> list[str]:
        return list(self._names)

    def chips(self) -> list[QWidget]:
        return list(self._chips)

    def set_names(self, names: tuple[str, ...] | list[str]) -> None:
        if list(names) != self._names:
            self._names = list(names)
            self._layout_row()

    def isReadOnly(self) -> bool:
        return self._read_only

    def setReadOnly(self, on: bool) -> None:
        if on != self._read_only:
            self._read_only = on
            if on:
                self.box.hide()
            self._layout_row()

    def _layout_row(self) -> None:
        while self.row.count():
            item = self.row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None and widget not in (self.add_button, self.nobody):
                widget.deleteLater()
        self._chips = [self._chip(name) for name in self._names]
        for chip in self._chips:
            self.row.addWidget(chip)
        self.nobody.setVisible(not self._names)
        self.nobody.setText("Nobody" if self._read_only else "Nobody yet")
        self.nobody.setAccessibleName("Assignee: nobody")
        self._reachable(self.nobody)
        self.row.addWidget(self.nobody)
        self.add_button.setVisible(not self._read_only)
        self.row.addWidget(self.add_button)
        self.row.addStretch(1)

    def _chip(self, name: str) -> QWidget:
        chip = QFrame()
        chip.setObjectName("assigneeChip")
        chip.setAccessibleName(name)
        chip.setToolTip(name)
        border = Palette().card_border.name()
        chip.setStyleSheet(f"#assigneeChip {{ border: 1px solid {border}; border-radius: 11px; }}")
        row = QHBoxLayout(chip)
        row.setContentsMargins(1, 1, 6 if self._read_only else 1, 1)
        row.setSpacing(4)
        avatar = QLabel()
        avatar.setPixmap(
            avatar_pixmap(name, self.colors.color(name), ratio=self.devicePixelRatioF())
        )
        avatar.setFixedSize(QSize(AVATAR, AVATAR))
        row.addWidget(avatar)
        label = QLabel(name)
        label.setAccessibleName(f"Assignee: {name}")
        self._reachable(label)
        row.addWidget(label)
        if not self._read_only:
            remove = QToolButton()
            remove.setText("×")
            remove.setAutoRaise(True)
            remove.setAccessibleName(f"Unassign {name}")
            remove.setToolTip(f"Unassign {name}")
            remove.clicked.connect(lambda _=False, n=name: self._remove(n))
            row.addWidget(remove)
        return chip

    def _reachable(self, label: QLabel) -> None:
        """Read-only, the names are what Tab stops at (as a view's fields are)."""
        label.setFocusPolicy(
            Qt.FocusPolicy.StrongFocus if self._read_only else Qt.FocusPolicy.NoFocus
        )

    # ---------------------------------------------------------------- editing

    def open_box(self) -> None:
        """ "+ Assign": the box, its list of the board's people (those not
        assigned yet) open under it."""
        if self._read_only:
            return
        self.people.clear()
        for name in board_people(self.controller):
            if name not in self._names:
                item = QStandardItem(name)
                item.setIcon(QIcon(avatar_pixmap(name, self.colors.color(name))))
                self.people.appendRow(item)
        self.box.clear()
        self.box.show()
        self.box.setFocus()
        self.completer.setCompletionPrefix("")
        self.completer.complete()

    def candidates(self) -> list[str]:
        """The names the box's list offers now."""
        return [self.people.item(i).text() for i in range(self.people.rowCount())]

    def _take_typed(self) -> None:
        popup = self.completer.popup()
        if popup is not None and popup.isVisible() and popup.currentIndex().isValid():
            return  # the list's activated() takes it
        self._take(self.box.text())

    def _take(self, name: str) -> None:
        name = " ".join(name.split())
        if (
            name
            and not self._read_only
            and name.casefold() not in {n.casefold() for n in self._names}
        ):
            self._names.append(name)
            self._layout_row()
            self.edited.emit(list(self._names))
        # the completer puts its choice in the box after telling us: empty it after that
        QTimer.singleShot(0, self.box.clear)
        self.box.setFocus()

    def _remove(self, name: str) -> None:
        if name in self._names and not self._read_only:
            self._names.remove(name)
            self._layout_row()
            self.edited.emit(list(self._names))
            self.add_button.setFocus()

    def close_box(self) -> None:
        self.box.hide()
        self.add_button.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.box
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Escape
        ):
            self.close_box()
            return True
        return super().eventFilter(watched, event)
