"""The writing half of :class:`lanban.model.board.Board`: what a user can do.

Each command checks its input, writes through the gateway (model.writes) in
one transaction, keeps the cache in step and tells listeners what changed.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

from pycrdt import Map

from . import codec
from .card_codec import check_assignees, read_assignees, with_first, write_assignees
from .due import parse_due
from .errors import BoardError
from .events import Change, Kind, Origin
from .index import Placement
from .limits import DEFAULT_LABEL_COLOR, MAX_LABEL_NAME_LENGTH
from .ordering import Entry, place
from .queries import BoardQueries
from .reading import printable, read_value
from .schema import Column, Label, Ticket, new_id
from .text import splice_bytes, text_diff
from .writes import (
    check_color,
    check_replaceable,
    check_text,
    check_wip,
    clean,
    put,
    replaceable,
)

_MOVED = frozenset({"rank"})
MOVE_KEYS = ("column", "rank")


class BoardCommands(BoardQueries):
    # ---------------------------------------------------------------- board-level

    def rename(self, title: str) -> None:
        title = clean(title, "A board title")
        check_replaceable(self._cache.board, ["title"], "the board")
        with self._writes.local():
            self._cache.board["title"] = title
        self._changes.emit(
            Origin.LOCAL, [Change(Kind.BOARD_CHANGED, self.id, frozenset({"title"}))]
        )

    # -------------------------------------------------------------------- columns

    def add_column(self, title: str, *, index: int | None = None, wip_limit: int = 0) -> str:
        title = clean(title, "A column title")
        check_wip(wip_limit)
        column_id = new_id()
        ranks = _placement([(c.rank, c.id) for c in self.columns()], index, column_id)
        columns = self._cache.columns
        for other in ranks:
            if other != column_id:
                check_replaceable(columns[other], ["rank"], "a column")
        with self._writes.local():
            columns[column_id] = codec.column_map(
                Column(column_id, title, ranks.pop(column_id), wip_limit, False)
            )
            for other, rank in ranks.items():
                columns[other]["rank"] = rank
        self._columns_changed()
        return column_id

    def rename_column(self, column: str, title: str) -> None:
        col = self.column(column)
        self._set_column(col.id, title=clean(title, "A column title"))

    def set_wip_limit(self, column: str, limit: int) -> None:
        check_wip(limit)
        self._set_column(self.column(column).id, wip_limit=limit)

    def move_column(self, column: str, index: int) -> None:
        col = self.column(column)
        others = [(c.rank, c.id) for c in self.columns() if c.id != col.id]
        ranks = _placement(others, index, col.id)
        for column_id in ranks:
            check_replaceable(self._cache.columns[column_id], ["rank"], "a column")
        with self._writes.local():
            for column_id, rank in ranks.items():
                self._cache.columns[column_id]["rank"] = rank
        self._columns_changed()

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
        check_replaceable(self._cache.columns[column_id], fields, "a column")
        with self._writes.local():
            m = self._cache.columns[column_id]
            for key, value in fields.items():
                m[key] = value
        self._columns_changed()

    def _columns_changed(self) -> None:
        self._cache.columns_changed()
        self._changes.emit(Origin.LOCAL, [Change(Kind.COLUMNS_CHANGED)])

    # -------------------------------------------------------------------- tickets

    def add_ticket(
        self,
        title: str,
        column: str | None = None,
        *,
        index: int | None = None,
        description: str = "",
        assignee: str = "",
        labels: Iterable[str] = (),
        assignees: Iterable[str] | None = None,
        due: str = "",
    ) -> str:
        """``assignees`` (names) replaces ``assignee`` when given; ``due`` as
        model.due.parse_due takes it."""
        title = clean(title, "A ticket title")
        description = printable(description, lines=True)
        check_text(description)
        people = self._assignees([assignee] if assignees is None else assignees)
        due = parse_due(due)
        col = self.column(column) if column is not None else self._first_column()
        label_ids = tuple(self.label(ref).id for ref in labels)
        cache = self._cache
        idx = cache.idx()
        tid = new_id()
        ranks = _placement(idx.order(col.id), index, tid)
        now = self._clock()
        ticket = Ticket(
            id=tid,
            number=idx.next_number(),
            title=title,
            description=description,
            column=col.id,
            stored_column=col.id,
            rank=ranks[tid],
            assignee=people[0] if people else "",
            labels=label_ids,
            comments=(),
            created_by=self.actor,
            created_at=now,
            updated_by=self.actor,
            updated_at=now,
            deleted=False,
            assignees=people,
            due=due,
        )
        m = codec.ticket_map(ticket)
        self._check_ranks(ranks, skip=tid)
        with self._writes.local():
            cache.tickets[tid] = m  # m is now the ticket's Map in the document
            self._write_ranks(ranks, skip=tid)
        cache.maps[tid] = m
        idx.put(tid, Placement(col.id, ticket.rank, False, ticket.number, now))
        changes = [Change(Kind.TICKET_ADDED, tid)]
        changes += _moved_neighbours(ranks, tid)
        self._changes.emit(Origin.LOCAL, changes)
        return tid

    def edit_ticket(
        self,
        ticket: str,
        *,
        title: str | None = None,
        description: str | None = None,
        assignee: str | None = None,
        labels: Iterable[str] | None = None,
        assignees: Iterable[str] | None = None,
        due: str | None = None,
    ) -> None:
        """Set the given fields; ``labels`` replaces the set (names or ids),
        ``assignees`` the assignees; ``assignee`` alone sets the first one, as
        an older client's write of it reads (card_codec.with_first: "" clears);
        ``due`` as model.due.parse_due takes it ("" or "none" clears it)."""
        tid = self._resolve_ticket(ticket)
        fields: set[str] = set()
        clean_title = clean(title, "A ticket title") if title is not None else None
        if description is not None:
            description = printable(description, lines=True)
            check_text(description)
        m = self._cache.ticket_map(tid)
        people = self._assignees(assignees) if assignees is not None else None
        if people is None and assignee is not None:  # the first one, as older clients set it
            first = self._assignees([assignee])
            people = with_first(read_assignees(m), first[0] if first else "")
        due = parse_due(due) if due is not None else None
        wanted = {self.label(ref).id for ref in labels} if labels is not None else None
        keys = [k for k, v in (("title", title), ("due", due)) if v is not None]
        keys += ["updated_by", "updated_at"]
        if people is not None:
            keys += ["assignee", "assignees"]
        if description is not None:
            keys.append("description")
        if wanted is not None:
            keys.append("labels")
        check_replaceable(m, keys, f"ticket {ticket}")
        with self._writes.local():
            lists = codec.TicketLists((), (), read_assignees(m))
            current = codec.read_ticket(tid, m, self._cache.idx().places[tid], None, lists=lists)
            if clean_title is not None and clean_title != current.title:
                m["title"] = clean_title
                fields.add("title")
            if people is not None and people != current.assignees:
                write_assignees(m, people)
                fields.add("assignee")
            if due is not None and due != current.due:
                m["due"] = due
                fields.add("due")
            if description is not None and _replace_text(m, description):
                fields.add("description")
            if wanted is not None:
                have = set(current.labels)
                if have != wanted:
                    label_set = codec.label_set(m)
                    for lid in have - wanted:
                        del label_set[lid]
                    for lid in wanted - have:
                        label_set[lid] = True
                    fields.add("labels")
            if fields:
                codec.touch(m, self.actor, self._clock())
        if fields:
            self._cache.lists.pop(tid, None)
            self._changes.emit(Origin.LOCAL, [Change(Kind.TICKET_CHANGED, tid, frozenset(fields))])

    def _assignees(self, names: Iterable[str]) -> tuple[str, ...]:
        """Names as given, tidied, each once; a member's name as the member
        list spells it (model.card_queries.member_name)."""
        result: list[str] = []
        for name in names:
            name = self.member_name(" ".join(printable(name).split()))
            if name and name not in result:
                result.append(name)
        check_assignees(result)
        return tuple(result)

    def splice_description(self, ticket: str, start: int, removed: int, inserted: str) -> None:
        """Replace ``removed`` characters at ``start`` (Python string indices).

        This is the collaborative path: only the edited range changes, so
        concurrent typing elsewhere in the description survives.
        """
        tid = self._resolve_ticket(ticket)
        m = self._cache.ticket_map(tid)
        check_replaceable(m, ["description", "updated_by", "updated_at"], f"ticket {ticket}")
        inserted = printable(inserted, lines=True)
        with self._writes.local(boundary=False):
            text = codec.description_text(m)
            current = str(text)
            # The range is in the description as shown: without a peer's escapes.
            shown = printable(current, lines=True)
            if not (0 <= start <= len(shown) and 0 <= removed <= len(shown) - start):
                raise BoardError(
                    f"edit range {start}+{removed} is outside the description "
                    f"({len(shown)} characters)"
                )
            check_text(shown[:start] + inserted + shown[start + removed :])
            if shown == current:
                splice_bytes(text, current, start, removed, inserted)
            else:  # the escapes go too
                _replace_text(m, shown[:start] + inserted + shown[start + removed :])
            codec.touch(m, self.actor, self._clock())
        self._changes.emit(
            Origin.LOCAL, [Change(Kind.TICKET_CHANGED, tid, frozenset({"description"}))]
        )

    def move_ticket(self, ticket: str, column: str, index: int | None = None) -> None:
        """Put a ticket at ``index`` of ``column`` as the user sees it (None = end)."""
        # The hot path of every drag and drop: no lookup twice.
        cache = self._cache
        idx = cache.index or cache.idx()
        current = idx.places.get(ticket)
        tid = ticket if current is not None else self._resolve_ticket(ticket)
        current = idx.places[tid]
        if current.deleted:
            raise BoardError(f"ticket #{current.number} is in the trash; restore it first")
        col = cache.columns_by_id.get(column) if cache.column_list is not None else None
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
        if current.tainted:
            check_replaceable(cache.ticket_map(tid), MOVE_KEYS, f"ticket #{current.number}")
        if len(ranks) > 1:
            self._check_ranks(ranks, skip=tid)
        with self._writes.local():
            m = cache.ticket_map(tid)
            if current.column != column_id:
                put(m, "column", column_id)
            put(m, "rank", rank)
            if len(ranks) > 1:
                self._write_ranks(ranks, skip=tid)
        idx.move(tid, column_id, rank)
        if self._changes.listeners:
            changes = [Change(Kind.TICKET_MOVED, tid, codec.MOVE_FIELDS)]
            self._changes.emit(Origin.LOCAL, changes + _moved_neighbours(ranks, tid))

    def delete_ticket(self, ticket: str) -> None:
        """Move a ticket to the trash (restorable)."""
        self._set_deleted(ticket, True)

    def restore_ticket(self, ticket: str) -> None:
        self._set_deleted(ticket, False)

    def purge_ticket(self, ticket: str) -> None:
        """Remove a ticket from the trash for good."""
        tid = self._resolve_ticket(ticket)
        cache = self._cache
        idx = cache.idx()
        if not idx.places[tid].deleted:
            raise BoardError(
                f"ticket #{idx.places[tid].number} is not in the trash; delete it before purging"
            )
        if not replaceable(cache.ticket_map(tid)):
            raise BoardError(
                f"ticket #{idx.places[tid].number} holds data nested too deep to delete "
                "safely (written by another client); it stays in the trash"
            )
        with self._writes.local():
            del cache.tickets[tid]
        cache.maps.pop(tid, None)
        cache.lists.pop(tid, None)
        idx.put(tid, None)
        self._changes.emit(Origin.LOCAL, [Change(Kind.TICKET_REMOVED, tid, frozenset({"purged"}))])

    def _set_deleted(self, ticket: str, deleted: bool) -> None:
        tid = self._resolve_ticket(ticket)
        idx = self._cache.idx()
        p = idx.places[tid]
        if p.deleted == deleted:
            where = "in the trash" if deleted else "not in the trash"
            raise BoardError(f"ticket #{p.number} is already {where}")
        m = self._cache.ticket_map(tid)
        check_replaceable(m, ["deleted", "updated_by", "updated_at"], f"ticket #{p.number}")
        with self._writes.local():
            m["deleted"] = deleted
            codec.touch(m, self.actor, self._clock())
        idx.put(tid, Placement(p.column, p.rank, deleted, p.number, p.created_at, p.tainted))
        kind = Kind.TICKET_REMOVED if deleted else Kind.TICKET_ADDED
        self._changes.emit(Origin.LOCAL, [Change(kind, tid, frozenset({"deleted"}))])

    def _check_ranks(self, ranks: dict[str, str], skip: str) -> None:
        """Before :meth:`_write_ranks`: the neighbours' ranks can be replaced."""
        places = self._cache.idx().places
        for tid in ranks:
            if tid != skip and places[tid].tainted:
                check_replaceable(self._cache.ticket_map(tid), ["rank"], "a neighbouring ticket")

    def _write_ranks(self, ranks: dict[str, str], skip: str) -> None:
        """Neighbours' new ranks (inside the caller's transaction)."""
        cache = self._cache
        idx = cache.idx()
        for tid, rank in ranks.items():
            if tid != skip:
                put(cache.ticket_map(tid), "rank", rank)
                idx.move(tid, idx.places[tid].column, rank)

    # --------------------------------------------------------------------- labels

    def add_label(self, name: str, color: str = DEFAULT_LABEL_COLOR) -> str:
        name = clean(name, "A label name", MAX_LABEL_NAME_LENGTH)
        color = check_color(color)
        if any(lb.name.casefold() == name.casefold() for lb in self.labels()):
            raise BoardError(f"a label called {name!r} exists already")
        lid = new_id()
        with self._writes.local():
            self._cache.labels[lid] = codec.label_map(Label(lid, name, color))
        self._changes.emit(Origin.LOCAL, [Change(Kind.LABELS_CHANGED, lid)])
        return lid

    def ensure_label(self, name: str, color: str = DEFAULT_LABEL_COLOR) -> str:
        try:
            return self.label(name).id
        except BoardError:
            return self.add_label(name, color)

    def delete_label(self, ref: str) -> None:
        """Delete a label and take it off every ticket."""
        label = self.label(ref)
        check_replaceable(self._cache.labels, [label.id], f"label {label.name!r}")
        for m in self._cache.tickets.values():
            if isinstance(m, Map):
                labels = read_value(m, "labels")
                if isinstance(labels, Map):
                    check_replaceable(labels, [label.id], "a ticket's labels")
        touched = []
        with self._writes.local():
            del self._cache.labels[label.id]
            for tid, m in self._cache.tickets.items():
                labels = m.get("labels") if isinstance(m, Map) else None
                if isinstance(labels, Map) and label.id in labels:
                    del labels[label.id]
                    touched.append(tid)
        changes = [Change(Kind.LABELS_CHANGED, label.id)]
        changes += [Change(Kind.TICKET_CHANGED, t, frozenset({"labels"})) for t in touched]
        self._changes.emit(Origin.LOCAL, changes)


def _placement(order: list[Entry], index: int | None, item: str) -> dict[str, str]:
    return place(order, len(order) if index is None else index, item)


def _moved_neighbours(ranks: dict[str, str], tid: str) -> list[Change]:
    return [Change(Kind.TICKET_MOVED, t, _MOVED) for t in ranks if t != tid]


def _replace_text(m: Map[Any], new: str) -> bool:
    text = codec.description_text(m)
    old = str(text)
    if old == new:
        return False
    start, removed, inserted = text_diff(old, new)
    splice_bytes(text, old, start, removed, inserted)
    return True
