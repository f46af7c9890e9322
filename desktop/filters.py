"""The filter row above the board (text, a label, an assignee) and what it matches."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QIcon, QKeyEvent
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
        c.kind in (Kind.TICKET_ADDED, Kind.TICKET_REMOVED)
        or {"assignee", "assignees", "*"} & c.fields
        for c in event.changes
    )


@functools.lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Text as the filter compares it: case and accents folded ("Crème" -> "creme")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True)
class TicketFilter:
    """What the filter row asks for; called with a ticket, says whether it shows.

    Every word typed must match somewhere: the title, the description, an assignee,
    a label's name, a comment, a checklist item, or the number ("12" or "#12" is
    ticket #12).
    The one copy of the matching rule (the command line has no search).
    """

    text: str  # as typed
    words: tuple[str, ...]  # folded
    label_names: Mapping[str, str]  # label id -> name, for matching words
    label: str = ""  # the label menu's choice, by name ("" = any)
    label_ids: frozenset[str] = frozenset()  # the ids with that name
    person: str = ""  # the assignee menu's choice ("" = anyone)

    @classmethod
    def parse(
        cls,
        text: str,
        label_names: Mapping[str, str],
        *,
        label: str = "",
        label_ids: frozenset[str] = frozenset(),
        person: str = "",
    ) -> TicketFilter:
        words = tuple(fold(word) for word in text.split())
        return cls(text.strip(), words, label_names, label, label_ids, person)

    @property
    def active(self) -> bool:
        return bool(self.words or self.label or self.person)

    def describe(self) -> str:
        """'login' with label bug, assigned to Ada"""
        parts = [f"'{self.text}'"] if self.text else []
        if self.label:
            parts.append(f"with label {self.label}")
        if self.person:
            parts.append(f"assigned to {self.person}")
        return ", ".join(parts)

    def __call__(self, ticket: Ticket) -> bool:
        if self.label and not self.label_ids & set(ticket.labels):
            return False
        if self.person and self.person not in ticket.assignees:
            return False
        return all(self._word_matches(word, ticket) for word in self.words)

    def _word_matches(self, word: str, ticket: Ticket) -> bool:
        number = word[1:] if word.startswith("#") else word
        if number.isdigit() and int(number) == ticket.number:
            return True
        if word.startswith("#") and number.isdigit():
            return False
        texts = [ticket.title, ticket.description, *ticket.assignees]
        texts += [self.label_names.get(lid, "") for lid in ticket.labels]
        texts += [comment.text for comment in ticket.comments if not comment.deleted]
        texts += [item.text for item in ticket.checklist]
        return any(word in fold(text) for text in texts if text)


class FilterBar(QWidget):
    changed = Signal()
    escaped = Signal()  # Esc in the empty search box: back to the board

    def __init__(self) -> None:
        super().__init__()
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Filter tickets")
        self.search.setAccessibleName("Filter tickets")
        self.search.setClearButtonEnabled(True)
        set_icon(
            self.search.addAction(QIcon(), QLineEdit.ActionPosition.LeadingPosition),
            "search",
            muted=True,
        )
        self.search.textChanged.connect(self.changed)
        self.search.installEventFilter(self)
        self.search.setMinimumWidth(SEARCH_WIDTHS[0])  # narrower in a narrow window
        self.search.setMaximumWidth(SEARCH_WIDTHS[1])
        self.search.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.label_filter = QComboBox()
        self.label_filter.setObjectName("labelFilter")
        # (Qt on Linux reads a combo box's choice as its name: the description says what)
        self.label_filter.setAccessibleName("Filter by label")
        self.label_filter.setAccessibleDescription("Filter by label")
        self.label_filter.currentIndexChanged.connect(self.changed)
        self.assignee_filter = QComboBox()
        self.assignee_filter.setObjectName("assigneeFilter")
        self.assignee_filter.setAccessibleName("Filter by assignee")
        self.assignee_filter.setAccessibleDescription("Filter by assignee")
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
                sorted({a for t in board.tickets() for a in t.assignees}, key=str.casefold),
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

    def matcher(self, board: Board) -> TicketFilter | None:
        """Which tickets to show; None for all."""
        label = self.label_filter.currentText() if self.label_filter.currentIndex() > 0 else ""
        person = (
            self.assignee_filter.currentText() if self.assignee_filter.currentIndex() > 0 else ""
        )
        names = {lb.id: lb.name for lb in board.labels()}
        found = TicketFilter.parse(
            self.search.text(),
            names,
            label=label,
            label_ids=frozenset(lid for lid, name in names.items() if name == label),
            person=person,
        )
        return found if found.active else None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Esc in the search box clears it; Esc in an empty one goes back to the board."""
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            if self.search.text():
                self.search.clear()
            else:
                self.escaped.emit()
            return True
        return super().eventFilter(watched, event)
