"""Board events: telling listeners what each transaction changed.

The board's own commands say what they changed (:meth:`ChangeTracker.emit`).
For transactions it did not write itself (updates from peers, undo and redo)
the tracker observes the document while they run (:meth:`ChangeTracker.observing`),
turns the document events into typed changes, brings the cache (model.cache)
up to date and runs the post-merge repair (model.repair) where numbers may
clash or the columns changed. The board pays for no deep observer on its own
moves and ticket edits (its columns, labels and board settings are watched for
good from the first observed transaction on). A peer's move of live tickets,
the hop every drag makes, is followed from the values in pycrdt's events: no
transaction, no read of the document (tests/model/test_remote_moves.py).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from pycrdt import Map, Subscription

from .cache import BoardCache
from .codec import (
    MOVE_FIELDS,
    PLACE_FIELDS,
    placed_column,
    placed_rank,
    read_move,
    read_placement,
)
from .events import BoardEvent, Change, Kind, Origin
from .index import Placement, TicketIndex
from .limits import MAX_ID_LENGTH
from .reading import PLAIN_VALUES, read_value
from .schema import BOARD, COLUMNS, LABELS, Column

EventListener = Callable[[BoardEvent], None]
# Fixes after a merge: given the ticket numbers that may clash now (None: all, and
# the columns), and whether the columns changed.
Repair = Callable[[set[int] | None, bool], list[Change]]


class ChangeTracker:
    def __init__(self, cache: BoardCache, repair: Repair) -> None:
        self._cache = cache
        self._repair = repair
        self.listeners: list[EventListener] = []
        self._roots = _RootMarks()
        self._root_watch: list[Subscription] = []  # see _Observing.__enter__

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        self.listeners.append(listener)

        def remove() -> None:
            if listener in self.listeners:
                self.listeners.remove(listener)

        return remove

    def emit(self, origin: Origin, changes: list[Change]) -> None:
        if not changes or not self.listeners:
            return
        event = BoardEvent(origin, tuple(changes))
        for listener in list(self.listeners):
            listener(event)

    def observing(self, origin: Origin) -> _Observing:
        """Around a transaction the board did not write: afterwards, the cache
        is up to date, merge fixes are made, and listeners hear of it all."""
        return _Observing(self, origin)

    def _translate(self, origin: Origin, tickets: _TicketEvents, roots_changed: set[str]) -> None:
        cache = self._cache
        idx = cache.index or cache.idx()
        changes: list[Change] = []
        columns = COLUMNS in roots_changed
        if columns:
            cache.columns_changed()
            idx = cache.idx()
            changes.append(Change(Kind.COLUMNS_CHANGED))
        if LABELS in roots_changed:
            changes.append(Change(Kind.LABELS_CHANGED))
        if BOARD in roots_changed:
            changes.append(Change(Kind.BOARD_CHANGED, cache.board_id()))
        numbers: set[int] | None = set()  # of tickets that may clash now
        if tickets.keys_changed or not _moved(idx, cache.columns_by_id, tickets, changes):
            numbers = self._reread_all(idx, tickets, changes)
        if numbers is None or numbers or columns:
            changes += self._repair(numbers, columns)
        self.emit(origin, changes)

    def _reread_all(
        self, idx: TicketIndex, tickets: _TicketEvents, changes: list[Change]
    ) -> set[int] | None:
        """Read the touched tickets again, adding what changed to ``changes``; the
        numbers that may clash now (None: any, the index was built again)."""
        cache = self._cache
        numbers = set()
        with cache.doc.transaction():
            for tid, fields in tickets.touched.items():
                new = self._reread(idx, tid, fields)
                if new is not None and (tid not in idx.places or fields & _RENUMBERED):
                    numbers.add(new.number)
                changes += _placed(idx, tid, fields, new)
            # len() is O(n) in pycrdt: only when tickets came or went
            if tickets.keys_changed and len(cache.tickets) != len(idx.places):
                # pycrdt can leave a deleted key out of its event when other
                # updates are pending: then trust the document, not the events.
                cache.forget_tickets()
                cache.idx()
                return None
        return numbers

    def _reread(self, idx: TicketIndex, tid: str, fields: set[str]) -> Placement | None:
        """A touched ticket's place as the document holds it now (None: no usable ticket)."""
        cache = self._cache
        cache.lists.pop(tid, None)
        # The ticket's Map as the cache holds it, unless the ticket was added, purged
        # or replaced as a whole: then as the document holds it now, kept for next time.
        m = None if "*" in fields else cache.maps.get(tid)
        if m is None:
            cache.maps.pop(tid, None)
            m = read_value(cache.tickets, tid)
        if not isinstance(m, Map) or len(tid) > MAX_ID_LENGTH:  # as reading.entries
            return None
        cache.maps[tid] = m
        old = idx.places.get(tid)
        if old is not None and fields <= MOVE_FIELDS:  # a move: the rest is as it was
            return read_move(m, old)
        return read_placement(m)


