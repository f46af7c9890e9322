"""A bounded check of a Yjs V1 update before pycrdt sees it (sans-I/O, no pycrdt).

pycrdt trusts the counts in an update: 5 bytes claiming 2**28 clients make it
allocate about 550 MB before failing; a forged GC struct moves a client's clock
to 2**32 - 1 (yrs clocks are 32 bits, so that client's next edits wrap); a Map
nested 17,500 deep makes its recursive ``to_json`` overflow the stack. This
module walks the whole encoding (yjs ``readClientsStructRefs``,
``readItemContent``, lib0 ``readAny``, ``readDeleteSet``), checks every count
against the bytes that remain *before* anything proportional to it is
allocated, keeps 22 bytes per struct (for sync/update_nesting.py; 16 more for
an item with both origins, 1 more when checked against a document), and
applies the caps of :class:`UpdateLimits` (sync/update_caps.py). It returns an
:class:`UpdateSummary` for a later schema check, or raises :class:`UpdateRefused`
(a :class:`~lanban.sync.messages.ProtocolError`).

Where to call it: on every update that came from outside this process, before
``Doc.apply_update`` / ``Board.apply_update`` - a peer's sync step 2 and sync
update, a relay's, and an update read back from a store file (a file can be
edited or truncated)::

    known = state_vector_clocks(board.get_state())
    check_update(update, known_clock=lambda client: known.get(client, 0))
    board.apply_update(update)

``known_clock`` measures a clock jump from what the document holds, and
``outside`` (sync/type_depths.py) the levels its types already have, so nesting
built one update at a time counts in full. The caller still bounds what else
accumulates over many updates (the document's state vector size, its total size):
one update's check cannot see those.
Cost: about 2.5 us per struct in CPython, 0.35 s for a 10,000-ticket board
(4-5x pycrdt applying it; tests/benchmarks/bench_update_check.py).

Why one module of ~570 lines: the walk is one reader (:class:`_Walk`) whose
methods share a cursor, the bytes that remain and the running counts every cap
is checked against; a section or content reader moved elsewhere would be
callable without the checks before it. What could stand apart does: the caps
and the summary in sync/update_caps.py, the nesting pass in
sync/update_nesting.py, the count of what pycrdt merges one by one in
sync/update_merges.py, and the lean path for a small update of the common shape
in sync/update_lean.py (the full walk here is the reference it agrees with).
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Callable
from dataclasses import fields, replace

from .messages import ProtocolError, Reader, read_var_bytes, read_var_uint
from .update_caps import (
    DEFAULT_UPDATE_LIMITS,
    MAX_CLIENTS,
    MAX_CLOCK,
    MAX_CONTAINERS,
    MAX_KEYS,
    MAX_STRUCTS,
    MAX_TYPE_DEPTH,
    MAX_TYPES_PER_CONTAINER,
    ONE_VALUE,
    SCALARS,
    UpdateLimits,
    UpdateRefused,
    UpdateSummary,
)
from .update_lean import check_small
from .update_merges import MergeRuns
from .update_nesting import (
    FROM_ORIGIN,
    IS_DELETED,
    IS_SKIP,
    IS_TYPE,
    NO_PARENT,
    PARENT_ID,
    ROOT,
    Nesting,
    NestingRefused,
    Outside,
    Section,
)

__all__ = [  # the caps and types are update_caps', named here too
    "DEFAULT_UPDATE_LIMITS",
    "MAX_CLIENTS",
    "MAX_CLOCK",
    "MAX_CONTAINERS",
    "MAX_KEYS",
    "MAX_STRUCTS",
    "MAX_TYPES_PER_CONTAINER",
    "MAX_TYPE_DEPTH",
    "UpdateLimits",
    "UpdateRefused",
    "UpdateSummary",
    "check_update",
    "read_structs",
    "state_vector_clocks",
]

# Struct kinds: the low 5 bits of a struct's info byte.
_GC = 0
_SKIP = 10
_TYPE = 7
# The other info bits.
_HAS_ORIGIN = 0x80
_HAS_RIGHT_ORIGIN = 0x40
_HAS_PARENT_SUB = 0x20
_TYPE_REFS = 7  # Array, Map, Text, XmlElement, XmlFragment, XmlHook, XmlText
_XML_ELEMENT = 3  # carries a node name
# yrs (pycrdt 0.14.13) reads these two unlike Yjs: JSON content with one string
# more than its count, an XmlHook without its name. Past one of them pycrdt reads
# every following byte as something else than this check did, so it refuses them
# (Lanban never writes them; Yjs writes neither unless asked to).
_JSON = 2
_XML_HOOK = 5
_UNNAMED_TYPES = frozenset([0, 1, 2, 4, 6])  # Array, Map, Text, XmlFragment, XmlText
_MERGED = (4, 8)  # String and Any contents: see update_caps.MERGE_UNITS_PER_BYTE
# Updates the lean path is tried on (a user's edit is ~50-500 bytes); a larger one
# is rarely of its shape, and would be read twice.
SMALL_UPDATE_BYTES = 4096

# For what a document wrote of itself (read_structs): only what keeps the walk itself
# sane stays bounded (clocks within yrs' and the arrays' 31 bits, lib0 Any nesting
# within Python's recursion limit).
_OWN_BYTES_LIMITS = replace(
    DEFAULT_UPDATE_LIMITS,
    **{f.name: 1 << 40 for f in fields(UpdateLimits) if f.name not in ("clock", "any_depth")},
    any_depth=500,
)


def check_update(
    update: bytes,
    limits: UpdateLimits = DEFAULT_UPDATE_LIMITS,
    *,
    known_clock: Callable[[int], int] | None = None,
    outside: Outside | None = None,
) -> UpdateSummary:
    """Walk ``update`` (Yjs V1) and summarize it, or raise :class:`UpdateRefused`.

    ``known_clock(client)``: the receiving document's clock for ``client``
    (0 when unknown); without it every client counts as unknown. ``outside``: the
    document's type depths (sync/type_depths.py); with it the depth limit counts
    the levels the document already has, and the summary holds every struct's level.
    A small update of the common shape takes the lean path (sync/update_lean.py).
    """
    data = bytes(update)
    known = known_clock or _unknown
    if len(data) <= SMALL_UPDATE_BYTES:
        summary = check_small(data, limits, known, outside)
        if summary is not None:
            return summary
    return walk_update(data, limits, known, outside)


def walk_update(
    update: bytes,
    limits: UpdateLimits,
    known_clock: Callable[[int], int],
    outside: Outside | None,
) -> UpdateSummary:
    """:func:`check_update` by the full walk alone (the reference the lean path agrees with)."""
    try:
        return _Walk(update, limits, known_clock).run(outside)
    except UpdateRefused:
        raise
    except ProtocolError as exc:  # from the shared varUint and field readers
        raise UpdateRefused(str(exc)) from None


def read_structs(update: bytes) -> dict[int, Section]:
    """The structs of an update a document encoded itself (``Doc.get_update``), by
    client, without the caps on what peers send; UpdateRefused if it is no update."""
    walk = _Walk(bytes(update), _OWN_BYTES_LIMITS, _unknown)
    try:
        for _ in range(walk.count(3, "client sections")):
            walk.section()
    except IndexError:
        raise UpdateRefused("truncated update") from None
    except UpdateRefused:
        raise
    except ProtocolError as exc:
        raise UpdateRefused(str(exc)) from None
    return walk.sections


def state_vector_clocks(state: bytes) -> dict[int, int]:
    """A document's encoded state vector (``Doc.get_state()``) as client -> clock."""
    r = Reader(state)
    count = r.var_uint()
    if count > r.left // 2:
        raise ProtocolError(f"state vector claims {count} clients in {r.left} bytes")
    clocks = {r.var_uint(): r.var_uint() for _ in range(count)}
    r.end()
    return clocks


