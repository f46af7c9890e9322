"""One relay room: a board's document, its connections and their awareness states.

Behaves like the stock y-websocket server's shared doc: a newcomer gets sync step 1 and
everyone's awareness; a step 1 is answered with step 2; a step 2 or update is applied
and what it changed goes to every connection in the room (the sender included, as the
stock server does: an update can complete structs that another client sent earlier);
awareness changes go to every connection too (y-websocket clients count that echo as
traffic, so a client alone in a room does not think its link is dead), gathered per
pass of the event loop.

Each connection's messages go through the shared sans-I/O sync core
(:class:`~lanban.sync.protocol.SyncProtocol` with the relay's rules); the room adds
what only a room does: the fan-out of changes and awareness to every connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, KeysView, Sequence
from dataclasses import replace
from typing import Any

from pycrdt import Doc, TransactionEvent
from websockets.asyncio.server import ServerConnection, broadcast
from websockets.protocol import State

from .awareness import RELAY_OWNERSHIP, AwarenessTable, TooManyClientIds
from .messages import (
    DEFAULT_LIMITS,
    Awareness,
    AwarenessEntry,
    Limits,
    ProtocolError,
    encode,
    var_bytes,
)
from .protocol import (
    RELAY_RULES,
    UPDATE_HEADER,
    AwarenessQueried,
    AwarenessReceived,
    RateLimit,
    Refused,
    SyncProtocol,
)
from .update_guard import PendingOverflow, UpdateGuard

log = logging.getLogger("lanban.relay")


class RoomCorrupted(RuntimeError):
    """pycrdt rejected an update after applying part of it: the room must be reloaded."""


class _RoomDoc:
    """The room's document as the sync core sees it: updates go through the room."""

    __slots__ = ("room",)

    def __init__(self, room: Room) -> None:
        self.room = room

    def get_state(self) -> bytes:
        return self.room.doc.get_state()

    def get_update(self, state_vector: bytes) -> bytes:
        return self.room.doc.get_update(state_vector)

    def apply_update(self, update: bytes) -> None:
        self.room.apply(update)


