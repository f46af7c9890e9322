"""View > History…: the board as it was at any moment of its past, read-only (issue 11).

A slider runs over the board's moments (Board.moments(): one per change, oldest
first); the board at the chosen moment (Board.at_moment, a Yjs snapshot) shows
as columns of cards painted by the board's own card delegate, with the
moment's time, author and what it did. Arrow keys step (the slider has the
focus), Home and End go to the first and the last; Esc closes.

"Restore this ticket as it was" brings the selected card's fields back as a
new change of mine that syncs (Board.restore_ticket_from), after a question
that says what will change. History is never rewritten.

A moment shows within the issue's 200 ms (tests/benchmarks/bench_history.py,
"history view shows a moment": the model's snapshot is most of it): the
slider's moves are coalesced, so a drag shows only where it is now, and the
columns' widgets are reused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QItemSelection, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.model.schema import Ticket

from .card_delegate import CardDelegate
from .column_grip import COLUMN_MAX_WIDTH, COLUMN_MIN_WIDTH
from .column_model import IdRole, LabelsRole, TicketRole
from .history_parts import (
    NO_COLUMNS,
    NO_HISTORY,
    EmptyNote,
    OneLine,
    ReadOnlyBadge,
    SliderEnds,
    moment_time,
)
from .id_list_model import IdListModel, Index
from .prompts import confirm
from .theme import Palette

Edit = Callable[[Callable[[], object]], bool]  # BoardController.edit: may fail, says why


class PastTickets(IdListModel):
    """One column's cards at a moment (read-only)."""

    def __init__(self) -> None:
        super().__init__()
        self._ids = []
        self._tickets: dict[str, Ticket] = {}
        self._labels: list[tuple[str, tuple[str, str]]] = []

    def set_tickets(self, tickets: list[Ticket], labels: dict[str, tuple[str, str]]) -> None:
        self.beginResetModel()
        self._ids = [t.id for t in tickets]
        self._tickets = {t.id: t for t in tickets}
        self._labels = list(labels.items())
        self.endResetModel()

    def row_of(self, ticket_id: str) -> int:
        return self._ids.index(ticket_id) if ticket_id in self._tickets else -1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        tid = self.id_at(index)
        if tid is None:
            return None
        ticket = self._tickets[tid]
        if role == TicketRole:
            return ticket
        if role == IdRole:
            return tid
        if role == LabelsRole:
            return [label for lid, label in self._labels if lid in ticket.labels]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"#{ticket.number} {ticket.title}"
        return None


