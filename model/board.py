"""A typed board over one pycrdt Doc, following DESIGN.md section 3.

Every write happens in one transaction with the LOCAL origin (undoable) or
the SYSTEM origin (creation, import, post-merge fixes). Updates from anywhere
else go through :meth:`Board.apply_update`, so the board knows what changed
without paying for a deep observer on its own edits.
"""

from __future__ import annotations

import inspect
from bisect import bisect_left
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from pycrdt import Array, Doc, Map, Subscription, Text, UndoManager

from .errors import BoardError
from .events import BoardEvent, Change, Kind, Origin
from .index import Placement, TicketIndex
from .numbers import renumbering
from .ordering import place, rank_after
from .schema import (
    BOARD,
    COLUMNS,
    DEFAULT_COLUMNS,
    LABELS,
    LOCAL_SOURCE,
    MAX_TEXT_LENGTH,
    MAX_TITLE_LENGTH,
    REMOTE_SOURCE,
    SCHEMA_VERSION,
    SYSTEM_SOURCE,
    TICKETS,
    Column,
    Comment,
    Label,
    Ticket,
    as_int,
    as_str,
    new_doc,
    new_id,
    now_ms,
)
from .text import splice_bytes, text_diff

# Undo groups edits closer together than this (typing); every other operation
# is its own undo step (see _boundary).
UNDO_CAPTURE_MS = 500
UNDO_BOUNDARY_MS = 1_000_000  # far past the capture window

UpdateListener = Callable[[bytes, Hashable], None]
EventListener = Callable[[BoardEvent], None]

_PLACEMENT_FIELDS = frozenset({"column", "rank", "deleted", "number", "created_at"})


def _clean(value: str, what: str, limit: int = MAX_TITLE_LENGTH) -> str:
    value = " ".join(value.split())
    if not value:
        raise BoardError(f"{what} cannot be empty")
    if len(value) > limit:
        raise BoardError(f"{what} is too long ({len(value)} characters, at most {limit})")
    return value


