"""Comments, labels, due dates and assignees of a board (issue 11: richer cards).

A mixin of :class:`lanban.model.board.Board`, like model.commands. Comments:
only their author (the board's ``actor``) edits or deletes them; an edit
records ``edited_at``; a delete is soft (``deleted: true``, the text stays in
the document) and queries leave deleted comments out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import tzinfo
from typing import Any, Protocol

from pycrdt import Array, Map

from . import codec
from .commands import BoardCommands
from .due import DueStatus, by_due, due_status
from .errors import BoardError
from .events import Change, Kind, Origin
from .limits import MAX_COMMENTS_READ, MAX_LABEL_NAME_LENGTH
from .reading import items, printable, read_value
from .schema import Comment, Ticket, new_id
from .writes import check_color, check_replaceable, check_text, clean


class Identified(Protocol):
    @property
    def id(self) -> str: ...


def find[Item: Identified](entries: Sequence[Item], ref: str, noun: str, holder: str) -> Item:
    """One of ``entries`` (as shown) by id, a unique start of its id, or its
    1-based position. ``holder`` begins the error for a position too far."""
    ref = ref.strip()
    for entry in entries:
        if entry.id == ref:
            return entry
    if ref.isdigit():
        if 1 <= int(ref) <= len(entries):
            return entries[int(ref) - 1]
        count = f"{len(entries)} {noun}{'' if len(entries) == 1 else 's'}"
        raise BoardError(f"{holder} {count}; there is no {noun} {ref}")
    found = [entry for entry in entries if ref and entry.id.startswith(ref)]
    if len(found) == 1:
        return found[0]
    if found:
        raise BoardError(f"more than one {noun}'s id starts with {ref!r}; give more of it")
    raise BoardError(f"no {noun} {ref!r} on this ticket")


class CardCommands(BoardCommands):
    # ------------------------------------------------------------- due dates

    def set_due(self, ticket: str, due: str) -> None:
        """Set a ticket's due date (model.due.parse_due: "" or "none" clears it)."""
        self.edit_ticket(ticket, due=due)

    def due_status(self, ticket: Ticket, *, tz: tzinfo | None = None) -> DueStatus:
        """Overdue, due soon, later or none, by the board's clock."""
        return due_status(ticket.due, self._clock(), tz=tz)

    def tickets_due(
        self, *statuses: DueStatus, column: str | None = None, tz: tzinfo | None = None
    ) -> list[Ticket]:
        """Live tickets whose due status is one of ``statuses`` (all with a due
        date if none given), soonest first."""
        now = self._clock()
        wanted = set(statuses) or {DueStatus.OVERDUE, DueStatus.SOON, DueStatus.LATER}
        found = [t for t in self.tickets(column) if due_status(t.due, now, tz=tz) in wanted]
        return by_due(found, tz)

    # ------------------------------------------------------------- assignees

    def set_assignees(self, ticket: str, names: Iterable[str]) -> None:
        """Set a ticket's assignees, first one first (members' names or free text)."""
        self.edit_ticket(ticket, assignees=list(names))

    # --------------------------------------------------------------- labels

    def rename_label(self, ref: str, name: str) -> None:
        label = self.label(ref)
        name = clean(name, "A label name", MAX_LABEL_NAME_LENGTH)
        if any(lb.name.casefold() == name.casefold() and lb.id != label.id for lb in self.labels()):
            raise BoardError(f"a label called {name!r} exists already")
        self._set_label(label.id, "name", name)

    def set_label_color(self, ref: str, color: str) -> None:
        self._set_label(self.label(ref).id, "color", check_color(color))

    def _set_label(self, label_id: str, key: str, value: str) -> None:
        m = read_value(self._cache.labels, label_id)
        if not isinstance(m, Map):
            raise BoardError(f"label {label_id!r} cannot be edited")
        check_replaceable(m, [key], "the label")
        with self._writes.local():
            m[key] = value
        self._changes.emit(Origin.LOCAL, [Change(Kind.LABELS_CHANGED, label_id)])

    # ------------------------------------------------------------- comments

    def add_comment(self, ticket: str, text: str) -> str:
        tid = self._resolve_ticket(ticket)
        body = _comment_text(text)
        comment = Comment(new_id(), self.actor, body, self._clock())
        m = self._cache.ticket_map(tid)
        if not isinstance(read_value(m, "comments"), Array):  # replaced: see codec.comment_list
            check_replaceable(m, ["comments"], f"ticket {ticket}")
        with self._writes.local():
            codec.comment_list(m).append(codec.comment_map(comment))
        self._comments_changed(tid)
        return comment.id

    def comment(self, ticket: str, ref: str) -> Comment:
        """One of a ticket's comments (as shown): by id, a unique start of its
        id, or its 1-based position."""
        return find(self.ticket(ticket).comments, ref, "comment", "the ticket has")

    def edit_comment(self, ticket: str, ref: str, text: str) -> None:
        """Change the text of one of this user's comments; records ``edited_at``."""
        body = _comment_text(text)
        self._own_comment(ticket, ref, "edit", {"text": body, "edited_at": self._clock()})

    def delete_comment(self, ticket: str, ref: str) -> None:
        """Delete one of this user's comments (soft: ``deleted: true``)."""
        self._own_comment(ticket, ref, "delete", {"deleted": True})

    def _own_comment(self, ticket: str, ref: str, verb: str, fields: dict[str, Any]) -> None:
        tid = self._resolve_ticket(ticket)
        comment = self.comment(tid, ref)
        if comment.author != self.actor:
            who = comment.author or "someone else"
            raise BoardError(f"only its author can {verb} a comment; this one is {who}'s")
        m = self._cache.ticket_map(tid)
        # Only the comments a ticket shows (see codec.read_comments).
        for c in items(read_value(m, "comments"), "", MAX_COMMENTS_READ):
            if codec.comment_id(c) == comment.id:
                assert isinstance(c, Map)
                check_replaceable(c, fields, "the comment")
                with self._writes.local():
                    c.update(fields)
                break
        self._comments_changed(tid)

    def _comments_changed(self, tid: str) -> None:
        self._cache.lists.pop(tid, None)
        self._changes.emit(
            Origin.LOCAL, [Change(Kind.TICKET_CHANGED, tid, frozenset({"comments"}))]
        )


def _comment_text(text: str) -> str:
    body = printable(text, lines=True).strip()
    if not body:
        raise BoardError("a comment cannot be empty")
    check_text(body)
    return body
