"""Maps of the board document to the typed values of model.schema, and back.

The one place that knows the fields of DESIGN.md section 3 and their types:
the board and the JSON import/export both go through it. Reading converts
(pycrdt returns numbers as floats; other clients may write anything).
Writing makes new Maps from typed values; edits set single keys, never
replace a Map, so keys that a newer version wrote stay.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from pycrdt import Array, Map, Text

from .card_codec import item_map, read_assignees, read_checklist
from .due import read_due
from .index import Placement
from .limits import (
    BOARD_ID_PATTERN,
    MAX_COMMENTS_READ,
    MAX_LABEL_NAME_LENGTH,
    MAX_LABELS_PER_TICKET,
    MAX_RANK_LENGTH_READ,
    MAX_TEXT_LENGTH,
    MAX_TICKET_NUMBER,
    MAX_TIME_MS,
    MAX_TITLE_LENGTH,
    MAX_WIP_LIMIT,
)
from .reading import (
    NOT_COUNTED,
    SHARED_TYPES,
    WRONG_TYPE,
    Ignored,
    flag,
    items,
    key_set,
    read_value,
    reference,
    string,
    text,
    whole,
)
from .schema import SCHEMA_VERSION, ChecklistItem, Column, Comment, Label, Ticket

# Event field names for a ticket's place (the Map keys of the same names).
MOVE_FIELDS = frozenset({"column", "rank"})
PLACE_FIELDS = MOVE_FIELDS | {"deleted"}


def _time(m: Map[Any], key: str, field: str, ignored: Ignored) -> int:
    return whole(read_value(m, key), field, 0, MAX_TIME_MS, ignored) or 0


# ------------------------------------------------------------------ the board


def board_fields(board_id: str, title: str, created_at: int) -> dict[str, Any]:
    """The keys of a new board's ``board`` root."""
    return {"id": board_id, "title": title, "schema": SCHEMA_VERSION, "created_at": created_at}


def board_id(root: Map[Any], ignored: Ignored = NOT_COUNTED) -> str:
    """The id the document states (display only: a board's id is the one its
    file and peers know, see Board.id)."""
    value = read_value(root, "id")
    if type(value) is str and BOARD_ID_PATTERN.fullmatch(value):
        return value
    if value is not None:
        ignored.add("board.id", WRONG_TYPE)
    return ""


def board_title(root: Map[Any], ignored: Ignored = NOT_COUNTED) -> str:
    return string(read_value(root, "title"), "board.title", MAX_TITLE_LENGTH, ignored)


def board_schema(root: Map[Any], ignored: Ignored = NOT_COUNTED) -> int:
    schema = whole(read_value(root, "schema"), "board.schema", 0, MAX_TICKET_NUMBER, ignored)
    return SCHEMA_VERSION if schema is None else schema


def board_created_at(root: Map[Any], ignored: Ignored = NOT_COUNTED) -> int:
    return _time(root, "created_at", "board.created_at", ignored)


# ------------------------------------------------------------ columns, labels


def read_column(column_id: str, m: Map[Any], ignored: Ignored = NOT_COUNTED) -> Column:
    wip = whole(read_value(m, "wip_limit"), "column.wip_limit", 0, MAX_WIP_LIMIT, ignored)
    return Column(
        column_id,
        string(read_value(m, "title"), "column.title", MAX_TITLE_LENGTH, ignored),
        string(read_value(m, "rank"), "column.rank", MAX_RANK_LENGTH_READ, ignored, verbatim=True),
        wip or 0,
        flag(read_value(m, "deleted"), "column.deleted", ignored),
    )


def column_map(column: Column) -> Map[Any]:
    """A new column's Map (its id is its key in the ``columns`` root)."""
    return Map(
        {
            "title": column.title,
            "rank": column.rank,
            "wip_limit": column.wip_limit,
            "deleted": column.deleted,
        }
    )


def read_label(label_id: str, m: Map[Any], ignored: Ignored = NOT_COUNTED) -> Label:
    return Label(
        label_id,
        string(read_value(m, "name"), "label.name", MAX_LABEL_NAME_LENGTH, ignored),
        string(read_value(m, "color"), "label.color", MAX_LABEL_NAME_LENGTH, ignored),
    )


