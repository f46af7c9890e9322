"""A typed board over one pycrdt Doc, following DESIGN.md section 3.

:class:`Board` is the one public face of the model. Its parts:

- model.queries and model.commands: what it shows and what a user can do;
- model.cards and model.checklists: comments, labels, due dates, assignees
  and checklists (issue 11);
- model.writes: the write gateway (every transaction, the limits, undo);
- model.cache: the column list, ticket index and Maps it keeps;
- model.changes: board events, and what transactions made elsewhere changed;
- model.repair: the deterministic fixes after a merge;
- model.codec: Maps to typed values and back.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from pycrdt import Doc, Snapshot

from . import codec
from .activity import Activity, Feed
from .audit import audit
from .away import Away, Meta, away, mark_seen
from .cache import BoardCache
from .cards import CardCommands
from .changes import ChangeTracker, EventListener
from .checklists import ChecklistCommands
from .clients import LABEL_DELETED, PURGED, ClientStamp
from .errors import BoardError
from .events import Origin
from .history import History, KeptHistory, collecting_later
from .limits import DEFAULT_COLUMNS
from .moments import Moment, TimeTravel, moment_at, moments
from .ordering import rank_after
from .reading import Ignored, printable
from .repair import repair
from .restore import Restored, restore, restore_ticket
from .schema import REMOTE_SOURCE, Column, new_doc, new_id, now_ms
from .writes import UpdateListener, Writes, clean


class Board(ChecklistCommands, CardCommands):
    """One kanban board. Not thread-safe: use it from one thread (DESIGN.md 2)."""

    def __init__(
        self,
        doc: Doc[Any] | None = None,
        *,
        actor: str = "",
        clock: Callable[[], int] = now_ms,
        board_id: str = "",
    ) -> None:
        """``board_id``: the id this board is known by (its file's); by default
        the first the document states. See :attr:`id`."""
        self.doc = doc if doc is not None else new_doc()
        self.actor = printable(actor)  # written as created_by, updated_by, author
        self._clock = clock
        cache = self._cache = BoardCache(self.doc)
        cache.known_id = board_id
        writes = self._writes = Writes(self.doc, cache.roots(), clock)
        self._changes = ChangeTracker(
            cache, lambda numbers, columns: repair(cache, writes, numbers, columns)
        )
        self._stamp = writes.stamp = ClientStamp(self.doc, clock, self)
        self._kept = KeptHistory()  # the history read so far, its feed and time travel
        self._feed = Feed()
        self._travel: TimeTravel | None = None

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
        board = cls(actor=actor, clock=clock, board_id=board_id or new_id())
        title = clean(title, "A board title")
        names = [clean(c, "A column title") for c in columns]
        cache = board._cache
        with board._writes.system():
            cache.board.update(codec.board_fields(board.id, title, clock()))
            rank = None
            for name in names:
                rank = rank_after(rank)
                column_id = new_id()
                cache.columns[column_id] = codec.column_map(Column(column_id, name, rank, 0, False))
        return board

    @classmethod
    def from_update(cls, update: bytes, *, actor: str = "", board_id: str = "") -> Board:
        board = cls(actor=actor, board_id=board_id)
        board.doc.apply_update(update)
        return board

    def close(self) -> None:
        """End the document's observers: pycrdt's Rust side holds each observer's
        callback, and the callback holds the Doc, a cycle Python's collector cannot
        see, so a dropped board (and all pycrdt held aside in it) would never be
        freed. The board takes no more events afterwards."""
        doc = self.doc
        for subscription in list(doc._subscriptions):
            doc.unobserve(subscription)

    # ------------------------------------------------------- trust (issue 9)

    def ignored(self) -> Ignored:
        """What of the document the board ignores (values of the wrong type,
        out of range, too long or too many, another board id), by field and
        reason. Reads the whole document: call it once, not per query."""
        return audit(self._cache)

    def snapshot(self) -> bytes:
        """A small token for the board as it is now; see :meth:`as_of`."""
        return Snapshot.from_doc(self.doc).encode()

    def as_of(self, snapshot: bytes) -> Board:
        """This board as it was when :meth:`snapshot` gave ``snapshot``: a
        separate board to read, or to :meth:`restore_from`.

        Raises ``ValueError`` for bytes that are no snapshot.
        """
        try:
            earlier = Doc.from_snapshot(Snapshot.decode(snapshot), self.doc)
        except Exception as exc:  # pycrdt raises bare exceptions for bad bytes
            raise ValueError(f"not a board snapshot: {exc}") from exc
        return Board(earlier, actor=self.actor, board_id=self.id)

    def can_undo_remote(self) -> bool:
        return self._writes.can_undo_remote()

    def undo_remote(self) -> bool:
        """Undo the last change that reached this board from elsewhere (another
        member's, or another process's on this machine), as this user's own
        change: it syncs like any edit, and others' later work stays.

        Only changes applied since this board was opened; see
        :meth:`restore_from` for an earlier state.
        """
        with self._changes.observing(Origin.LOCAL):
            return self._writes.undo_remote()

    def restore_from(self, earlier: Board) -> Restored:
        """Bring back what ``earlier`` (this board at an earlier point) had and
        this board lacks or has deleted, as this user's change (see model.restore)."""
        return restore(self, earlier)

    # ------------------------------------------------------ history (issue 11)

    def history(self) -> History:
        """Every change of the board, from its document (model.history)."""
        last = self._kept.history
        history = self._kept.read(self.doc)
        if history is not last:
            self._travel = None
        return history

    def keep_history(self, blob: bytes) -> None:
        """Start from a history kept on disk (model.history_blob); bytes that
        do not fit this board are dropped when the history is next read."""
        self._kept.keep_from(blob, self.id)

    def kept_history(self) -> bytes | None:
        """The history read so far as bytes to keep, if it grew since kept (else None)."""
        return self._kept.dump(self.id)

    def activity(self, ticket: str | None = None) -> list[Activity]:
        """The activity feed, newest first; one ticket's (a reference) if given."""
        tid = None if ticket is None else self._history_ticket(ticket)
        with collecting_later():  # the history and the feed: one pause, one collection after
            return self._feed.entries(self.history(), ticket=tid)

    def moments(self) -> list[Moment]:
        """Where a history slider can stop: one moment per change, oldest first."""
        history = self.history()
        return moments(history, self._feed.summaries(history))

    def moment_at(self, at_ms: int) -> int | None:
        """The last moment at or before ``at_ms`` (None: before the first change)."""
        return moment_at(self.history(), at_ms)

    def at_moment(self, index: int) -> Board:
        """This board as it was just after moment ``index``, to read (or to restore from)."""
        history = self.history()
        if self._travel is None:
            self._travel = TimeTravel(history)
        return self.as_of(self._travel.snapshot(index))

    def restore_ticket_from(self, earlier: Board, ticket: str) -> bool:
        """Bring one ticket's fields back to what ``earlier`` shows, as this
        user's change (see model.restore.restore_ticket)."""
        return restore_ticket(self, earlier, ticket)

    def away(self, store: Meta) -> Away:
        """The changes others made since this user last marked the board seen
        (the marks are kept in ``store``: a board file's meta, model.away)."""
        history = self.history()
        return away(history, store, self.actor, self._stamp.member, self._feed.entries(history))

    def mark_seen(self, store: Meta, ticket: str | None = None) -> None:
        """Mark the whole board seen, or one ticket (a reference)."""
        tid = None if ticket is None else self._history_ticket(ticket)
        mark_seen(self.history(), store, ticket=tid, now_ms=self._clock())

    def set_member(self, member_id: str) -> None:
        """This node's member id (PROTOCOL.md 7.2): its ``clients`` entry names
        it, so the history shows the member's name for its changes."""
        self._stamp.member = member_id

    def _history_ticket(self, ref: str) -> str:
        try:
            return self._resolve_ticket(ref)
        except BoardError:
            if any(c.root == "tickets" and c.entity == ref for c in self.history().changes):
                return ref  # a purged ticket, by its id
            raise

    def purge_ticket(self, ticket: str) -> None:
        tid = self._resolve_ticket(ticket)
        with self._writes.local():
            super().purge_ticket(tid)
            self._stamp.note(PURGED, tid)

    def delete_label(self, ref: str) -> None:
        label_id = self.label(ref).id
        with self._writes.local():
            super().delete_label(label_id)
            self._stamp.note(LABEL_DELETED, label_id)

    # ---------------------------------------------------------------- undo / redo

    def can_undo(self) -> bool:
        return self._writes.can_undo()

    def can_redo(self) -> bool:
        return self._writes.can_redo()

    def undo(self) -> bool:
        """Undo this user's last change (never another peer's), and only that
        one: if others' writes have since replaced all it wrote, nothing changes
        and this returns False (the step is used up)."""
        with self._changes.observing(Origin.LOCAL):
            return self._writes.undo()

    def redo(self) -> bool:
        with self._changes.observing(Origin.LOCAL):
            return self._writes.redo()

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
        with self._changes.observing(Origin.REMOTE):
            try:
                self._writes.apply(update, source)
            except (BoardError, OSError):
                raise
            except Exception as exc:  # pycrdt raises bare exceptions for bad bytes
                raise ValueError(f"not a valid board update: {exc}") from exc

    def on_update(
        self, listener: UpdateListener, *, first: bool = False, after_commit: bool = False
    ) -> Callable[[], None]:
        """Call ``listener(update, source)`` with the bytes of every transaction.

        ``source`` is LOCAL_SOURCE for this user's edits and undo/redo,
        SYSTEM_SOURCE for fixes, or what was passed to :meth:`apply_update`.
        Listeners run in order; ``first`` puts this one before the others.
        They run while pycrdt commits; ``after_commit`` ones once the write has
        committed, before the call that wrote returns (the board file's fsync).
        """
        return self._writes.on_update(listener, first=first, after_commit=after_commit)

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Call ``listener(BoardEvent)`` after every transaction that changed something."""
        return self._changes.subscribe(listener)

    def repair(self) -> bool:
        """Apply the post-merge fixes now (after loading merged state from disk).

        Returns True if anything was fixed. Runs by itself after every
        :meth:`apply_update`.
        """
        changes = repair(self._cache, self._writes, None)
        self._changes.emit(Origin.REMOTE, changes)
        return bool(changes)
