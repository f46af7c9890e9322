"""The Invite dialog: a code for the board, and who may do what with it.

On a board in ``members`` mode (PROTOCOL.md 7.5) the inviter chooses "Can edit" or
"Can view", and the code is a version 2 invite for that role (7.7), made as
``lanban board invite --role`` makes it. On an ``open`` board every key holder
edits: the dialog says so, and lets an owner or admin switch the board to
members mode after a question that says what changes. Only a member who may
write makes invites, and on a members board only an owner or admin (their
invites are signed); anyone else is told why there is no code.
"""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from lanban.model.members import Role

from .app_state import Messages
from .controller import read_only_reason
from .node_facade import NodeFacade
from .prompts import confirm
from .question import Question

ROLE_CHOICES = ((Role.EDITOR, "Can edit"), (Role.VIEWER, "Can view"))
ROLE_HINTS = {
    Role.EDITOR: "add, move and change tickets",
    Role.VIEWER: "see the board and who is on it; change nothing",
}
NOT_A_MANAGER = "Only the board's owner or an admin can change who may edit it."
NO_INVITES = (
    "Only the board's owner or an admin invites people to a board that only members "
    "can edit: ask one of them for a code."
)
ERROR_STYLE = "color: #e5484d;"
CODE_LINES = 6  # a version 2 code takes five lines at the dialog's width


class InlineError(QLabel):
    """A dialog's own error line: what went wrong, as a sentence, where it happened."""

    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setStyleSheet(ERROR_STYLE)
        self.hide()

    def show_error(self, text: str) -> None:
        text = text.strip()
        self.setText(text[:1].upper() + text[1:] + ("" if text.endswith(".") else "."))
        self.show()

    def clear(self) -> None:
        super().clear()
        self.hide()


