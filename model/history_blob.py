"""A board's history as walked so far (model.history_walk.Walk), as bytes to keep.

A board file keeps these bytes beside its log (sync.board_meta) so that a
board opened again walks only the items that came since, not all of them.
They are a cache: the history stays what the items say, and bytes that do not
fit are dropped and the history is read again from the document.

Layout (version 1): ``LBHK``, a version byte, a 32-byte BLAKE2b digest of the
rest keyed by the board id (a damaged blob, or another board's, fails it),
then the rest zlib-compressed: a 4-byte length and a JSON object (the items' values, the places, the
changes, each client's grouping state and names; not the items' parents and
keys, which only their own walk reads), then the int columns (clients,
clocks, lengths, origins, kinds, places, owners) as little-endian 64-bit
arrays. :func:`load` checks every part before a walk is made of it (types,
counts, indexes in range, each client's items in clock order and within the
state the blob says it covers, which the document must hold): anyone who can
write the board file can write these bytes.
"""

from __future__ import annotations

import hashlib
import json
import operator
import struct
import sys
import zlib
from array import array
from typing import Any

from .history_walk import Change, Run, Shared, Walk, Where, index_items
from .structs import ARRAY, BYTES, CLOCK_BITS, NO_ID, OBJECT, UNDEFINED, Marker, state_vector

MAGIC = b"LBHK"
VERSION = 1
_DIGEST = 32
_HEAD = len(MAGIC) + 1 + _DIGEST
MAX_RATIO = 64  # how much bigger than the kept bytes their contents may be
_MARKERS = {m.name: m for m in (OBJECT, ARRAY, BYTES, UNDEFINED)}
_VALUE_TYPES = frozenset({str, int, float, bool, type(None), Marker})  # as model.structs reads
_COLUMNS = ("client", "clock", "length", "origin_client", "origin_clock", "kind", "place", "owner")
_MAX_INT = 2**63 - 1


class _Bad(Exception):
    """The bytes are not a history this board can use."""


def dump(walk: Walk, board_id: str) -> bytes | None:
    """The walk as bytes (None: it holds what these bytes cannot say)."""
    s = walk.structs
    index_of = {change: k for k, change in enumerate(walk.changes)}
    table: dict[Where, int] = {}
    place_index = [table.setdefault(p, len(table)) for p in walk.places]
    changes = _ChangeColumns(walk.changes, index_of)
    try:
        ints = array("q")
        ints.extend(s.client)
        ints.extend(s.clock)
        ints.extend(s.length)
        ints.extend(NO_ID if o == NO_ID else o >> CLOCK_BITS for o in s.origin)
        ints.extend(NO_ID if o == NO_ID else o & ((1 << CLOCK_BITS) - 1) for o in s.origin)
        ints.extend(s.kind)
        ints.extend(place_index)
        ints.extend(index_of[c] for c in walk.owners)
        for column in changes.ints:
            ints.extend(column)
        ints.extend(changes.overwrote)
        head = {
            "state": walk.state.hex(),
            "items": len(s),
            "value": s.value,
            "places": list(table),
            "changes": len(walk.changes),
            "overwrote": len(changes.overwrote),
            **changes.head,
            "runs": [_run(client, run, index_of) for client, run in walk.runs.items()],
            "named": [[c, k, v] for c, (k, v) in walk.named.items()],
            "member_of": [[c, k, v] for c, (k, v) in walk.member_of.items()],
            "signed": [[c, k, v] for c, (k, v) in walk.signed.items()],
            "member_names": [[m, k, c, v] for m, (k, c, v) in walk.member_names.items()],
            "neighbours": sorted(walk.neighbour_items),
        }
        text = json.dumps(head, default=_encode, separators=(",", ":")).encode()
    except (OverflowError, KeyError, TypeError, ValueError):
        return None  # a client id too large for the columns, a value JSON cannot say
    if sys.byteorder != "little":
        ints.byteswap()
    return seal(struct.pack("<I", len(text)) + text + ints.tobytes(), board_id)


def seal(body: bytes, board_id: str) -> bytes:
    """The bytes kept for ``body``: compressed (a JSON and int columns shrink
    about 6x; a kept history would be bigger than its board's document), behind
    the magic, the version and the digest."""
    packed = zlib.compress(body, 1)
    return MAGIC + bytes([VERSION]) + _digest(packed, board_id) + packed


