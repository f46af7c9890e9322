"""One board over one link, sans I/O: the y-protocols sync and awareness state machine.

Shared by a node's peer and relay links (through :class:`~lanban.sync.session.Session`)
and by each connection of a relay room (:mod:`lanban.sync.relay_room`). Like
python-websockets' ``protocol.py`` it does no I/O at all: the caller feeds it the
frames it received (:meth:`SyncProtocol.receive_data`), sends what
:meth:`~SyncProtocol.data_to_send` hands back, in order, and acts on
:meth:`~SyncProtocol.events_received` (awareness to apply, a query to answer, ...).
Tests drive it with bytes alone.

What a session does (PROTOCOL.md section 1, "A session"): :meth:`SyncProtocol.start`
queues NODE_INFO (peer links), sync step 1 and the awareness states the caller knows;
a step 1 is answered at once with a step 2; a step 2 or update is applied to the
document. The ordering rules that keep pycrdt from seeing a sender's changes out of
order are :class:`SyncRules`: a node neither sends an update before it has answered
the peer's step 1 nor applies one before the peer's step 2 (holding at most
``MAX_HELD_UPDATES``); a relay room, like the stock y-websocket server, applies at once.

Every step 2 and update is checked by the document's
:class:`~lanban.sync.update_guard.UpdateGuard` before pycrdt sees it (its encoding, the
growth it may cause, the board's totals). Anything a peer does wrong raises
:class:`ProtocolError` (the caller closes the link with the reason, close code 1008);
a refused update is never applied, so never stored or passed on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .messages import (
    DEFAULT_LIMITS,
    AuthDenied,
    Awareness,
    AwarenessEntry,
    Limits,
    MessageType,
    ProtocolError,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncType,
    SyncUpdate,
    decode,
    encode,
    read_var_bytes,
    var_bytes,
)
from .update_guard import UpdateGuard

EMPTY_UPDATE = b"\x00\x00"
MAX_HELD_UPDATES = 10_000
MAX_HELD_BYTES = DEFAULT_LIMITS.update_bytes  # all updates held at once, as one step 2
MAX_NODE_INFO_BYTES = 4096

# Node info: a Lanban-only message on peer links (never on relay links), so
# peers can show each other's names. Outside y-protocols' type range 0-3.
NODE_INFO = 0x64
_NODE_INFO_BYTE = bytes([NODE_INFO])
# How encode() starts a SyncUpdate: every edit is one, both ways, so it is framed
# and read here without building a message (tests/sync/test_protocol.py checks
# both against encode and decode, limits included).
UPDATE_HEADER = bytes([MessageType.SYNC, SyncType.UPDATE])


class SyncDoc(Protocol):
    """The document a session syncs (a Board, or a relay room's pycrdt Doc)."""

    def get_state(self) -> bytes: ...

    def get_update(self, state_vector: bytes) -> bytes: ...

    def apply_update(self, update: bytes) -> None:
        """Apply a peer's update; ValueError when it is not one (the doc is unchanged)."""


@dataclass(frozen=True, slots=True)
class SyncRules:
    """The ordering rules of one end of a link."""

    # Send no update before the peer's step 1 is answered (the step 2 carries it), and
    # hold received updates until the peer's step 2 has been applied.
    in_order: bool = True
    node_info: bool = True  # Lanban's NODE_INFO is allowed (sealed peer links only)


PEER_RULES = SyncRules()  # a node, on peer and relay links
RELAY_RULES = SyncRules(in_order=False, node_info=False)  # as the stock y-websocket server


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


# ------------------------------------------------------------------ events


@dataclass(frozen=True, slots=True)
class AwarenessReceived:
    """Awareness entries to apply to the caller's table."""

    entries: tuple[AwarenessEntry, ...]


@dataclass(frozen=True, slots=True)
class AwarenessQueried:
    """The peer asks for every known state: answer with :meth:`SyncProtocol.send_awareness`."""


@dataclass(frozen=True, slots=True)
class NodeInfoReceived:
    info: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Refused:
    """The peer (a relay) refused us: y-protocols' permission denied."""

    reason: str


@dataclass(frozen=True, slots=True)
class Synced:
    """Both ends now have what the other had when the link came up (once per session)."""


Event = AwarenessReceived | AwarenessQueried | NodeInfoReceived | Refused | Synced


class SyncProtocol:
    def __init__(
        self,
        doc: SyncDoc,
        *,
        rules: SyncRules = PEER_RULES,
        limits: Limits = DEFAULT_LIMITS,
        rate: RateLimit | None = None,
        guard: UpdateGuard | None = None,
    ) -> None:
        """``guard``: the document's, shared by all its links (a new one by default)."""
        self.doc = doc
        self.rules = rules
        self.limits = limits
        self.guard = guard if guard is not None else UpdateGuard(doc)
        self._rate = rate
        self.received_state = False  # we have what the peer had (its step 2 came)
        self.sent_state = False  # the peer has what we had (we answered its step 1)
        self.closed = False
        self._held: list[bytes] = []  # live updates that came before its step 2
        self._held_bytes = 0
        self._out: list[bytes] = []
        self._events: list[Event] = []

    @property
    def synced(self) -> bool:
        return self.received_state and self.sent_state

    # ------------------------------------------------------------ output

    def data_to_send(self) -> list[bytes]:
        """Frames to send, in order; each call returns the new ones."""
        out, self._out = self._out, []
        return out

    def events_received(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    def start(
        self, awareness: Sequence[AwarenessEntry] = (), node_info: dict[str, Any] | None = None
    ) -> None:
        """Queue the opening: NODE_INFO (peer links), step 1, the awareness states known."""
        if node_info is not None:
            self._out.append(bytes([NODE_INFO]) + json.dumps(node_info).encode())
        self._out.append(encode(SyncStep1(self.doc.get_state())))
        self.send_awareness(awareness)

    def send_update(self, update: bytes) -> None:
        # Until we have answered the peer's step 1, an update would arrive
        # ahead of the step 2 that holds the changes it builds on (pycrdt loses
        # map keys applied out of order); the step 2 will contain it anyway.
        if not self.closed and (self.sent_state or not self.rules.in_order):
            self._out.append(UPDATE_HEADER + var_bytes(update))

    def send_awareness(self, entries: Sequence[AwarenessEntry]) -> None:
        if not self.closed and entries:
            self._out.append(encode(Awareness(tuple(entries))))

    def close(self) -> None:
        self.closed = True

    # ------------------------------------------------------------ input

    def receive_data(self, frame: bytes) -> None:
        """Handle one frame; raises ProtocolError."""
        if self.closed:
            return
        if self._rate is not None and not self._rate.take():
            raise ProtocolError("sending too many messages")
        if frame[:2] == UPDATE_HEADER:  # as decode() reads a SyncUpdate, and its limits
            limits = self.limits
            if len(frame) > limits.frame_bytes:
                raise ProtocolError(f"frame of {len(frame)} bytes (limit {limits.frame_bytes})")
            update, end = read_var_bytes(frame, 2, limits.update_bytes)
            if end != len(frame):
                raise ProtocolError(f"{len(frame) - end} unexpected bytes after the message")
            self._update(update)
            return
        if self.rules.node_info and frame[:1] == _NODE_INFO_BYTE:
            self._events.append(NodeInfoReceived(_node_info(frame[1:])))
            return
        message = decode(frame, self.limits)
        match message:
            case SyncStep1(state_vector):
                try:
                    reply = self.doc.get_update(state_vector)
                except Exception as exc:  # pycrdt: not a state vector
                    raise ProtocolError(f"bad state vector: {exc}") from exc
                self._out.append(encode(SyncStep2(reply)))
                self._mark(sent=True)
            case SyncUpdate(update):
                self._update(update)
            case SyncStep2(update):
                self._apply(update)
                if not self.received_state:
                    self._mark(received=True)
                    held, self._held, self._held_bytes = self._held, [], 0
                    for update in held:
                        self._apply(update)
            case Awareness(entries):
                self._events.append(AwarenessReceived(entries))
            case QueryAwareness():
                self._events.append(AwarenessQueried())
            case AuthDenied(reason):
                self._events.append(Refused(reason or "permission denied"))

    def _update(self, update: bytes) -> None:
        if self.rules.in_order and not self.received_state:
            # Same ordering concern, on our side: hold live updates until
            # the peer's step 2 has brought what they build on.
            if len(self._held) >= MAX_HELD_UPDATES:
                raise ProtocolError("too many updates before sync step 2")
            self._held_bytes += len(update)
            if self._held_bytes > MAX_HELD_BYTES:
                raise ProtocolError("too many update bytes before sync step 2")
            self._held.append(update)
        else:
            self._apply(update)

    def _apply(self, update: bytes) -> None:
        if update == EMPTY_UPDATE:
            return
        summary = self.guard.admit(update)
        try:
            self.doc.apply_update(update)
        except ProtocolError:
            raise
        except ValueError as exc:
            raise ProtocolError(str(exc)) from exc
        self.guard.applied(update, summary)

    def _mark(self, *, sent: bool = False, received: bool = False) -> None:
        was = self.synced
        self.sent_state |= sent
        self.received_state |= received
        if self.synced and not was:
            self._events.append(Synced())


def _node_info(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_NODE_INFO_BYTES:
        raise ProtocolError("node info too large")
    try:
        info = json.loads(payload)
    except ValueError as exc:
        raise ProtocolError("node info is not JSON") from exc
    if not isinstance(info, dict):
        raise ProtocolError("node info is not an object")
    return info
