"""The board's history in the main window (issue 11): the Activity panel, the
"changes since you looked" line and dots, and View > History….

The window tells it which board is shown, which ticket opened and which board
went; the rest lives here (activity_panel.py, away_marks.py, history_view.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from .activity_panel import ActivityPanel
from .away_marks import AwayLine, AwayMarks
from .controller import BoardController
from .history_view import HistoryView

if TYPE_CHECKING:
    from .main_window import MainWindow


class HistoryFeatures(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.panel = ActivityPanel(window)
        self.panel.hide()
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.panel)
        self.panel.ticketChosen.connect(self.select_ticket)
        self.panel.ticketOpened.connect(window.open_ticket)
        self.away_line = AwayLine()
        self.away_line.showRequested.connect(self.show_away)
        self.away_line.dismissRequested.connect(self.dismiss_away)
        self.marks: dict[str, AwayMarks] = {}
        self.history_view: HistoryView | None = None

    def add_actions(self, menu: QMenu) -> None:
        activity = self.panel.toggleViewAction()
        activity.setText("&Activity")
        activity.setShortcut(QKeySequence("Ctrl+Shift+A"))
        menu.addAction(activity)
        history = QAction("&History…", self.window)
        history.setShortcut(QKeySequence("Ctrl+Shift+H"))
        history.triggered.connect(self.open_history)
        menu.addAction(history)

    # ---------------------------------------------------------------- boards

    def board_shown(self, controller: BoardController | None) -> None:
        marks = None
        if controller is not None:
            marks = self.marks.get(controller.board_id)
            if marks is None:
                store = self.window.node.seen_marks(controller.board_id)
                marks = self.marks[controller.board_id] = AwayMarks(controller, store)
                marks.changed.connect(self._repaint_cards)
                controller.historyRequested.connect(self.show_ticket_activity)
        self.away_line.follow(marks)
        self.panel.set_controller(controller)
        self._repaint_cards()

    def forget(self, board_id: str) -> None:
        self.marks.pop(board_id, None)
        if self.panel.controller is not None and self.panel.controller.board_id == board_id:
            self.panel.set_controller(None)
            self.away_line.follow(None)

    def ticket_opened(self, board_id: str, ticket_id: str) -> None:
        marks = self.marks.get(board_id)
        if marks is not None:
            marks.opened(ticket_id)

    def _repaint_cards(self) -> None:
        view = self.window.view()
        if view is not None:
            for column in view.column_widgets():
                column.view.viewport().update()

    # ------------------------------------------------------------- activity

    def select_ticket(self, ticket_id: str) -> None:
        view = self.window.view()
        if view is not None:
            view.selection.select(ticket_id, focus=False)
            for column in view.column_widgets():
                if ticket_id in column.model.ticket_ids:
                    view.reveal(column)

    def show_ticket_activity(self, ticket_id: str) -> None:
        self.panel.show_ticket(ticket_id)

    def show_away(self) -> None:
        marks = self.away_line.marks
        if marks is not None:
            self.panel.show_entries(list(marks.changes), marks.line())

    def dismiss_away(self) -> None:
        marks = self.away_line.marks
        if marks is not None:
            marks.dismiss()

    # -------------------------------------------------------------- history

    def open_history(self) -> HistoryView | None:
        controller = self.window.controller()
        if controller is None:
            return None
        if self.history_view is not None:
            self.history_view.close()
        board_view = self.window.view()
        view = HistoryView(
            controller.board,
            controller.edit,
            self.window,
            read_only=controller.read_only_reason(),
            person_color=board_view.people.color if board_view is not None else None,
        )
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.destroyed.connect(lambda *_, gone=view: self._closed(gone))
        controller.closing.connect(view.close)
        selected = self.window.current_ticket()
        if selected:
            view.select_ticket(selected)
        self.history_view = view
        view.show()
        return view

    def _closed(self, view: HistoryView) -> None:
        if self.history_view is view:
            self.history_view = None