class Board:
    """One kanban board. Not thread-safe: use it from one thread (DESIGN.md 2)."""

    def __init__(
        self, doc: Doc[Any] | None = None, *, actor: str = "", clock: Callable[[], int] = now_ms
    ) -> None:
        self.doc: Doc[Any] = doc if doc is not None else new_doc()
        self.actor = actor
        self._clock = clock
        self._board: Map[Any] = self.doc.get(BOARD, type=Map)
        self._columns_map: Map[Any] = self.doc.get(COLUMNS, type=Map)
        self._tickets: Map[Any] = self.doc.get(TICKETS, type=Map)
        self._labels: Map[Any] = self.doc.get(LABELS, type=Map)
        self._index: TicketIndex | None = None
        # ticket id -> its Map: looking one up in the document costs a transaction
        self._maps: dict[str, Map[Any]] = {}
        self._columns: list[Column] | None = None
        self._columns_by_id: dict[str, Column] = {}
        self._event_listeners: list[EventListener] = []
        # Callbacks handed to pycrdt live in Rust, out of the garbage
        # collector's sight: they must not refer to the Board, or every Board
        # would be kept alive by its own Doc. Hence these two small objects.
        self._updates = _UpdateFanout()
        self._update_subscription: Subscription | None = None
        self._undo_clock = _UndoClock(clock)
        self._undo = UndoManager(
            scopes=[self._board, self._columns_map, self._tickets, self._labels],
            capture_timeout_millis=UNDO_CAPTURE_MS,
            timestamp=self._undo_clock,
        )
        self._undo.include_origin(LOCAL_SOURCE)

    # ------------------------------------------------------------------ creation

    @classmethod
    def create(
        cls,
        title: str,
        columns: Iterable[str] = DEFAULT_COLUMNS,
        *,
        actor: str = "",
        board_id: str | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> Board:
        board = cls(actor=actor, clock=clock)
        title = _clean(title, "A board title")
        names = [_clean(c, "A column title") for c in columns]
        with board._writing(SYSTEM_SOURCE):
            board._board["id"] = board_id or new_id()
            board._board["title"] = title
            board._board["schema"] = SCHEMA_VERSION
            board._board["created_at"] = board._clock()
            rank = None
            for name in names:
                rank = rank_after(rank)
                board._columns_map[new_id()] = Map(
                    {"title": name, "rank": rank, "wip_limit": 0, "deleted": False}
                )
        return board

    @classmethod
    def from_update(cls, update: bytes, *, actor: str = "") -> Board:
        board = cls(actor=actor)
        board.doc.apply_update(update)
        return board

    # ---------------------------------------------------------------- board-level

    @property
    def id(self) -> str:
        return as_str(self._board.get("id"))

    @property
    def title(self) -> str:
        return as_str(self._board.get("title"))

    @property
    def schema(self) -> int:
        return as_int(self._board.get("schema"), SCHEMA_VERSION)

    @property
    def created_at(self) -> int:
        return as_int(self._board.get("created_at"))

    def rename(self, title: str) -> None:
        title = _clean(title, "A board title")
        with self._local():
            self._board["title"] = title
        self._emit(Origin.LOCAL, [Change(Kind.BOARD_CHANGED, self.id, frozenset({"title"}))])

    # -------------------------------------------------------------------- columns

    def columns(self, *, include_deleted: bool = False) -> list[Column]:
        cols = self._all_columns()
        return cols if include_deleted else [c for c in cols if not c.deleted]

    def column(self, ref: str, *, include_deleted: bool = False) -> Column:
        """A column by id or by (case-insensitive, unique) title."""
        cols = self._all_columns()
        by_id = self._columns_by_id
        if ref in by_id and (include_deleted or not by_id[ref].deleted):
            return by_id[ref]
        for c in cols:
            if c.id == ref and (include_deleted or not c.deleted):
                return c
        pool = cols if include_deleted else [c for c in cols if not c.deleted]
        found = [c for c in pool if c.title.casefold() == ref.strip().casefold()]
        if len(found) == 1:
            return found[0]
        if found:
            raise BoardError(f"more than one column is called {ref!r}; use its id")
        deleted = [c for c in cols if c.deleted and (c.id == ref or c.title == ref)]
        if deleted:
            raise BoardError(f"column {ref!r} is deleted; restore it first")
        names = ", ".join(repr(c.title) for c in self.columns()) or "none"
        raise BoardError(f"no column {ref!r} on board {self.title!r} (columns: {names})")

    def add_column(self, title: str, *, index: int | None = None, wip_limit: int = 0) -> str:
        title = _clean(title, "A column title")
        self._check_wip(wip_limit)
        column_id = new_id()
        live = self.columns()
        ranks = self._placement([(c.rank, c.id) for c in live], index, column_id)
        with self._local():
            self._columns_map[column_id] = Map(
                {
                    "title": title,
                    "rank": ranks.pop(column_id),
                    "wip_limit": wip_limit,
                    "deleted": False,
                }
            )
            for other, rank in ranks.items():
                self._columns_map[other]["rank"] = rank
        self._columns_changed(Origin.LOCAL)
        return column_id

    def rename_column(self, column: str, title: str) -> None:
        col = self.column(column)
        self._set_column(col.id, title=_clean(title, "A column title"))

    def set_wip_limit(self, column: str, limit: int) -> None:
        self._check_wip(limit)
        self._set_column(self.column(column).id, wip_limit=limit)

    def move_column(self, column: str, index: int) -> None:
        col = self.column(column)
        others = [(c.rank, c.id) for c in self.columns() if c.id != col.id]
        ranks = self._placement(others, index, col.id)
        with self._local():
            for column_id, rank in ranks.items():
                self._columns_map[column_id]["rank"] = rank
        self._columns_changed(Origin.LOCAL)

    def delete_column(self, column: str) -> None:
        """Soft-delete; its tickets show in the first live column until moved."""
        col = self.column(column)
        if len(self.columns()) == 1:
            raise BoardError(f"column {col.title!r} is the board's last column; add another first")
        self._set_column(col.id, deleted=True)

    def restore_column(self, column: str) -> None:
        col = self.column(column, include_deleted=True)
        if not col.deleted:
            raise BoardError(f"column {col.title!r} is not deleted")
        self._set_column(col.id, deleted=False)

    def _set_column(self, column_id: str, **fields: Any) -> None:
        with self._local():
            m = self._columns_map[column_id]
            for key, value in fields.items():
                m[key] = value
        self._columns_changed(Origin.LOCAL)

    @staticmethod
    def _check_wip(limit: int) -> None:
        if not 0 <= limit <= 10_000:
            raise BoardError(f"a WIP limit must be between 0 (none) and 10000, not {limit}")

    # -------------------------------------------------------------------- tickets

    def ticket_ids(self, column: str) -> list[str]:
        """Live tickets showing in ``column``, in display order."""
        return [entry[1] for entry in self._idx().order(self.column(column).id)]

    def tickets(self, column: str | None = None, *, include_deleted: bool = False) -> list[Ticket]:
        """Tickets in display order: of one column, or of the board column by column.

        With ``include_deleted``, the trash follows, by number.
        """
        with self.doc.transaction():
            columns = [self.column(column)] if column is not None else self.columns()
            idx = self._idx()
            result = [self._read(tid) for c in columns for _, tid in idx.order(c.id)]
            if include_deleted:
                trash = [tid for tid, p in idx.places.items() if p.deleted]
                result += sorted((self._read(t) for t in trash), key=lambda t: t.number)
        return result

    def trash(self) -> list[Ticket]:
        with self.doc.transaction():
            idx = self._idx()
            trash = [self._read(t) for t, p in idx.places.items() if p.deleted]
        return sorted(trash, key=lambda t: t.number)

    def ticket(self, ref: str) -> Ticket:
        """A ticket by id or ``#number`` (trashed ones too)."""
        with self.doc.transaction():
            return self._read(self._resolve_ticket(ref))

    def column_of(self, ticket: str) -> str | None:
        """Where a ticket shows (None while it is in the trash)."""
        tid = self._resolve_ticket(ticket)
        p = self._idx().places[tid]
        return None if p.deleted else self._idx().display_column(p)

    def add_ticket(
        self,
        title: str,
        column: str | None = None,
        *,
        index: int | None = None,
        description: str = "",
        assignee: str = "",
        labels: Iterable[str] = (),
    ) -> str:
        title = _clean(title, "A ticket title")
        self._check_text(description)
        col = self.column(column) if column is not None else self._first_column()
        label_ids = [self.label(ref).id for ref in labels]
        idx = self._idx()
        tid = new_id()
        order = idx.order(col.id)
        ranks = self._placement(order, index, tid)
        now = self._clock()
        number = idx.highest_number() + 1
        with self._local():
            self._tickets[tid] = Map(
                {
                    "number": number,
                    "title": title,
                    "description": Text(description),
                    "column": col.id,
                    "rank": ranks[tid],
                    "assignee": assignee.strip(),
                    "labels": Map[Any]({lid: True for lid in label_ids}),
                    "comments": Array(),
                    "created_by": self.actor,
                    "created_at": now,
                    "updated_by": self.actor,
                    "updated_at": now,
                    "deleted": False,
                }
            )
            self._write_ranks(ranks, skip=tid)
        idx.put(tid, Placement(col.id, ranks[tid], False, number, now))
        changes = [Change(Kind.TICKET_ADDED, tid)]
        changes += self._moved_neighbours(ranks, tid)
        self._emit(Origin.LOCAL, changes)
        return tid

    def edit_ticket(
        self,
        ticket: str,
        *,
        title: str | None = None,
        description: str | None = None,
        assignee: str | None = None,
        labels: Iterable[str] | None = None,
    ) -> None:
        """Set the given fields; ``labels`` replaces the set (names or ids)."""
        tid = self._resolve_ticket(ticket)
        fields: set[str] = set()
        clean_title = _clean(title, "A ticket title") if title is not None else None
        if description is not None:
            self._check_text(description)
        wanted = {self.label(ref).id for ref in labels} if labels is not None else None
        with self._local():
            m = self._map(tid)
            if clean_title is not None and clean_title != as_str(m.get("title")):
                m["title"] = clean_title
                fields.add("title")
            if assignee is not None and assignee.strip() != as_str(m.get("assignee")):
                m["assignee"] = assignee.strip()
                fields.add("assignee")
            if description is not None and self._replace_text(m, description):
                fields.add("description")
            if wanted is not None:
                current = self._label_map(m)
                have = set(current.keys())
                for lid in have - wanted:
                    del current[lid]
                for lid in wanted - have:
                    current[lid] = True
                if have != wanted:
                    fields.add("labels")
            if fields:
                self._touch(m)
        if fields:
            self._emit(Origin.LOCAL, [Change(Kind.TICKET_CHANGED, tid, frozenset(fields))])

    def description(self, ticket: str) -> str:
        tid = self._resolve_ticket(ticket)
        value = self._map(tid).get("description")
        return str(value) if value is not None else ""

    def splice_description(self, ticket: str, start: int, removed: int, inserted: str) -> None:
        """Replace ``removed`` characters at ``start`` (Python string indices).

        This is the collaborative path: only the edited range changes, so
        concurrent typing elsewhere in the description survives.
        """
        tid = self._resolve_ticket(ticket)
        with self._local(boundary=False):
            m = self._map(tid)
            text = self._text(m)
            current = str(text)
            if not (0 <= start <= len(current) and 0 <= removed <= len(current) - start):
                raise BoardError(
                    f"edit range {start}+{removed} is outside the description "
                    f"({len(current)} characters)"
                )
            self._check_text(current[:start] + inserted + current[start + removed :])
            splice_bytes(text, current, start, removed, inserted)
            self._touch(m)
        self._emit(Origin.LOCAL, [Change(Kind.TICKET_CHANGED, tid, frozenset({"description"}))])

    def move_ticket(self, ticket: str, column: str, index: int | None = None) -> None:
        """Put a ticket at ``index`` of ``column`` as the user sees it (None = end)."""
        # This is the hot path of every drag and drop, hence the inlining.
        idx = self._idx()
        current = idx.places.get(ticket)
        tid = ticket if current is not None else self._resolve_ticket(ticket)
        current = idx.places[tid]
        if current.deleted:
            raise BoardError(f"ticket #{current.number} is in the trash; restore it first")
        col = self._columns_by_id.get(column) if self._columns is not None else None
        column_id = col.id if col is not None and not col.deleted else self.column(column).id
        order = idx.order(column_id)
        skip = None
        if idx.display_column(current) == column_id:
            skip = bisect_left(order, (current.rank, tid))
            target = len(order) - 1 if index is None else min(max(index, 0), len(order) - 1)
            if current.column == column_id and skip == target:
                return
        size = len(order) - (skip is not None)
        ranks = place(order, size if index is None else index, tid, skip)
        rank = ranks[tid]
        # self._local(), unrolled
        updates = self._updates
        self._undo_clock.epoch += UNDO_BOUNDARY_MS
        previous, updates.source = updates.source, LOCAL_SOURCE
        try:
            with self.doc.transaction(origin=LOCAL_SOURCE):
                m = self._map(tid)
                if current.column != column_id:
                    m.update({"column": column_id, "rank": rank})  # one nested transaction
                else:
                    m["rank"] = rank
                if len(ranks) > 1:
                    self._write_ranks(ranks, skip=tid)
        except ExceptionGroup as group:
            raise group.exceptions[0] from group
        finally:
            updates.source = previous
        self._undo_clock.epoch += UNDO_BOUNDARY_MS
        idx.move(tid, column_id, rank)
        if self._event_listeners:
            changes = [Change(Kind.TICKET_MOVED, tid, frozenset({"column", "rank"}))]
            self._emit(Origin.LOCAL, changes + self._moved_neighbours(ranks, tid))

    def delete_ticket(self, ticket: str) -> None:
        """Move a ticket to the trash (restorable)."""
        self._set_deleted(ticket, True)

    def restore_ticket(self, ticket: str) -> None:
        self._set_deleted(ticket, False)

    def purge_ticket(self, ticket: str) -> None:
        """Remove a ticket from the trash for good."""
        tid = self._resolve_ticket(ticket)
        idx = self._idx()
        if not idx.places[tid].deleted:
            raise BoardError(
                f"ticket #{idx.places[tid].number} is not in the trash; delete it before purging"
            )
        with self._local():
            del self._tickets[tid]
        self._maps.pop(tid, None)
        idx.put(tid, None)
        self._emit(Origin.LOCAL, [Change(Kind.TICKET_REMOVED, tid, frozenset({"purged"}))])

    def _set_deleted(self, ticket: str, deleted: bool) -> None:
        tid = self._resolve_ticket(ticket)
        idx = self._idx()
        p = idx.places[tid]
        if p.deleted == deleted:
            where = "in the trash" if deleted else "not in the trash"
            raise BoardError(f"ticket #{p.number} is already {where}")
        with self._local():
            m = self._map(tid)
            m["deleted"] = deleted
            self._touch(m)
        idx.put(tid, Placement(p.column, p.rank, deleted, p.number, p.created_at))
        kind = Kind.TICKET_REMOVED if deleted else Kind.TICKET_ADDED
        self._emit(Origin.LOCAL, [Change(kind, tid, frozenset({"deleted"}))])

    # --------------------------------------------------------------------- labels

    def labels(self) -> list[Label]:
        with self.doc.transaction():
            result = [
                Label(lid, as_str(m.get("name")), as_str(m.get("color")))
                for lid, m in self._labels.items()
                if isinstance(m, Map)
            ]
        return sorted(result, key=lambda label: (label.name.casefold(), label.id))

    def label(self, ref: str) -> Label:
        labels = self.labels()
        for label in labels:
            if label.id == ref:
                return label
        found = [lb for lb in labels if lb.name.casefold() == ref.strip().casefold()]
        if len(found) == 1:
            return found[0]
        if found:
            raise BoardError(f"more than one label is called {ref!r}; use its id")
        raise BoardError(f"no label {ref!r} on this board")

    def add_label(self, name: str, color: str = "#8888aa") -> str:
        name = _clean(name, "A label name", 100)
        if any(lb.name.casefold() == name.casefold() for lb in self.labels()):
            raise BoardError(f"a label called {name!r} exists already")
        lid = new_id()
        with self._local():
            self._labels[lid] = Map({"name": name, "color": color})
        self._emit(Origin.LOCAL, [Change(Kind.LABELS_CHANGED, lid)])
        return lid

    def ensure_label(self, name: str, color: str = "#8888aa") -> str:
        try:
            return self.label(name).id
        except BoardError:
            return self.add_label(name, color)

    def delete_label(self, ref: str) -> None:
        """Delete a label and take it off every ticket."""
        label = self.label(ref)
        touched = []
        with self._local():
            del self._labels[label.id]
            for tid, m in self._tickets.items():
                labels = m.get("labels") if isinstance(m, Map) else None
                if isinstance(labels, Map) and label.id in labels:
                    del labels[label.id]
                    touched.append(tid)
        changes = [Change(Kind.LABELS_CHANGED, label.id)]
        changes += [Change(Kind.TICKET_CHANGED, t, frozenset({"labels"})) for t in touched]
        self._emit(Origin.LOCAL, changes)

    # ------------------------------------------------------------------- comments

    def add_comment(self, ticket: str, text: str) -> str:
        tid = self._resolve_ticket(ticket)
        body = text.strip()
        if not body:
            raise BoardError("a comment cannot be empty")
        self._check_text(body)
        cid = new_id()
        with self._local():
            m = self._map(tid)
            comments = m.get("comments")
            if not isinstance(comments, Array):
                comments = m["comments"] = Array()
            comments.append(
                Map({"id": cid, "author": self.actor, "text": body, "at": self._clock()})
            )
        self._emit(Origin.LOCAL, [Change(Kind.TICKET_CHANGED, tid, frozenset({"comments"}))])
        return cid

    def delete_comment(self, ticket: str, comment_id: str) -> None:
        tid = self._resolve_ticket(ticket)
        with self._local():
            comments = self._map(tid).get("comments")
            items = list(comments) if isinstance(comments, Array) else []
            for i, c in enumerate(items):
                if isinstance(c, Map) and c.get("id") == comment_id:
                    assert isinstance(comments, Array)
                    del comments[i]
                    break
            else:
                raise BoardError(f"no comment {comment_id!r} on this ticket")
        self._emit(Origin.LOCAL, [Change(Kind.TICKET_CHANGED, tid, frozenset({"comments"}))])

    # ---------------------------------------------------------------- undo / redo

    def can_undo(self) -> bool:
        return self._undo.can_undo()

    def can_redo(self) -> bool:
        return self._undo.can_redo()

    def undo(self) -> bool:
        """Undo this user's last change (never another peer's)."""
        with self._observing(Origin.LOCAL), self._sourced(LOCAL_SOURCE):
            done = self._undo.undo()
        self._boundary()
        return done

    def redo(self) -> bool:
        with self._observing(Origin.LOCAL), self._sourced(LOCAL_SOURCE):
            done = self._undo.redo()
        self._boundary()
        return done

    def _boundary(self) -> None:
        self._undo_clock.epoch += UNDO_BOUNDARY_MS

    # ---------------------------------------------------------------- sync hooks

    def get_state(self) -> bytes:
        return self.doc.get_state()

    def get_update(self, state: bytes | None = None) -> bytes:
        return self.doc.get_update(state)

    def apply_update(self, update: bytes, source: Hashable = REMOTE_SOURCE) -> None:
        """Apply an update made elsewhere; ``source`` is told to update listeners.

        Raises ``ValueError`` for bytes that are not an update; the board is
        then unchanged.
        """
        with self._observing(Origin.REMOTE):
            try:
                with self._writing(source):
                    self.doc.apply_update(update)
            except (BoardError, OSError):
                raise
            except Exception as exc:  # pycrdt raises bare exceptions for bad bytes
                raise ValueError(f"not a valid board update: {exc}") from exc

    def on_update(self, listener: UpdateListener, *, first: bool = False) -> Callable[[], None]:
        """Call ``listener(update, source)`` with the bytes of every transaction.

        ``source`` is LOCAL_SOURCE for this user's edits and undo/redo,
        SYSTEM_SOURCE for fixes, or what was passed to :meth:`apply_update`.
        Listeners run in order; ``first`` puts this one before the others.
        """
        listeners = self._updates.listeners
        if first:
            listeners.insert(0, listener)
        else:
            listeners.append(listener)
        if self._update_subscription is None:
            self._update_subscription = self.doc.observe(self._updates)

        def remove() -> None:
            if listener in listeners:
                listeners.remove(listener)

        return remove

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Call ``listener(BoardEvent)`` after every transaction that changed something."""
        self._event_listeners.append(listener)

        def remove() -> None:
            if listener in self._event_listeners:
                self._event_listeners.remove(listener)

        return remove

    # ------------------------------------------------------------------ internals

    def _sourced(self, source: Hashable) -> _Sourced:
        return _Sourced(self, source, None, False)

    def _writing(self, source: Hashable) -> _Sourced:
        return _Sourced(self, source, self.doc.transaction(origin=source), False)

    def _local(self, *, boundary: bool = True) -> _Sourced:
        return _Sourced(self, LOCAL_SOURCE, self.doc.transaction(origin=LOCAL_SOURCE), boundary)

    def _emit(self, origin: Origin, changes: list[Change]) -> None:
        if not changes or not self._event_listeners:
            return
        event = BoardEvent(origin, tuple(changes))
        for listener in list(self._event_listeners):
            listener(event)

    def _all_columns(self) -> list[Column]:
        if self._columns is None:
            with self.doc.transaction():
                cols = [
                    Column(
                        cid,
                        as_str(m.get("title")),
                        as_str(m.get("rank")),
                        as_int(m.get("wip_limit")),
                        bool(m.get("deleted")),
                    )
                    for cid, m in self._columns_map.items()
                    if isinstance(m, Map)
                ]
            cols.sort(key=lambda c: (c.rank, c.id))
            self._columns = cols
            self._columns_by_id = {c.id: c for c in cols}
        return self._columns

    def _first_column(self) -> Column:
        live = self.columns()
        if not live:
            raise BoardError(f"board {self.title!r} has no columns; add one first")
        return live[0]

    def _columns_changed(self, origin: Origin) -> None:
        self._columns = None
        if self._index is not None:
            self._index = TicketIndex(self._index.places, [c.id for c in self.columns()])
        self._emit(origin, [Change(Kind.COLUMNS_CHANGED)])

    def _idx(self) -> TicketIndex:
        if self._index is None:
            with self.doc.transaction():
                places = {
                    tid: self._read_place(m)
                    for tid, m in self._tickets.items()
                    if isinstance(m, Map)
                }
            self._index = TicketIndex(places, [c.id for c in self.columns()])
        return self._index

    @staticmethod
    def _read_place(m: Map[Any]) -> Placement:
        return Placement(
            as_str(m.get("column")),
            as_str(m.get("rank")),
            bool(m.get("deleted")),
            as_int(m.get("number")),
            as_int(m.get("created_at")),
        )

    def _resolve_ticket(self, ref: str) -> str:
        idx = self._idx()
        ref = ref.strip()
        if ref in idx.places:
            return ref
        if ref.startswith("#") and ref[1:].isdigit():
            holders = idx.holders(int(ref[1:]))
            if holders:
                # Before a merge fix lands, the first-created holder owns it.
                return min(holders, key=lambda t: (idx.places[t].created_at, t))
            raise BoardError(f"no ticket {ref} on board {self.title!r}")
        raise BoardError(f"no ticket {ref!r} on board {self.title!r} (use an id or #number)")

    def _map(self, tid: str) -> Map[Any]:
        m = self._maps.get(tid)
        if m is None:
            m = self._maps[tid] = self._tickets[tid]
        return m

    def _read(self, tid: str) -> Ticket:
        m = self._map(tid)
        p = self._idx().places[tid]
        comments = m.get("comments")
        labels = m.get("labels")
        description = m.get("description")
        return Ticket(
            id=tid,
            number=p.number,
            title=as_str(m.get("title")),
            description=str(description) if description is not None else "",
            column=self._idx().display_column(p),
            stored_column=p.column,
            rank=p.rank,
            assignee=as_str(m.get("assignee")),
            labels=tuple(sorted(labels.keys())) if isinstance(labels, Map) else (),
            comments=tuple(
                Comment(
                    as_str(c.get("id")),
                    as_str(c.get("author")),
                    as_str(c.get("text")),
                    as_int(c.get("at")),
                )
                for c in (comments if isinstance(comments, Array) else [])
                if isinstance(c, Map)
            ),
            created_by=as_str(m.get("created_by")),
            created_at=p.created_at,
            updated_by=as_str(m.get("updated_by")),
            updated_at=as_int(m.get("updated_at")),
            deleted=p.deleted,
        )

    def _placement(
        self, order: list[tuple[str, str]], index: int | None, item: str
    ) -> dict[str, str]:
        return place(order, len(order) if index is None else index, item)

    def _write_ranks(self, ranks: dict[str, str], skip: str) -> None:
        idx = self._idx()
        for tid, rank in ranks.items():
            if tid == skip:
                continue
            self._map(tid)["rank"] = rank
            idx.move(tid, idx.places[tid].column, rank)

    @staticmethod
    def _moved_neighbours(ranks: dict[str, str], tid: str) -> list[Change]:
        return [Change(Kind.TICKET_MOVED, t, frozenset({"rank"})) for t in ranks if t != tid]

    def _touch(self, m: Map[Any]) -> None:
        m["updated_by"] = self.actor
        m["updated_at"] = self._clock()

    @staticmethod
    def _check_text(text: str) -> None:
        if len(text) > MAX_TEXT_LENGTH:
            raise BoardError(
                f"text is too long ({len(text)} characters, at most {MAX_TEXT_LENGTH})"
            )

    @staticmethod
    def _text(m: Map[Any]) -> Text:
        text = m.get("description")
        if not isinstance(text, Text):
            text = m["description"] = Text(as_str(text))
        return text

    @staticmethod
    def _label_map(m: Map[Any]) -> Map[Any]:
        labels = m.get("labels")
        if not isinstance(labels, Map):
            labels = m["labels"] = Map()
        return labels

    def _replace_text(self, m: Map[Any], new: str) -> bool:
        text = self._text(m)
        old = str(text)
        if old == new:
            return False
        start, removed, inserted = text_diff(old, new)
        splice_bytes(text, old, start, removed, inserted)
        return True

    # ------------------------------------------------- changes made elsewhere

    @contextmanager
    def _observing(self, origin: Origin) -> Iterator[None]:
        """Record what a transaction we did not write changes, then report it."""
        idx = self._idx()
        tickets = _TicketEvents()
        roots = _RootEvents()
        subs = [
            (self._tickets, self._tickets.observe_deep(tickets)),
            (self._columns_map, self._columns_map.observe_deep(roots.columns)),
            (self._labels, self._labels.observe_deep(roots.labels)),
            (self._board, self._board.observe_deep(roots.board)),
        ]
        try:
            yield
        finally:
            for root, sub in subs:
                root.unobserve(sub)
        touched = tickets.touched
        roots_changed = roots.changed
        changes: list[Change] = []
        if COLUMNS in roots_changed:
            self._columns = None
            idx = self._index = TicketIndex(idx.places, [c.id for c in self.columns()])
            changes.append(Change(Kind.COLUMNS_CHANGED))
        if LABELS in roots_changed:
            changes.append(Change(Kind.LABELS_CHANGED))
        if BOARD in roots_changed:
            changes.append(Change(Kind.BOARD_CHANGED, self.id))
        with self.doc.transaction():
            for tid, fields in touched.items():
                changes += self._refresh(idx, tid, fields)
            numbers: set[int] | None = {idx.places[t].number for t in touched if t in idx.places}
            # len() is O(n) in pycrdt: only when tickets came or went
            if tickets.keys_changed and len(self._tickets) != len(idx.places):
                # pycrdt can leave a deleted key out of its event when other
                # updates are pending: then trust the document, not the events.
                self._maps.clear()
                self._index = None
                idx = self._idx()
                numbers = None
        changes += self._repair(numbers)
        self._emit(origin, changes)

    def _refresh(self, idx: TicketIndex, tid: str, fields: set[str]) -> list[Change]:
        old = idx.places.get(tid)
        if "*" in fields:  # added, purged or replaced as a whole
            self._maps.pop(tid, None)
        m = self._tickets.get(tid)
        new = self._read_place(m) if isinstance(m, Map) else None
        idx.put(tid, new)
        was_live = old is not None and not old.deleted
        is_live = new is not None and not new.deleted
        if was_live and not is_live:
            return [Change(Kind.TICKET_REMOVED, tid, frozenset(fields))]
        if is_live and not was_live:
            return [Change(Kind.TICKET_ADDED, tid, frozenset(fields))]
        if not is_live:
            return []
        assert old is not None and new is not None
        changes = []
        if (old.column, old.rank) != (new.column, new.rank):
            changes.append(Change(Kind.TICKET_MOVED, tid, frozenset({"column", "rank"})))
        other = fields - {"column", "rank", "deleted"}
        if "*" in fields or other:
            changes.append(Change(Kind.TICKET_CHANGED, tid, frozenset(other)))
        return changes

    def repair(self) -> bool:
        """Apply the post-merge fixes now (after loading merged state from disk).

        Returns True if anything was fixed. Runs by itself after every
        :meth:`apply_update`.
        """
        changes = self._repair()
        self._emit(Origin.REMOTE, changes)
        return bool(changes)

    def _repair(self, numbers: set[int] | None = None) -> list[Change]:
        """Deterministic fixes after a merge (see model.numbers).

        ``numbers``: the only numbers that can clash now (those of the tickets
        a merge touched); None checks them all.
        """
        idx = self._idx()
        changes: list[Change] = []
        candidates = idx.by_number if numbers is None else {n: idx.holders(n) for n in numbers}
        clashes = {n: ids for n, ids in candidates.items() if len(ids) > 1 or n < 1}
        if clashes:
            rows = [
                (tid, n, idx.places[tid].created_at) for n, ids in clashes.items() for tid in ids
            ]
            fixes = renumbering(rows, idx.highest_number())
            with self._writing(SYSTEM_SOURCE):
                for tid, number in fixes.items():
                    self._map(tid)["number"] = number
            for tid, number in fixes.items():
                p = idx.places[tid]
                idx.put(tid, Placement(p.column, p.rank, p.deleted, number, p.created_at))
                changes.append(Change(Kind.TICKET_CHANGED, tid, frozenset({"number"})))
        if not self.columns():
            # Everyone deleted a different column at once: bring the first back,
            # even on a board with no live tickets, or one restored from the
            # trash later would show nowhere.
            deleted = self.columns(include_deleted=True)
            if deleted:
                with self._writing(SYSTEM_SOURCE):
                    self._columns_map[deleted[0].id]["deleted"] = False
                self._columns = None
                self._index = TicketIndex(idx.places, [c.id for c in self.columns()])
                changes.append(Change(Kind.COLUMNS_CHANGED))
        return changes


class _Sourced:
    """Names the source of the writes inside it and, with a transaction, runs them.

    A class rather than @contextmanager: it wraps every move, and generator
    context managers cost more than the write itself.
    """

    __slots__ = ("_board", "_boundary", "_previous", "_source", "_txn")

    def __init__(self, board: Board, source: Hashable, txn: Any, boundary: bool) -> None:
        self._board = board
        self._source = source
        self._txn = txn
        self._boundary = boundary
        self._previous: Hashable = None

    def __enter__(self) -> None:
        board = self._board
        if self._boundary:
            board._undo_clock.epoch += UNDO_BOUNDARY_MS
        self._previous, board._updates.source = board._updates.source, self._source
        if self._txn is not None:
            self._txn.__enter__()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        board = self._board
        try:
            if self._txn is not None:
                self._txn.__exit__(exc_type, exc, tb)
        except ExceptionGroup as group:  # a listener failed (e.g. the disk is full)
            raise group.exceptions[0] from group
        finally:
            board._updates.source = self._previous
        if isinstance(exc, ExceptionGroup) and exc.exceptions:
            raise exc.exceptions[0] from exc
        if self._boundary and exc_type is None:
            board._undo_clock.epoch += UNDO_BOUNDARY_MS


class _UndoClock:
    """The UndoManager's clock. pycrdt has no stopCapturing(): jumping
    ``epoch`` past the capture window makes the next change a new undo step."""

    __slots__ = ("clock", "epoch")

    def __init__(self, clock: Callable[[], int]) -> None:
        self.clock = clock
        self.epoch = 0

    def __call__(self) -> int:
        return self.clock() + self.epoch


class _UpdateFanout:
    """Hands each transaction's update to the listeners, with its source.

    pycrdt cannot read a transaction's origin while it commits, which is when
    this runs; so every write names its source here first (see _Sourced).
    """

    __slots__ = ("listeners", "source")

    def __init__(self) -> None:
        self.listeners: list[UpdateListener] = []
        self.source: Hashable = LOCAL_SOURCE

    def __call__(self, event: Any) -> None:
        update: bytes = event.update
        if update == b"\x00\x00":
            return
        for listener in list(self.listeners):
            listener(update, self.source)


_EVENTS = inspect.Signature([inspect.Parameter("events", inspect.Parameter.POSITIONAL_ONLY)])


class _TicketEvents:
    """Collects which tickets (and fields) a transaction touched.

    A callable with a ready ``__signature__``: pycrdt inspects the signature of
    every observer it is given, which otherwise costs more than applying a
    small update.
    """

    __signature__ = _EVENTS

    def __init__(self) -> None:
        self.touched: dict[str, set[str]] = {}
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
                touched.setdefault(str(path[0]), set()).update(getattr(ev, "keys", {}) or {})
            else:
                touched.setdefault(str(path[0]), set()).add(str(path[1]))


class _RootEvents:
    """Notes which of the other roots a transaction touched."""

    def __init__(self) -> None:
        self.changed: set[str] = set()
        self.columns = _Mark(self.changed, COLUMNS)
        self.labels = _Mark(self.changed, LABELS)
        self.board = _Mark(self.changed, BOARD)


class _Mark:
    __signature__ = _EVENTS

    def __init__(self, into: set[str], name: str) -> None:
        self.into = into
        self.name = name

    def __call__(self, events: list[Any]) -> None:
        self.into.add(self.name)
