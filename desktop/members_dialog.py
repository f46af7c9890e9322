"""The Members dialog (Board > Members…, or a click on the presence bar).

Each entry of the board's member list is one computer (PROTOCOL.md 7.2): its
owner's name and colour, role, a short form of its id, and whether this node is
linked with it now. An owner or admin changes roles and removes entries; a
removal is ``lanban board members --remove`` (sync.rekey.remove, through the node
facade): the removed computer gets no later change and the others get a new
board key (7.6). Everyone else sees the list read-only. Errors show in the
dialog, never as a crash.

Under the list, read-only: everyone else who wrote to the board (model.people:
a computer with no member entry, or a name another app wrote under), with when
they last wrote. Colours are model.people's, as on the cards.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from lanban.model.activity import ago as wrote_ago
from lanban.model.members import Access, Member, Role, access, members, watch_members
from lanban.model.people import Person, people, person_color
from lanban.sync.key_delivery import member_kex
from lanban.sync.status_text import ago, plural

from .app_state import Messages
from .invite_dialog import InlineError
from .node_facade import MemberLinks, NodeFacade, Removal
from .presence_bar import Avatar
from .prompts import confirm
from .question import Question
from .theme import Palette

ROLE_NAMES = {
    Role.OWNER: "Owner",
    Role.ADMIN: "Admin",
    Role.EDITOR: "Editor",
    Role.VIEWER: "Viewer",
}
ASSIGNABLE = (Role.VIEWER, Role.EDITOR, Role.ADMIN)
WRITERS_NOTE = "Also wrote to this board, with no member entry:"
DEVICES_NOTE = (
    "Each entry is one computer: a person with two computers is listed twice. "
    "To shut out a lost or stolen laptop, remove its entry."
)


def display_name(m: Member) -> str:
    return m.name or f"Computer {m.id[:8]}"


def device(member_id: str) -> str:
    return f"computer {member_id[:8]}"


def muted(label: QLabel) -> None:
    """Secondary text: the theme's muted colour (a disabled label stays greyer)."""
    palette = label.palette()
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        palette.setColor(group, QPalette.ColorRole.WindowText, Palette().muted)
    label.setPalette(palette)


def seen_text(member_id: str, links: MemberLinks) -> str:
    if member_id in links.online:
        return "online now"
    at = links.last_seen.get(member_id)
    return f"last seen {ago(at)}" if at else ""


class PersonRow(QWidget):
    """A person's avatar, bold name and muted details; ``layout`` takes more widgets."""

    def __init__(self, avatar: Avatar, name: str, details: str, details_id: str) -> None:
        super().__init__()
        self.avatar = avatar
        self.name = QLabel(f"<b>{_escape(name)}</b>")
        self.name.setTextFormat(Qt.TextFormat.RichText)
        self.details = QLabel(details)
        self.details.setObjectName(details_id)
        muted(self.details)
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.name)
        text.addWidget(self.details)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(4, 4, 4, 4)
        self.row.addWidget(self.avatar)
        self.row.addLayout(text, 1)
        self.setAccessibleName(f"{name}, {details}")


class MemberRow(PersonRow):
    """One entry: avatar, name, role, computer, online; a role choice and Remove…
    for whoever manages the members."""

    def __init__(
        self,
        m: Member,
        *,
        shown_name: str,
        color: QColor,
        you: bool,
        links: MemberLinks,
        manage: bool,
        on_role: Callable[[str, Role], object],
        on_remove: Callable[[str], object],
    ) -> None:
        name = shown_name + (" (you)" if you else "")
        # a nameless entry is named after its computer already
        parts = [ROLE_NAMES[m.role], device(m.id) if m.name or you else "", seen_text(m.id, links)]
        if m.removed:
            parts[0] = f"Removed (was {ROLE_NAMES[m.role].lower()})"
        details = " · ".join(p for p in parts if p)
        super().__init__(Avatar(shown_name, color, name), name, details, "memberDetails")
        self.member = m
        self.shown_name = shown_name
        changeable = manage and not you and not m.removed and m.role is not Role.OWNER
        self.role: QComboBox | None = None
        self.remove: QPushButton | None = None
        if changeable:
            self.role = QComboBox()
            self.role.setAccessibleName(f"Role of {shown_name}")
            for role in ASSIGNABLE:
                self.role.addItem(ROLE_NAMES[role], role)
            self.role.setCurrentIndex(max(0, self.role.findData(m.role)))
            self.role.activated.connect(
                lambda i, box=self.role: on_role(m.id, Role(box.itemData(i)))
            )
            self.remove = QPushButton("Remove…")
            self.remove.setAccessibleName(f"Remove {shown_name}")
            self.remove.clicked.connect(lambda: on_remove(m.id))
            self.row.addWidget(self.role)
            self.row.addWidget(self.remove)
        if m.removed:
            for label in (self.name, self.details, self.avatar):
                label.setEnabled(False)