class Room:
    def __init__(
        self,
        name: str,
        doc: Doc[Any],
        *,
        max_awareness_ids_per_connection: int,
        on_change: Callable[[Room, bytes], None],
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.name = name
        self.doc = doc
        self.limits = limits
        # What a client may leave unread: a whole step 2 and as much again.
        self.max_buffered = 2 * limits.frame_bytes
        self._sessions: dict[ServerConnection, SyncProtocol] = {}
        # Every connection's updates are checked by it; _record_change reports changes.
        self.guard = UpdateGuard(doc, changes_reported=True)
        self.discarded = False
        self._awareness = AwarenessTable(
            replace(RELAY_OWNERSHIP, max_ids_per_owner=max_awareness_ids_per_connection)
        )
        self._on_change = on_change
        self._changes: list[bytes] = []
        self._sender: ServerConnection | None = None  # whose frame is being handled
        self._awareness_out: dict[int, AwarenessEntry] = {}  # client id -> change to send
        self._awareness_sending: asyncio.Handle | None = None
        # Everyone's states as the frames a newcomer gets: encoded once per change, not
        # once per join (200 stock clients joining together took ~200 ms to encode for).
        self._states_frames: list[bytes] | None = None
        self._subscription = doc.observe(self._record_change)

    @property
    def connections(self) -> KeysView[ServerConnection]:
        return self._sessions.keys()

    def join(self, connection: ServerConnection, rate: RateLimit | None = None) -> list[bytes]:
        """Add a connection (its messages limited by ``rate``); the frames to send it first."""
        session = SyncProtocol(
            _RoomDoc(self), rules=RELAY_RULES, limits=self.limits, rate=rate, guard=self.guard
        )
        self.send_awareness_now()  # to those who were here before it
        self._sessions[connection] = session
        session.start()
        return session.data_to_send() + self._states()

    def leave(self, connection: ServerConnection) -> None:
        session = self._sessions.pop(connection, None)
        if session is not None:
            session.close()
        self._announce(self._awareness.drop_owner(connection, time.monotonic()))

    def receive_data(self, sender: ServerConnection, frame: bytes) -> list[bytes]:
        """Handle one frame from ``sender``; the frames to send back to it.

        Raises ProtocolError for a message the room refuses, and RoomCorrupted when an
        update broke the document.
        """
        session = self._sessions[sender]
        self._sender = sender
        try:
            session.receive_data(frame)
        except PendingOverflow as exc:  # held only in this document's memory: reload it
            raise RoomCorrupted(str(exc)) from exc
        finally:
            self._sender = None
        answers: list[bytes] = []
        for event in session.events_received():
            match event:
                case AwarenessReceived(entries):
                    try:
                        applied = self._awareness.apply(entries, sender, time.monotonic())
                    except TooManyClientIds as exc:
                        raise ProtocolError(str(exc)) from exc
                    self._announce(applied.forward)
                case AwarenessQueried():
                    answers += self._states()
                case Refused():
                    log.debug("room %r: ignoring a permission-denied message", self.name)
                case _:
                    pass
        replies = session.data_to_send() + answers
        if replies:
            self.send_awareness_now()
        return replies

    def expire_awareness(self, now: float, timeout: float) -> None:
        self._announce(self._awareness.expire(now, timeout))

    def discard(self) -> None:
        """Stop using this room's document (it is unloaded or corrupted)."""
        self.discarded = True
        self.doc.unobserve(self._subscription)
        if self._awareness_sending is not None:
            self._awareness_sending.cancel()
            self._awareness_sending = None

    def apply(self, update: bytes) -> None:
        """Apply a client's update and pass on what it changed (ProtocolError, RoomCorrupted)."""
        self._changes.clear()
        try:
            self.doc.apply_update(update)
        except BaseException as exc:
            if not _is_crdt_failure(exc):
                raise
            # A decoding error leaves the document alone; a failure while integrating
            # may have applied part of the update, which nobody must see or store.
            partial = bool(self._changes) or not isinstance(exc, ValueError)
            self._changes.clear()
            if partial:
                raise RoomCorrupted(f"update failed half-way: {exc}") from exc
            raise ProtocolError(f"update rejected: {exc}") from exc
        changes, self._changes = self._changes, []
        self.send_awareness_now()  # what came before goes before, as it came
        for change in changes:
            # Out to the clients first, then to the store: handing an update to the
            # store thread wakes it, and it then contends for the GIL with these
            # sends (measured: both frames left ~100 us later on loopback).
            message = UPDATE_HEADER + var_bytes(change)
            fan_out(self.connections, message, self.max_buffered, last=self._sender)
            self._on_change(self, change)

    def _record_change(self, event: TransactionEvent) -> None:
        update = event.update
        self.guard.doc_changed(update)  # its update: the guard need not read the state
        self._changes.append(update)

    def _states(self) -> list[bytes]:
        """Everyone's awareness states, as the messages a newcomer or a query gets."""
        if self._states_frames is None:
            self._states_frames = self._awareness_frames(self._awareness.states())
        return self._states_frames

    def _announce(self, entries: Sequence[AwarenessEntry]) -> None:
        """Pass awareness changes on once the loop has read what else is waiting.

        Clients that joined together renew their states together (every 15 s): 200
        renewals, each sent to 200 clients one by one, kept the loop busy for over a
        second. Gathered per pass of the event loop, a burst goes out in a few
        messages; a lone change leaves in the next pass, as it came.
        """
        if not entries:
            return
        # Every change to the table is announced (AwarenessTable returns what it changed):
        # the encoded states are stale from here.
        self._states_frames = None
        for entry in entries:
            self._awareness_out.pop(entry.client_id, None)  # the latest, in arrival order
            self._awareness_out[entry.client_id] = entry
        if self._awareness_sending is None:
            loop = asyncio.get_running_loop()
            self._awareness_sending = loop.call_soon(self.send_awareness_now)

    def send_awareness_now(self) -> None:
        """Send the awareness changes gathered so far (before anything else goes out)."""
        if self._awareness_sending is None:
            return
        self._awareness_sending.cancel()
        self._awareness_sending = None
        entries, self._awareness_out = tuple(self._awareness_out.values()), {}
        for message in self._awareness_frames(entries):
            fan_out(self.connections, message, self.max_buffered)

    def _awareness_frames(self, entries: tuple[AwarenessEntry, ...]) -> list[bytes]:
        """Messages of at most ``limits.awareness_entries`` entries: what a Lanban node
        takes in one (y-websocket clients take any number)."""
        size = self.limits.awareness_entries
        return [
            encode(Awareness(entries[start : start + size]))
            for start in range(0, len(entries), size)
        ]


def fan_out(
    connections: Iterable[ServerConnection],
    message: bytes,
    max_buffered: int,
    *,
    last: ServerConnection | None = None,
) -> None:
    """``websockets.broadcast(connections, message)``, the frame serialized once.

    The relay negotiates no extension, so a server's frame is the same bytes for every
    connection; broadcast() builds and serializes it again per connection, which is a
    third of its cost (200 clients: ~1.7 -> ~1.1 ms on loopback). Any connection that is
    not plain (an extension, a fragmented send under way) goes through broadcast().

    ``last`` (the sender of what is passed on: it gets it back, as from the stock
    server) is written to after the others: each socket write is ~15-20 us, and the
    others are the ones waiting for it.

    broadcast() has no backpressure: a client that stops reading would have the room's
    traffic pile up for it. One with more than ``max_buffered`` bytes waiting is dropped
    (it reconnects and syncs what it missed, if it is there at all).
    """
    frame: bytes | None = None
    others: list[ServerConnection] = []
    for connection in connections:
        if connection is last:
            continue
        if connection.protocol.state is not State.OPEN or connection.transport.is_closing():
            continue  # closing, or its socket failed (a mass disconnect: no warning per write)
        if connection.protocol.extensions or connection.send_in_progress is not None:
            others.append(connection)
            continue
        if frame is None:
            frame = server_frame(message)
        _write(connection, frame, max_buffered)
    if last is not None and last.protocol.state is State.OPEN and not last.transport.is_closing():
        if last.protocol.extensions or last.send_in_progress is not None:
            others.append(last)
        else:
            _write(last, frame if frame is not None else server_frame(message), max_buffered)
    if others:
        broadcast(others, message)


def _write(connection: ServerConnection, frame: bytes, max_buffered: int) -> None:
    try:
        connection.transport.write(frame)
    except Exception as exc:  # as broadcast(): the others still get it
        log.warning("room: skipped a client: %s", exc)
    waiting = connection.transport.get_write_buffer_size()
    if waiting > max_buffered:
        log.warning(
            "%s reads too slowly (%d bytes waiting): dropped", peer_name(connection), waiting
        )
        connection.transport.abort()


def server_frame(message: bytes) -> bytes:
    """A final, unmasked binary frame of ``message`` with no extension: the bytes
    ``websockets.frames.Frame(Opcode.BINARY, message).serialize(mask=False,
    extensions=[])`` makes (RFC 6455 5.2), without building a Frame per message."""
    length = len(message)
    if length < 126:
        return bytes((0x82, length)) + message
    if length < 0x10000:
        return bytes((0x82, 126)) + length.to_bytes(2, "big") + message
    return bytes((0x82, 127)) + length.to_bytes(8, "big") + message


def peer_name(connection: ServerConnection) -> str:
    address = connection.remote_address
    return f"{address[0]}:{address[1]}" if address else "client"


def _is_crdt_failure(exc: BaseException) -> bool:
    # A Rust panic inside pycrdt surfaces as pyo3's PanicException, a BaseException.
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"
