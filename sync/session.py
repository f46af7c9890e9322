"""A node's end of one link for one board: the sync core wired to a Board and its Presence.

The state machine is :class:`~lanban.sync.protocol.SyncProtocol` (sans I/O, shared
with the relay); this adapter gives the node and its links the push-style API they
use: frames received go to :meth:`Session.receive`, frames to send go to ``send``
in order as soon as the core has them, awareness goes to the board's
:class:`~lanban.sync.presence.Presence` with the link as the states' voucher.

Every link of a board shares the board's :class:`~lanban.sync.update_guard.UpdateGuard`
(its hub owns it), so the board's totals and its parsed state vector are kept once.

A reconnect starts a new session and exchanges state vectors again, so only what is
missing travels and nothing is applied twice. Anything a peer does wrong raises
:class:`ProtocolError` (the caller closes the link) or :class:`LinkRefused`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from lanban.model.board import Board

from .messages import DEFAULT_LIMITS, AwarenessEntry, Limits, ProtocolError
from .presence import Presence
from .protocol import (
    EMPTY_UPDATE,
    MAX_HELD_UPDATES,
    NODE_INFO,
    PEER_RULES,
    AwarenessQueried,
    AwarenessReceived,
    NodeInfoReceived,
    RateLimit,
    Refused,
    SyncProtocol,
)
from .update_guard import UpdateGuard

__all__ = [
    "EMPTY_UPDATE",
    "MAX_HELD_UPDATES",
    "NODE_INFO",
    "LinkRefused",
    "ProtocolError",
    "RateLimit",
    "Session",
]


class LinkRefused(Exception):
    """The other end refused us (a relay's auth message)."""


class _BoardDoc:
    """A Board as the core's document: updates applied with the link as their source."""

    __slots__ = ("board", "link")

    def __init__(self, board: Board, link: Hashable) -> None:
        self.board = board
        self.link = link

    def get_state(self) -> bytes:
        return self.board.get_state()

    def get_update(self, state_vector: bytes) -> bytes:
        return self.board.get_update(state_vector)

    def apply_update(self, update: bytes) -> None:
        self.board.apply_update(update, self.link)


class Session:
    def __init__(
        self,
        board: Board,
        presence: Presence,
        link: Hashable,
        send: Callable[[bytes], None],
        *,
        limits: Limits = DEFAULT_LIMITS,
        rate: RateLimit | None = None,
        on_node_info: Callable[[dict[str, Any]], None] | None = None,
        guard: UpdateGuard | None = None,
    ) -> None:
        """``guard``: the board's, shared by all its links (a session alone makes one)."""
        self.board = board
        self.presence = presence
        self.link = link
        self._send = send
        self._on_node_info = on_node_info
        self.protocol = SyncProtocol(
            _BoardDoc(board, link),
            rules=PEER_RULES,
            limits=limits,
            rate=rate or RateLimit(),
            guard=guard or UpdateGuard(board),
        )

    @property
    def synced(self) -> bool:
        return self.protocol.synced

    @property
    def sent_state(self) -> bool:
        return self.protocol.sent_state

    @property
    def received_state(self) -> bool:
        return self.protocol.received_state

    @property
    def closed(self) -> bool:
        return self.protocol.closed

    def start(self, node_info: dict[str, Any] | None = None) -> None:
        self.protocol.start(self.presence.full_update(), node_info)
        self._flush()

    def send_update(self, update: bytes) -> None:
        self.protocol.send_update(update)
        self._flush()

    def send_awareness(self, entries: list[AwarenessEntry]) -> None:
        self.protocol.send_awareness(entries)
        self._flush()

    def receive(self, frame: bytes) -> None:
        """Handle one frame; raises ProtocolError or LinkRefused."""
        try:
            self.protocol.receive_data(frame)
        finally:
            self._flush()
        for event in self.protocol.events_received():
            match event:
                case AwarenessReceived(entries):
                    self.presence.apply(entries, self.link)
                case AwarenessQueried():
                    self.send_awareness(self.presence.full_update())
                case NodeInfoReceived(info) if self._on_node_info is not None:
                    self._on_node_info(info)
                case Refused(reason):
                    raise LinkRefused(reason)

    def _flush(self) -> None:
        for frame in self.protocol.data_to_send():
            self._send(frame)

    def close(self) -> list[int]:
        """The link is gone: forget the presence it vouched for."""
        if self.protocol.closed:
            return []
        self.protocol.close()
        return self.presence.link_closed(self.link)
