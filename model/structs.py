"""The items of a Yjs V1 update, as a board's history needs them.

pycrdt shows a document's current values only; who wrote an item (its client
id), in which order (its clock) and what it overwrote (its left origin) are in
the update's encoding (yjs ``readClientsStructRefs`` / ``readItemContent``).
:func:`read_structs` walks a whole update once and keeps, per item, where it
sits (parent and key) and, for plain values, the value. Deleted items
keep their content because board documents never garbage-collect
(DESIGN.md 8), so the merged update of a board holds its whole history.

Only for updates pycrdt itself encoded (``Board.get_update()`` of a document
that accepted them): the encoding is trusted to be well formed, the values in
it are not (any key holder writes any value). One function with its reads
inlined: it runs over every item of a board (about 1.5 us an item here, where
a reader with a method per varint took 2.5 us; tests/benchmarks/bench_history.py).
"""

from __future__ import annotations

import struct
from typing import Any

# Item content kinds (yjs Item.js contentRefs).
GC = 0
DELETED = 1
JSON = 2
BINARY = 3
STRING = 4
EMBED = 5
FORMAT = 6
TYPE = 7
ANY = 8
DOC = 9
SKIP = 10
# Added to ``kind`` when ``parent`` holds the right origin (an item inserted
# at the start of a text or list names no left origin and no parent).
RIGHT = 0x100

# The type ref of TYPE content (yjs YArrayRefID, YMapRefID, YTextRefID).
ARRAY_TYPE = 0
MAP_TYPE = 1
TEXT_TYPE = 2

# An item's id as one int: client << 32 | clock (ints are no work for the
# garbage collector; a board's history holds tens of thousands).
CLOCK_BITS = 32
NO_ID = -1
DeleteSet = dict[int, list[tuple[int, int]]]  # client -> [(clock, length)]


def item_id(client: int, clock: int) -> int:
    return client << CLOCK_BITS | clock


class Structs:
    """The items of an update, one list per property (index i: the i-th item).

    - ``origin``: the id of the item on the left when written (for a Map key:
      the value it replaced), or NO_ID;
    - ``parent``: a root's name, the id of the type's item, None (then as its
      origin's) or, when ``kind`` has RIGHT, the right origin's id (it sits
      where that sits);
    - ``key``: the Map key; None in a sequence, or when as its origin's;
    - ``value``: ANY content's value (a run of values: one item each), TYPE
      content's type ref, else None.
    """

    __slots__ = ("client", "clock", "deleted", "key", "kind", "length", "origin", "parent", "value")

    def __init__(self) -> None:
        self.client: list[int] = []
        self.clock: list[int] = []
        self.length: list[int] = []
        self.origin: list[int] = []
        self.parent: list[str | int | None] = []
        self.key: list[str | None] = []
        self.kind: list[int] = []
        self.value: list[Any] = []
        self.deleted: DeleteSet = {}

    def __len__(self) -> int:
        return len(self.client)


