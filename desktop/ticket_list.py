"""A column's cards: a list view with the board's keys, drag and drop, peers' drop lines.

Keys (the board is one tab stop; arrows move inside it, see board_selection.py):
Up/Down/Home/End/PageUp/PageDown move between cards, Left/Right ask the board for
the next column, Ctrl+arrows move the selected card, Enter opens it, Down past the
last card goes to the column's quick add, the Menu key (or Shift+F10) opens the
column's menu. No arrow key ever reaches the scroll area around the board.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from PySide6.QtCore import (
    QEvent,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFocusEvent,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractItemView, QFrame, QListView

from lanban.model.errors import BoardError

from .card_delegate import MIN_WIDTH, CardDelegate
from .column_model import ColumnModel, IdRole, TicketRole
from .controller import BoardController
from .theme import Palette, safe_color

AUTO_SCROLL_MARGIN = 32  # px from a column's top or bottom where a drag scrolls it
LAYOUT_BATCH = 200  # cards laid out before the first paint; the rest follow
ARROWS = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right)


class TicketListView(QListView):
    openTicket = Signal(str)
    moveAcross = Signal(str, int)  # ticket id, -1 = left column, +1 = right
    stepColumn = Signal(int)  # plain Left (-1) / Right (+1): the next column
    leaveDown = Signal()  # Down past the last card
    menuRequested = Signal()  # the Menu key or Shift+F10
    dragHover = Signal(QPoint)  # a card dragged over this column, at this global point
    dragEnded = Signal()  # a drag started or dropped here is over

    def __init__(self, model: ColumnModel, controller: BoardController) -> None:
        super().__init__()
        self.controller = controller
        self.setModel(model)
        self.delegate = CardDelegate(self)
        self.setItemDelegate(self.delegate)
        # cards are as tall as their content; a long column lays out in batches
        self.setUniformItemSizes(False)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(LAYOUT_BATCH)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setAutoScrollMargin(AUTO_SCROLL_MARGIN)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSpacing(0)
        self.setMouseTracking(True)
        self.viewport().setAutoFillBackground(False)
        # Opaque: paintEvent fills it with the column's colour (``background``), so
        # repainting the cards repaints nothing behind them.
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.background = Palette().column
        self._drag_target: tuple[str, int] | None = None
        # Batches show a long column soon after it is loaded; a peer's move lays the
        # column out again, and batches would show it only some loop turns later.
        model.modelAboutToBeReset.connect(lambda: self.setBatchSize(LAYOUT_BATCH))
        for changed in (
            model.rowsAboutToBeInserted,
            model.rowsAboutToBeRemoved,
            model.rowsAboutToBeMoved,
        ):
            changed.connect(self._one_batch)

    def _one_batch(self, *_: object) -> None:
        self.setBatchSize(max(LAYOUT_BATCH, self.model().rowCount() + 1))

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
            self.select_row(row)
            self.setFocus(Qt.FocusReason.OtherFocusReason)

    def select_row(self, row: int) -> None:
        index = self.column_model().index(row)
        self.setCurrentIndex(index)
        self.scrollTo(index)

    # ------------------------------------------------------------- keyboard

    def keyPressEvent(self, event: QKeyEvent) -> None:
        ticket = self.current_ticket()
        mods = event.modifiers()
        ctrl = mods & Qt.KeyboardModifier.ControlModifier
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
        if key == Qt.Key.Key_Menu or (
            key == Qt.Key.Key_F10 and mods & Qt.KeyboardModifier.ShiftModifier
        ):
            self.menuRequested.emit()
            return
        if key in ARROWS and not ctrl:
            self._arrow(event)
            return
        super().keyPressEvent(event)

    def _arrow(self, event: QKeyEvent) -> None:
        """Arrows stay on the board: never passed on to the scroll area around it."""
        key = event.key()
        event.accept()
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            self.stepColumn.emit(-1 if key == Qt.Key.Key_Left else 1)
            return
        rows = self.model().rowCount()
        row = self.currentIndex().row() if self.currentIndex().isValid() else -1
        if key == Qt.Key.Key_Down and row >= rows - 1:
            self.leaveDown.emit()
        elif key == Qt.Key.Key_Down:
            self.select_row(row + 1)
        elif rows and row > 0:
            self.select_row(row - 1)
        elif rows and row < 0:
            self.select_row(rows - 1)

    # ------------------------------------------------------ cards' heights

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.delegate.width = max(MIN_WIDTH, self.viewport().width())
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.scheduleDelayedItemsLayout()  # titles wrap anew: heights change

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.delegate.forget_sizes()
            self.scheduleDelayedItemsLayout()

    def dataChanged(
        self,
        top_left: QModelIndex | QPersistentModelIndex,
        bottom_right: QModelIndex | QPersistentModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        super().dataChanged(top_left, bottom_right, roles)
        if roles and TicketRole not in roles:
            return  # presence: the same height
        model = self.column_model()
        for row in range(top_left.row(), bottom_right.row() + 1):
            index = model.index(row, 0)
            ticket_id = model.id_at(index)
            before = self.delegate.measured_height(ticket_id) if ticket_id else None
            if before != self.sizeHintForIndex(index).height():
                self.scheduleDelayedItemsLayout()  # a title or the bottom row changed
                return

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.viewport().update()  # the column's focus ring

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.viewport().update()

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
            self.dragEnded.emit()

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
        self.dragHover.emit(self.viewport().mapToGlobal(event.position().toPoint()))
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
        self.dragEnded.emit()
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

    # ------------------------------------------- empty states, where peers drag

    def empty_text(self) -> str:
        """What an empty column says: nothing yet, or nothing that matches."""
        model = self.column_model()
        if model.rowCount():
            return ""
        total = len(model.all_ids()) if model.filtering else 0
        return f"None of {total} match" if total else "No tickets yet"

    def empty_hint(self) -> str:
        """What to do about an empty column: add a ticket, or change the filter."""
        model = self.column_model()
        if model.rowCount():
            return ""
        hidden = len(model.all_ids()) if model.filtering else 0
        if hidden:
            return f"Change or clear the filter to see {'it' if hidden == 1 else 'them'}"
        return "Drag a card here, or add one below" if self.dragEnabled() else ""

    def paintEvent(self, event: QPaintEvent) -> None:
        fill = QPainter(self.viewport())
        fill.fillRect(event.rect(), self.background)
        fill.end()
        super().paintEvent(event)
        model = self.column_model()
        empty = self.empty_text()
        peers = self.controller.drags_into(model.column_id)
        focus_ring = self.hasFocus() and not self.currentIndex().isValid()
        if not (empty or peers or focus_ring):
            return
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = Palette()
        if focus_ring:  # the column itself has the focus (it is empty, or nothing chosen)
            ring = QColor(pal.highlight)
            ring.setAlphaF(0.7)
            painter.setPen(QPen(ring, 2))
            painter.drawRoundedRect(self.viewport().rect().adjusted(3, 3, -3, -3), 8, 8)
        if empty:
            painter.setPen(pal.muted)
            area = self.viewport().rect().adjusted(8, 16, -8, 0)
            painter.drawText(
                area, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), empty
            )
            hint = self.empty_hint()
            if hint:
                small = QFont(self.font())
                small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
                painter.setFont(small)
                painter.drawText(
                    area.adjusted(0, self.fontMetrics().lineSpacing() + 4, 0, 0),
                    int(
                        Qt.AlignmentFlag.AlignHCenter
                        | Qt.AlignmentFlag.AlignTop
                        | Qt.TextFlag.TextWordWrap
                    ),
                    hint,
                )
                painter.setFont(self.font())
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
        # the drop point is before the index-th ticket (of those not being moved)
        anchor = visible_full[index] if index < len(visible_full) else None
        if anchor is not None and anchor in shown:
            return self.visualRect(model.index(shown.index(anchor))).top()
        if shown:
            return self.visualRect(model.index(len(shown) - 1)).bottom() + 1
        return 4