def label_map(label: Label) -> Map[Any]:
    return Map({"name": label.name, "color": label.color})


# -------------------------------------------------------------------- tickets


def read_placement(m: Map[Any], ignored: Ignored = NOT_COUNTED) -> Placement:
    """The fields of a ticket the index keeps (see model.index). A number
    that is no whole number in 1..MAX_TICKET_NUMBER reads as 0: missing,
    which the post-merge repair (model.repair) replaces."""
    number = read_value(m, "number")
    column = read_value(m, "column")
    rank = read_value(m, "rank")
    deleted = read_value(m, "deleted")
    return Placement(
        reference(column, "ticket.column", ignored),
        string(rank, "ticket.rank", MAX_RANK_LENGTH_READ, ignored, verbatim=True),
        flag(deleted, "ticket.deleted", ignored),
        whole(number, "ticket.number", 1, MAX_TICKET_NUMBER, ignored) or 0,
        _time(m, "created_at", "ticket.created_at", ignored),
        isinstance(number, SHARED_TYPES)
        or isinstance(column, SHARED_TYPES)
        or isinstance(rank, SHARED_TYPES)
        or isinstance(deleted, SHARED_TYPES),
    )


def read_move(m: Map[Any], before: Placement) -> Placement:
    """The placement after a change of only the column and rank (a move):
    ``before`` with those two read again, as :func:`read_placement` reads them."""
    if before.tainted:  # which field holds a shared value is not kept
        return read_placement(m)
    return moved(before, read_value(m, "column"), read_value(m, "rank"))


def moved(before: Placement, column: Any, rank: Any) -> Placement:
    """``before`` (not tainted) with a column and rank as read from the document."""
    return Placement(
        placed_column(column),
        placed_rank(rank),
        before.deleted,
        before.number,
        before.created_at,
        isinstance(column, SHARED_TYPES) or isinstance(rank, SHARED_TYPES),
    )


# A ticket's column and rank as the index keeps them (see read_placement); partials,
# not functions: they run on every move from a peer.
placed_column = partial(reference, field="ticket.column")
placed_rank = partial(string, field="ticket.rank", limit=MAX_RANK_LENGTH_READ, verbatim=True)


def read_comment(m: Map[Any], ignored: Ignored = NOT_COUNTED) -> Comment:
    return Comment(
        reference(read_value(m, "id"), "comment.id", ignored),
        string(read_value(m, "author"), "comment.author", MAX_TITLE_LENGTH, ignored),
        string(read_value(m, "text"), "comment.text", MAX_TEXT_LENGTH, ignored, lines=True),
        _time(m, "at", "comment.at", ignored),
        _time(m, "edited_at", "comment.edited_at", ignored),
        flag(read_value(m, "deleted"), "comment.deleted", ignored),
    )


def read_comments(m: Map[Any], ignored: Ignored = NOT_COUNTED) -> tuple[Comment, ...]:
    """The comments among the first MAX_COMMENTS_READ entries (see
    reading.items) that their authors have not deleted."""
    result = []
    for c in items(read_value(m, "comments"), "ticket.comments", MAX_COMMENTS_READ, ignored):
        if isinstance(c, Map):
            comment = read_comment(c, ignored)
            if not comment.deleted:
                result.append(comment)
        else:
            ignored.add("comment", WRONG_TYPE)
    return tuple(result)


def comment_map(comment: Comment) -> Map[Any]:
    fields: dict[str, Any] = {
        "id": comment.id,
        "author": comment.author,
        "text": comment.text,
        "at": comment.at,
    }
    if comment.edited_at:
        fields["edited_at"] = comment.edited_at
    if comment.deleted:
        fields["deleted"] = True
    return Map(fields)


@dataclass(frozen=True, slots=True)
class TicketLists:
    """The Array fields of a ticket, whose reads are slow and bounded in time
    (model.reading.array_head): kept by the cache so that every query shows
    the same."""

    comments: tuple[Comment, ...]
    checklist: tuple[ChecklistItem, ...]
    assignees: tuple[str, ...]


