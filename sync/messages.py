"""y-protocols messages as y-websocket puts them on the wire (sans-I/O).

Byte layout: see PROTOCOL.md. Decoding is strict and bounded: every length is
checked against what is left and against :class:`Limits`, so a peer's bytes
can only ever produce a message or a :class:`ProtocolError`.

pycrdt has encoders for these messages but its decoder does not check bounds
and its awareness encoder writes a string's length in characters instead of
UTF-8 bytes (a name like "Zoë" breaks the frame), so both directions live here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

# JavaScript numbers are exact to 2**53; y-protocols' varUint stops there.
MAX_VAR_UINT = 2**53 - 1


class MessageType(IntEnum):
    SYNC = 0
    AWARENESS = 1
    AUTH = 2
    QUERY_AWARENESS = 3


class SyncType(IntEnum):
    STEP1 = 0
    STEP2 = 1
    UPDATE = 2


class ProtocolError(ValueError):
    """Bytes that are not a valid message, or break a limit."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what a peer may send (see PROTOCOL.md, "Limits")."""

    frame_bytes: int = 64 * 1024 * 1024  # a whole board's step 2 fits
    update_bytes: int = 64 * 1024 * 1024
    state_vector_bytes: int = 1024 * 1024
    awareness_entries: int = 256
    awareness_state_bytes: int = 16 * 1024


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class SyncStep1:
    state_vector: bytes


@dataclass(frozen=True, slots=True)
class SyncStep2:
    update: bytes


@dataclass(frozen=True, slots=True)
class SyncUpdate:
    update: bytes


