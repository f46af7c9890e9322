"""The boards sidebar: the list of boards, New board and Join.

It keeps the board the window shows selected, by id, whatever changes the list
(a board created, renamed or left elsewhere: issue 10, defect 6). Boards that
share a title show what tells them apart in a dimmer style (defect 9).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from .boards_model import BoardsModel
from .icons import set_icon
from .node_facade import NodeFacade

SUFFIX_GAP = 6  # px between a title and its suffix
ROW_PADDING = 8  # px added to a row's height: easier to read and to hit
MIN_TITLE_SHARE = 0.45  # of the row a long title keeps before the suffix is elided


class BoardTitleDelegate(QStyledItemDelegate):
    """A board's title, then (for equal titles) what tells it apart, dimmer."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        suffix = index.data(BoardsModel.SuffixRole)
        if not suffix:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, widget)
        rect = rect.adjusted(3, 0, -3, 0)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        color = opt.palette.color(role)
        metrics = opt.fontMetrics
        title = str(index.data(BoardsModel.TitleRole) or "")
        suffix_width = metrics.horizontalAdvance(suffix) + SUFFIX_GAP
        title_room = max(int(rect.width() * MIN_TITLE_SHARE), rect.width() - suffix_width)
        shown = metrics.elidedText(title, Qt.TextElideMode.ElideRight, title_room)
        painter.save()
        painter.setFont(opt.font)
        painter.setPen(color)
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(rect, align, shown)
        used = metrics.horizontalAdvance(shown) + SUFFIX_GAP
        rest = rect.adjusted(used, 0, 0, 0)
        dim = color
        dim.setAlphaF(0.55)
        painter.setPen(dim)
        painter.drawText(
            rest, align, metrics.elidedText(suffix, Qt.TextElideMode.ElideRight, rest.width())
        )
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        """As wide as the list, never wider: the title and suffix elide to fit."""
        size = super().sizeHint(option, index)
        return QSize(1, size.height() + ROW_PADDING)


class BoardsSidebar(QWidget):
    """The list of boards and the New board and Join buttons."""

    boardChosen = Signal(str)  # the user picked a board (its id)
    newBoardClicked = Signal()
    joinClicked = Signal()

    def __init__(self, node: NodeFacade) -> None:
        super().__init__()
        self.model = BoardsModel(node)
        self.list = QListView()
        self.list.setObjectName("boards")
        self.list.setModel(self.model)
        self.list.setItemDelegate(BoardTitleDelegate(self.list))
        self.list.setAccessibleName("Boards")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.selectionModel().currentChanged.connect(self._current_changed)
        self._shown: str | None = None  # the board the window shows
        new_board = QPushButton("New board")
        set_icon(new_board, "plus")
        new_board.clicked.connect(self.newBoardClicked)
        join = QPushButton("Join…")
        set_icon(join, "join")
        join.clicked.connect(self.joinClicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 0, 8)
        title = QLabel("Boards")
        title.setObjectName("sidebarTitle")
        layout.addWidget(title)
        layout.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(new_board)
        buttons.addWidget(join)
        layout.addLayout(buttons)

    def reload(self) -> None:
        """Read the boards again; the shown board stays selected."""
        self.model.reload()
        self.show_selected(self._shown)

    def show_selected(self, board_id: str | None) -> None:
        """The window shows ``board_id`` (None: no board): select it in the list."""
        self._shown = board_id
        row = self.model.row_of(board_id) if board_id else -1
        selection = self.list.selectionModel()
        if row < 0:
            if self.list.currentIndex().isValid():
                selection.clearCurrentIndex()
            selection.clearSelection()
            return
        index = self.model.index(row)
        if self.list.currentIndex() != index or not selection.isSelected(index):
            self.list.setCurrentIndex(index)

    def _current_changed(self, index: QModelIndex, _previous: QModelIndex) -> None:
        board_id = index.data(BoardsModel.IdRole) if index.isValid() else None
        if isinstance(board_id, str) and board_id != self._shown:
            self.boardChosen.emit(board_id)