def read_lists(m: Map[Any], ignored: Ignored = NOT_COUNTED) -> TicketLists:
    return TicketLists(
        read_comments(m, ignored), read_checklist(m, ignored), read_assignees(m, ignored)
    )


def read_ticket(
    ticket_id: str,
    m: Map[Any],
    place: Placement,
    shown_in: str | None,
    ignored: Ignored = NOT_COUNTED,
    lists: TicketLists | None = None,
) -> Ticket:
    """A ticket from its Map; ``place`` as the index holds it, ``shown_in``
    the column it shows in; ``lists`` if the caller has read them."""
    if lists is None:
        lists = read_lists(m, ignored)
    return Ticket(
        id=ticket_id,
        number=place.number,
        title=string(read_value(m, "title"), "ticket.title", MAX_TITLE_LENGTH, ignored),
        description=description_of(m, ignored),
        column=shown_in,
        stored_column=place.column,
        rank=place.rank,
        assignee=lists.assignees[0] if lists.assignees else "",
        labels=key_set(read_value(m, "labels"), "ticket.labels", MAX_LABELS_PER_TICKET, ignored),
        comments=lists.comments,
        created_by=string(
            read_value(m, "created_by"), "ticket.created_by", MAX_TITLE_LENGTH, ignored
        ),
        created_at=place.created_at,
        updated_by=string(
            read_value(m, "updated_by"), "ticket.updated_by", MAX_TITLE_LENGTH, ignored
        ),
        updated_at=_time(m, "updated_at", "ticket.updated_at", ignored),
        deleted=place.deleted,
        assignees=lists.assignees,
        due=read_due(read_value(m, "due"), "ticket.due", ignored),
        checklist=lists.checklist,
    )


def ticket_map(ticket: Ticket) -> Map[Any]:
    """A new ticket's Map (its id is its key in the ``tickets`` root; it
    belongs to ``stored_column``)."""
    return Map(
        {
            "number": ticket.number,
            "title": ticket.title,
            "description": Text(ticket.description),
            "column": ticket.stored_column,
            "rank": ticket.rank,
            "assignee": ticket.assignee,
            "labels": label_set_map(ticket.labels),
            "comments": Array([comment_map(c) for c in ticket.comments]),
            "created_by": ticket.created_by,
            "created_at": ticket.created_at,
            "updated_by": ticket.updated_by,
            "updated_at": ticket.updated_at,
            "deleted": ticket.deleted,
            "assignees": Array(list(ticket.assignees)),
            "checklist": Array([item_map(item) for item in ticket.checklist]),
            # last, a plain value: where a new ticket ends shows (model.history)
            "due": ticket.due,
        }
    )


def label_set_map(label_ids: Iterable[str]) -> Map[Any]:
    return Map({label_id: True for label_id in label_ids})


def description_of(m: Map[Any], ignored: Ignored = NOT_COUNTED) -> str:
    return text(read_value(m, "description"), "ticket.description", MAX_TEXT_LENGTH, ignored)


# Edits go to a ticket's own shared values, made afresh when another client
# wrote something else under their key.


def description_text(m: Map[Any]) -> Text:
    shared = read_value(m, "description")
    if not isinstance(shared, Text):
        shared = m["description"] = Text(string(shared, "", MAX_TEXT_LENGTH, lines=True))
    return shared


def label_set(m: Map[Any]) -> Map[Any]:
    labels = read_value(m, "labels")
    if not isinstance(labels, Map):
        labels = m["labels"] = Map()
    return labels


def comment_list(m: Map[Any]) -> Array[Any]:
    comments = read_value(m, "comments")
    if not isinstance(comments, Array):
        comments = m["comments"] = Array()
    return comments


def comment_id(m: Any) -> str | None:
    """The id of one entry of a ticket's comments (None if it is not a comment)."""
    return reference(read_value(m, "id"), "") if isinstance(m, Map) else None


def touch(m: Map[Any], actor: str, at: int) -> None:
    """Record who last edited a ticket, and when."""
    m["updated_by"] = actor
    m["updated_at"] = at