def _moved(
    idx: TicketIndex, columns: dict[str, Column], tickets: _TicketEvents, changes: list[Change]
) -> bool:
    """Follow a transaction that only moved live tickets, from its events (they hold
    the values written: no read of the document); False, with nothing done, if it
    changed more, or a value is a shared one. ``columns``: the board's, by id."""
    moves = []
    for tid, fields in tickets.touched.items():
        old = idx.places.get(tid)
        keys = tickets.values.get(tid)
        if old is None or old.deleted or old.tainted or keys is None:
            return False
        if not fields or not fields <= MOVE_FIELDS:
            return False
        # pycrdt's key changes: {"action", "oldValue", "newValue" (none: deleted)}
        column = keys["column"].get("newValue", _DELETED) if "column" in keys else old.column
        rank = keys["rank"].get("newValue", _DELETED) if "rank" in keys else old.rank
        if not (type(column) in PLAIN_VALUES and type(rank) in PLAIN_VALUES):
            return False  # deleted (read as the document reads it), or a shared value
        moves.append((tid, old, column, rank))
    for tid, old, column, rank in moves:
        if type(column) is not str or column not in columns:  # else an id already
            column = placed_column(column)
        rank = placed_rank(rank)
        if column != old.column or rank != old.rank:
            idx.move(tid, column, rank)
            changes.append(Change(Kind.TICKET_MOVED, tid, MOVE_FIELDS))
    return True


_DELETED = object()  # a key with no "newValue": see _moved
_RENUMBERED = frozenset({"number", "*"})  # fields whose change can make numbers clash


def _placed(
    idx: TicketIndex, tid: str, fields: set[str] | frozenset[str], new: Placement | None
) -> list[Change]:
    """Put a touched ticket's new place into the index; what changed, as Changes."""
    old = idx.places.get(tid)
    idx.put(tid, new)
    was_live = old is not None and not old.deleted
    is_live = new is not None and not new.deleted
    if was_live and not is_live:
        return [Change(Kind.TICKET_REMOVED, tid, frozenset(fields))]
    if is_live and not was_live:
        return [Change(Kind.TICKET_ADDED, tid, frozenset(fields))]
    if old is not None and new is None:  # gone from the trash: purged, or creation undone
        return [Change(Kind.TICKET_REMOVED, tid, frozenset(fields))]
    if not is_live:
        return []
    assert old is not None and new is not None
    changes = []
    if (old.column, old.rank) != (new.column, new.rank):
        changes.append(Change(Kind.TICKET_MOVED, tid, MOVE_FIELDS))
    other = fields - PLACE_FIELDS
    if "*" in fields or other:
        was = old.number if old.number != new.number else None  # renumbered elsewhere
        changes.append(Change(Kind.TICKET_CHANGED, tid, frozenset(other), was))
    return changes


class _Observing:
    """Observers on the four roots for the length of one ``with`` block.

    A class rather than @contextmanager: it wraps every update from a peer.
    """

    __slots__ = ("_origin", "_roots", "_sub", "_tickets", "_tracker")

    def __init__(self, tracker: ChangeTracker, origin: Origin) -> None:
        self._tracker = tracker
        self._origin = origin
        self._tickets = _TicketEvents()
        self._roots: set[str] = set()
        self._sub: Subscription | None = None

    def __enter__(self) -> None:
        tracker = self._tracker
        cache = tracker._cache
        if cache.index is None:
            cache.idx()  # the index must hold the state before the transaction
        # On pycrdt's Rust types: its observe_deep inspects each callback's
        # signature and wraps every event in Python objects first (a third of
        # what a peer's move costs here). The raw events have the same path and
        # keys, read inside the callback; nothing else of them is kept.
        self._sub = cache.tickets.integrated.observe_deep(self._tickets)
        # The other three roots are watched for good from the first observed
        # transaction on: the board's own moves and ticket edits never touch them,
        # and three observers fewer to make and drop per peer's change. What they
        # mark in between (the board's own column edits) is cleared here.
        if not tracker._root_watch:
            marks = tracker._roots
            tracker._root_watch = [
                cache.columns.integrated.observe_deep(_Mark(marks, COLUMNS)),
                cache.labels.integrated.observe_deep(_Mark(marks, LABELS)),
                cache.board.integrated.observe_deep(_Mark(marks, BOARD)),
            ]
        self._roots = tracker._roots.marks = set()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._sub is not None:
            self._sub.drop()
        if exc_type is None:
            self._tracker._translate(self._origin, self._tickets, self._roots)


class _TicketEvents:
    """Collects which tickets (and fields) a transaction touched (from pycrdt's raw events)."""

    __slots__ = ("keys_changed", "touched", "values")

    def __init__(self) -> None:
        self.touched: dict[str, set[str]] = {}
        # ticket id -> its own keys' changes, as pycrdt tells them (with the values written)
        self.values: dict[str, dict[str, Any]] = {}
        self.keys_changed = False  # tickets added or removed (not just edited)

    def __call__(self, events: list[Any]) -> None:
        touched = self.touched
        for ev in events:
            path = ev.path
            if not path:
                self.keys_changed = True
                for tid in ev.keys:
                    touched.setdefault(tid, set()).add("*")
            elif len(path) == 1:
                tid = str(path[0])
                keys = getattr(ev, "keys", None) or {}
                touched.setdefault(tid, set()).update(keys)
                self.values[tid] = keys
            else:
                touched.setdefault(str(path[0]), set()).add(str(path[1]))


class _RootMarks:
    """Which of the other roots the running transaction touched (a fresh set for each
    :class:`_Observing`). Held by pycrdt's Rust side through the observers: it must
    not refer to the board, or the board would never be freed."""

    __slots__ = ("marks",)

    def __init__(self) -> None:
        self.marks: set[str] = set()


class _Mark:
    """Notes that a transaction touched one of the other roots."""

    __slots__ = ("into", "name")

    def __init__(self, into: _RootMarks, name: str) -> None:
        self.into = into
        self.name = name

    def __call__(self, events: list[Any]) -> None:
        self.into.marks.add(self.name)
