"""The board: its columns side by side, scrolling sideways; columns reorder by drag.

It scrolls to what the user acts on (a card moved with Ctrl+arrows, a column
added or reached with the arrows) and while a drag nears its left or right edge;
it keeps one selected card (board_selection.py) and says when a filter hides all.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QWidget

from lanban.model.errors import BoardError
from lanban.model.events import BoardEvent, Kind, Origin
from lanban.model.schema import Ticket

from .board_selection import BoardSelection
from .card_delegate import FRESH_SECONDS
from .column_grip import clamp_width
from .column_view import COLUMN_MIME, ColumnWidget
from .controller import BoardController
from .edge_scroll import EdgeScroller
from .filters import TicketFilter
from .icons import retint, set_icon
from .people_colors import PeopleColors
from .prompts import ask_text
from .theme import Palette

ANIMATION_FRAME_MS = 16
REVEAL_MARGIN = 12  # px left of a column the view scrolls to show


class ColumnsStrip(QWidget):
    """The row of columns; accepts column drops and draws where one would land."""

    columnDropped = Signal(str, int)  # column id, new index
    dragHover = Signal(QPoint)  # a column dragged here, at this global point
    dragEnded = Signal()

    def __init__(self, board_id: str) -> None:
        super().__init__()
        self.board_id = board_id
        self.setAcceptDrops(True)
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(12, 12, 12, 12)
        self.layout_.setSpacing(12)
        self._indicator: int | None = None

    def columns(self) -> list[ColumnWidget]:
        items = (self.layout_.itemAt(i) for i in range(self.layout_.count()))
        return [w for item in items if item and isinstance(w := item.widget(), ColumnWidget)]

    def _drop_index(self, pos: QPoint) -> int:
        for i, column in enumerate(self.columns()):
            if pos.x() < column.geometry().center().x():
                return i
        return len(self.columns())

    def _payload(self, event: QDragEnterEvent | QDragMoveEvent | QDropEvent) -> str | None:
        if not event.mimeData().hasFormat(COLUMN_MIME):
            return None
        try:
            data = json.loads(bytes(event.mimeData().data(COLUMN_MIME).data()).decode())
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("board") != self.board_id:
            return None
        column = data.get("column")
        return column if isinstance(column, str) else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._payload(event) is not None:
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._payload(event) is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self._indicator = self._drop_index(event.position().toPoint())
        self.dragHover.emit(self.mapToGlobal(event.position().toPoint()))
        self.update()

    def dragLeaveEvent(self, event: object) -> None:
        self._indicator = None
        self.update()

    def dropEvent(self, event: QDropEvent) -> None:
        column = self._payload(event)
        self._indicator = None
        self.dragEnded.emit()
        self.update()
        if column is None:
            event.ignore()
            return
        index = self._drop_index(event.position().toPoint())
        ids = [c.column.id for c in self.columns()]
        if column in ids and ids.index(column) < index:
            index -= 1
        event.acceptProposedAction()
        self.columnDropped.emit(column, index)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._indicator is None:
            return
        columns = self.columns()
        if not columns:
            return
        if self._indicator < len(columns):
            x = columns[self._indicator].geometry().left() - 6
        else:
            x = columns[-1].geometry().right() + 6
        painter = QPainter(self)
        painter.setPen(QPen(Palette().highlight, 4))
        painter.drawLine(x, 12, x, self.height() - 12)
        painter.end()


class BoardView(QScrollArea):
    openTicket = Signal(str)

    def __init__(self, controller: BoardController) -> None:
        super().__init__()
        self.controller = controller
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the columns take the focus
        self.edge_scroller = EdgeScroller(self)
        self.people = PeopleColors(controller)  # assignees' colours on the cards
        self._widths = {  # columns the user resized (saved in Settings)
            column: clamp_width(width)
            for column, width in controller.settings.column_widths(controller.board_id).items()
        }
        self.strip = ColumnsStrip(controller.board_id)
        self.strip.columnDropped.connect(self._move_column)
        self.strip.dragHover.connect(self.edge_scroller.track)
        self.strip.dragEnded.connect(self.edge_scroller.stop)
        self.setWidget(self.strip)
        self.selection = BoardSelection(self.column_widgets, self.reveal)
        self.selection.changed.connect(controller.set_selected)  # peers ring it
        self.no_match = QLabel(self)  # over the columns when a filter hides every card
        self.no_match.setObjectName("noMatch")
        self.no_match.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_match.hide()
        self.add_column_button = QPushButton("Add column")
        set_icon(self.add_column_button, "plus")
        self.add_column_button.setObjectName("addColumn")
        self.add_column_button.clicked.connect(self.add_column)
        self.add_column_button.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # Board, Add column
        self.add_column_button.setSizePolicy(
            self.add_column_button.sizePolicy().horizontalPolicy(),
            self.add_column_button.sizePolicy().verticalPolicy(),
        )
        self._widgets: dict[str, ColumnWidget] = {}
        self._columns: list[ColumnWidget] = []  # the strip's, in order
        self._matches: Callable[[Ticket], bool] | None = None
        self._read_only = ""  # why this node may only view the board
        self._animation = QTimer(self)
        self._animation.setInterval(ANIMATION_FRAME_MS)
        self._animation.timeout.connect(self._animate)
        controller.ticketsChanged.connect(self._on_tickets)
        controller.columnsChanged.connect(self.rebuild)
        controller.labelsChanged.connect(self._on_labels)
        controller.presenceChanged.connect(self._on_presence)
        self.rebuild()
        self.apply_palette()

    # ------------------------------------------------------------- columns

    def column_widgets(self) -> list[ColumnWidget]:
        """The columns left to right (kept by rebuild: asked several times per change)."""
        return list(self._columns)

    def column_widget(self, column_id: str) -> ColumnWidget | None:
        return self._widgets.get(column_id)

    def rebuild(self) -> None:
        with self.selection.held():
            self._rebuild()
        self._show_no_match()

    def _rebuild(self) -> None:
        """Match the widgets to the board's columns, reusing the ones that stay."""
        columns = self.controller.board.columns()
        wanted = {c.id for c in columns}
        for column_id in list(self._widgets):
            if column_id not in wanted:
                widget = self._widgets.pop(column_id)
                widget.setParent(None)
                widget.deleteLater()
        layout = self.strip.layout_
        while layout.count():
            layout.takeAt(0)
        for column in columns:
            existing = self._widgets.get(column.id)
            if existing is None:
                widget = ColumnWidget(self.controller, column)
                widget.openTicket.connect(self.openTicket)
                widget.moveAcross.connect(self._move_across)
                widget.moved.connect(self._reveal_column)
                widget.view.dragHover.connect(self.edge_scroller.track)
                widget.view.dragEnded.connect(self.edge_scroller.stop)
                widget.view.delegate.person_color = self.people.color
                widget.set_width(self._widths.get(column.id, 0))
                widget.widthChosen.connect(self._remember_width)
                widget.model.set_filter(self._matches)
                widget.set_read_only(self._read_only)
                self.selection.attach(widget)
                self._widgets[column.id] = widget
            else:
                widget = existing
                widget.set_column(column)
                widget.model.refresh()
            layout.addWidget(widget, 1)
            widget.show()  # now, not when the layout gets to it: reveal() lays it out at once
        layout.addWidget(self.add_column_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addStretch(0)  # only what the columns, at their widest, leave
        self._columns = self.strip.columns()

    def _remember_width(self, column_id: str, width: int) -> None:
        if width:
            self._widths[column_id] = width
        else:
            self._widths.pop(column_id, None)
        self.controller.settings.set_column_width(self.controller.board_id, column_id, width)

    def set_read_only(self, reason: str) -> None:
        """Show the board read-only while ``reason`` (why) is set; "" allows edits."""
        if reason != self._read_only:
            self._read_only = reason
            self.add_column_button.setEnabled(not reason)
            self.add_column_button.setToolTip(reason)
            for widget in self.column_widgets():
                widget.set_read_only(reason)

    def apply_palette(self) -> None:
        pal = Palette()
        self.setStyleSheet(f"QScrollArea {{ background: {pal.board.name()}; border: none; }}")
        self.strip.setStyleSheet(f"ColumnsStrip {{ background: {pal.board.name()}; }}")
        self.strip.setAutoFillBackground(True)
        for widget in self.column_widgets():
            widget.apply_palette()
        retint(self)

    def add_column(self) -> None:
        def add(title: str) -> None:
            added: list[str] = []
            if title.strip() and self.controller.edit(
                lambda: added.append(self.controller.board.add_column(title.strip()))
            ):
                self._reveal_column(added[0])

        ask_text(self, "Add column", "Column title:", add)

    def _move_column(self, column_id: str, index: int) -> None:
        if self.controller.edit(lambda: self.controller.board.move_column(column_id, index)):
            self._reveal_column(column_id)

    def _reveal_column(self, column_id: str) -> None:
        widget = self.column_widget(column_id)
        if widget is not None:
            self.reveal(widget)

    def _move_across(self, ticket: str, step: int) -> None:
        widgets = self.column_widgets()
        source = next((w for w in widgets if ticket in w.model.ticket_ids), None)
        if source is None:
            return
        position = widgets.index(source) + step
        if not 0 <= position < len(widgets):
            return
        target = widgets[position]
        index = min(source.model.all_ids().index(ticket), len(target.model.all_ids()))
        if self.controller.edit(
            lambda: self.controller.board.move_ticket(ticket, target.column.id, index)
        ):
            target.view.select_ticket(ticket)
            self.reveal(target)

    # ------------------------------------------------------ focus, scrolling

    def reveal(self, widget: QWidget) -> None:
        """Scroll sideways so ``widget`` (a column, or part of one) shows."""
        self.strip.layout_.activate()
        self.setWidgetResizable(True)  # resizes the strip to its layout now, not later
        self.ensureWidgetVisible(widget, REVEAL_MARGIN, 0)

    def selected_ticket(self) -> str | None:
        return self.selection.ticket

    def focus_board(self) -> bool:
        """Keyboard focus to the board (its one tab stop); False if it has no column."""
        return self.selection.focus()

    def focus_quick_add(self) -> None:
        """ "+ Add a ticket" of the column the user is in (the first one at first)."""
        column = self.selection.tab_stop()
        if column is not None and column.focus_quick_add():
            self.reveal(column)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down):
            event.accept()  # arrows move between cards, never scroll the board by 20 px
            return
        super().keyPressEvent(event)

    # -------------------------------------------------------------- filter

    def set_filter(self, matches: Callable[[Ticket], bool] | None) -> None:
        self._matches = matches
        with self.selection.held():
            for widget in self.column_widgets():
                widget.model.set_filter(matches)
                widget.view.viewport().update()
        self._show_no_match()

    def _show_no_match(self) -> None:
        """ "No tickets match ..." across the top while a filter hides every card."""
        hidden = self._matches is not None and not any(
            w.model.rowCount() for w in self.column_widgets()
        )
        if hidden:
            what = self._matches.describe() if isinstance(self._matches, TicketFilter) else ""
            self.no_match.setText(
                f"No tickets match {what or 'the filter'}. Esc in the filter box clears it."
            )
            self.no_match.setStyleSheet(f"color: {Palette().muted.name()}; padding: 8px;")
        if hidden != self.no_match.isVisible():
            self.no_match.setVisible(hidden)
            height = self.no_match.sizeHint().height() if hidden else 0
            self.setViewportMargins(0, height, 0, 0)
            self._place_no_match()

    def _place_no_match(self) -> None:
        rect = self.viewport().geometry()
        self.no_match.setGeometry(rect.left(), 0, rect.width(), rect.top())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_no_match()

    # ------------------------------------------------------------- updates

    def _on_tickets(self, event: BoardEvent) -> None:
        changed = {c.id for c in event.changes if c.id is not None}
        fresh: set[str] = set()
        if event.origin == Origin.REMOTE:
            fresh = {
                c.id
                for c in event.changes
                if c.id is not None
                and c.kind in (Kind.TICKET_ADDED, Kind.TICKET_MOVED, Kind.TICKET_CHANGED)
            }
        touched = changed | fresh
        columns_now = self._columns_of(touched)
        with self.selection.held():
            for widget in self.column_widgets():
                if touched and not widget.model.concerned_by(touched, columns_now):
                    continue  # a move between two columns leaves the others as they are
                widget.model.refresh(changed, fresh)  # and its header's count, if it changed
        if self._matches is not None:
            self._show_no_match()
        if fresh and not self._animation.isActive():
            self._animation.start()

    def _columns_of(self, ticket_ids: set[str]) -> set[str | None]:
        board = self.controller.board
        columns: set[str | None] = set()
        for tid in ticket_ids:
            with contextlib.suppress(BoardError):  # purged: only its old column cares
                columns.add(board.column_of(tid))
        return columns

    def _on_labels(self) -> None:
        for widget in self.column_widgets():
            widget.model.labels_changed()

    def _on_presence(self) -> None:
        for widget in self.column_widgets():
            widget.model.presence_changed()
            widget.view.viewport().update()

    def _animate(self) -> None:
        now = time.monotonic()
        busy = False
        for widget in self.column_widgets():
            fresh = widget.model.fresh_ids(now, FRESH_SECONDS)
            if fresh:
                busy = True
                for tid in fresh:
                    row = widget.model.row_of(tid)
                    if row >= 0:
                        widget.view.update(widget.model.index(row))
            else:
                widget.view.viewport().update()
        if not busy:
            self._animation.stop()
