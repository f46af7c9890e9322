"""Undoing a wipe: bringing back what a board had at an earlier point (issue 9).

Any key holder can delete every ticket and column in one small update, and
purge them so the trash is empty. Board documents keep their whole history
(garbage collection is off, DESIGN.md 8), so the board as it was before is
still readable: from a pycrdt snapshot taken then (Board.as_of), or from the
updates a board file had logged up to then (Board.from_update).

:func:`restore` writes what that earlier board had and this one lacks, as
this user's ordinary change: undoable, sent to peers like any edit. History
is never rewritten; what others did since stays.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pycrdt import Map

from . import codec
from .errors import BoardError
from .events import Change, Kind, Origin
from .numbers import free_numbers
from .reading import read_value
from .schema import Column, Ticket
from .writes import check_replaceable, replaceable

if TYPE_CHECKING:
    from .commands import BoardCommands
    from .queries import BoardQueries


@dataclass(frozen=True, slots=True)
class Restored:
    """What a restore brought back."""

    columns: int = 0
    labels: int = 0
    tickets: int = 0

    @property
    def total(self) -> int:
        return self.columns + self.labels + self.tickets


def restore(board: BoardQueries, earlier: BoardQueries, *, only_ticket: str = "") -> Restored:
    """Bring back to ``board`` the columns, labels and tickets that
    ``earlier`` had and ``board`` lacks or has deleted.

    A column or ticket deleted here but live there is undeleted; one missing
    here (purged, or its entry removed) is written again with its id and its
    fields as they were, in the trash if it was in the trash there. A ticket
    whose number another ticket holds now gets a new one. A missing board
    title comes back too. With ``only_ticket`` (an id): that ticket alone.
    """
    cache = board._cache
    here_columns = {c.id: c for c in board.columns(include_deleted=True)}
    here_labels = {label.id for label in board.labels()}
    idx = cache.idx()
    taken = set(idx.by_number)
    columns: list[tuple[str, Column | None]] = []  # None: undelete
    for column in [] if only_ticket else earlier.columns():
        here = here_columns.get(column.id)
        if here is None:
            columns.append((column.id, column))
        elif here.deleted:
            columns.append((column.id, None))
    labels = [
        label for label in earlier.labels() if label.id not in here_labels and not only_ticket
    ]
    tickets: list[tuple[str, Ticket | None]] = []  # None: out of the trash
    for ticket in earlier.tickets(include_deleted=True):
        if only_ticket and ticket.id != only_ticket:
            continue
        place = idx.places.get(ticket.id)
        if place is None:
            number = ticket.number
            if number < 1 or number in taken:
                number = free_numbers(taken, max(taken, default=0), 1)[0]
            taken.add(number)
            tickets.append((ticket.id, replace(ticket, number=number, column=ticket.stored_column)))
        elif place.deleted and not ticket.deleted:
            tickets.append((ticket.id, None))
    # What cannot be replaced safely (writes.replaceable) stays as it is.
    columns = [(c, new) for c, new in columns if _free(cache.columns, c, new, "deleted")]
    labels = [label for label in labels if replaceable(read_value(cache.labels, label.id))]
    tickets = [(t, new) for t, new in tickets if _free(cache.tickets, t, new, "deleted")]
    title = earlier.title if not board.title and earlier.title and not only_ticket else None
    if title is not None and not replaceable(read_value(cache.board, "title")):
        title = None
    if not (columns or labels or tickets or title):
        return Restored()
    for ticket_id, recreated in tickets:
        if recreated is None:
            check_replaceable(cache.ticket_map(ticket_id), ["updated_by", "updated_at"], "a ticket")
    with board._writes.local():
        if title is not None:
            cache.board["title"] = title
        for column_id, recreated_column in columns:
            if recreated_column is None:
                cache.columns[column_id]["deleted"] = False
            else:
                cache.columns[column_id] = codec.column_map(recreated_column)
        for label in labels:
            cache.labels[label.id] = codec.label_map(label)
        now = board._clock()
        for ticket_id, recreated in tickets:
            if recreated is None:
                m = cache.ticket_map(ticket_id)
                m["deleted"] = False
                codec.touch(m, board.actor, now)
            else:
                cache.tickets[ticket_id] = codec.ticket_map(recreated)
    cache.columns_changed()
    cache.forget_tickets()
    changes = [Change(Kind.TICKET_ADDED, ticket_id) for ticket_id, _ in tickets]
    if columns:
        changes.append(Change(Kind.COLUMNS_CHANGED))
    if labels:
        changes.append(Change(Kind.LABELS_CHANGED))
    if title is not None:
        changes.append(Change(Kind.BOARD_CHANGED, board.id, frozenset({"title"})))
    board._changes.emit(Origin.LOCAL, changes)
    return Restored(len(columns), len(labels), len(tickets))


def _free(root: Map[Any], key: str, new: object, flag: str) -> bool:
    """Whether what restore writes under ``key`` (a new entry, or the entry's
    ``flag`` when ``new`` is None) can be written."""
    entry = read_value(root, key)
    if new is not None or not isinstance(entry, Map):
        return replaceable(entry)
    return replaceable(read_value(entry, flag))


def restore_ticket(board: BoardCommands, earlier: BoardQueries, ref: str) -> bool:
    """Bring one ticket back to what ``earlier`` (this board at an earlier
    moment) shows: its title, description, column, assignees, labels (those
    that exist now), due date and whether it is in the trash, as one change
    of this user's. Its comments and checklist stay as they are now (others'
    later comments and ticks are kept). A ticket purged since is written
    again as :func:`restore` does. Returns whether anything changed.
    """
    try:
        then = earlier.ticket(ref)
    except BoardError:
        raise BoardError(f"ticket {ref} did not exist at that moment") from None
    if board._cache.idx().places.get(then.id) is None:
        return restore(board, earlier, only_ticket=then.id).total > 0
    now = board.ticket(then.id)
    labels_here = {label.id for label in board.labels()}
    fields: dict[str, Any] = {}
    if then.title != now.title:
        fields["title"] = then.title
    if then.description != now.description:
        fields["description"] = then.description
    if then.assignees != now.assignees:
        fields["assignees"] = then.assignees
    wanted = [label for label in then.labels if label in labels_here]
    if set(wanted) != set(now.labels):
        fields["labels"] = wanted
    if then.due != now.due:
        fields["due"] = then.due
    column = then.stored_column
    live = {c.id for c in board.columns()}
    move = column != now.stored_column and column in live
    trash = then.deleted != now.deleted
    if not (fields or move or trash):
        return False
    with board._writes.local():
        if trash and not then.deleted:
            board.restore_ticket(then.id)
        if fields:
            board.edit_ticket(then.id, **fields)
        if move:
            board.move_ticket(then.id, column)
        if trash and then.deleted:
            board.delete_ticket(then.id)
    return True