class WriterRow(PersonRow):
    """Someone who wrote to the board with no member entry (read-only)."""

    def __init__(self, person: Person, you: bool) -> None:
        name = person.name or device(person.id)
        name += " (you)" if you else ""
        source = device(person.id) if person.id and person.name else ""
        if not person.id:
            source = "no computer known (another app, or an older Lanban)"
        wrote = f"last wrote {wrote_ago(person.last_wrote or 0)}"
        details = " · ".join(p for p in (source, wrote) if p)
        avatar = Avatar(person.name or person.id, QColor(person.color), name)
        super().__init__(avatar, name, details, "writerDetails")
        self.details.setWordWrap(True)
        self.person = person


class MembersDialog(QDialog):
    """``rows`` are the current members, ``removed_rows`` the removed ones (under
    ``removed_toggle``); ``error`` and ``result`` say how the last action went."""

    def __init__(
        self, node: NodeFacade, board_id: str, messages: Messages, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.node, self.board_id, self.messages = node, board_id, messages
        self.board = node.board(board_id)
        self.setWindowTitle(f"Members of {node.title(board_id)}")
        self.rows: list[MemberRow] = []
        self.removed_rows: list[MemberRow] = []
        self.mode = QLabel()
        self.mode.setWordWrap(True)
        self.note = QLabel(DEVICES_NOTE)
        self.note.setWordWrap(True)
        self.note.setObjectName("membersNote")
        muted(self.note)
        self.error = InlineError()
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.hide()
        self.list = QWidget()
        self.list_layout = QVBoxLayout(self.list)
        self.list_layout.setContentsMargins(0, 0, 0, 0)
        self.list_layout.setSpacing(2)
        self.removed_toggle = QToolButton()
        self.removed_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.removed_toggle.setCheckable(True)
        self.removed_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.removed_toggle.setAutoRaise(True)
        self.removed_toggle.toggled.connect(self._show_removed)
        self.removed_list = QWidget()
        self.removed_layout = QVBoxLayout(self.removed_list)
        self.removed_layout.setContentsMargins(0, 0, 0, 0)
        self.removed_list.hide()
        self.writer_rows: list[WriterRow] = []
        self.writers_title = QLabel(WRITERS_NOTE)
        self.writers_title.setObjectName("writersTitle")
        self.writers_title.setWordWrap(True)
        muted(self.writers_title)
        self.writers_list = QWidget()
        self.writers_layout = QVBoxLayout(self.writers_list)
        self.writers_layout.setContentsMargins(0, 0, 0, 0)
        self.writers_layout.setSpacing(2)
        content = QWidget()
        column = QVBoxLayout(content)
        column.addWidget(self.list)
        column.addWidget(self.removed_toggle, 0, Qt.AlignmentFlag.AlignLeft)
        column.addWidget(self.removed_list)
        column.addWidget(self.writers_title)
        column.addWidget(self.writers_list)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.mode)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        layout.addWidget(self.outcome)
        layout.addWidget(buttons)
        self.resize(560, 460)
        self._pending = False
        self._stop_watching = watch_members(self.board, self._members_touched)
        node.linksChanged.connect(self._links_changed)
        self.finished.connect(lambda _result: self._stop())
        self.refresh()

    # ------------------------------------------------------------------ view

    def manages(self) -> bool:
        mine = self.node.my_member(self.board_id)
        return mine is not None and not mine.removed and mine.role.manages_members

    def refresh(self) -> None:
        self._pending = False
        manage = self.manages()
        if access(self.board) is Access.MEMBERS:
            mode = "Only members can edit this board: viewers see it, editors and above change it."
        else:
            mode = "This board is open: everyone who has it can edit it, whatever their role."
        if not manage:
            mode += " Only the board's owner or an admin can change its members."
        self.mode.setText(mode)
        links = self.node.member_links(self.board_id)
        me = self.node.member_id
        everyone = members(self.board, include_removed=True)
        found = people(self.board, include_removed=True)
        by_id = {p.id: p for p in found if p.member}
        if not everyone:
            self.mode.setText("This board has no member list: everyone who has it can edit it.")
        for layout, rows in (
            (self.list_layout, self.rows),
            (self.removed_layout, self.removed_rows),
            (self.writers_layout, self.writer_rows),
        ):
            for row in rows:
                layout.removeWidget(row)
                row.deleteLater()
            rows.clear()
        for m in everyone:
            you = m.id == me
            written = by_id[m.id].name if m.id in by_id else m.name  # nameless: as it wrote
            shown = (self.node.user_name or written) if you else written or display_name(m)
            row = MemberRow(
                m,
                shown_name=shown,
                # as the cards show them (model.people's rule), me in my own colour
                color=QColor(person_color(self.node.user_color if you else m.color, shown)),
                you=you,
                links=links,
                manage=manage,
                on_role=self.set_role,
                on_remove=self.ask_remove,
            )
            (self.removed_rows if m.removed else self.rows).append(row)
            (self.removed_layout if m.removed else self.list_layout).addWidget(row)
        for person in found:
            if not person.member:
                writer = WriterRow(person, you=bool(person.id) and person.id == me)
                self.writer_rows.append(writer)
                self.writers_layout.addWidget(writer)
        self.writers_title.setVisible(bool(self.writer_rows))
        self.removed_toggle.setText(f"Removed ({len(self.removed_rows)})")
        self.removed_toggle.setAccessibleName(f"Removed members: {len(self.removed_rows)}")
        self.removed_toggle.setVisible(bool(self.removed_rows))

    def row(self, name: str) -> MemberRow:
        """The entry (current or removed) shown for ``name``."""
        for row in self.rows + self.removed_rows:
            if row.shown_name == name:
                return row
        raise KeyError(name)

    def _show_removed(self, shown: bool) -> None:
        self.removed_list.setVisible(shown)
        arrow = Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        self.removed_toggle.setArrowType(arrow)

    def _members_touched(self) -> None:
        # Called inside the board's transaction: read the board once it is over.
        if not self._pending:
            self._pending = True
            QTimer.singleShot(0, self, self.refresh)

    def _links_changed(self, board_id: str) -> None:
        if board_id in ("", self.board_id):
            self._members_touched()

    def _stop(self) -> None:
        self._stop_watching()
        self.node.linksChanged.disconnect(self._links_changed)

    # --------------------------------------------------------------- actions

    def set_role(self, member_id: str, role: Role) -> bool:
        self.outcome.hide()
        done = self.messages.attempt(
            lambda: self.node.set_role(self.board_id, member_id, role), self.error.show_error
        )
        if done:
            self.error.clear()
        self.refresh()  # a refused choice goes back to the role the member has
        return done

    def ask_remove(self, member_id: str) -> Question | None:
        """Say what removing does, and remove if the user says so."""
        target = next((r.member for r in self.rows if r.member.id == member_id), None)
        if target is None:
            self.error.show_error("that member is not on the board any more")
            return None
        name = next(r.shown_name for r in self.rows if r.member.id == member_id)
        detail = (
            f"{name}'s computer ({target.id[:8]}) will get no change made after this. "
            f"{name} keeps what is already on it. Everyone else gets a new board key "
            "automatically, and members who are offline now get it when they next connect "
            "to a member who has it.\n\nInvite codes made before now stop working: make "
            "new ones."
        )
        if self.node.uses_relay(self.board_id):
            detail += (
                "\n\nThis board uses a relay: its members move to a new room on the relay, "
                f"so {name} no longer finds the board there."
            )
        unreachable = self._without_key(member_id)
        if unreachable:
            detail += (
                f"\n\n{_names(unreachable)} {'has' if len(unreachable) == 1 else 'have'} not "
                "connected since joining, so there is no way to send "
                f"{'them' if len(unreachable) > 1 else 'that computer'} the new key: "
                "invite them again afterwards."
            )
        return confirm(
            self,
            "Remove member",
            f"Remove {self._shown(member_id)} from {self.node.title(self.board_id)!r}?",
            lambda: self.remove(member_id),
            verb="Remove",
            detail=detail,
        )

    def remove(self, member_id: str) -> Removal | None:
        """Remove the member now (as the CLI does); the outcome shows in the dialog."""
        removals: list[Removal] = []
        self.outcome.hide()
        if not self.messages.attempt(
            lambda: removals.append(self.node.remove_member(self.board_id, member_id)),
            self.error.show_error,
        ):
            return None
        self.error.clear()
        removal = removals[0]
        name = self._shown(member_id)
        text = (
            f"Removed {name}. The new board key went to "
            f"{plural(len(removal.sealed_to), 'member')} (you included)."
        )
        if removal.without_key:
            text += (
                f" {_names(self._names_of(removal.without_key))} cannot get it (never "
                "connected since joining): invite them again."
            )
        self.outcome.setText(text)
        self.outcome.show()
        self.refresh()
        return removal

    def _without_key(self, removed: str) -> list[str]:
        """Names of the other members whose computer never published its key."""
        me = self.node.member_id
        return [
            self._shown(r.member.id)
            for r in self.rows
            if r.member.id not in (removed, me)
            and member_kex(r.member.id, r.member.kex, r.member.kex_sig) is None
        ]

    def _names_of(self, ids: tuple[str, ...]) -> list[str]:
        return [self._shown(i) for i in ids]

    def _shown(self, member_id: str) -> str:
        """A member's name in a sentence; with its computer when two entries share it."""
        rows = self.rows + self.removed_rows
        name = next((r.shown_name for r in rows if r.member.id == member_id), "")
        if not name:
            return device(member_id)
        twins = sum(r.shown_name == name for r in rows)
        return f"{name} ({member_id[:8]})" if twins > 1 else name


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