def _unseal(blob: bytes, board_id: str) -> bytes:
    _check(len(blob) > _HEAD and blob[:4] == MAGIC and blob[4] == VERSION)
    packed = blob[_HEAD:]
    _check(_digest(packed, board_id) == blob[len(MAGIC) + 1 : _HEAD])
    # at most MAX_RATIO times bigger: bytes with a good digest can still be
    # forged (anyone who can write the file), and must not blow up here
    unpack = zlib.decompressobj()
    body = unpack.decompress(packed, MAX_RATIO * len(packed))
    _check(unpack.eof and not unpack.unconsumed_tail)
    return body


def load(blob: bytes, board_id: str, state: dict[int, int]) -> Walk | None:
    """The walk ``blob`` holds, if it is one of board ``board_id`` that a
    document with state vector ``state`` holds all of; else None."""
    try:
        return _load(blob, board_id, state)
    except (
        _Bad,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        OverflowError,
        RecursionError,
        zlib.error,
    ):
        return None


def _digest(body: bytes, board_id: str) -> bytes:
    return hashlib.blake2b(body, digest_size=_DIGEST, key=board_id.encode()[:64]).digest()


def _encode(value: Any) -> Any:
    if isinstance(value, Marker):
        return {"m": value.name}
    if isinstance(value, Shared):
        return {"s": value.kind}
    raise TypeError(f"not kept: {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and obj.get("m") in _MARKERS:
        return _MARKERS[obj["m"]]
    if len(obj) == 1 and type(obj.get("s")) is int:
        return Shared(obj["s"])
    return obj  # junk (no dict is kept): refused where it is read


# A change's int columns, in the order kept (after the items' columns).
_CHANGE_COLUMNS = (
    "client",
    "clock",
    "end",
    "stamped",
    "flags",  # created, recreated (bits 0, 1)
    "neighbours",
    "root",  # in the names table
    "entity",  # in the names table
    "values",  # how many of the flat value lists are its
    "overwrote",  # how many of the flat overwrote list are its
)


class _ChangeColumns:
    """The changes as columns: a change's ints beside the items' columns, its
    field values in three flat lists (the JSON parses them fast, and a load
    checks each list at once), the rare rest per change."""

    def __init__(self, changes: list[Change], index_of: dict[Change, int]) -> None:
        names: dict[str, int] = {}
        self.ints: list[list[int]] = [[] for _ in _CHANGE_COLUMNS]
        client, clock, end, stamped, flags, neighbours, root, entity, values, overwrote = self.ints
        keys: list[str] = []
        before: list[Any] = []
        after: list[Any] = []
        self.overwrote: list[int] = []
        inner: list[list[Any]] = []
        added: list[list[Any]] = []
        notes: list[list[Any]] = []
        for k, c in enumerate(changes):
            client.append(c.client)
            clock.append(c.clock)
            end.append(c.end)
            stamped.append(c.stamped)
            flags.append(c.created | c.recreated << 1)
            neighbours.append(c.neighbours)
            root.append(names.setdefault(c.root, len(names)))
            entity.append(names.setdefault(c.entity, len(names)))
            values.append(len(c.values))
            for key, (was, now) in c.values.items():
                keys.append(key)
                before.append(was)
                after.append(now)
            overwrote.append(len(c.overwrote))
            self.overwrote.extend(index_of[o] for o in c.overwrote)
            # (sets: sorted, so that the same walk gives the same bytes)
            inner.extend([k, f, sorted(keys_in, key=_none_first)] for f, keys_in in c.inner.items())
            added.extend([k, f, sorted(keys_in)] for f, keys_in in c.added.items())
            notes.extend([k, key, value] for key, value in c.notes.items())
        self.head = {
            "names": list(names),
            "value_keys": keys,
            "value_before": before,
            "value_after": after,
            "inner": inner,
            "added": added,
            "notes": notes,
        }


def _none_first(key: str | None) -> tuple[bool, str]:
    return (key is not None, key or "")


def _run(client: int, run: Run, index_of: dict[Change, int]) -> list[Any]:
    current, end, root, entity, empty, written, made, closed, previous, listed = run
    return [
        client,
        index_of[current],
        end,
        root,
        entity,
        empty,
        sorted(written),
        made,
        closed,
        previous,
        listed,
    ]


# ------------------------------------------------------------------ load


def _check(ok: bool) -> None:
    if not ok:
        raise _Bad


def _int(value: Any, low: int = 0, high: int = _MAX_INT) -> int:
    _check(type(value) is int and low <= value <= high)
    return int(value)


def _str(value: Any) -> str:
    _check(type(value) is str)
    return str(value)


def _opt_str(value: Any) -> str | None:
    _check(value is None or type(value) is str)
    return None if value is None else str(value)


def _bool(value: Any) -> bool:
    _check(type(value) is bool)
    return bool(value)


def _list(value: Any, length: int | None = None) -> list[Any]:
    _check(type(value) is list and (length is None or len(value) == length))
    return list(value)


def _load(blob: bytes, board_id: str, state: dict[int, int]) -> Walk | None:
    body = memoryview(_unseal(blob, board_id))
    (size,) = struct.unpack_from("<I", body)
    _check(4 + size <= len(body))
    head = json.loads(bytes(body[4 : 4 + size]), object_hook=_decode)
    _check(type(head) is dict)
    raw = bytes(body[4 + size :])
    n, m, k = _int(head["items"]), _int(head["changes"]), _int(head["overwrote"])
    _check(len(raw) == 8 * (n * len(_COLUMNS) + m * len(_CHANGE_COLUMNS) + k))
    ints = array("q")
    ints.frombytes(raw)
    if sys.byteorder != "little":
        ints.byteswap()
    cols = {name: ints[j * n : (j + 1) * n].tolist() for j, name in enumerate(_COLUMNS)}
    at = n * len(_COLUMNS)
    change_cols = [
        ints[at + j * m : at + (j + 1) * m].tolist() for j in range(len(_CHANGE_COLUMNS))
    ]
    overwrote = ints[at + len(_CHANGE_COLUMNS) * m :].tolist()

    walk = Walk()
    walk.state = bytes.fromhex(_str(head["state"]))
    covered = state_vector(walk.state)
    _check(all(state.get(client, 0) >= clock for client, clock in covered.items()))

    places: list[Where] = [tuple(p) for p in _list(head["places"])]
    _check(set(map(len, places)) <= {4})
    roots, entities, flds, keys = zip(*places, strict=True) if places else ((), (), (), ())
    _check(set(map(type, roots)) | set(map(type, entities)) <= {str})
    _check(set(map(type, flds)) | set(map(type, keys)) <= {str, type(None)})

    s = walk.structs
    s.client, s.clock, s.length, s.kind = (
        cols["client"],
        cols["clock"],
        cols["length"],
        cols["kind"],
    )
    s.parent, s.key = [None] * n, [None] * n  # only a walk of them reads them (Walk)
    s.value = _list(head["value"], n)
    # (whole columns at once: set(map(type, ...)), min() and max() run in C)
    _check(set(map(type, s.value)) <= _VALUE_TYPES)
    place = cols["place"]
    if n:
        _check(min(s.client) >= 0 and min(s.clock) >= 0 and min(s.length) > 0)
        _check(min(s.kind) >= 0 and min(place) >= 0 and max(place) < len(places))
        _check(max(cols["origin_clock"]) < 1 << CLOCK_BITS)
    s.origin = [
        c << CLOCK_BITS | k if c >= 0 and k >= 0 else NO_ID
        for c, k in zip(cols["origin_client"], cols["origin_clock"], strict=True)
    ]
    walk.places = [places[p] for p in place]
    _items_in_order(walk, covered)

    changes = walk.changes
    changes.extend(_read_changes(head, change_cols, overwrote))
    for change in changes:
        walk.by_client.setdefault(change.client, []).append(change)
    owners = cols["owner"]
    _check(not owners or (min(owners) >= 0 and max(owners) < len(changes)))
    walk.owners = [changes[k] for k in owners]
    for row in _list(head["runs"]):
        client, run = _read_run(row, changes)
        walk.runs[client] = run
    for name in ("named", "member_of", "signed"):
        table: dict[int, tuple[int, str]] = getattr(walk, name)
        for row in _list(head[name]):
            client, clock, value = _list(row, 3)
            table[_int(client)] = (_int(clock), _str(value))
    for row in _list(head["member_names"]):
        member, clock, client, value = _list(row, 4)
        walk.member_names[_str(member)] = (_int(clock), _int(client), _str(value))
    walk.neighbour_items = set(_indexes(head["neighbours"], n))
    return walk


def _items_in_order(walk: Walk, covered: dict[int, int]) -> None:
    """Each client's items in its clock order, block after block, within ``covered``."""
    s = walk.structs
    index_items(walk, 0)
    clocks = s.clock
    ends = list(map(operator.add, clocks, s.length))
    for client, blocks in walk.blocks.items():
        end = 0
        for _first, lo, hi in blocks:
            _check(clocks[lo] >= end)
            _check(all(map(operator.ge, clocks[lo + 1 : hi], ends[lo : hi - 1])))
            end = ends[hi - 1]
        _check(end <= covered.get(client, 0))


def _indexes(value: Any, count: int) -> list[int]:
    """A list of indexes below ``count``."""
    found = _list(value)
    _check(set(map(type, found)) <= {int} and (not found or 0 <= min(found) <= max(found) < count))
    return found


def _read_changes(
    head: dict[str, Any], ints: list[list[int]], overwrote: list[int]
) -> list[Change]:
    """The changes _ChangeColumns kept, each column checked at once."""
    client, clock, end, stamped, flags, neighbours, root, entity, counts, replaced = ints
    m = len(client)
    names = _list(head["names"])
    keys, before, after = (_list(head[k]) for k in ("value_keys", "value_before", "value_after"))
    _check(set(map(type, names)) <= {str} and set(map(type, keys)) <= {str})
    _check(set(map(type, before)) <= _VALUE_TYPES)
    _check(set(map(type, after)) <= _VALUE_TYPES | {Shared})
    if m:
        _check(min(client) >= 0 and min(clock) >= 0 and max(end) <= 1 << CLOCK_BITS)
        _check(all(map(operator.le, clock, end)))
        _check(min(stamped) >= 0 and min(flags) >= 0 and max(flags) <= 3)
        _check(min(neighbours) >= 0 and min(counts) >= 0 and min(replaced) >= 0)
        _check(min(root) >= 0 and min(entity) >= 0 and max(max(root), max(entity)) < len(names))
    _check(
        sum(counts) == len(keys) == len(before) == len(after) and sum(replaced) == len(overwrote)
    )
    _check(not overwrote or (min(overwrote) >= 0 and max(overwrote) < m))
    changes = [
        Change(
            c, k, e, names[r], names[n], 0, "", bool(f & 1), bool(f & 2), {}, {}, {}, {}, nb, [], t
        )
        for c, k, e, t, f, nb, r, n in zip(
            client, clock, end, stamped, flags, neighbours, root, entity, strict=True
        )
    ]
    at = told = 0
    for change, count, many in zip(changes, counts, replaced, strict=True):
        if count:
            change.values = dict(
                zip(
                    keys[at : at + count],
                    zip(before[at : at + count], after[at : at + count], strict=True),
                    strict=True,
                )
            )
            at += count
        if many:
            change.overwrote = [changes[i] for i in overwrote[told : told + many]]
            told += many
    for row in _list(head["inner"]):
        k, fld, found = _list(row, 3)
        _check(type(fld) is str and set(map(type, _list(found))) <= {str, type(None)})
        changes[_int(k, 0, m - 1)].inner[fld] = set(found)
    for row in _list(head["added"]):
        k, fld, found = _list(row, 3)
        _check(type(fld) is str and set(map(type, _list(found))) <= {str})
        changes[_int(k, 0, m - 1)].added[fld] = set(found)
    for row in _list(head["notes"]):
        k, key, value = _list(row, 3)
        changes[_int(k, 0, m - 1)].notes[_str(key)] = _str(value)
    return changes


def _read_run(row: Any, changes: list[Change]) -> tuple[int, Run]:
    row = _list(row, 11)
    client = _int(row[0])
    current = changes[_int(row[1], 0, len(changes) - 1)]
    _check(current.client == client)
    made = row[7]
    _check(type(made) is int and (made == NO_ID or made >= 0))
    run: Run = (
        current,
        _int(row[2], NO_ID, 2**32),
        _str(row[3]),
        _str(row[4]),
        _bool(row[5]),
        {_str(f) for f in _list(row[6])},
        made,
        _bool(row[8]),
        _opt_str(row[9]),
        _bool(row[10]),
    )
    return client, run
