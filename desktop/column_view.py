"""One column on screen: header (title, count, WIP limit, menu), cards, quick add."""

from __future__ import annotations

import contextlib
import json

from PySide6.QtCore import QMimeData, QPoint, QRect, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDrag,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from lanban.model.errors import BoardError
from lanban.model.limits import MAX_WIP_LIMIT
from lanban.model.schema import Column

from .card_delegate import CARD_HEIGHT, CARD_MARGIN, CardDelegate
from .column_model import ColumnModel, IdRole
from .controller import BoardController
from .icons import set_icon
from .prompts import ask_int, confirm, popup
from .theme import Palette, safe_color

COLUMN_MIN_WIDTH = 220
COLUMN_MAX_WIDTH = 360
COLUMN_MIME = "application/x-lanban-column"


class TicketListView(QListView):
    openTicket = Signal(str)
    moveAcross = Signal(str, int)  # ticket id, -1 = left column, +1 = right

    def __init__(self, model: ColumnModel, controller: BoardController) -> None:
        super().__init__()
        self.controller = controller
        self.setModel(model)
        self.delegate = CardDelegate(self)
        self.setItemDelegate(self.delegate)
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSpacing(0)
        self.setMouseTracking(True)
        self.viewport().setAutoFillBackground(False)
        self._drag_target: tuple[str, int] | None = None
        self.setAccessibleName("Tickets")

    def column_model(self) -> ColumnModel:
        model = self.model()
        assert isinstance(model, ColumnModel)
        return model

    def current_ticket(self) -> str | None:
        index = self.currentIndex()
        return index.data(IdRole) if index.isValid() else None

    def select_ticket(self, ticket_id: str) -> None:
        row = self.column_model().row_of(ticket_id)
        if row >= 0:
            index = self.column_model().index(row)
            self.setCurrentIndex(index)
            self.scrollTo(index)
            self.setFocus()

    # ------------------------------------------------------------- keyboard

    def keyPressEvent(self, event: QKeyEvent) -> None:
        ticket = self.current_ticket()
        ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
        key = event.key()
        if ticket and ctrl and key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            model = self.column_model()
            full = model.all_ids()
            step = -1 if key == Qt.Key.Key_Up else 1
            target = max(0, min(len(full) - 1, full.index(ticket) + step))
            self.controller.edit(
                lambda: model.controller.board.move_ticket(ticket, model.column_id, target)
            )
            self.select_ticket(ticket)
            return
        if ticket and ctrl and key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            self.moveAcross.emit(ticket, -1 if key == Qt.Key.Key_Left else 1)
            return
        if ticket and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.openTicket.emit(ticket)
            return
        super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        index = self.indexAt(event.position().toPoint())
        if index.isValid():
            self.openTicket.emit(index.data(IdRole))
            return
        super().mouseDoubleClickEvent(event)

    # ---------------------------------------------------------- drag & drop

    def startDrag(self, supported: Qt.DropAction) -> None:
        ticket = self.current_ticket()
        if ticket is not None:
            model = self.column_model()
            self.controller.set_dragging(ticket, model.column_id, model.row_of(ticket))
        try:
            super().startDrag(supported)
        finally:
            self.controller.set_dragging(None)

    def _drop_row(self, pos: QPoint) -> int:
        index = self.indexAt(pos)
        if not index.isValid():
            return self.model().rowCount()
        rect = self.visualRect(index)
        return index.row() + (1 if pos.y() > rect.center().y() else 0)

    def _dragged_ticket(self, mime: QMimeData) -> str | None:
        """The ticket being dragged, if it is one of this board's."""
        return self.column_model().dropped_ticket(mime)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dragged_ticket(event.mimeData()) is not None:
            event.setDropAction(Qt.DropAction.MoveAction)
            event.accept()
            super().dragEnterEvent(event)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        super().dragMoveEvent(event)
        if self._dragged_ticket(event.mimeData()) is None:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.MoveAction)
        event.accept()
        ticket = self._dragged_ticket(event.mimeData())
        row = self._drop_row(event.position().toPoint())
        target = (self.column_model().column_id, row)
        if ticket is not None and target != self._drag_target:
            self._drag_target = target
            model = self.column_model()
            self.controller.set_dragging(ticket, model.column_id, model.board_index(row))

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._drag_target = None
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self._drag_target = None
        ticket = self._dragged_ticket(event.mimeData())
        if ticket is None:
            event.ignore()
            return
        row = self._drop_row(event.position().toPoint())
        model = self.column_model()
        if not self.controller.edit(lambda: model.drop_ticket(ticket, row)):
            event.ignore()
            return
        # Accept as a copy: the board moved the ticket; Qt must not remove the source rows.
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.controller.set_dragging(None)
        self.select_ticket(ticket)

    # --------------------------------------------------- where peers are dragging

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.column_model()
        peers = self.controller.drags_into(model.column_id)
        if not peers:
            return
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        full = model.all_ids()
        for peer in peers:
            assert peer.dragging is not None
            ticket, _column, index = peer.dragging
            visible = [t for t in full if t != ticket]
            y = self._y_for(visible, index)
            color = safe_color(peer.color, peer.user_id)
            painter.setPen(QPen(color, 3))
            painter.drawLine(6, y, self.viewport().width() - 6, y)
            font = QFont(self.font())
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.8))
            font.setBold(True)
            painter.setFont(font)
            number = "?"
            with contextlib.suppress(BoardError):
                number = str(model.ticket(ticket).number)
            label = f"{peer.name} is moving #{number}"
            width = painter.fontMetrics().horizontalAdvance(label) + 12
            tag = QRect(8, y - 9, width, 18)
            painter.setBrush(color)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(tag, 9, 9)
            painter.setPen(QColor("white"))
            painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, label)
        painter.end()

    def _y_for(self, visible_full: list[str], index: int) -> int:
        model = self.column_model()
        shown = model.ticket_ids
        row_height = CARD_HEIGHT + 2 * CARD_MARGIN
        # the drop point is before the index-th ticket (of those not being moved)
        anchor = visible_full[index] if index < len(visible_full) else None
        if anchor is not None and anchor in shown:
            return self.visualRect(model.index(shown.index(anchor))).top()
        if shown:
            return self.visualRect(model.index(len(shown) - 1)).top() + row_height
        return 4


