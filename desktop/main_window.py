"""The main window: boards sidebar, the board, presence, filters, status; its actions.

What it does with whole boards (new, join, invite, rename, leave) is in
board_actions.py; the sidebar in sidebar.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from .app_state import Messages, Settings
from .board_actions import BoardActions
from .board_header import BoardHeader
from .board_view import BoardView
from .controller import BoardController
from .dialogs import IdentityDialog, JoinDialog, NewBoardDialog, TrashDialog
from .elided_label import ElidedLabel
from .empty_state import EmptyState
from .filters import FilterBar, changes_assignees
from .history_ui import HistoryFeatures
from .icons import app_icon, retint, set_icon
from .invite_dialog import InviteDialog
from .labels_dialog import LabelsDialog
from .node_facade import NodeFacade
from .notices import BoardNotes, ErrorBar, Toasts
from .peer_pointers import PeerPointers
from .presence_bar import PresenceBar
from .prompts import message_box, open_dialog
from .question import Question
from .renumbering import NumberWatch
from .sidebar import BoardsSidebar
from .status_widget import PeersDialog, SyncStatus
from .theme import Palette
from .ticket_dialog import TicketDialog, confirm_edit
from .window_menus import build_menus

STATUS_REFRESH_MS = 1000
RENUMBER_MS = 10_000  # a renumbered ticket's notice stays long enough to read


@dataclass
class AppContext:
    node: NodeFacade
    settings: Settings
    messages: Messages
    local_only: str = ""  # set when another process syncs this data directory


class MainWindow(QMainWindow):
    closed = Signal()
    quit_action: QAction  # these four: window_menus.py
    undo_action: QAction
    redo_action: QAction
    pointers_action: QAction

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.node = context.node
        self.settings = context.settings
        self.messages = context.messages
        self.setWindowTitle("Lanban")
        self.setWindowIcon(app_icon())
        self.resize(1280, 800)
        self.controllers: dict[str, BoardController] = {}
        self.views: dict[str, BoardView] = {}
        self.dialogs: dict[tuple[str, str], TicketDialog] = {}
        self.current: str | None = None
        self._dark = Palette().dark

        self.board_actions = BoardActions(self)
        self.sidebar_panel = side = BoardsSidebar(self.node)
        self.boards_model = side.model
        self.sidebar = side.list
        self.sidebar.customContextMenuRequested.connect(self.board_actions.sidebar_menu)
        side.boardChosen.connect(self.show_board)
        side.newBoardClicked.connect(self.new_board)
        side.joinClicked.connect(self.join_board)

        self.board_title = ElidedLabel()
        self.board_title.setObjectName("boardTitle")
        font = self.board_title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.board_title.setFont(font)
        self.presence = PresenceBar()
        self.presence.membersRequested.connect(self.board_actions.members)
        self.filters = FilterBar()
        self.filters.changed.connect(self.apply_filter)
        self.filters.escaped.connect(lambda: (view := self.view()) and view.focus_board())
        self.search = self.filters.search
        self.label_filter = self.filters.label_filter
        self.assignee_filter = self.filters.assignee_filter
        invite = QPushButton("Invite")
        set_icon(invite, "invite")
        invite.setObjectName("inviteButton")
        invite.clicked.connect(self.invite)
        self.header = BoardHeader(self.board_title, self.presence, self.filters, invite)

        self.stack = QStackedWidget()
        self.empty = EmptyState(self.new_board, self.join_board, hides=(self.header,))
        self.stack.addWidget(self.empty)
        main = QWidget()
        main_layout = QVBoxLayout(main)
        main_layout.setContentsMargins(0, 0, 0, 0)
        self.error_bar = ErrorBar()
        main_layout.addWidget(self.error_bar)
        main_layout.addWidget(self.header)
        self.board_notes = BoardNotes()
        main_layout.addWidget(self.board_notes)
        self.history = HistoryFeatures(self)  # Activity, History…, the away line and dots
        main_layout.addWidget(self.history.away_line)
        main_layout.addWidget(self.stack, 1)

        splitter = QSplitter()
        splitter.addWidget(side)
        splitter.addWidget(main)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([220, 1060])
        self.setCentralWidget(splitter)

        self.sync_status = SyncStatus()
        self.sync_status.clicked.connect(self.show_peers)
        self.statusBar().addPermanentWidget(self.sync_status)
        self.toasts = Toasts(self)
        build_menus(self)

        self.node.boardsChanged.connect(self._on_boards)
        self.node.linksChanged.connect(lambda _board: self.refresh_status())
        self.messages.error.connect(self.show_error)
        self.messages.info.connect(self.statusBar().showMessage)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_REFRESH_MS)
        self._status_timer.timeout.connect(self.refresh_status)
        self._status_timer.start()
        for problem in self.node.problems():
            self.show_error(problem)
        self.restoreGeometry(QByteArray(self.settings.window_geometry))  # on screen (Qt)
        side.reload()
        self._show_some_board(self.settings.last_board)
        self.refresh_status()

    # --------------------------------------------------------------- boards

    def controller(self) -> BoardController | None:
        return self.controllers.get(self.current) if self.current else None

    def view(self) -> BoardView | None:
        return self.views.get(self.current) if self.current else None

    def show_board(self, board_id: str | None) -> None:
        if board_id is None or not self.node.has_board(board_id) or board_id == self.current:
            return
        old = self.controller()
        if old is not None:
            old.deactivate()
        controller = self.controllers.get(board_id)
        if controller is None:
            controller = BoardController(self.node, board_id, self.settings, self.messages)
            controller.titleChanged.connect(self._titles_changed)
            controller.labelsChanged.connect(self._fill_filters)
            controller.ticketsChanged.connect(
                lambda e: self._fill_filters() if changes_assignees(e) else None
            )
            controller.peerJoined.connect(
                lambda p, b=board_id: self._toast(b, f"{p.name} joined the board")
            )
            controller.peerLeft.connect(
                lambda p, b=board_id: self._toast(b, f"{p.name} left the board")
            )
            NumberWatch(controller, lambda text: self._toast(board_id, text, RENUMBER_MS))
            self.controllers[board_id] = controller
            ignored = controller.board.ignored().summary()
            if ignored:  # once per board and session (issue 9)
                self.messages.notify(ignored, 10000)
            view = BoardView(controller)
            PeerPointers(view, self.settings)  # a child of the view
            controller.columnsChanged.connect(self._status_last_in_tab_order)
            view.openTicket.connect(self.open_ticket)
            self.views[board_id] = view
            self.stack.addWidget(view)
        self.current = board_id
        controller.activate()
        self.stack.setCurrentWidget(self.views[board_id])
        self.history.board_shown(controller)
        self._status_last_in_tab_order()
        self.presence.set_controller(controller)
        self.sidebar_panel.show_selected(board_id)
        self.settings.set_last_board(board_id)
        self._titles_changed()
        self._fill_filters()
        self.apply_filter()
        self.refresh_status()

    def _status_last_in_tab_order(self) -> None:
        """Tab: the status bar's button after the board (a new column's widgets
        join the end of the window's focus chain; Qt orders only focusable widgets)."""
        last: QWidget | None = self.previousInFocusChain()
        while (
            last is not None and last is not self and last.focusPolicy() == Qt.FocusPolicy.NoFocus
        ):
            last = last.previousInFocusChain()
        if last is not None and last not in (self, self.sync_status):
            QWidget.setTabOrder(last, self.sync_status)

    def _titles_changed(self) -> None:
        self.sidebar_panel.reload()
        if self.current and self.node.has_board(self.current):
            title = self.node.title(self.current)
            self.board_title.setText(title or "Waiting for a peer to share this board…")
            self.setWindowTitle(f"{title} — Lanban" if title else "Lanban")

    def _toast(self, board_id: str, text: str, ms: int | None = None) -> None:
        if board_id == self.current:
            self.toasts.show_message(text, ms)

    def _on_boards(self, board_id: str) -> None:
        """A board opened or closed here (maybe from the command line): the shown
        board stays shown and selected; if it went, the last used or first one."""
        if board_id and not self.node.has_board(board_id):
            self.forget(board_id)
        self.sidebar_panel.reload()
        if self.current is None:
            self._show_some_board(self.settings.last_board)

    def _show_some_board(self, preferred: str) -> None:
        if self.node.has_board(preferred):
            self.show_board(preferred)
        elif self.boards_model.rowCount():
            self.show_board(self.boards_model.board_id(0))

    def forget(self, board_id: str) -> None:
        """Close what the window has of a board that is gone (or being left)."""
        self.history.forget(board_id)
        controller = self.controllers.pop(board_id, None)
        if controller is not None:
            controller.close()
        view = self.views.pop(board_id, None)
        if view is not None:
            self.stack.removeWidget(view)
            view.deleteLater()
        if self.current == board_id:
            self.current = None
            self.sidebar_panel.show_selected(None)
            self.presence.set_controller(None)
            self.stack.setCurrentWidget(self.empty)
            self.board_title.clear()

    def new_board(self) -> NewBoardDialog:
        return self.board_actions.new_board()

    def join_board(self) -> JoinDialog:
        return self.board_actions.join_board()

    def invite(self) -> InviteDialog | None:
        return self.board_actions.invite()

    def rename_board(self) -> None:
        self.board_actions.rename_board()

    def leave_board(self) -> Question | None:
        return self.board_actions.leave_board()

    # -------------------------------------------------------------- tickets

    def current_ticket(self) -> str | None:
        view = self.view()
        if view is None:
            return None
        focus = self.focusWidget()
        for column in view.column_widgets():
            if focus is column.view:
                return column.view.current_ticket()
        for column in view.column_widgets():
            ticket = column.view.current_ticket()
            if ticket:
                return ticket
        return None

    def open_ticket(self, ticket_id: str) -> TicketDialog | None:
        """The ticket's panel; None while the user is asked first (someone else
        is editing it), and the panel opens when they answer."""
        controller = self.controller()
        if controller is None:
            return None
        key = (controller.board_id, ticket_id)
        existing = self.dialogs.get(key)
        if existing is not None:
            existing.raise_()
            existing.activateWindow()
            return existing
        opened: list[TicketDialog] = []

        def show(mode: str) -> None:
            if key in self.dialogs or not self.node.has_board(key[0]):
                return
            read_only = mode == "read-only" or bool(controller.read_only_reason())
            dialog = TicketDialog(controller, ticket_id, read_only=read_only, parent=self)
            self.dialogs[key] = dialog
            dialog.destroyed.connect(lambda *_: self.dialogs.pop(key, None))
            dialog.finished.connect(lambda *_: self.dialogs.pop(key, None))
            dialog.show()
            self.history.ticket_opened(key[0], ticket_id)
            opened.append(dialog)

        confirm_edit(self, controller, ticket_id, show)
        return opened[0] if opened else None

    def open_current(self) -> None:
        ticket = self.current_ticket()
        if ticket:
            self.open_ticket(ticket)

    def new_ticket(self) -> None:
        view = self.view()
        if view is not None:
            view.focus_quick_add()

    def delete_current(self) -> None:
        controller = self.controller()
        ticket = self.current_ticket()
        if controller is not None and ticket:
            number = controller.board.ticket(ticket).number
            if controller.edit(lambda: controller.board.delete_ticket(ticket)):
                self.messages.notify(f"#{number} moved to the trash (Undo brings it back)", 5000)

    def add_column(self) -> None:
        view = self.view()
        if view is not None:
            view.add_column()

    def show_trash(self) -> TrashDialog | None:
        controller = self.controller()
        if controller is None:
            return None
        return open_dialog(TrashDialog(controller.board, self))

    def show_labels(self) -> LabelsDialog | None:
        controller = self.controller()
        if controller is None:
            return None
        return open_dialog(LabelsDialog(controller, self))

    def undo(self) -> None:
        controller = self.controller()
        if controller is None or not controller.may_edit():
            return
        if not controller.board.can_undo():
            self.messages.notify("Nothing to undo", 2000)
        elif not controller.board.undo():
            # The step is used up: peers have since overwritten all it changed.
            self.messages.notify("Your last change was already replaced by someone else's")

    def redo(self) -> None:
        controller = self.controller()
        if controller is None or not controller.may_edit():
            return
        if not controller.board.can_redo():
            self.messages.notify("Nothing to redo", 2000)
        elif not controller.board.redo():
            self.messages.notify("That change was already replaced by someone else's")

    # --------------------------------------------------------------- filter

    def _fill_filters(self) -> None:
        controller = self.controller()
        if controller is not None:
            self.filters.fill(controller.board)

    def apply_filter(self) -> None:
        view = self.view()
        controller = self.controller()
        if view is not None and controller is not None:
            view.set_filter(self.filters.matcher(controller.board))

    # --------------------------------------------------------------- status

    def refresh_status(self) -> None:
        board = self.node.board_status(self.current) if self.current else None
        self.sync_status.show_board(board, self.context.local_only)
        controller, view = self.controller(), self.view()
        read_only = controller.read_only_reason() if controller is not None else ""
        if view is not None:
            view.set_read_only(read_only)
        if read_only:
            for (board_id, _ticket), dialog in self.dialogs.items():
                if board_id == self.current:
                    dialog.make_read_only()
        self.board_notes.show_notes(read_only, board.problem if board is not None else None)

    def show_peers(self) -> PeersDialog:
        dialog = PeersDialog(self.node, self.messages, self.current, self)
        dialog.finished.connect(self.refresh_status)
        return open_dialog(dialog)

    def edit_settings(self) -> IdentityDialog:
        settings = self.settings
        dialog = IdentityDialog(
            settings.name,
            settings.color,
            settings.relay or "",
            settings.relay_token or "",
            parent=self,
            theme=settings.theme,
        )

        def save() -> None:
            settings.set_identity(dialog.name.text(), dialog.colors.color())
            settings.set_relay(dialog.relay.text().strip(), dialog.token.text().strip())
            settings.set_theme(dialog.chosen_theme())

        return open_dialog(dialog, lambda: self.messages.attempt(save))

    def about(self) -> QMessageBox:
        box = message_box(
            self,
            "About Lanban",
            "Lanban: a kanban board for small teams on one network.\n"
            "Boards sync peer to peer; nothing needs a server.",
            QMessageBox.Icon.NoIcon,
        )
        box.setIconPixmap(app_icon().pixmap(64, 64))
        return open_dialog(box)

    # ---------------------------------------------------------------- misc

    def show_error(self, message: str) -> None:
        """A plain message across the top of the window (never a traceback)."""
        self.error_bar.show_message(message)

    def apply_palette(self) -> None:
        """Follow a light/dark switch: icons, board colours, status."""
        retint(self)
        for view in self.views.values():
            view.apply_palette()
        self.refresh_status()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            dark = Palette().dark
            if dark != self._dark:
                self._dark = dark
                self.apply_palette()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.toasts.relayout()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.set_window_geometry(bytes(self.saveGeometry().data()))
        self.boards_model.close()
        for dialog in list(self.dialogs.values()):
            dialog.close()
        for controller in self.controllers.values():
            controller.close()
        self._status_timer.stop()
        self.node.close()
        super().closeEvent(event)
        self.closed.emit()

    def sizeHint(self) -> QSize:
        return QSize(1280, 800)
