"""The node, as the desktop sees it: the only desktop module that touches
``lanban.sync.node.Node`` (DESIGN.md 2: the app runs the node in-process).

Widgets get the node's typed status (BoardStatus, LinkStatus, NodeStatus) and Qt
signals with typed arguments; they never reach into the node's boards, links or
presence. When the node's API changes, this is the one file to adapt.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal

from lanban.model.away import Meta
from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.model.members import Access, Member, Role, access, member, role_of, set_access
from lanban.model.members import update_member as set_member_fields
from lanban.sync.invite import Invite
from lanban.sync.member_invites import with_role
from lanban.sync.node import Node, NodeError, NodeOptions
from lanban.sync.rekey import Removal, remove
from lanban.sync.sharing import mark_invited
from lanban.sync.status import BoardStatus, DialStatus, LinkStatus, NodeEvent, NodeStatus
from lanban.sync.store import Store

from .app_state import Settings

# The node's typed status, for the widgets (they import it from here).
__all__ = [
    "BoardStatus",
    "DialStatus",
    "InviteCode",
    "LinkStatus",
    "MemberLinks",
    "NodeFacade",
    "NodeStatus",
    "Removal",
]


@dataclass(frozen=True)
class InviteCode:
    code: str
    relay: str | None  # the relay the invite tells the invited to use


@dataclass(frozen=True)
class MemberLinks:
    """Which members' computers this node is linked with now, and when it last was
    with the others it linked with since the app started (time.time())."""

    online: frozenset[str] = frozenset()
    last_seen: dict[str, float] = field(default_factory=dict)


class NodeFacade(QObject):
    boardsChanged = Signal(str)  # a board opened or closed (its id)
    linksChanged = Signal(str)  # a board's connections changed (its id, "" for any)
    presenceChanged = Signal(str)  # someone's presence on a board changed (its id)

    def __init__(self, node: Node, settings: Settings) -> None:
        super().__init__()
        self._node = node
        self._settings = settings
        self._online: dict[str, frozenset[str]] = {}  # board -> members linked now
        self._last_seen: dict[str, dict[str, float]] = {}  # board -> member -> time
        self._unsubscribe = node.subscribe(self._on_node)
        self._named: dict[str, Board] = {}  # board -> the Board told this node's member id
        settings.identityChanged.connect(self._identity_changed)
        settings.relayChanged.connect(self._relay_changed)

    @classmethod
    def create(cls, store: Store, options: NodeOptions, settings: Settings) -> NodeFacade:
        """The app's node: the user's name, and their relay unless --relay says otherwise."""
        if options.relay is None and settings.relay:
            options.relay, options.relay_token = settings.relay, settings.relay_token
        options.name = settings.name
        return cls(Node(store, options), settings)

    async def start(self) -> str:
        """Start syncing. If another Lanban process already syncs this data
        directory, only follow the files: then a sentence saying so, else ""."""
        try:
            await self._node.start()
        except NodeError as exc:
            if "already running" not in str(exc):
                raise
            await self._node.start_local()
            return "Synced by another Lanban process on this computer"
        finally:
            self._name_writers()
        return ""

    async def stop(self) -> None:
        self.close()
        await self._node.stop()

    def close(self) -> None:
        """Stop listening to the node (the window is going)."""
        self._unsubscribe()

    def _on_node(self, event: NodeEvent, board_id: str | None) -> None:
        if event is NodeEvent.BOARDS:
            self._name_writers()
        if event is NodeEvent.LINKS:
            for board in [board_id] if board_id else list(self._online):
                self.member_links(board)  # notes who just went
        signal = {
            NodeEvent.BOARDS: self.boardsChanged,
            NodeEvent.LINKS: self.linksChanged,
            NodeEvent.PRESENCE: self.presenceChanged,
        }[event]
        signal.emit(board_id or "")

    def _name_writers(self) -> None:
        """Tell each board opened (or reopened) since which member this node is,
        so the history names its changes by the member's name (as the CLI does)."""
        for board_id, sync in self._node.boards.items():
            if self._named.get(board_id) is not sync.board:
                sync.board.set_member(self._node.node_key.member_id)
                self._named[board_id] = sync.board
        for gone in self._named.keys() - self._node.boards.keys():
            del self._named[gone]

    def _identity_changed(self) -> None:
        self._node.name = self._settings.name
        for sync in self._node.boards.values():
            sync.board.actor = self._settings.name
            self._follow_settings(sync.board)

    def _follow_settings(self, board: Board) -> None:
        """After I change my name or colour in Settings, my member entry takes them
        where I may write (others see it in the Members dialog; the history names me
        by it). Not at open: whoever added me may have named me otherwise."""
        me = self._node.node_key.member_id
        mine = member(board, me)
        name, color = self._settings.name, self._settings.color
        if mine is None or mine.removed or (mine.name, mine.color) == (name, color):
            return
        role = role_of(board, me)
        if access(board) is not Access.OPEN and (role is None or not role.writes):
            return  # a viewer's writes reach nobody
        with contextlib.suppress(BoardError):  # refused here (a full board): it stays
            set_member_fields(board, me, name=name, color=color)

    def _relay_changed(self) -> None:
        self._node.set_relay(self._settings.relay, self._settings.relay_token)

    # -------------------------------------------------------------- boards

    def board_ids(self) -> list[str]:
        return list(self._node.boards)

    def has_board(self, board_id: str) -> bool:
        return board_id in self._node.boards

    def board(self, board_id: str) -> Board:
        return self._node.boards[board_id].board

    def seen_marks(self, board_id: str) -> Meta:
        """Where this user's "seen up to" marks of a board are kept (its file's
        meta, model.away): never in the shared document."""
        return self._node.boards[board_id].file

    def title(self, board_id: str) -> str:
        """The board's title; before the first sync, the one its invite gave."""
        sync = self._node.boards.get(board_id)
        if sync is None:
            return ""
        return sync.board.title or str(sync.file.meta("title") or "")

    def my_member(self, board_id: str) -> Member | None:
        """This node's entry in the board's member list (removed ones too), or None."""
        sync = self._node.boards.get(board_id)
        return None if sync is None else member(sync.board, self._node.node_key.member_id)

    def members_only(self, board_id: str) -> bool:
        """Whether the board takes writes from its editors only (PROTOCOL.md 7.5)."""
        sync = self._node.boards.get(board_id)
        return sync is not None and access(sync.board) is Access.MEMBERS

    def create_board(self, title: str, columns: list[str] | None = None) -> str:
        return self._node.create_board(title, columns)

    def join(self, code: str) -> str:
        """Add the board of an invite code (InviteError if it is not one)."""
        return self._node.join(Invite.decode(code))

    def invite(self, board_id: str, role: Role | None = None) -> InviteCode:
        """A code for the board; with a role, a version 2 invite recorded in the board
        (PROTOCOL.md 7.7; BoardError if this member may not write)."""
        invite = self._node.invite(board_id)
        hub = self._node.boards[board_id]
        if role is not None:
            invite = with_role(invite, hub.board, self._node.node_key, role)
        mark_invited(hub.file)  # no longer "only on this computer"
        return InviteCode(invite.encode(), invite.relay)

    def leave(self, board_id: str) -> None:
        self._node.leave(board_id)

    # ------------------------------------------------------------- members

    @property
    def user_name(self) -> str:
        """The name this user goes by (the app's settings)."""
        return self._settings.name

    @property
    def user_color(self) -> str:
        """This user's colour (the app's settings)."""
        return self._settings.color

    @property
    def member_id(self) -> str:
        """This node's member id (its signing key's public half)."""
        return self._node.node_key.member_id

    def set_members_only(self, board_id: str) -> None:
        """Let only the board's editors and above change it (an owner's or admin's call)."""
        board = self._managed(board_id)
        set_access(board, Access.MEMBERS)

    def set_role(self, board_id: str, member_id: str, role: Role) -> None:
        """Make a member a viewer, editor or admin (an owner's or admin's call)."""
        board = self._managed(board_id)
        if role is Role.OWNER:
            raise BoardError("a board has one owner: its creator")
        if member_id == self.member_id:
            raise BoardError("you cannot change your own role")
        if role_of(board, member_id) is Role.OWNER:
            raise BoardError("the board's owner stays its owner")
        set_member_fields(board, member_id, role=role)

    def remove_member(self, board_id: str, member_id: str) -> Removal:
        """Remove a member and give the others a new board key, as
        ``lanban board members --remove`` does (BoardError if not allowed)."""
        hub = self._node.boards[board_id]
        return remove(hub.file, self._node.node_key, member_id)

    def uses_relay(self, board_id: str) -> bool:
        """Whether the board syncs through a relay too (its own or the app's)."""
        hub = self._node.boards.get(board_id)
        return hub is not None and bool(hub.file.relay or self._node.options.relay)

    def member_links(self, board_id: str) -> MemberLinks:
        status = self._node.board_status(board_id)
        links = status.links if status is not None else ()
        online = frozenset(link.member for link in links if link.member)
        seen = self._last_seen.setdefault(board_id, {})
        now = time.time()
        for member_id in online | self._online.get(board_id, frozenset()):
            seen[member_id] = now  # linked now, or until just now
        self._online[board_id] = online
        return MemberLinks(online, dict(seen))

    def _managed(self, board_id: str) -> Board:
        board = self.board(board_id)
        mine = role_of(board, self.member_id)
        if mine is None or not mine.manages_members:
            raise BoardError("only the board's owner or an admin can change its members")
        return board

    def problems(self) -> list[str]:
        """Boards that could not be opened, as sentences."""
        return list(self._node.problems)

    # ------------------------------------------------------------ presence

    def presence_states(self, board_id: str) -> dict[int, dict[str, Any]]:
        """The others' awareness states on a board (untrusted), by client id."""
        sync = self._node.boards.get(board_id)
        if sync is None:
            return {}
        mine = sync.presence.client_id
        return {cid: state for cid, state in sync.presence.states.items() if cid != mine}

    def set_presence(self, board_id: str, state: dict[str, Any] | None) -> None:
        if board_id in self._node.boards:
            self._node.set_presence(board_id, state)

    def set_presence_field(self, board_id: str, key: str, value: Any) -> None:
        if board_id in self._node.boards:
            self._node.set_presence_field(board_id, key, value)

    # -------------------------------------------------------------- status

    def board_status(self, board_id: str) -> BoardStatus | None:
        return self._node.board_status(board_id)

    def node_status(self) -> NodeStatus:
        return self._node.status()

    def add_peer(self, address: str) -> None:
        """Also dial host:port for every board (NodeError if it is not an address)."""
        self._node.add_peer(address)
