"""Time travel: the moments of a board's history, and the board at each of them.

A moment is the board just after one change of its history (model.history):
its state vector holds every change up to it. A pycrdt snapshot is a state
vector *and* the set of items deleted by then, and the document records no
time for a deletion, only that it happened. So when each deleted item went is
worked out from the items themselves:

- a Map value went with the first value written over it (exact: a move, a
  rename, a field set again);
- a purged ticket or deleted label went with the removal its writer noted
  (model.clients, ``purged``/``label_deleted``), with all it held;
- text, list entries and label marks inside a ticket went with the next
  change to the same field of that ticket, or the next change that wrote only
  ``updated_by``/``updated_at`` there (a removal writes no item of its own,
  and Lanban touches the ticket with every edit of its text or labels);
- anything else removed (by a client that noted nothing) shows at every
  earlier moment as it was last written.

The board at a moment is read through :meth:`Board.as_of` (pycrdt's
``Doc.from_snapshot``), read-only.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from .activity import Feed
from .clients import LABEL_DELETED, PURGED
from .history import History, collecting_later
from .structs import CLOCK_BITS, NO_ID


@dataclass(slots=True)
class Moment:
    """Where a history slider can stop: just after change ``index`` (not
    frozen: a board's history makes thousands, and a frozen one is slower to make)."""

    index: int
    time: int  # ms since the epoch (0: unknown)
    author: str
    summary: str  # what the change did, e.g. "moved #12 from To do to Doing"


def moments(history: History, summaries: list[str] | None = None) -> list[Moment]:
    """One moment per change, oldest first; ``summaries``: what each change
    did (Feed.summaries) if told already."""
    told = Feed().summaries(history) if summaries is None else summaries
    return [
        Moment(i, c.time, c.author, told[i] or _quiet(c.root))
        for i, c in enumerate(history.changes)
    ]


def _quiet(root: str) -> str:
    return {"tickets": "reordered tickets", "columns": "reordered columns"}.get(
        root, f"changed {root}"
    )


def moment_at(history: History, at_ms: int) -> int | None:
    """The last moment at or before ``at_ms``; None before the first change."""
    times = [c.time for c in history.changes]
    i = bisect_right(times, at_ms) - 1
    return i if i >= 0 else None


class TimeTravel:
    """Snapshots of one history's moments (the deletion times worked out once)."""

    def __init__(self, history: History) -> None:
        self.history = history
        # deletions by the moment they happened; per client, its changes' moments and ends
        with collecting_later():
            gone = sorted(_deletion_moments(history), key=lambda g: g[3])
        self._gone = gone
        self._gone_moments = [g[3] for g in gone]
        self._moments: dict[int, list[int]] = {}
        self._ends: dict[int, list[int]] = {}
        for k, change in enumerate(history.changes):
            self._moments.setdefault(change.client, []).append(k)
            ends = self._ends.setdefault(change.client, [])
            ends.append(max(change.end, ends[-1]) if ends else change.end)

    def snapshot(self, index: int) -> bytes:
        """The pycrdt snapshot (as Board.snapshot() encodes one) of moment ``index``."""
        count = len(self.history.changes)
        if not 0 <= index < count:
            raise IndexError(f"no moment {index} (there are {count})")
        state: dict[int, int] = {}
        now = self.history.state  # what the document holds: no moment holds more
        for client, ks in self._moments.items():
            j = bisect_right(ks, index) - 1
            if j >= 0:
                state[client] = min(self._ends[client][j], now.get(client, 0))
        deleted: dict[int, list[tuple[int, int]]] = {}
        for client, clock, length, _ in self._gone[: bisect_right(self._gone_moments, index)]:
            end = state.get(client, 0)
            if clock < end:
                deleted.setdefault(client, []).append((clock, min(length, end - clock)))
        return _encode(deleted, state)


def _deletion_moments(history: History) -> list[tuple[int, int, int, int]]:
    """(client, clock, length, moment it went) for the deleted ranges whose
    time can be told (module docstring)."""
    s = history.structs
    changes = history.changes
    # each change's moment (the changes the history does not show: none)
    index_of = {change: k for k, change in enumerate(changes)}
    owners = history.owners  # each item's change
    overwritten: dict[int, int] = {}  # item id -> the first change that wrote over it
    for owner, origin, place in zip(owners, s.origin, history.places, strict=True):
        if origin == NO_ID or place[2] is None or place[2] != place[3]:
            continue
        k = index_of.get(owner, -1)
        if k >= 0 and k < overwritten.get(origin, len(changes)):
            overwritten[origin] = k
    noted: dict[tuple[str, str], list[int]] = {}
    by_entity: dict[tuple[str, str], list[int]] = {}
    for k, change in enumerate(changes):
        by_entity.setdefault((change.root, change.entity), []).append(k)
        if PURGED in change.notes or LABEL_DELETED in change.notes:
            noted.setdefault((change.root, change.entity), []).append(k)
    gone: list[tuple[int, int, int, int]] = []
    add = gone.append
    clocks, lengths = s.clock, s.length
    for client, ranges in s.deleted.items():
        blocks = history.blocks.get(client, [])
        high_bits = client << CLOCK_BITS
        for start, length in ranges:
            stop = start + length
            # the client's items a deleted range covers: in its blocks (by clock)
            b = max(bisect_right(blocks, start, key=lambda block: block[0]) - 1, 0)
            for at in range(b, len(blocks)):  # (no slice: a walk kept long has many blocks)
                _first, lo, hi = blocks[at]
                if clocks[lo] >= stop:
                    break
                j = max(bisect_right(clocks, start, lo, hi) - 1, lo)
                while j < hi and clocks[j] < stop:
                    i = j
                    j += 1
                    first = clocks[i]
                    end = first + lengths[i]
                    if end <= start:
                        continue
                    # most deleted items are values written over: told at once
                    moment = overwritten.get(high_bits | first)
                    if moment is None:
                        own = index_of.get(owners[i], -1)
                        moment = _went(i, own, history, noted, by_entity)
                        if moment is None:
                            continue
                    if first < start or end > stop:
                        first, end = max(first, start), min(end, stop)
                    add((client, first, end - first, moment))
    return gone


def _went(
    i: int,
    own: int,
    history: History,
    noted: dict[tuple[str, str], list[int]],
    by_entity: dict[tuple[str, str], list[int]],
) -> int | None:
    """When item ``i`` (of change ``own``), written over by none, went
    (module docstring), if that can be told."""
    root, entity, fld, key = history.places[i]
    entity_key = (root, entity)
    notes = noted.get(entity_key)
    if notes:
        k = bisect_left(notes, own)
        if k < len(notes):
            return notes[k]
    if fld is None or fld == key:
        return None
    changes = history.changes
    ks = by_entity.get(entity_key, [])
    for k in ks[bisect_right(ks, own) :]:
        change = changes[k]
        if fld in change.inner or fld in change.values or change.touch_only:
            return k
    return None


def _encode(deleted: dict[int, list[tuple[int, int]]], state: dict[int, int]) -> bytes:
    """A snapshot as yrs encodes one (v1): the delete set, then the state vector."""
    out = bytearray()
    _uint(out, len(deleted))
    for client in sorted(deleted):
        ranges = _merged(deleted[client])
        _uint(out, client)
        _uint(out, len(ranges))
        for clock, length in ranges:
            _uint(out, clock)
            _uint(out, length)
    _uint(out, len(state))
    for client in sorted(state):
        _uint(out, client)
        _uint(out, state[client])
    return bytes(out)


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    ranges.sort()
    out: list[tuple[int, int]] = []
    for clock, length in ranges:
        if out and out[-1][0] + out[-1][1] >= clock:
            last_clock, last_length = out[-1]
            out[-1] = (last_clock, max(last_length, clock + length - last_clock))
        else:
            out.append((clock, length))
    return out


def _uint(out: bytearray, value: int) -> None:
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
