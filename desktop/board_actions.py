"""What the window does with whole boards: new, join, invite, rename, leave, and
the sidebar's menu. Each opens its dialog (never a nested loop: desktop/prompts.py)
and says what to do with the answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QMenu

from lanban.model.members import Role, members

from .boards_model import BoardsModel
from .dialogs import JoinDialog, NewBoardDialog
from .invite_dialog import InviteDialog
from .members_dialog import MembersDialog
from .node_facade import BoardStatus
from .prompts import ask_text, open_dialog, popup
from .question import Question

if TYPE_CHECKING:
    from .main_window import MainWindow


class BoardActions:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.node = window.node
        self.messages = window.messages

    def new_board(self) -> NewBoardDialog:
        window = self.window
        dialog = NewBoardDialog(window, lambda title: bool(window.boards_model.titled(title)))

        def create() -> None:
            title, columns = dialog.chosen_title(), dialog.column_titles() or None
            self.messages.attempt(lambda: self._opened(self.node.create_board(title, columns)))

        return open_dialog(dialog, create)

    def join_board(self) -> JoinDialog:
        dialog = JoinDialog(self.window)

        def join(code: str) -> None:
            had = set(self.node.board_ids())
            joined: list[str] = []
            if not self.messages.attempt(
                lambda: joined.append(self.node.join(code)), dialog.refuse
            ):
                return
            dialog.accept()
            self._opened(joined[0])
            if joined[0] in had:
                title = self.node.title(joined[0]) or "this board"
                self.window.toasts.show_message(f"You already have {title!r}: here it is.")

        dialog.submitted.connect(join)
        return open_dialog(dialog)

    def _opened(self, board_id: str) -> None:
        self.window.sidebar_panel.reload()
        self.window.show_board(board_id)

    def invite(self) -> InviteDialog | None:
        board_id = self.window.current
        if board_id is None:
            return None
        return open_dialog(InviteDialog(self.node, board_id, self.messages, self.window))

    def members(self) -> MembersDialog | None:
        board_id = self.window.current
        if board_id is None:
            return None
        return open_dialog(MembersDialog(self.node, board_id, self.messages, self.window))

    def rename_board(self) -> None:
        controller = self.window.controller()
        if controller is None:
            return
        board = controller.board

        def rename(title: str) -> None:
            if controller.edit(lambda: board.rename(title)):
                self._tell_if_taken(controller.board_id, board.title)

        ask_text(self.window, "Rename board", "New title:", rename, text=board.title)

    def _tell_if_taken(self, board_id: str, title: str) -> None:
        model = self.window.boards_model
        model.reload()
        if model.titled(title, besides=board_id):
            self.window.toasts.show_message(
                f"Another board is also called {title!r}: the sidebar tells them apart."
            )

    def leave_board(self) -> Question | None:
        board_id = self.window.current
        if board_id is None:
            return None
        title = self.node.title(board_id)
        status = self.node.board_status(board_id)
        if self._others_have_it(board_id, status):
            question = f"Stop keeping {title!r} on this computer?"
            detail = "Teammates keep their copies; you can rejoin with an invite."
            yes = "Leave board"
        else:
            question = f"Delete {title!r}?"
            invited = status is not None and status.shared
            detail = (
                "This board exists only on this computer: nobody else has a copy, so "
                "leaving deletes it for good."
                + (" Nobody you invited has received it yet." if invited else "")
                + "\n\nIts file is moved to the 'left' folder of Lanban's data folder."
            )
            yes = "Delete board"
        box = Question(self.window, "Leave board", question, detail, verb=yes, keep="Cancel")

        def clicked(answer: str) -> None:
            if answer == yes:
                self.window.forget(board_id)
                self.messages.attempt(lambda: self.node.leave(board_id))
                self.window.sidebar_panel.reload()

        box.answered.connect(clicked)
        return open_dialog(box)

    def _others_have_it(self, board_id: str, status: BoardStatus | None) -> bool:
        """Whether someone else has a copy of the board: a peer or relay had it (now
        or ever), someone else is a member, or it was joined (made elsewhere)."""
        if status is not None and (status.ever_synced or status.last_sync is not None):
            return True
        mine = self.node.my_member(board_id)
        everyone = members(self.node.board(board_id), include_removed=True)
        if any(mine is None or m.id != mine.id for m in everyone):
            return True
        if mine is None:  # no member list yet: joined from an invite, or made long ago
            return status is not None and status.shared
        return mine.role is not Role.OWNER

    def sidebar_menu(self, pos: Any) -> QMenu | None:
        sidebar = self.window.sidebar
        index = sidebar.indexAt(pos)
        if not index.isValid():
            return None
        self.window.show_board(index.data(BoardsModel.IdRole))
        menu = QMenu(self.window)
        menu.addAction("Invite…", self.invite)
        menu.addAction("Rename…", self.rename_board)
        menu.addAction("Leave…", self.leave_board)
        return popup(menu, sidebar.viewport().mapToGlobal(pos))
