"""The node, as the desktop sees it: the only desktop module that touches
``lanban.sync.node.Node`` (DESIGN.md 2: the app runs the node in-process).

Widgets get typed snapshots (BoardState, LinkState, NodeState) and Qt signals
with typed arguments; they never reach into the node's boards, links or
presence. When the node's API changes, this is the one file to adapt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from lanban.model.board import Board
from lanban.sync.invite import Invite
from lanban.sync.node import Node

from .app_state import Settings


@dataclass(frozen=True)
class LinkState:
    """One connection that carries a board: to a LAN peer or to a relay."""

    kind: str  # "lan" | "relay"
    name: str  # the peer's display name ("" for a relay or an unnamed peer)
    node_id: str  # the peer node's id (hex; "" for a relay)
    address: str
    last_heard: float | None
    synced: bool


@dataclass(frozen=True)
class BoardState:
    links: tuple[LinkState, ...]
    local_changes_not_seen_by_peers: int
    dialing: bool  # trying to reach someone for this board


@dataclass(frozen=True)
class NodeState:
    name: str
    listening: str  # host:port
    discovery: bool


@dataclass(frozen=True)
class InviteCode:
    code: str
    relay: str | None  # the relay the invite tells the invited to use


def _link(data: dict[str, Any]) -> LinkState:
    last = data.get("last_heard")
    return LinkState(
        kind=str(data.get("kind", "")),
        name=str(data.get("name") or ""),
        node_id=str(data.get("node_id") or ""),
        address=str(data.get("address") or ""),
        last_heard=float(last) if isinstance(last, int | float) else None,
        synced=bool(data.get("synced")),
    )


class NodeFacade(QObject):
    boardsChanged = Signal(str)  # a board opened or closed (its id)
    linksChanged = Signal(str)  # a board's connections changed (its id, "" for any)
    presenceChanged = Signal(str)  # someone's presence on a board changed (its id)

    def __init__(self, node: Node, settings: Settings) -> None:
        super().__init__()
        self._node = node
        self._settings = settings
        self._unsubscribe = node.subscribe(self._on_node)
        settings.identityChanged.connect(self._identity_changed)
        settings.relayChanged.connect(self._relay_changed)

    def close(self) -> None:
        self._unsubscribe()

    def _on_node(self, what: str, board_id: str | None) -> None:
        signal = {
            "boards": self.boardsChanged,
            "links": self.linksChanged,
            "presence": self.presenceChanged,
        }.get(what)
        if signal is not None:
            signal.emit(board_id or "")

    def _identity_changed(self) -> None:
        self._node.name = self._settings.name
        for sync in self._node.boards.values():
            sync.board.actor = self._settings.name

    def _relay_changed(self) -> None:
        self._node.set_relay(self._settings.relay, self._settings.relay_token)

    # -------------------------------------------------------------- boards

    def board_ids(self) -> list[str]:
        return list(self._node.boards)

    def has_board(self, board_id: str) -> bool:
        return board_id in self._node.boards

    def board(self, board_id: str) -> Board:
        return self._node.boards[board_id].board

    def title(self, board_id: str) -> str:
        """The board's title; before the first sync, the one its invite gave."""
        sync = self._node.boards.get(board_id)
        if sync is None:
            return ""
        return sync.board.title or str(sync.file.meta("title") or "")

    def create_board(self, title: str, columns: list[str] | None = None) -> str:
        return self._node.create_board(title, columns)

    def join(self, code: str) -> str:
        """Add the board of an invite code (InviteError if it is not one)."""
        return self._node.join(Invite.decode(code))

    def invite(self, board_id: str) -> InviteCode:
        invite = self._node.invite(board_id)
        return InviteCode(invite.encode(), invite.relay)

    def leave(self, board_id: str) -> None:
        self._node.leave(board_id)

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

    def board_state(self, board_id: str) -> BoardState | None:
        status = self._node.board_status(board_id)
        if status is None:
            return None
        return BoardState(
            links=tuple(_link(link) for link in status.get("links", [])),
            local_changes_not_seen_by_peers=int(status.get("local_changes_not_seen_by_peers", 0)),
            dialing=self._node.is_dialing(board_id),
        )

    def node_state(self) -> NodeState:
        status = self._node.status()
        return NodeState(str(status["name"] or ""), str(status["listening"]), status["discovery"])

    def add_peer(self, address: str) -> None:
        """Also dial host:port for every board (NodeError if it is not an address)."""
        self._node.add_peer(address)