def _unknown(client: int) -> int:
    return 0


class _Walk:
    """One pass over the update; the struct loop keeps its position in a local."""

    def __init__(self, data: bytes, limits: UpdateLimits, known_clock: Callable[[int], int]):
        if limits.clock > MAX_CLOCK:
            raise ValueError(f"clocks over {MAX_CLOCK} do not fit yrs")
        self.data = data
        self.pos = 0
        self.limits = limits
        self.known_clock = known_clock
        self.sections: dict[int, Section] = {}
        self.roots: dict[str, int] = {}  # root type name -> its number
        self.parent_subs: set[str] = set()
        self.structs = 0
        self.gc_structs = 0
        self.merges = MergeRuns()
        self.deleted: dict[int, list[int]] = {}  # delete ranges of clients with merges

    def run(self, outside: Outside | None) -> UpdateSummary:
        count = self.count(3, "client sections")
        if count > self.limits.clients:
            raise UpdateRefused(f"{count} clients (limit {self.limits.clients})")
        content = 0
        try:
            for _ in range(count):
                content += self.section()
            deleted = self.delete_set()
        except IndexError:  # a struct's or value's first byte is past the end
            raise UpdateRefused("truncated update") from None
        if self.pos != len(self.data):
            raise UpdateRefused(f"{len(self.data) - self.pos} bytes after the update")
        cap = self.limits.merge_units_per_byte * len(self.data) + self.limits.merge_units
        if self.merges.bound > cap:
            work = self.merges.work(self.sections, self.deleted)
            if work > cap:
                raise UpdateRefused(f"{work} units of items pycrdt would merge one by one")
        clients = frozenset(self.sections)
        if len(clients | deleted) > self.limits.clients:
            raise UpdateRefused(f"{len(clients | deleted)} clients (limit {self.limits.clients})")
        limits = self.limits
        nesting = Nesting(
            self.sections,
            limits.type_depth,
            limits.types_per_container,
            limits.containers,
            outside,
        )
        try:
            type_depth = nesting.depth()
            if outside is not None:
                nesting.levels()
        except NestingRefused as exc:
            raise UpdateRefused(str(exc)) from None
        return UpdateSummary(
            clients=clients,
            clock_ends={c: s.end for c, s in self.sections.items()},
            deleted_clients=deleted,
            structs=self.structs,
            type_depth=type_depth,
            content_bytes=content,
            root_keys=frozenset(self.roots),
            parent_subs=frozenset(self.parent_subs),
            gc_structs=self.gc_structs,
            sections=self.sections if outside is not None else {},
        )

    # ---------------------------------------------------------------- bounds

    def uint(self) -> int:
        value, self.pos = read_var_uint(self.data, self.pos)
        return value

    def count(self, min_bytes: int, what: str) -> int:
        """A count of things each at least ``min_bytes`` long, checked against what is left."""
        n = self.uint()
        if n * min_bytes > len(self.data) - self.pos:
            raise UpdateRefused(f"claims {n} {what} in {len(self.data) - self.pos} bytes")
        return n

    def check_clock(self, client: int, end: int) -> None:
        if end > self.limits.clock:
            raise UpdateRefused(f"client {client} clock {end} is past {self.limits.clock}")
        known = self.known_clock(client)
        section = self.sections.get(client)
        if section is not None:
            known = max(known, section.end)
        if end - known > self.limits.clock_jump:
            raise UpdateRefused(f"client {client} clock jumps from {known} to {end}")

    # ---------------------------------------------------------------- structs

    def section(self) -> int:
        """One client's structs; returns their content bytes."""
        n = self.count(2, "structs")
        self.structs += n
        limits = self.limits
        if self.structs > limits.structs:
            raise UpdateRefused(f"over {limits.structs} structs")
        client = self.uint()
        if client in self.sections:
            raise UpdateRefused(f"client {client} has two sections")
        clock = self.uint()
        if clock >= limits.clock:
            raise UpdateRefused(f"client {client} starts at clock {clock}")
        sec = Section(client, len(self.sections))
        add_start, add_kind = sec.starts.append, sec.kinds.append
        add_ref_client, add_ref_clock = sec.ref_client.append, sec.ref_clock.append
        key_bytes, max_clock = limits.key_bytes, limits.clock
        roots, subs = self.roots, self.parent_subs
        data = self.data
        pos = self.pos
        content = 0
        run = work = previous = gcs = 0
        continuing = array("i")  # structs pycrdt may merge into the one before
        for i in range(n):
            info = data[pos]
            pos += 1
            kind = info & 0x1F
            merging = False
            add_start(clock)
            if kind in (_GC, _SKIP):
                length, pos = read_var_uint(data, pos)
                gcs += 1
                add_kind(NO_PARENT if kind == _GC else NO_PARENT | IS_SKIP)
                add_ref_client(0)
                add_ref_clock(0)
            elif 0 < kind < _SKIP:
                if info & 0xC0:  # an origin: the parent is the origin's
                    ref_client, pos = read_var_uint(data, pos)
                    ref_clock, pos = read_var_uint(data, pos)
                    if ref_clock >= max_clock or (ref_client == client and ref_clock >= clock):
                        _bad_id(client, clock, ref_client, ref_clock, max_clock)
                    if info & 0xC0 == 0xC0:  # and a right origin
                        right_client, pos = read_var_uint(data, pos)
                        right_clock, pos = read_var_uint(data, pos)
                        if right_clock >= max_clock or (
                            right_client == client and right_clock >= clock
                        ):
                            _bad_id(client, clock, right_client, right_clock, max_clock)
                        sec.add_right(i, right_client, right_clock)
                    add_kind(FROM_ORIGIN)
                    merging = ref_client == client and ref_clock == clock - 1 and previous == kind
                else:
                    has_key, pos = read_var_uint(data, pos)
                    if has_key == 1:
                        raw, pos = read_var_bytes(data, pos, key_bytes)
                        ref_client = 0
                        ref_clock = roots.setdefault(_utf8(raw), len(roots))
                        if ref_clock == limits.keys:
                            raise UpdateRefused(f"over {limits.keys} root types")
                        add_kind(ROOT)
                    elif has_key == 0:
                        ref_client, pos = read_var_uint(data, pos)
                        ref_clock, pos = read_var_uint(data, pos)
                        if ref_clock >= max_clock or (ref_client == client and ref_clock >= clock):
                            _bad_id(client, clock, ref_client, ref_clock, max_clock)
                        add_kind(PARENT_ID)
                    else:
                        raise UpdateRefused(f"bad parent info {has_key}")
                    if info & _HAS_PARENT_SUB:
                        raw, pos = read_var_bytes(data, pos, key_bytes)
                        try:
                            subs.add(raw.decode())
                        except UnicodeDecodeError:
                            raise UpdateRefused("a key is not UTF-8") from None
                        if len(subs) > limits.keys:
                            raise UpdateRefused(f"over {limits.keys} distinct keys")
                add_ref_client(ref_client)
                add_ref_clock(ref_clock)
                start = pos
                if kind == 4:  # String: its length counts UTF-16 units, as Yjs does
                    raw, pos = read_var_bytes(data, pos, limits.content_bytes)
                    length = len(raw) if raw.isascii() else _utf16_length(raw)
                elif kind == 8 and data[pos] == 1 and data[pos + 1] in ONE_VALUE:
                    # the common Any: one scalar or string (a Map entry of a board)
                    length = 1
                    tag = data[pos + 1]
                    if tag == 119:
                        raw, pos = read_var_bytes(data, pos + 2, limits.content_bytes)
                        try:
                            raw.decode()
                        except UnicodeDecodeError:
                            raise UpdateRefused("string is not UTF-8") from None
                    else:
                        pos += 2 + SCALARS[tag]
                elif kind == _TYPE and data[pos] in _UNNAMED_TYPES:
                    length = 1
                    pos += 1
                    sec.kinds[-1] |= IS_TYPE
                else:
                    self.pos = pos
                    length = self.content(sec, clock, kind)
                    pos = self.pos
                content += pos - start
            else:
                raise UpdateRefused(f"unknown struct kind {kind}")
            if length == 0:
                raise UpdateRefused("empty struct")
            clock += length
            if clock > max_clock:  # before the next struct: no huge sums
                raise UpdateRefused(f"client {client} clock {clock} is past {max_clock}")
            if merging and kind in _MERGED:
                work += run
                run += length
                continuing.append(i)
            else:
                run = length
            previous = kind
        if pos > len(data):
            raise UpdateRefused("truncated value")
        self.pos = pos
        self.check_clock(client, clock)
        self.gc_structs += gcs
        if continuing:
            self.merges.add(client, continuing, work)
        sec.end = clock
        self.sections[client] = sec
        return content

    def content(self, sec: Section, clock: int, kind: int) -> int:
        """An item's content other than a string; returns its length in clock units."""
        limits = self.limits
        if kind == 8:  # Any
            n = self.count(1, "values")
            for _ in range(n):
                self.any(limits.any_depth)
            return n
        if kind == 1:  # Deleted
            sec.kinds[-1] |= IS_DELETED
            return self.uint()
        if kind == _TYPE:
            type_ref = self.uint()
            if type_ref >= _TYPE_REFS:
                raise UpdateRefused(f"unknown type {type_ref}")
            if type_ref == _XML_HOOK:
                raise UpdateRefused("an XmlHook (pycrdt reads it unlike Yjs)")
            if type_ref == _XML_ELEMENT:
                self.string(limits.key_bytes)
            sec.kinds[-1] |= IS_TYPE
            return 1
        if kind == _JSON:  # legacy Yjs
            raise UpdateRefused("JSON content (pycrdt reads it unlike Yjs)")
        if kind == 3:  # Binary
            self.bytes(limits.content_bytes)
            return 1
        if kind == 5:  # Embed
            self.json(self.string(limits.content_bytes))
            return 1
        if kind == 6:  # Format
            self.string(limits.key_bytes)
            self.json(self.string(limits.content_bytes))
            return 1
        # 9: a sub-document: its guid and options
        self.string(limits.key_bytes)
        self.any(limits.any_depth)
        return 1

    # ---------------------------------------------------------------- values

    def bytes(self, limit: int) -> bytes:
        value, self.pos = read_var_bytes(self.data, self.pos, limit)
        return value

    def string(self, limit: int) -> str:
        return _utf8(self.bytes(limit))

    def json(self, text: str) -> None:
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            raise UpdateRefused("JSON content is not JSON") from None
        _check_json_depth(value, self.limits.any_depth)

    def skip(self, n: int) -> None:
        if n > len(self.data) - self.pos:
            raise UpdateRefused("truncated value")
        self.pos += n

    def any(self, depth: int) -> None:
        """One lib0 Any value, at most ``depth`` levels of arrays/objects deep."""
        tag = self.data[self.pos]
        self.pos += 1
        if tag in SCALARS:
            self.skip(SCALARS[tag])
        elif tag == 125:
            self.var_int()
        elif tag == 119:
            self.string(self.limits.content_bytes)
        elif tag in (118, 117):
            if depth == 0:
                raise UpdateRefused(f"value nested over {self.limits.any_depth} deep")
            is_object = tag == 118
            for _ in range(self.count(1 + is_object, "entries")):
                if is_object:
                    self.string(self.limits.key_bytes)
                self.any(depth - 1)
        elif tag == 116:
            self.bytes(self.limits.content_bytes)
        else:
            raise UpdateRefused(f"unknown value type {tag}")

    def var_int(self) -> None:
        """Skip a lib0 signed varInt: 8 bytes hold the 53 bits a JavaScript number has."""
        data = self.data
        for _ in range(8):
            byte = data[self.pos]
            self.pos += 1
            if byte < 0x80:
                return
        raise UpdateRefused("varInt longer than 8 bytes")

    # ---------------------------------------------------------------- deletes

    def delete_set(self) -> frozenset[int]:
        clients = set()
        ranges = 0
        count = self.count(2, "delete set clients")
        if count > self.limits.clients:
            raise UpdateRefused(f"deletes for {count} clients (limit {self.limits.clients})")
        for _ in range(count):
            client = self.uint()
            clients.add(client)
            n = self.count(2, "deleted ranges")
            ranges += n
            if ranges > self.limits.structs:
                raise UpdateRefused(f"over {self.limits.structs} deleted ranges")
            end = 0
            kept = self.deleted.setdefault(client, []) if client in self.merges.continuing else None
            for _ in range(n):
                clock = self.uint()
                stop = clock + self.uint()
                end = max(end, stop)
                if end > self.limits.clock:
                    raise UpdateRefused(f"deletes client {client} past clock {self.limits.clock}")
                if kept is not None:
                    kept += (clock, stop)
            if n:
                self.check_clock(client, end)
        return frozenset(clients)


def _bad_id(client: int, clock: int, ref_client: int, ref_clock: int, max_clock: int) -> None:
    """An origin or parent ID must name a struct made before its item."""
    if ref_clock >= max_clock:
        raise UpdateRefused(f"reference {ref_client}:{ref_clock} is past clock {max_clock}")
    raise UpdateRefused(f"reference {ref_client}:{ref_clock} is not before its item")


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UpdateRefused("string is not UTF-8") from None


def _utf16_length(raw: bytes) -> int:
    return len(_utf8(raw).encode("utf-16-le")) // 2


def _check_json_depth(value: object, limit: int) -> None:
    todo = [(value, 0)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            if depth == limit:
                raise UpdateRefused(f"JSON nested over {limit} deep")
            todo += [(v, depth + 1) for v in value]
