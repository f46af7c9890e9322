"""One selected card per board, and moving it with the arrow keys.

Each column is its own list view with its own selection model; this keeps them
to one selection between them: choosing a card in one column clears the others,
and after the board changes (a peer moved the card to another column, edited it,
a filter hid it for a while) the card is selected again wherever it now shows,
with the keyboard focus if the board had it. Enter, Delete and Ctrl+arrows act on
that one card.

The board is one tab stop (a roving one): only the column that holds the
selection, or was last visited, takes Tab focus; arrows move inside the board.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import QWidget

from .column_model import IdRole
from .column_view import ColumnWidget


class BoardSelection(QObject):
    changed = Signal(object)  # the selected ticket id, or None

    def __init__(
        self, columns: Callable[[], list[ColumnWidget]], reveal: Callable[[QWidget], None]
    ) -> None:
        super().__init__()
        self._columns = columns
        self._reveal = reveal
        self.ticket: str | None = None
        self.column: str | None = None  # the column last visited: the board's tab stop
        self._syncing = False  # the views' selections are being set, not chosen
        self._held = False  # the board's models are changing

    def attach(self, column: ColumnWidget) -> None:
        view = column.view
        view.selectionModel().currentChanged.connect(
            lambda current, _previous: self._on_current(current)
        )
        view.stepColumn.connect(lambda step: self.step(column, step))
        view.installEventFilter(self)
        view.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """While the board's models change: rows that go and come are not the user's choice;
        then show the selection where the card is now."""
        if self._held:  # already held by an outer change: it shows the selection
            yield
            return
        had_focus = self.board_has_focus()
        self._held = self._syncing = True
        try:
            yield
        finally:
            self._held = self._syncing = False
        self.show(focus=had_focus)

    def board_has_focus(self) -> bool:
        """Whether a column has the window's focus (the window may be inactive)."""
        columns = self._columns()
        focus = columns[0].window().focusWidget() if columns else None
        return any(c.view is focus for c in columns)

    def select(self, ticket_id: str | None, focus: bool = False) -> None:
        if ticket_id != self.ticket:
            self.ticket = ticket_id
            self.changed.emit(ticket_id)
        self.show(focus)

    def show(self, focus: bool = False) -> None:
        """Select ``self.ticket`` in the column that shows it, and nothing elsewhere."""
        holder = None
        syncing, self._syncing = self._syncing, True
        try:
            for column in self._columns():
                view, model = column.view, column.model
                row = model.row_of(self.ticket) if self.ticket else -1
                if row >= 0:
                    holder = column
                    index = model.index(row)
                    if view.currentIndex() != index or not view.selectionModel().isSelected(index):
                        view.setCurrentIndex(index)
                elif view.currentIndex().isValid() or view.selectionModel().hasSelection():
                    view.selectionModel().clear()
                    view.viewport().update()
        finally:
            self._syncing = syncing
        if holder is not None:
            self.column = holder.column.id
            if focus and holder.window().focusWidget() is not holder.view:
                holder.view.setFocus(Qt.FocusReason.OtherFocusReason)
        self._roving_tab_stop()

    def tab_stop(self) -> ColumnWidget | None:
        columns = self._columns()
        return next((c for c in columns if c.column.id == self.column), None) or next(
            iter(columns), None
        )

    def focus(self) -> bool:
        """Keyboard focus to the board: its tab stop column."""
        column = self.tab_stop()
        if column is None:
            return False
        column.view.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self._reveal(column)
        return True

    def step(self, column: ColumnWidget, step: int) -> None:
        """Left/Right: the next column's card in the same row (its last if it is shorter),
        or the column itself when it is empty."""
        columns = self._columns()
        if column not in columns:
            return
        position = columns.index(column) + step
        if not 0 <= position < len(columns):
            return
        target = columns[position]
        current = column.view.currentIndex()
        rows = target.model.rowCount()
        self.column = target.column.id
        if rows:
            row = min(current.row() if current.isValid() else 0, rows - 1)
            self.select(target.model.ticket_ids[row])
            target.view.scrollTo(target.model.index(row))
        else:
            self.select(None)
        target.view.setFocus(Qt.FocusReason.OtherFocusReason)
        self._reveal(target)

    def _on_current(self, current: QModelIndex | QPersistentModelIndex) -> None:
        if self._syncing or not current.isValid():
            return
        self.select(current.data(IdRole))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusIn:
            for column in self._columns():
                if column.view is watched and column.column.id != self.column:
                    self.column = column.column.id
                    self._roving_tab_stop()
        return False

    def _roving_tab_stop(self) -> None:
        stop = self.tab_stop()
        for column in self._columns():
            policy = Qt.FocusPolicy.StrongFocus if column is stop else Qt.FocusPolicy.ClickFocus
            if column.view.focusPolicy() != policy:
                column.view.setFocusPolicy(policy)