class PastColumn(QFrame):
    """A column's title and its cards at a moment."""

    def __init__(self, chosen: Callable[[PastColumn, str | None], None]) -> None:
        super().__init__()
        self.setObjectName("column")
        self.setMinimumWidth(COLUMN_MIN_WIDTH)
        self.setMaximumWidth(COLUMN_MAX_WIDTH)
        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.model = PastTickets()
        self.view = QListView()
        self.view.setModel(self.model)
        self.delegate = CardDelegate(self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)  # narrower: titles wrap again
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # the slider keeps the arrows
        self.view.setFrameShape(QFrame.Shape.NoFrame)
        self.view.selectionModel().selectionChanged.connect(
            lambda selected, _old: chosen(self, self._ticket(selected))
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 10, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        pal = Palette()
        self.setStyleSheet(
            f"QFrame#column {{ background: {pal.column.name()}; border-radius: 10px; }}"
            " QListView, QLabel { background: transparent; }"
            " QLabel { padding-left: 4px; }"
        )

    def _ticket(self, selected: QItemSelection) -> str | None:
        indexes = selected.indexes()
        return self.model.id_at(indexes[0]) if indexes else None

    def show_tickets(self, title: str, tickets: list[Ticket], labels: dict[str, Any]) -> None:
        self.title.setText(f"{title}  ·  {len(tickets)}")
        self.view.setAccessibleName(f"{title}, as it was")
        self.model.set_tickets(tickets, labels)

    def select(self, ticket_id: str | None) -> bool:
        row = self.model.row_of(ticket_id) if ticket_id else -1
        if row < 0:
            self.view.clearSelection()
            return False
        self.view.setCurrentIndex(self.model.index(row))
        return True


class HistoryView(QDialog):
    """The board's past, one moment at a time (module docstring)."""

    restored = Signal(str)  # a ticket (id) was brought back as it was

    def __init__(
        self,
        board: Board,
        edit: Edit,
        parent: QWidget | None = None,
        read_only: str = "",
        person_color: Callable[[str], QColor] | None = None,
    ) -> None:
        """``person_color``: an assignee's colour by name, as the board shows it."""
        super().__init__(parent)
        self.board = board
        self._person_color = person_color
        self._edit = edit
        self.setObjectName("historyView")
        self.setWindowTitle(f"History of {board.title or 'the board'} — Lanban")
        self.resize(1100, 700)
        self.moments = board.moments()
        self._stale = False  # the board changed since the moments were read
        self._unsubscribe = board.subscribe(lambda _event: setattr(self, "_stale", True))
        self.finished.connect(lambda _result: self._unsubscribe())
        self.index = -1  # the moment shown
        self.past: Board | None = None
        self.selected: str | None = None

        self.when = QLabel()
        self.when.setObjectName("historyWhen")
        font = self.when.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.when.setFont(font)
        self.read_only_badge = ReadOnlyBadge()
        self.what = OneLine()  # one line: the slider under it holds still
        self.what.setObjectName("historyWhat")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("historySlider")
        self.slider.setAccessibleName("Moment")
        self.slider.setRange(0, max(0, len(self.moments) - 1))
        self.slider.setPageStep(10)
        self.slider.valueChanged.connect(self._slid)
        self.ends = SliderEnds()
        self.empty_note = EmptyNote()
        self.strip = QWidget()
        self.strip.setObjectName("historyStrip")
        self.strip_layout = QHBoxLayout(self.strip)
        self.strip_layout.setContentsMargins(12, 12, 12, 12)
        self.strip_layout.setSpacing(12)
        self.strip_layout.addStretch(0)
        self.strip_layout.insertWidget(0, self.empty_note, 1)  # the columns go before it
        self.columns: list[PastColumn] = []
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.strip)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        pal = Palette()
        scroll.setStyleSheet(f"QScrollArea {{ background: {pal.board.name()}; border: none; }}")
        self.strip.setStyleSheet(f"QWidget#historyStrip {{ background: {pal.board.name()}; }}")
        self.note = QLabel("Read-only: the board as it was. Nothing here changes it.")
        self.note.setStyleSheet(f"color: {pal.muted.name()};")
        self.restore_button = QPushButton("Restore this ticket as it was")
        self.restore_button.setObjectName("restoreTicket")
        self.restore_button.clicked.connect(self.ask_restore)
        self.restore_button.setEnabled(False)
        self.restore_button.setToolTip(read_only)
        self._read_only = read_only
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.note, 1)
        bottom.addWidget(self.restore_button)
        bottom.addWidget(close)
        header = QHBoxLayout()
        header.addWidget(self.when, 1)
        header.addWidget(self.read_only_badge)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.what)
        layout.addWidget(self.slider)
        layout.addWidget(self.ends)
        layout.addWidget(scroll, 1)
        layout.addLayout(bottom)
        self._pending = QTimer(self)  # a drag's moves: show only the latest
        self._pending.setSingleShot(True)
        self._pending.timeout.connect(lambda: self.show_moment(self.slider.value()))
        self.slider.setValue(self.slider.maximum())
        self.show_moment(self.slider.value())
        self.slider.setFocus()

    # ---------------------------------------------------------------- moments

    def _slid(self, _value: int) -> None:
        if not self._pending.isActive():
            self._pending.start(0)

    def show_moment(self, index: int) -> None:
        """Show the board just after moment ``index``."""
        if self._stale:  # a change (a peer's may be older) can shift the moments
            kept = self._reload_moments()
            index = kept if index == self.index else index
        self.slider.setVisible(bool(self.moments))
        self.ends.setVisible(bool(self.moments))
        if not self.moments:
            self.when.setText("This board has no history yet")
            self.empty_note.setText(NO_HISTORY)
            self.empty_note.show()
            return
        self.ends.show_ends(self.moments[0].time, self.moments[-1].time)
        index = max(0, min(index, len(self.moments) - 1))
        self.index = index
        if self.slider.value() != index:
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)
        moment = self.moments[index]
        past = self.past = self.board.at_moment(index)
        shown = moment_time(moment.time) or "(time unknown)"  # as the slider's ends say
        self.when.setText(f"{shown}   ·   moment {index + 1} of {len(self.moments)}")
        self.what.setText(f"{moment.author or 'someone'} {moment.summary}")
        labels = {label.id: (label.name, label.color) for label in past.labels()}
        columns = past.columns()
        while len(self.columns) < len(columns):
            added = PastColumn(self._chosen)
            added.view.installEventFilter(self)  # the arrows step there too
            if self._person_color is not None:
                added.delegate.person_color = self._person_color
            self.columns.append(added)
            self.strip_layout.insertWidget(len(self.columns) - 1, added, 1)
        for widget, column in zip(self.columns, columns, strict=False):
            widget.show_tickets(column.title, past.tickets(column.id), labels)
            widget.show()
            widget.view.scheduleDelayedItemsLayout()  # once shown: a hidden one lays out stale
        for widget in self.columns[len(columns) :]:
            widget.hide()
        self.empty_note.setText(NO_COLUMNS)
        self.empty_note.setVisible(not columns)
        self._reselect()

    def _reload_moments(self) -> int:
        """Read the moments again: where the shown one is now (the end stays the end)."""
        at_end = self.index >= len(self.moments) - 1
        shown = self.moments[self.index] if 0 <= self.index < len(self.moments) else None
        self._stale = False
        self.moments = self.board.moments()
        last = max(0, len(self.moments) - 1)
        index = last
        if shown is not None and not at_end:
            same = (shown.time, shown.author, shown.summary)
            found = (m.index for m in self.moments if (m.time, m.author, m.summary) == same)
            index = next(found, min(self.index, last))
        self.slider.blockSignals(True)
        self.slider.setRange(0, last)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        return index

    def _chosen(self, column: PastColumn, ticket_id: str | None) -> None:
        if ticket_id is None:
            return
        self.selected = ticket_id
        for other in self.columns:
            if other is not column:
                other.view.selectionModel().clear()
        self._update_restore()

    def _reselect(self) -> None:
        """Keep the selected card selected at another moment, if it was there."""
        found = False
        for column in self.columns:
            column.view.selectionModel().blockSignals(True)
            found = (column.isVisible() and column.select(self.selected)) or found
            column.view.selectionModel().blockSignals(False)
            column.view.viewport().update()
        if not found:
            self.selected = None
        self._update_restore()

    def _update_restore(self) -> None:
        self.restore_button.setEnabled(self.selected is not None and not self._read_only)

    def select_ticket(self, ticket_id: str) -> bool:
        """Select a card at this moment (tests, and a ticket's History)."""
        self.selected = ticket_id
        self._reselect()
        return self.selected is not None

    def step(self, by: int) -> None:
        self.slider.setValue(self.slider.value() + by)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Left and Right step through time from a card list too (Up and Down
        go through its cards)."""
        if isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and not event.modifiers():
                self.step(-1 if key == Qt.Key.Key_Left else 1)
                return True
        return super().eventFilter(watched, event)

    # ---------------------------------------------------------------- restore

    def changes(self) -> list[str]:
        """What restoring the selected card would change, as lines."""
        if self.past is None or self.selected is None:
            return []
        then = self.past.ticket(self.selected)
        try:
            now = self.board.ticket(self.selected)
        except BoardError:
            return [f"#{then.number} comes back (it is gone now)"]
        lines: list[str] = []
        if then.title != now.title:
            lines.append(f"Title: “{now.title}” becomes “{then.title}”")
        if then.stored_column != now.stored_column:
            before, after = self._column(now.stored_column), self._column(then.stored_column)
            lines.append(f"Column: {before} becomes {after}")
        if then.description != now.description:
            lines.append("Description: back to what it was then")
        if then.assignees != now.assignees:
            lines.append(f"Assignees: {_names(now.assignees)} become {_names(then.assignees)}")
        if set(then.labels) != set(now.labels):
            lines.append("Labels: back to what they were then")
        if then.due != now.due:
            lines.append(f"Due: {now.due or 'none'} becomes {then.due or 'none'}")
        if then.deleted != now.deleted:
            lines.append("Back to the trash" if then.deleted else "Out of the trash")
        return lines

    def _column(self, column_id: str) -> str:
        try:
            return self.board.column(column_id, include_deleted=True).title
        except BoardError:
            return "(a column no longer here)"

    def ask_restore(self) -> None:
        if self.past is None or self.selected is None:
            return
        ticket, past = self.selected, self.past
        number = past.ticket(ticket).number
        lines = self.changes()
        if not lines:
            self.note.setText(f"#{number} is already as it was then.")
            return
        confirm(
            self,
            "Restore ticket",
            f"Bring #{number} back as it was at {self.when.text().split('   ')[0]}?",
            lambda: self.restore(ticket, past),
            verb="Restore",
            detail="\n".join(lines)
            + "\n\nThis is a new change of yours: everyone gets it, and Undo takes it back."
            " Comments and the checklist stay as they are now.",
            destructive=False,
        )

    def restore(self, ticket: str, past: Board) -> bool:
        """Bring ``ticket`` back as ``past`` shows it (a new change); True if done."""
        done: list[bool] = []
        if not self._edit(lambda: done.append(self.board.restore_ticket_from(past, ticket))):
            return False
        if done and done[0]:
            number = past.ticket(ticket).number
            self.note.setText(f"#{number} is as it was then again (a new change, synced).")
            self._stale = True
            self.show_moment(self.index)
            self.restored.emit(ticket)
        return bool(done and done[0])


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(names) if names else "nobody"
