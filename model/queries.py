"""The reading half of :class:`lanban.model.board.Board`: what a board shows.

Columns and tickets come in display order from the cache (model.cache);
references a user types (a column's title, ``#12``, a label's name) resolve
here to ids, with errors a user can act on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pycrdt import Doc, Map

from . import codec
from .cache import BoardCache
from .changes import ChangeTracker
from .errors import BoardError
from .limits import MAX_TITLE_LENGTH
from .reading import entries, flag, read_value, string
from .schema import Column, Label, Ticket
from .writes import Writes


class BoardQueries:
    """Not thread-safe: use a board from one thread (DESIGN.md 2)."""

    doc: Doc[Any]
    actor: str
    _clock: Callable[[], int]
    _cache: BoardCache
    _writes: Writes
    _changes: ChangeTracker

    # ---------------------------------------------------------------- board-level

    @property
    def id(self) -> str:
        return self._cache.board_id()

    @property
    def title(self) -> str:
        return codec.board_title(self._cache.board)

    @property
    def schema(self) -> int:
        return codec.board_schema(self._cache.board)

    @property
    def created_at(self) -> int:
        return codec.board_created_at(self._cache.board)

    # -------------------------------------------------------------------- columns

    def columns(self, *, include_deleted: bool = False) -> list[Column]:
        cols = self._cache.all_columns()
        return cols if include_deleted else [c for c in cols if not c.deleted]

    def column(self, ref: str, *, include_deleted: bool = False) -> Column:
        """A column by id or by (case-insensitive, unique) title."""
        cols = self._cache.all_columns()
        by_id = self._cache.columns_by_id
        if ref in by_id and (include_deleted or not by_id[ref].deleted):
            return by_id[ref]
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

    def _first_column(self) -> Column:
        live = self.columns()
        if not live:
            raise BoardError(f"board {self.title!r} has no columns; add one first")
        return live[0]

    # -------------------------------------------------------------------- tickets

    def ticket_ids(self, column: str) -> list[str]:
        """Live tickets showing in ``column``, in display order."""
        return [entry[1] for entry in self._cache.idx().order(self.column(column).id)]

    def tickets(self, column: str | None = None, *, include_deleted: bool = False) -> list[Ticket]:
        """Tickets in display order: of one column, or of the board column by column.

        With ``include_deleted``, the trash follows, by number.
        """
        cache = self._cache
        with self.doc.transaction():
            columns = [self.column(column)] if column is not None else self.columns()
            idx = cache.idx()
            result = [cache.read_ticket(tid) for c in columns for _, tid in idx.order(c.id)]
            if include_deleted:
                trash = [tid for tid, p in idx.places.items() if p.deleted]
                result += sorted((cache.read_ticket(t) for t in trash), key=lambda t: t.number)
        return result

    def trash(self) -> list[Ticket]:
        cache = self._cache
        with self.doc.transaction():
            trash = [cache.read_ticket(t) for t, p in cache.idx().places.items() if p.deleted]
        return sorted(trash, key=lambda t: t.number)

    def ticket(self, ref: str) -> Ticket:
        """A ticket by id or ``#number`` (trashed ones too)."""
        with self.doc.transaction():
            return self._cache.read_ticket(self._resolve_ticket(ref))

    def column_of(self, ticket: str) -> str | None:
        """Where a ticket shows (None while it is in the trash)."""
        tid = self._resolve_ticket(ticket)
        idx = self._cache.idx()
        p = idx.places[tid]
        return None if p.deleted else idx.display_column(p)

    def description(self, ticket: str) -> str:
        return codec.description_of(self._cache.ticket_map(self._resolve_ticket(ticket)))

    def _resolve_ticket(self, ref: str) -> str:
        idx = self._cache.idx()
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

    # --------------------------------------------------------------------- labels

    def labels(self) -> list[Label]:
        with self.doc.transaction():
            result = [codec.read_label(lid, m) for lid, m in entries(self._cache.labels, "label")]
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

    # -------------------------------------------------------------------- members

    def member_name(self, name: str) -> str:
        """``name`` as the board's member list spells it, if a current member
        is called that (ignoring case); otherwise ``name`` as given (a free-text
        assignee). The list: model.members."""
        folded = name.casefold()
        if not folded:
            return name
        members = self.doc.get("members", type=Map)
        with self.doc.transaction():
            for _, m in entries(members, "member"):
                known = string(read_value(m, "name"), "", MAX_TITLE_LENGTH).strip()
                if known.casefold() == folded and not flag(read_value(m, "removed"), ""):
                    return known
        return name