@dataclass(frozen=True, slots=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state: dict[str, Any] | None  # None: the client left


@dataclass(frozen=True, slots=True)
class Awareness:
    entries: tuple[AwarenessEntry, ...]


@dataclass(frozen=True, slots=True)
class AuthDenied:
    reason: str


@dataclass(frozen=True, slots=True)
class QueryAwareness:
    pass


Message = SyncStep1 | SyncStep2 | SyncUpdate | Awareness | AuthDenied | QueryAwareness


# ------------------------------------------------------------------ encoding


def var_uint(n: int) -> bytes:
    if not 0 <= n <= MAX_VAR_UINT:
        raise ValueError(f"varUint out of range: {n}")
    out = bytearray()
    while n > 0x7F:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    out.append(n)
    return bytes(out)


def var_bytes(data: bytes) -> bytes:
    return var_uint(len(data)) + data


def var_string(text: str) -> bytes:
    return var_bytes(text.encode("utf-8"))


def encode_awareness_update(entries: tuple[AwarenessEntry, ...] | list[AwarenessEntry]) -> bytes:
    """The payload y-protocols' ``encodeAwarenessUpdate`` makes."""
    out = [var_uint(len(entries))]
    for e in entries:
        state = "null" if e.state is None else json.dumps(e.state, separators=(",", ":"))
        out += [var_uint(e.client_id), var_uint(e.clock), var_string(state)]
    return b"".join(out)


def encode(message: Message) -> bytes:
    match message:
        case SyncStep1(state_vector):
            return bytes([MessageType.SYNC, SyncType.STEP1]) + var_bytes(state_vector)
        case SyncStep2(update):
            return bytes([MessageType.SYNC, SyncType.STEP2]) + var_bytes(update)
        case SyncUpdate(update):
            return bytes([MessageType.SYNC, SyncType.UPDATE]) + var_bytes(update)
        case Awareness(entries):
            return bytes([MessageType.AWARENESS]) + var_bytes(encode_awareness_update(entries))
        case AuthDenied(reason):
            return bytes([MessageType.AUTH, 0]) + var_string(reason)
        case QueryAwareness():
            return bytes([MessageType.QUERY_AWARENESS])
    raise TypeError(f"not a message: {message!r}")


# ------------------------------------------------------------------ decoding


def read_var_uint(data: bytes, pos: int) -> tuple[int, int]:
    """The varUint at ``data[pos]`` and the position after it (a function, not a
    :class:`Reader` method, for loops that keep the position in a local)."""
    try:
        byte = data[pos]
        if byte < 0x80:
            return byte, pos + 1
        result = byte & 0x7F
        shift = 7
        while True:
            pos += 1
            byte = data[pos]
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
            if shift > 53:
                raise ProtocolError("varUint longer than 53 bits")
    except IndexError:
        raise ProtocolError("truncated varUint") from None
    if result > MAX_VAR_UINT:
        raise ProtocolError("varUint longer than 53 bits")
    return result, pos + 1


def read_var_bytes(data: bytes, pos: int, limit: int) -> tuple[bytes, int]:
    """The length-prefixed bytes at ``data[pos]`` and the position after them."""
    length, pos = read_var_uint(data, pos)
    if length > limit:
        raise ProtocolError(f"field of {length} bytes is over the limit of {limit}")
    end = pos + length
    if end > len(data):
        raise ProtocolError(f"field of {length} bytes but only {len(data) - pos} left")
    return data[pos:end], end


class Reader:
    """A bounds-checked cursor over bytes."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    @property
    def left(self) -> int:
        return len(self.data) - self.pos

    def var_uint(self) -> int:
        value, self.pos = read_var_uint(self.data, self.pos)
        return value

    def var_bytes(self, limit: int) -> bytes:
        value, self.pos = read_var_bytes(self.data, self.pos, limit)
        return value

    def var_string(self, limit: int) -> str:
        raw = self.var_bytes(limit)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("string is not UTF-8") from exc

    def end(self) -> None:
        if self.left:
            raise ProtocolError(f"{self.left} unexpected bytes after the message")


def decode_awareness_update(payload: bytes, limits: Limits = DEFAULT_LIMITS) -> Awareness:
    r = Reader(payload)
    count = r.var_uint()
    if count > limits.awareness_entries:
        raise ProtocolError(
            f"awareness update with {count} entries (limit {limits.awareness_entries})"
        )
    entries = []
    for _ in range(count):
        client_id = r.var_uint()
        clock = r.var_uint()
        text = r.var_string(limits.awareness_state_bytes)
        try:
            state = json.loads(text)
        except ValueError as exc:
            raise ProtocolError("awareness state is not JSON") from exc
        if state is not None and not isinstance(state, dict):
            raise ProtocolError("awareness state is not an object or null")
        entries.append(AwarenessEntry(client_id, clock, state))
    r.end()
    return Awareness(tuple(entries))


def decode(frame: bytes, limits: Limits = DEFAULT_LIMITS) -> Message:
    """One message from one websocket frame; raises ProtocolError."""
    if len(frame) > limits.frame_bytes:
        raise ProtocolError(f"frame of {len(frame)} bytes (limit {limits.frame_bytes})")
    r = Reader(frame)
    kind = r.var_uint()
    message: Message
    if kind == MessageType.SYNC:
        sync_type = r.var_uint()
        if sync_type == SyncType.STEP1:
            message = SyncStep1(r.var_bytes(limits.state_vector_bytes))
        elif sync_type == SyncType.STEP2:
            message = SyncStep2(r.var_bytes(limits.update_bytes))
        elif sync_type == SyncType.UPDATE:
            message = SyncUpdate(r.var_bytes(limits.update_bytes))
        else:
            raise ProtocolError(f"unknown sync message type {sync_type}")
    elif kind == MessageType.AWARENESS:
        message = decode_awareness_update(r.var_bytes(limits.frame_bytes), limits)
    elif kind == MessageType.AUTH:
        if r.var_uint() != 0:
            raise ProtocolError("unknown auth message")
        message = AuthDenied(r.var_string(limits.awareness_state_bytes))
    elif kind == MessageType.QUERY_AWARENESS:
        message = QueryAwareness()
    else:
        raise ProtocolError(f"unknown message type {kind}")
    r.end()
    return message