class Marker:
    """A lib0 value the history never shows (an object, array or bytes)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


OBJECT = Marker("object")
ARRAY = Marker("array")
BYTES = Marker("bytes")
UNDEFINED = Marker("undefined")


def read_structs(update: bytes) -> Structs:
    """Every item of ``update`` in the encoding's order, and its delete set.

    Raises ``ValueError`` for bytes this reader cannot follow.
    """
    try:
        return _read(update)
    except (IndexError, struct.error, RecursionError) as exc:
        raise ValueError(f"not a readable update: {exc}") from exc


def _uint(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    shift = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def _read(data: bytes) -> Structs:
    out = Structs()
    add_client, add_clock, add_length = out.client.append, out.clock.append, out.length.append
    add_origin, add_parent, add_key = out.origin.append, out.parent.append, out.key.append
    add_kind, add_value = out.kind.append, out.value.append
    uint = _uint
    last_client, last_bytes = -1, b""
    clients, pos = uint(data, 0)
    for _ in range(clients):
        count, pos = uint(data, pos)
        client, pos = uint(data, pos)
        clock, pos = uint(data, pos)
        for _ in range(count):
            info = data[pos]
            pos += 1
            kind = info & 0x1F
            if kind in (GC, SKIP):
                n, pos = uint(data, pos)
                clock += n
                continue
            origin = NO_ID
            if info & 0x80:
                # most origins are of the client the last one was of: its
                # varint's bytes are compared rather than read again
                if last_client >= 0 and data.startswith(last_bytes, pos):
                    oc = last_client
                    pos += len(last_bytes)
                else:
                    start = pos
                    oc, pos = uint(data, pos)
                    last_client, last_bytes = oc, data[start:pos]
                b = data[pos]
                if b < 0x80:
                    pos += 1
                else:
                    b, pos = uint(data, pos)
                origin = oc << 32 | b
            parent: str | int | None = None
            if info & 0x40:  # right origin: where the item sits when it has no left one
                rc, pos = uint(data, pos)
                rk, pos = uint(data, pos)
                if origin == NO_ID:
                    parent = rc << 32 | rk
            key = None
            if not info & 0xC0:
                if data[pos] == 1:
                    n, pos = uint(data, pos + 1)
                    parent = data[pos : pos + n].decode("utf-8", "replace")
                    pos += n
                else:
                    pc, pos = uint(data, pos + 1)
                    pk, pos = uint(data, pos)
                    parent = pc << 32 | pk
                if info & 0x20:
                    n = data[pos]
                    if n < 0x80:
                        pos += 1
                    else:
                        n, pos = uint(data, pos)
                    key = data[pos : pos + n].decode("utf-8", "replace")
                    pos += n
            value: Any = None
            if kind == ANY:
                length = data[pos]  # varints inline where one byte is usual
                if length < 0x80:
                    pos += 1
                else:
                    length, pos = uint(data, pos)
                value, pos = _any(data, pos)
                if length > 1:
                    # one item per value, as written: a document may hold a
                    # run of one client's values squashed into one item or
                    # not (yrs merges and splits them as it goes), so that
                    # every copy and every read sees the same items
                    for _ in range(length - 1):
                        add_client(client)
                        add_clock(clock)
                        add_length(1)
                        add_origin(origin)
                        add_parent(parent)
                        add_key(key)
                        add_kind(kind | (RIGHT if info & 0xC0 == 0x40 else 0))
                        add_value(value)
                        origin = client << 32 | clock
                        parent = key = None
                        info = 0x80 | kind
                        clock += 1
                        value, pos = _any(data, pos)
                    length = 1
            elif kind == STRING:
                n = data[pos]
                if n < 0x80:
                    pos += 1
                else:
                    n, pos = uint(data, pos)
                raw = data[pos : pos + n]
                pos += n
                length = (
                    n
                    if raw.isascii()
                    else len(raw.decode("utf-8", "replace").encode("utf-16-le")) // 2
                )
            elif kind == TYPE:
                value = data[pos]
                if value < 0x80:
                    pos += 1
                else:
                    value, pos = uint(data, pos)
                if value == 3 or value == 5:  # XmlElement, XmlHook: a name
                    n, pos = uint(data, pos)
                    pos += n
                length = 1
            elif kind == DELETED:
                length, pos = uint(data, pos)
            elif kind == JSON:
                length, pos = uint(data, pos)
                for _ in range(length):
                    n, pos = uint(data, pos)
                    pos += n
            elif kind in (BINARY, EMBED):
                n, pos = uint(data, pos)
                pos += n
                length = 1
            elif kind == FORMAT:
                for _ in range(2):
                    n, pos = uint(data, pos)
                    pos += n
                length = 1
            elif kind == DOC:
                n, pos = uint(data, pos)
                _, pos = _any(data, pos + n)
                length = 1
            else:
                raise ValueError(f"unknown content kind {kind}")
            if pos > len(data):
                raise ValueError("the update ends inside an item")
            if info & 0xC0 == 0x40:
                kind |= RIGHT
            add_client(client)
            add_clock(clock)
            add_length(length)
            add_origin(origin)
            add_parent(parent)
            add_key(key)
            add_kind(kind)
            add_value(value)
            clock += length
    deleted = out.deleted
    n_clients, pos = uint(data, pos)
    for _ in range(n_clients):
        client, pos = uint(data, pos)
        n, pos = uint(data, pos)
        ranges = []
        for _ in range(n):
            start, pos = uint(data, pos)
            length, pos = uint(data, pos)
            ranges.append((start, length))
        deleted[client] = ranges
    return out


def state_vector(data: bytes) -> dict[int, int]:
    """A state vector's encoding (``Doc.get_state()``) as client -> clock."""
    count, pos = _uint(data, 0)
    state: dict[int, int] = {}
    for _ in range(count):
        client, pos = _uint(data, pos)
        state[client], pos = _uint(data, pos)
    return state


def _any(data: bytes, pos: int) -> tuple[Any, int]:
    """One lib0 ``Any`` value (``writeAny``)."""
    tag = data[pos]
    pos += 1
    if tag == 119:  # string
        n = data[pos]
        if n < 0x80:
            pos += 1
        else:
            n, pos = _uint(data, pos)
        return data[pos : pos + n].decode("utf-8", "replace"), pos + n
    if tag == 123:  # float64
        return struct.unpack_from(">d", data, pos)[0], pos + 8
    if tag == 125:  # varInt: the sign in bit 6 of the first byte
        b = data[pos]
        pos += 1
        value = b & 0x3F
        negative = b & 0x40
        shift = 6
        while b & 0x80:
            b = data[pos]
            pos += 1
            value |= (b & 0x7F) << shift
            shift += 7
        return (-value if negative else value), pos
    if tag == 120:
        return True, pos
    if tag == 121:
        return False, pos
    if tag == 126:
        return None, pos
    if tag == 127:
        return UNDEFINED, pos
    if tag == 124:  # float32
        return struct.unpack_from(">f", data, pos)[0], pos + 4
    if tag == 122:  # bigint64
        return struct.unpack_from(">q", data, pos)[0], pos + 8
    if tag == 118:  # object
        n, pos = _uint(data, pos)
        for _ in range(n):
            size, pos = _uint(data, pos)
            _, pos = _any(data, pos + size)
        return OBJECT, pos
    if tag == 117:  # array
        n, pos = _uint(data, pos)
        for _ in range(n):
            _, pos = _any(data, pos)
        return ARRAY, pos
    if tag == 116:  # Uint8Array
        n, pos = _uint(data, pos)
        return BYTES, pos + n
    raise ValueError(f"unknown lib0 value tag {tag}")