class ColumnWidget(QFrame):
    openTicket = Signal(str)
    moveAcross = Signal(str, int)

    def __init__(self, controller: BoardController, column: Column) -> None:
        super().__init__()
        self.controller = controller
        self.column = column
        self.setObjectName("column")
        # Between these, columns share the board's width; more columns scroll sideways.
        self.setMinimumWidth(COLUMN_MIN_WIDTH)
        self.setMaximumWidth(COLUMN_MAX_WIDTH)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.model = ColumnModel(controller, column.id)
        self.view = TicketListView(self.model, controller)
        self.view.openTicket.connect(self.openTicket)
        self.view.moveAcross.connect(self.moveAcross)

        self.header = ColumnHeader(self)
        self.quick_add = QLineEdit()
        self.quick_add.setPlaceholderText("+ Add a ticket")
        self.quick_add.setAccessibleName(f"Add a ticket to {column.title}")
        self.quick_add.returnPressed.connect(self._add)
        self.quick_add.setClearButtonEnabled(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.header)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.quick_add)
        self.model.rowsInserted.connect(self.header.update_count)
        self.model.rowsRemoved.connect(self.header.update_count)
        self.model.modelReset.connect(self.header.update_count)
        self.apply_palette()

    def apply_palette(self) -> None:
        pal = Palette()
        self.setStyleSheet(
            f"QFrame#column {{ background: {pal.column.name()}; border-radius: 10px; }}"
            " QListView { background: transparent; }"
            " QToolButton::menu-indicator { image: none; }"
        )
        self.view.delegate.refresh_palette()
        self.header.update_count()

    def set_read_only(self, reason: str) -> None:
        """No quick add and no dragging while this node may only view the board
        (``reason`` says why; "" allows them again)."""
        self.quick_add.setVisible(not reason)
        self.view.setDragEnabled(not reason)

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
        columns = [c.id for c in self.controller.board.columns()]
        target = max(0, min(len(columns) - 1, columns.index(self.column.id) + step))
        self.controller.edit(lambda: self.controller.board.move_column(self.column.id, target))

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
            f"Delete {self.column.title!r}? Its {count} ticket(s) will show in the first "
            "column until someone moves them; you can restore the column with Undo.",
            delete,
        )


