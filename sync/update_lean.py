"""The update check's lean path: a small update of the common shape, checked in one pass.

Almost every update on a live board is one transaction of one user: a move, a
field written over, a few characters typed, something deleted - a few items with
one-value Any, String or Deleted content and a delete set, creating no type. The
full walk (sync/update_check.py) pays for its generality on those (its nesting pass,
merge runs, per-section readers: ~12 us for a 51-byte move). :func:`check_small`
reads that shape alone, with the same caps in the same order, and returns the same
:class:`~lanban.sync.update_caps.UpdateSummary`; it refuses nothing: for any other
shape, and for anything the full walk would refuse, it returns None and the caller
runs the full walk, which stays the one reference (tests/sync/test_update_lean.py
checks that both agree on random and forged updates).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

from .messages import ProtocolError, read_var_bytes, read_var_uint
from .update_caps import MAX_CLOCK, ONE_VALUE, SCALARS, UpdateLimits, UpdateSummary
from .update_nesting import (
    FROM_ORIGIN,
    IS_DELETED,
    PARENT_ID,
    ROOT,
    SATURATED,
    Nesting,
    Outside,
    Section,
    level_beside,
    level_inside,
)

_ANY, _STRING, _DELETED = 8, 4, 1  # the item contents of the lean shape
_ORIGINS = 0xC0
_PARENT_SUB = 0x20
_NONE: frozenset[str] = frozenset()


def check_small(
    data: bytes,
    limits: UpdateLimits,
    known_clock: Callable[[int], int],
    outside: Outside | None,
) -> UpdateSummary | None:
    """The summary of ``data`` as ``check_update`` gives it, when the update has the
    lean shape and passes every cap; None otherwise (then the full walk decides)."""
    merge_cap = limits.merge_units_per_byte * len(data) + limits.merge_units
    if limits.clock > MAX_CLOCK or not 0 < limits.type_depth < SATURATED or merge_cap < 0:
        return None  # the full walk says why
    try:
        return _check(data, limits, known_clock, outside)
    except (IndexError, ProtocolError, UnicodeDecodeError):
        return None


def _check(
    data: bytes,
    limits: UpdateLimits,
    known_clock: Callable[[int], int],
    outside: Outside | None,
) -> UpdateSummary | None:
    size = len(data)
    count, pos = read_var_uint(data, 0)
    if count * 3 > size - pos or count > limits.clients:
        return None
    max_clock, key_bytes, content_limit = limits.clock, limits.key_bytes, limits.content_bytes
    sections: dict[int, Section] = {}
    named, client = b"", 0
    roots: dict[str, int] = {}
    subs: set[str] = set()
    structs = content = 0
    for number in range(count):
        n, pos = read_var_uint(data, pos)
        structs += n
        if n * 2 > size - pos or structs > limits.structs:
            return None
        at = pos
        client, pos = read_var_uint(data, pos)
        named = data[at:pos]  # its encoding: an origin naming it is compared, not read
        clock, pos = read_var_uint(data, pos)
        if client in sections or clock >= max_clock:
            return None
        sec = Section(client, number)
        starts, kinds = sec.starts, sec.kinds
        ref_clients, ref_clocks = sec.ref_client, sec.ref_clock
        previous = 0
        for i in range(n):
            info = data[pos]
            pos += 1
            kind = info & 0x1F
            if kind != _ANY and kind != _STRING and kind != _DELETED:
                return None
            starts.append(clock)
            if info & _ORIGINS:
                if data.startswith(named, pos):  # (a varUint ends at its first byte < 0x80)
                    ref_client = client
                    pos += len(named)
                else:
                    ref_client, pos = read_var_uint(data, pos)
                ref_clock = data[pos]
                if ref_clock < 0x80:
                    pos += 1
                elif data[pos + 1] < 0x80:  # a clock under 16,384, without a call
                    ref_clock = ref_clock & 0x7F | data[pos + 1] << 7
                    pos += 2
                else:
                    ref_clock, pos = read_var_uint(data, pos)
                if ref_clock >= max_clock or (ref_client == client and ref_clock >= clock):
                    return None
                if info & _ORIGINS == _ORIGINS:
                    right_client, pos = read_var_uint(data, pos)
                    right_clock, pos = read_var_uint(data, pos)
                    if right_clock >= max_clock or (
                        right_client == client and right_clock >= clock
                    ):
                        return None
                    sec.add_right(i, right_client, right_clock)
                if (
                    ref_client == client
                    and ref_clock == clock - 1
                    and previous == kind
                    and kind != _DELETED
                ):
                    return None  # merged one by one: the full walk counts that work
                kinds.append(FROM_ORIGIN)
            else:
                has_key, pos = read_var_uint(data, pos)
                if has_key == 1:
                    raw, pos = read_var_bytes(data, pos, key_bytes)
                    ref_client = 0
                    ref_clock = roots.setdefault(raw.decode(), len(roots))
                    if ref_clock == limits.keys:
                        return None
                    kinds.append(ROOT)
                elif has_key == 0:
                    ref_client, pos = read_var_uint(data, pos)
                    ref_clock, pos = read_var_uint(data, pos)
                    if ref_clock >= max_clock or (ref_client == client and ref_clock >= clock):
                        return None
                    kinds.append(PARENT_ID)
                else:
                    return None
                if info & _PARENT_SUB:
                    raw, pos = read_var_bytes(data, pos, key_bytes)
                    subs.add(raw.decode())
                    if len(subs) > limits.keys:
                        return None
            ref_clients.append(ref_client)
            ref_clocks.append(ref_clock)
            start = pos
            if kind == _ANY:
                tag = data[pos + 1]
                if data[pos] != 1 or tag not in ONE_VALUE:
                    return None
                if tag == 119:
                    pos += 2
                    n_bytes = data[pos]
                    if n_bytes < 0x80 and n_bytes <= content_limit:  # no call to read it
                        pos += 1 + n_bytes
                        raw = data[pos - n_bytes : pos]
                    else:
                        raw, pos = read_var_bytes(data, pos, content_limit)
                    if not raw.isascii():
                        raw.decode()
                else:
                    pos += 2 + SCALARS[tag]
                length = 1
            elif kind == _STRING:
                raw, pos = read_var_bytes(data, pos, content_limit)
                length = len(raw) if raw.isascii() else len(raw.decode().encode("utf-16-le")) // 2
            else:
                length, pos = read_var_uint(data, pos)
                kinds[-1] |= IS_DELETED
            content += pos - start
            clock += length
            if length == 0 or clock > max_clock:
                return None
            previous = kind
        if pos > size or clock - known_clock(client) > limits.clock_jump:
            return None
        sec.end = clock
        sections[client] = sec
    deleted = _delete_set(data, pos, limits, known_clock, sections, named, client)
    if deleted is None:
        return None
    clients = frozenset(sections)
    if len(clients | deleted) > limits.clients:
        return None
    if outside is not None and not _levels(sections, outside):
        Nesting(sections, limits.type_depth, 1, 1, outside).levels()  # refuses nothing
    return UpdateSummary(
        clients=clients,
        clock_ends={c: s.end for c, s in sections.items()},
        deleted_clients=deleted,
        structs=structs,
        type_depth=0,
        content_bytes=content,
        root_keys=frozenset(roots) if roots else _NONE,
        parent_subs=frozenset(subs) if subs else _NONE,
        sections=sections if outside is not None else {},
    )


def _delete_set(
    data: bytes,
    pos: int,
    limits: UpdateLimits,
    known_clock: Callable[[int], int],
    sections: dict[int, Section],
    named: bytes,
    named_client: int,
) -> frozenset[int] | None:
    """The clients the delete set names, if it passes every cap and ends the update
    (``named``: the encoding of ``named_client``, the last section's, most often here)."""
    size = len(data)
    count, pos = read_var_uint(data, pos)
    if count * 2 > size - pos or count > limits.clients:
        return None
    clients = set()
    ranges = 0
    max_clock = limits.clock
    for _ in range(count):
        if named and data.startswith(named, pos):
            client = named_client
            pos += len(named)
        else:
            client, pos = read_var_uint(data, pos)
        clients.add(client)
        n, pos = read_var_uint(data, pos)
        ranges += n
        if n * 2 > size - pos or ranges > limits.structs:
            return None
        end = 0
        for _ in range(n):
            clock, pos = read_var_uint(data, pos)
            length = data[pos]
            if length < 0x80:
                pos += 1
            else:
                length, pos = read_var_uint(data, pos)
            if clock + length > end:
                end = clock + length
                if end > max_clock:
                    return None
        if n:
            known = known_clock(client)
            sec = sections.get(client)
            if sec is not None and sec.end > known:
                known = sec.end
            if end - known > limits.clock_jump:
                return None
    if pos != size:
        return None
    return frozenset(clients)


def _levels(sections: dict[int, Section], outside: Outside) -> bool:
    """Every struct's level (as ``Nesting.levels`` gives it) in the common cases: an
    item next to one before it in its section, or next to or in a struct of the
    document. False, with nothing decided, for anything else."""
    held_of, entry_of = outside.held, outside.entry
    for sec in sections.values():
        held = sec.held = held_of(sec.client)
        if sec.starts and sec.starts[0] < held:
            return False  # the document holds some: its version counts
    others = len(sections) > 1
    for sec in sections.values():
        client, held, starts, kinds = sec.client, sec.held, sec.starts, sec.kinds
        ref_clients, ref_clocks = sec.ref_client, sec.ref_clock
        levels = bytearray(len(kinds))
        for i, kind in enumerate(kinds):
            kind &= 3
            if kind == ROOT:
                continue  # level 0
            ref_client, ref_clock = ref_clients[i], ref_clocks[i]
            if ref_client == client:
                if ref_clock >= held:  # not the document's: one of the update's
                    if kind != FROM_ORIGIN or ref_clock < starts[0]:
                        return False
                    j = i - 1 if ref_clock >= starts[i - 1] else bisect_right(starts, ref_clock) - 1
                    levels[i] = levels[j]
                    continue
            elif others:
                target = sections.get(ref_client)
                if target is not None and ref_clock >= target.held:
                    return False  # another section's struct, or one neither holds
            entry = entry_of(ref_client, ref_clock)
            levels[i] = level_beside(entry) if kind == FROM_ORIGIN else level_inside(entry)
        sec.levels = levels
    return True
