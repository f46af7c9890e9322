"""The filter row above the board: text, a label, an assignee."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QSizePolicy, QWidget

from lanban.model.board import Board
from lanban.model.events import BoardEvent, Kind
from lanban.model.schema import Ticket

from .icons import set_icon

SEARCH_WIDTHS = (120, 220)


def changes_assignees(event: BoardEvent) -> bool:
    """Whether the assignee menu may change: a ticket came or went, or an assignee changed.
    (Filling it reads every ticket: too slow to do for each move on a big board.)"""
    return any(
        c.kind in (Kind.TICKET_ADDED, Kind.TICKET_REMOVED) or {"assignee", "*"} & c.fields
        for c in event.changes
    )


class FilterBar(QWidget):
    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Filter tickets")
        self.search.setClearButtonEnabled(True)
        set_icon(
            self.search.addAction(QIcon(), QLineEdit.ActionPosition.LeadingPosition),
            "search",
            muted=True,
        )
        self.search.textChanged.connect(self.changed)
        self.search.setMinimumWidth(SEARCH_WIDTHS[0])  # narrower in a narrow window
        self.search.setMaximumWidth(SEARCH_WIDTHS[1])
        self.search.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.label_filter = QComboBox()
        self.label_filter.setObjectName("labelFilter")
        self.label_filter.currentIndexChanged.connect(self.changed)
        self.assignee_filter = QComboBox()
        self.assignee_filter.setObjectName("assigneeFilter")
        self.assignee_filter.currentIndexChanged.connect(self.changed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.label_filter)
        layout.addWidget(self.assignee_filter)

    def fill(self, board: Board) -> None:
        """The board's labels and assignees in the menus, keeping what is chosen."""
        for combo, first, values in (
            (self.label_filter, "All labels", [lb.name for lb in board.labels()]),
            (
                self.assignee_filter,
                "Anyone",
                sorted({t.assignee for t in board.tickets() if t.assignee}, key=str.casefold),
            ),
        ):
            current = combo.currentText()
            wanted = [first, *values]
            if [combo.itemText(i) for i in range(combo.count())] == wanted:
                continue
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(wanted)
            combo.setCurrentIndex(max(0, combo.findText(current)))
            combo.blockSignals(False)

    def matcher(self, board: Board) -> Callable[[Ticket], bool] | None:
        """Which tickets to show; None for all."""
        text = self.search.text().strip().casefold()
        label = self.label_filter.currentText() if self.label_filter.currentIndex() > 0 else ""
        person = (
            self.assignee_filter.currentText() if self.assignee_filter.currentIndex() > 0 else ""
        )
        if not (text or label or person):
            return None
        label_ids = {lb.id for lb in board.labels() if lb.name == label}

        def matches(ticket: Ticket) -> bool:
            if (
                text
                and text not in ticket.title.casefold()
                and text not in (ticket.description.casefold())
                and text != f"#{ticket.number}"
            ):
                return False
            if label and not label_ids & set(ticket.labels):
                return False
            return not person or ticket.assignee == person

        return matches
