"""One relay room: a board's document, its connections and their awareness states.

Behaves like the stock y-websocket server's shared doc: a newcomer gets sync step 1 and
everyone's awareness; a step 1 is answered with step 2; a step 2 or update is applied
and what it changed goes to every connection in the room (the sender included, as the
stock server does: an update can complete structs that another client sent earlier);
awareness changes go to every connection too (y-websocket clients count that echo as
traffic, so a client alone in a room does not think its link is dead).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from pycrdt import Doc, TransactionEvent
from websockets.asyncio.server import ServerConnection, broadcast

from .messages import (
    Awareness,
    AwarenessEntry,
    Message,
    ProtocolError,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    encode,
)
from .relay_awareness import AwarenessTable, TooManyClientIds

log = logging.getLogger("lanban.relay")


class RoomCorrupted(RuntimeError):
    """pycrdt rejected an update after applying part of it: the room must be reloaded."""


class Room:
    def __init__(
        self,
        name: str,
        doc: Doc[Any],
        *,
        max_awareness_ids_per_connection: int,
        on_change: Callable[[Room, bytes], None],
    ) -> None:
        self.name = name
        self.doc = doc
        self.connections: set[ServerConnection] = set()
        self.discarded = False
        self._awareness = AwarenessTable(max_awareness_ids_per_connection)
        self._on_change = on_change
        self._changes: list[bytes] = []
        self._subscription = doc.observe(self._record_change)

    def join(self, connection: ServerConnection) -> list[bytes]:
        """Add a connection; the frames to send it first."""
        self.connections.add(connection)
        frames = [encode(SyncStep1(self.doc.get_state()))]
        states = self._awareness.states()
        if states:
            frames.append(encode(Awareness(states)))
        return frames

    def leave(self, connection: ServerConnection) -> None:
        self.connections.discard(connection)
        self._announce(self._awareness.remove_owner(connection))

    def receive(self, sender: ServerConnection, message: Message) -> bytes | None:
        """Handle one message; the reply for the sender, if any.

        Raises ProtocolError for a message the room refuses, and RoomCorrupted when an
        update broke the document.
        """
        match message:
            case SyncStep1(state_vector):
                try:
                    return encode(SyncStep2(self.doc.get_update(state_vector)))
                except ValueError as exc:
                    raise ProtocolError(f"bad state vector: {exc}") from exc
            case SyncStep2(update) | SyncUpdate(update):
                self._apply(update)
            case Awareness(entries):
                try:
                    changed = self._awareness.apply(sender, entries, time.monotonic())
                except TooManyClientIds as exc:
                    raise ProtocolError(str(exc)) from exc
                self._announce(changed)
            case QueryAwareness():
                states = self._awareness.states()
                return encode(Awareness(states)) if states else None
            case _:
                log.debug("room %r: ignoring %s", self.name, type(message).__name__)
        return None

    def expire_awareness(self, older_than: float) -> None:
        self._announce(self._awareness.expire(older_than))

    def discard(self) -> None:
        """Stop using this room's document (it is unloaded or corrupted)."""
        self.discarded = True
        self.doc.unobserve(self._subscription)

    def _apply(self, update: bytes) -> None:
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
        for change in changes:
            # Out to the clients first, then to the store: handing an update to the
            # store thread wakes it, and it then contends for the GIL with these
            # sends (measured: both frames left ~100 us later on loopback).
            broadcast(self.connections, encode(SyncUpdate(change)))
            self._on_change(self, change)

    def _record_change(self, event: TransactionEvent) -> None:
        self._changes.append(event.update)

    def _announce(self, entries: tuple[AwarenessEntry, ...]) -> None:
        if entries:
            broadcast(self.connections, encode(Awareness(entries)))


def _is_crdt_failure(exc: BaseException) -> bool:
    # A Rust panic inside pycrdt surfaces as pyo3's PanicException, a BaseException.
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"
