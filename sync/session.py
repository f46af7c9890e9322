"""One board over one link: y-protocols sync and awareness, sans I/O.

Every transport (a secure peer link, a relay's websocket, an in-memory pipe
in tests) feeds received frames to :meth:`Session.receive` and sends what the
session hands to its ``send`` callable, in order. Both ends send sync step 1
on start (y-protocols' advice for peer to peer), so after one round trip each
side has what the other had; later changes travel as updates. A reconnect
starts a new session and exchanges state vectors again, so only what is
missing travels and nothing is applied twice.

Anything a peer does wrong raises :class:`ProtocolError` (the caller closes
the link); the board is unharmed, since pycrdt rejects a bad update whole.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from lanban.model.board import Board

from .messages import (
    DEFAULT_LIMITS,
    AuthDenied,
    Awareness,
    AwarenessEntry,
    Limits,
    Message,
    ProtocolError,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode,
    encode,
)
from .presence import Presence

EMPTY_UPDATE = b"\x00\x00"
MAX_HELD_UPDATES = 10_000

# Node info: a Lanban-only message on peer links (never on relay links), so
# peers can show each other's names. Outside y-protocols' type range 0-3.
NODE_INFO = 0x64


class LinkRefused(Exception):
    """The other end refused us (a relay's auth message)."""


@dataclass
class RateLimit:
    """A token bucket: ``burst`` messages at once, ``per_second`` sustained.

    Generous on purpose: a script importing a board makes thousands of
    updates, and the node batches what it can, but a legitimate peer may
    still send bursts.
    """

    per_second: float = 2000.0
    burst: float = 10_000.0

    def __post_init__(self) -> None:
        self._tokens = self.burst
        self._at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_second)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


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
    ) -> None:
        self.board = board
        self.presence = presence
        self.link = link
        self._send = send
        self._limits = limits
        self._rate = rate or RateLimit()
        self._on_node_info = on_node_info
        self.received_state = False  # we have what the peer had (its step 2 came)
        self._held: list[bytes] = []  # live updates that came before its step 2
        self.sent_state = False  # the peer has what we had (we answered its step 1)
        self.closed = False

    @property
    def synced(self) -> bool:
        return self.received_state and self.sent_state

    def start(self, node_info: dict[str, Any] | None = None) -> None:
        if node_info is not None:
            self._send(bytes([NODE_INFO]) + json.dumps(node_info).encode())
        self._send(encode(SyncStep1(self.board.get_state())))
        everyone = self.presence.full_update()
        if everyone:
            self._send(encode(Awareness(tuple(everyone))))

    def send_update(self, update: bytes) -> None:
        # Until we have answered the peer's step 1, an update would arrive
        # ahead of the step 2 that holds the changes it builds on (pycrdt loses
        # map keys applied out of order); the step 2 will contain it anyway.
        if not self.closed and self.sent_state:
            self._send(encode(SyncUpdate(update)))

    def send_awareness(self, entries: list[AwarenessEntry]) -> None:
        if not self.closed and entries:
            self._send(encode(Awareness(tuple(entries))))

    def receive(self, frame: bytes) -> Message | None:
        """Handle one frame; raises ProtocolError or LinkRefused."""
        if self.closed:
            return None
        if not self._rate.take():
            raise ProtocolError("sending too many messages")
        if frame[:1] == bytes([NODE_INFO]):
            self._node_info(frame[1:])
            return None
        message = decode(frame, self._limits)
        match message:
            case SyncStep1(state_vector):
                try:
                    reply = self.board.get_update(state_vector)
                except Exception as exc:  # pycrdt: not a state vector
                    raise ProtocolError(f"bad state vector: {exc}") from exc
                self._send(encode(SyncStep2(reply)))
                self.sent_state = True
            case SyncUpdate(update) if not self.received_state:
                # Same ordering concern, on our side: hold live updates until
                # the peer's step 2 has brought what they build on.
                if len(self._held) >= MAX_HELD_UPDATES:
                    raise ProtocolError("too many updates before sync step 2")
                self._held.append(update)
            case SyncStep2(update) | SyncUpdate(update):
                self._apply(update)
                if isinstance(message, SyncStep2) and not self.received_state:
                    self.received_state = True
                    held, self._held = self._held, []
                    for update in held:
                        self._apply(update)
            case Awareness(entries):
                self.presence.apply(entries, self.link)
            case QueryAwareness():
                self.send_awareness(self.presence.full_update())
            case AuthDenied(reason):
                raise LinkRefused(reason or "permission denied")
        return message

    def _apply(self, update: bytes) -> None:
        if update != EMPTY_UPDATE:
            try:
                self.board.apply_update(update, self.link)
            except ValueError as exc:
                raise ProtocolError(str(exc)) from exc

    def _node_info(self, payload: bytes) -> None:
        if len(payload) > 4096:
            raise ProtocolError("node info too large")
        try:
            info = json.loads(payload)
        except ValueError as exc:
            raise ProtocolError("node info is not JSON") from exc
        if not isinstance(info, dict):
            raise ProtocolError("node info is not an object")
        if self._on_node_info is not None:
            self._on_node_info(info)

    def close(self) -> list[int]:
        """The link is gone: forget the presence it vouched for."""
        if self.closed:
            return []
        self.closed = True
        return self.presence.link_closed(self.link)