class InviteDialog(QDialog):
    """``code`` shows the invite; ``roles`` the role choice (members mode only);
    ``members_only_button`` switches an open board to members mode."""

    def __init__(
        self, node: NodeFacade, board_id: str, messages: Messages, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.node, self.board_id, self.messages = node, board_id, messages
        self.setWindowTitle(f"Invite to {node.title(board_id)}")
        self._codes: dict[Role | None, str] = {}  # made so far, by role (None: open board)
        self._relay: str | None = None  # the relay the codes name
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.roles = QButtonGroup(self)
        self.role_buttons: dict[Role, QRadioButton] = {}
        self.choices = QWidget()
        choices = QVBoxLayout(self.choices)
        choices.setContentsMargins(0, 0, 0, 0)
        for role, text in ROLE_CHOICES:
            radio = QRadioButton(f"{text} — {ROLE_HINTS[role]}")
            radio.setAccessibleName(text)
            self.roles.addButton(radio)
            self.role_buttons[role] = radio
            radio.toggled.connect(self._role_toggled)
            choices.addWidget(radio)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.code = QPlainTextEdit()
        self.code.setReadOnly(True)
        self.code.setTabChangesFocus(True)
        self.code.setAccessibleName("Invite code")
        lines = self.code.fontMetrics().lineSpacing() * CODE_LINES
        self.code.setFixedHeight(lines + 2 * self.code.frameWidth() + 12)
        self.error = InlineError()
        self.members_only_button = QPushButton("Only members can edit…")
        self.members_only_button.setAccessibleName("Only members can edit")
        self.members_only_button.clicked.connect(self.ask_members_only)
        switch = QHBoxLayout()
        switch.addWidget(self.members_only_button)
        switch.addStretch(1)
        self.copy = QPushButton("Copy")
        self.copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.current_code()))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.choices)
        layout.addWidget(self.note)
        layout.addWidget(self.code, 1)
        layout.addLayout(switch)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)
        self.refresh()
        self.resize(520, self.heightForWidth(520))

    def members_only(self) -> bool:
        return self.node.members_only(self.board_id)

    def chosen_role(self) -> Role | None:
        """The role the code grants; None on an open board (a version 1 invite)."""
        if not self.members_only():
            return None
        for role, radio in self.role_buttons.items():
            if radio.isChecked():
                return role
        return Role.EDITOR

    def current_code(self) -> str:
        return self.code.toPlainText()

    def refresh(self) -> None:
        """Lay the dialog out for the board's mode and this member's role."""
        members_only = self.members_only()
        mine = self.node.my_member(self.board_id)
        role = None if mine is None else mine.role
        manager = role is not None and role.manages_members and not (mine and mine.removed)
        refused = read_only_reason(members_only, role, mine is not None and mine.removed)
        if members_only and not manager:  # PROTOCOL.md 7.5: signed invites
            refused = (refused + " " if refused else "") + NO_INVITES
        self.choices.setVisible(members_only and not refused)
        self.members_only_button.setVisible(not members_only)
        self.members_only_button.setEnabled(manager)
        self.members_only_button.setToolTip("" if manager else NOT_A_MANAGER)
        self._show_code_box(not refused)
        if refused:
            self.heading.setText("You cannot make invites to this board.")
            self.note.setText(refused)
            return
        if members_only:
            self.heading.setText(
                "Only members can edit this board. What may the person you invite do?"
            )
            if self.roles.checkedButton() is None:
                self.role_buttons[Role.EDITOR].setChecked(True)  # shows the code
                return
        else:
            self.heading.setText(
                "This board is open: everyone who has this code can read and edit it, "
                "and so can anyone they pass it on to." + ("" if manager else " " + NOT_A_MANAGER)
            )
        self._show_code()

    def _role_toggled(self, checked: bool) -> None:
        if checked:
            self._show_code()

    def _show_code(self) -> None:
        role = self.chosen_role()
        if role not in self._codes:
            made = []
            if not self.messages.attempt(
                lambda: made.append(self.node.invite(self.board_id, role)), self.error.show_error
            ):
                self.code.clear()
                self.note.clear()
                self._show_code_box(False)
                return
            self._codes[role] = made[0].code
            self._relay = made[0].relay
        self.error.clear()
        self._show_code_box(True)
        self.code.setPlainText(self._codes[role])
        self.note.setText(self._note(role))

    def _show_code_box(self, shown: bool) -> None:
        self.code.setVisible(shown)
        self.copy.setVisible(shown)

    def _note(self, role: Role | None) -> str:
        where = (
            f"It also tells them to use the relay {self._relay}."
            if self._relay
            else "They will find this computer on the local network."
        )
        if role is None:
            return (
                "Send this code to the person you invite. It holds the board's key: "
                "treat it like a password. " + where
            )
        who = "an editor" if role is Role.EDITOR else "a viewer"
        return (
            f"This code lets one person join, once, as {who}: make a new code for each "
            "person. It holds the board's key: treat it like a password. " + where
        )

    def ask_members_only(self) -> Question:
        """Ask before switching the board to members mode; switch if the user says so."""
        detail = (
            "From now on only people on the board's member list who can edit may change "
            "it. Changes from viewers, from anyone not on the list and from older versions "
            "of Lanban reach nobody.\n\nEveryone on the list now keeps their role. New "
            "people join with a code that says whether they can edit or only view."
        )
        if self.node.uses_relay(self.board_id):
            detail += (
                "\n\nThis board uses a relay: changes that come only through the relay are "
                "refused too. If some members reach each other only through the relay, "
                "keep the board open."
            )
        return confirm(
            self,
            "Only members can edit",
            f"Let only members edit {self.node.title(self.board_id)!r}?",
            self.make_members_only,
            verb="Only members can edit",
            keep="Keep it open",
            detail=detail,
            destructive=False,
        )

    def make_members_only(self) -> None:
        if self.messages.attempt(
            lambda: self.node.set_members_only(self.board_id), self.error.show_error
        ):
            self.error.clear()
            self.refresh()
