"""The ticket panel's labels: a chip per board label, checked when the ticket has it.

A chip takes the keyboard focus when clicked, so the labels' lock (field_locks)
holds while someone's caret is on a chip. A read-only panel shows only the
ticket's own labels, and no "+ Label".
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from lanban.model.board import Board
from lanban.model.errors import BoardError

from .prompts import ask_text
from .theme import USER_COLORS

Edit = Callable[[Callable[[], object]], bool]  # the panel's edit: runs it, says why not


class LabelChips(QWidget):
    def __init__(
        self, board: Board, ticket_id: str, edit: Edit, after: QWidget | None = None
    ) -> None:
        super().__init__()
        self.board = board
        self.ticket_id = ticket_id
        self._edit = edit
        self._after = after  # the field Tab comes from to the chips
        self.row = QHBoxLayout(self)
        self.row.setSpacing(4)
        self.row.setContentsMargins(0, 0, 0, 0)  # in line with the fields above
        self.add_button = QToolButton()
        self.add_button.setText("+ Label")
        self.add_button.setAccessibleName("Add a label")
        self.add_button.clicked.connect(self._new_label)

    def chips(self) -> list[QToolButton]:
        items = (self.row.itemAt(i) for i in range(self.row.count()))
        return [
            w
            for item in items
            if item is not None
            and isinstance(w := item.widget(), QToolButton)
            and w is not self.add_button
        ]

    def fill(self, *, editable: bool, read_only: bool) -> None:
        while self.row.count():
            item = self.row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None and widget is not self.add_button:
                widget.deleteLater()
        try:
            mine = set(self.board.ticket(self.ticket_id).labels)
        except BoardError:
            return
        for label in self.board.labels():
            if read_only and label.id not in mine:
                continue  # a view shows the ticket's labels, not choices
            chip = QToolButton()
            chip.setText(label.name)
            chip.setAccessibleName(f"Label {label.name}")
            chip.setCheckable(True)
            chip.setChecked(label.id in mine)
            chip.setEnabled(editable)
            chip.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a click puts the caret here
            chip.setStyleSheet(
                f"QToolButton {{ border: 1px solid {label.color}; border-radius: 9px;"
                " padding: 1px 8px; }"
                f" QToolButton:checked {{ background: {label.color}; color: white; }}"
            )
            chip.toggled.connect(lambda on, lid=label.id: self._toggle(lid, on))
            self.row.addWidget(chip)
        if read_only and not mine:
            none = QLabel("None")
            none.setStyleSheet("color: palette(placeholder-text);")
            self.row.addWidget(none)  # (a view says so, rather than show a gap)
        self.add_button.setEnabled(editable)
        self.add_button.setVisible(not read_only)
        self.row.addWidget(self.add_button)
        self.row.addStretch(1)
        if self._after is not None:  # Tab: the chips come here, not after the last button
            previous = self._after
            for widget in (*self.chips(), self.add_button):
                QWidget.setTabOrder(previous, widget)
                previous = widget

    def _toggle(self, label_id: str, on: bool) -> None:
        current = set(self.board.ticket(self.ticket_id).labels)
        wanted = current | {label_id} if on else current - {label_id}
        if wanted != current:
            self._edit(lambda: self.board.edit_ticket(self.ticket_id, labels=sorted(wanted)))

    def _new_label(self) -> None:
        def add(name: str) -> None:
            if not name.strip():
                return
            color = USER_COLORS[len(self.board.labels()) % len(USER_COLORS)]

            def add_label() -> None:
                label = self.board.ensure_label(name.strip(), color)
                labels = set(self.board.ticket(self.ticket_id).labels) | {label}
                self.board.edit_ticket(self.ticket_id, labels=sorted(labels))

            self._edit(add_label)

        ask_text(self.window(), "New label", "Label name:", add)