class ColumnHeader(QWidget):
    """Title (double-click to rename, drag to reorder), count / WIP, menu."""

    def __init__(self, column: ColumnWidget) -> None:
        super().__init__()
        self.column = column
        self.title = QLabel()
        self.title.setObjectName("columnTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.count = QLabel()
        self.count.setObjectName("columnCount")
        self.editor = QLineEdit()
        self.editor.hide()
        self.editor.returnPressed.connect(self._finish_rename)
        self.editor.editingFinished.connect(self._finish_rename)
        self.menu_button = QToolButton()
        self.menu_button.setAutoRaise(True)
        set_icon(self.menu_button, "menu")
        self.menu_button.setToolTip("Column actions")
        self.menu_button.setAccessibleName("Column actions")
        # A plain button with popup(): a QToolButton menu would run QMenu.exec().
        self.menu_button.clicked.connect(self.show_menu)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.addWidget(self.title, 1)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.menu_button)
        self._press: QPoint | None = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.update_title()

    def show_menu(self) -> QMenu:
        column = self.column
        menu = QMenu(self)
        menu.addAction("Rename", column.rename)
        menu.addAction("Set WIP limit…", column.set_wip)
        menu.addAction("Move left", lambda: column.move_by(-1))
        menu.addAction("Move right", lambda: column.move_by(1))
        menu.addSeparator()
        menu.addAction("Delete column", column.delete)
        button = self.menu_button
        return popup(menu, button.mapToGlobal(button.rect().bottomLeft()))

    def update_title(self) -> None:
        self.title.setText(self.column.column.title)
        self.title.setToolTip(f"{self.column.column.title} — double-click to rename, drag to move")

    def update_count(self) -> None:
        pal = Palette()
        count = len(self.column.model.all_ids())
        limit = self.column.column.wip_limit
        self.count.setText(f"{count} / {limit}" if limit else str(count))
        over = bool(limit) and count > limit
        color = pal.warning.name() if over else pal.muted.name(QColor.NameFormat.HexArgb)
        style = f"color: {'white' if over else color}; padding: 1px 7px; border-radius: 8px;" + (
            f"background: {pal.warning.name()};" if over else ""
        )
        if style != self.count.styleSheet():  # a style sheet change re-polishes: not per event
            self.count.setStyleSheet(style)
        self.count.setToolTip(
            f"Over the WIP limit of {limit}"
            if over
            else (f"WIP limit {limit}" if limit else "No WIP limit")
        )
        self.column.setProperty("overLimit", over)

    def start_rename(self) -> None:
        self.editor.setText(self.column.column.title)
        self.title.hide()
        self.editor.show()
        self.editor.selectAll()
        self.editor.setFocus()

    def _finish_rename(self) -> None:
        if self.editor.isHidden():
            return
        text = self.editor.text().strip()
        self.editor.hide()
        self.title.show()
        if text and text != self.column.column.title:
            self.column.controller.edit(
                lambda: self.column.controller.board.rename_column(self.column.column.id, text)
            )

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.start_rename()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None:
            return
        if (event.position().toPoint() - self._press).manhattanLength() < 8:
            return
        self._press = None
        drag = QDrag(self)
        mime = QMimeData()
        mime.setData(
            COLUMN_MIME,
            json.dumps(
                {
                    "board": self.column.controller.board_id,
                    "column": self.column.column.id,
                }
            ).encode(),
        )
        drag.setMimeData(mime)
        drag.setPixmap(self.column.grab().scaledToWidth(160))
        drag.exec(Qt.DropAction.MoveAction)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None
