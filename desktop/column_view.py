"""One column on screen: header (title, count, WIP limit, menu), cards, quick add."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QResizeEvent
from PySide6.QtWidgets import QFrame, QLineEdit, QSizePolicy, QVBoxLayout

from lanban.model.limits import MAX_WIP_LIMIT
from lanban.model.schema import Column

from .column_grip import COLUMN_MAX_WIDTH, COLUMN_MIN_WIDTH, ColumnGrip, clamp_width
from .column_header import COLUMN_MIME, ColumnHeader
from .column_model import ColumnModel
from .controller import BoardController
from .prompts import ask_int, confirm
from .theme import Palette
from .ticket_list import TicketListView

__all__ = ["COLUMN_MAX_WIDTH", "COLUMN_MIME", "COLUMN_MIN_WIDTH", "ColumnWidget", "TicketListView"]


class QuickAdd(QLineEdit):
    """ "+ Add a ticket": Esc (clearing it) or Up goes back to the column's cards."""

    left = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.clear()
            self.left.emit()
            return
        if event.key() == Qt.Key.Key_Up:
            self.left.emit()
            return
        super().keyPressEvent(event)


class ColumnWidget(QFrame):
    openTicket = Signal(str)
    moveAcross = Signal(str, int)
    moved = Signal(str)  # this column (id) moved by its menu: the board shows it
    widthChosen = Signal(str, int)  # column id, width the user dragged it to (0: natural)

    def __init__(self, controller: BoardController, column: Column) -> None:
        super().__init__()
        self.controller = controller
        self.column = column
        self.colors = Palette()  # the theme's, renewed by apply_palette
        self.setObjectName("column")
        # Between these, columns share the board's width; more columns scroll sideways.
        self.setMinimumWidth(COLUMN_MIN_WIDTH)
        self.setMaximumWidth(COLUMN_MAX_WIDTH)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.chosen_width = 0  # a width the user dragged it to; 0 = natural
        self.grip = ColumnGrip(self)
        self.grip.dragged.connect(self.set_width)
        self.grip.released.connect(lambda width: self.widthChosen.emit(self.column.id, width))
        self.grip.reset.connect(self._natural_width)
        self.model = ColumnModel(controller, column.id)
        self.view = TicketListView(self.model, controller)
        self.view.openTicket.connect(self.openTicket)
        self.view.moveAcross.connect(self.moveAcross)
        self.view.leaveDown.connect(self.focus_quick_add)

        self.header = ColumnHeader(self)
        self.view.menuRequested.connect(self.header.show_menu)
        self.quick_add = QuickAdd()
        self.quick_add.setPlaceholderText("+ Add a ticket")
        self.quick_add.returnPressed.connect(self._add)
        self.quick_add.setClearButtonEnabled(True)
        # reached from the cards (Down past the last, or Ctrl+T), not by Tab
        self.quick_add.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.quick_add.left.connect(self._back_to_cards)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.header)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.quick_add)
        self.model.countsChanged.connect(self.header.update_count)
        self.apply_palette()

    def set_width(self, width: int) -> None:
        """Fix the column at ``width`` px (the user chose it); 0: share the board again."""
        self.chosen_width = width
        if width:
            self.setFixedWidth(width)
        else:
            self.setMinimumWidth(COLUMN_MIN_WIDTH)
            self.setMaximumWidth(COLUMN_MAX_WIDTH)

    def resize_by(self, step: int) -> None:
        """Wider or narrower by ``step`` px (as far as the limits allow); 0: the usual width."""
        if not step:
            self._natural_width()
            return
        width = clamp_width(self.width() + step)
        self.set_width(width)
        self.widthChosen.emit(self.column.id, width)

    def _natural_width(self) -> None:
        self.set_width(0)
        self.widthChosen.emit(self.column.id, 0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.grip.place()

    def apply_palette(self) -> None:
        pal = self.colors = Palette()
        self.setStyleSheet(
            f"QFrame#column {{ background: {pal.column.name()}; border-radius: 10px; }}"
            " QListView { background: transparent; }"
            " QToolButton::menu-indicator { image: none; }"
        )
        self.view.background = pal.column
        self.view.delegate.refresh_palette()
        self.header.update_count()

    def set_read_only(self, reason: str) -> None:
        """No quick add and no dragging while this node may only view the board
        (``reason`` says why; "" allows them again)."""
        self.quick_add.setVisible(not reason)
        self.view.setDragEnabled(not reason)

    def update_accessible_names(self, count: int) -> None:
        """What a screen reader calls the column ("Doing column"), its cards
        ("Doing column, 3 tickets") and its quick add."""
        title = self.column.title
        names = (
            (self, f"{title} column"),
            (self.view, f"{title} column, {count} ticket{'' if count == 1 else 's'}"),
            (self.quick_add, f"Add a ticket to {title}"),
        )
        for widget, name in names:
            if widget.accessibleName() != name:
                widget.setAccessibleName(name)

    def focus_quick_add(self) -> bool:
        if self.quick_add.isHidden():
            return False
        self.quick_add.setFocus(Qt.FocusReason.ShortcutFocusReason)
        return True

    def _back_to_cards(self) -> None:
        if not self.view.currentIndex().isValid() and self.model.rowCount():
            self.view.select_row(self.model.rowCount() - 1)
        self.view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def set_column(self, column: Column) -> None:
        self.column = column
        self.header.update_title()
        self.header.update_count()

    def _add(self) -> None:
        title = self.quick_add.text().strip()
        if not title:
            return

        def add() -> None:
            ticket = self.controller.board.add_ticket(title, self.column.id)
            self.quick_add.clear()
            self.view.select_ticket(ticket)
            self.view.scrollToBottom()
            self.quick_add.setFocus()

        self.controller.edit(add)

    # --------------------------------------------------------- column menu

    def rename(self) -> None:
        self.header.start_rename()

    def set_wip(self) -> None:
        column_id = self.column.id
        ask_int(
            self,
            "WIP limit",
            f"Most tickets in {self.column.title!r} (0 = no limit):",
            lambda limit: self.controller.edit(
                lambda: self.controller.board.set_wip_limit(column_id, limit)
            ),
            value=self.column.wip_limit,
            minimum=0,
            maximum=MAX_WIP_LIMIT,
        )

    def move_by(self, step: int) -> None:
        column_id = self.column.id
        columns = [c.id for c in self.controller.board.columns()]
        target = max(0, min(len(columns) - 1, columns.index(column_id) + step))
        if self.controller.edit(lambda: self.controller.board.move_column(column_id, target)):
            self.moved.emit(column_id)

    def delete(self) -> None:
        column_id = self.column.id

        def delete() -> None:
            self.controller.edit(lambda: self.controller.board.delete_column(column_id))

        count = len(self.model.all_ids())
        if not count:
            delete()
            return
        confirm(
            self,
            "Delete column",
            f"Delete the column {self.column.title!r}?",
            delete,
            verb="Delete column",
            keep="Keep column",
            detail=f"Its {count} ticket{'' if count == 1 else 's'} will show in the first "
            "column until someone moves them. Undo brings the column back.",
        )
