"""Maps of the board document to the typed values of model.schema, and back.

The one place that knows the fields of DESIGN.md section 3 and their types:
the board and the JSON import/export both go through it. Reading converts
(pycrdt returns numbers as floats; other clients may write anything).
Writing makes new Maps from typed values; edits set single keys, never
replace a Map, so keys that a newer version wrote stay.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pycrdt import Array, Map, Text

from .index import Placement
from .schema import SCHEMA_VERSION, Column, Comment, Label, Ticket, as_int, as_str

# Event field names for a ticket's place (the Map keys of the same names).
MOVE_FIELDS = frozenset({"column", "rank"})
PLACE_FIELDS = MOVE_FIELDS | {"deleted"}


def read_value(m: Map[Any], key: str) -> Any:
    """``m.get(key)`` at two thirds of the cost: pycrdt's ``get`` looks the key
    up twice before reading it."""
    try:
        return m[key]
    except KeyError:
        return None


# ------------------------------------------------------------------ the board


def board_fields(board_id: str, title: str, created_at: int) -> dict[str, Any]:
    """The keys of a new board's ``board`` root."""
    return {"id": board_id, "title": title, "schema": SCHEMA_VERSION, "created_at": created_at}


def board_id(root: Map[Any]) -> str:
    return as_str(read_value(root, "id"))


def board_title(root: Map[Any]) -> str:
    return as_str(read_value(root, "title"))


def board_schema(root: Map[Any]) -> int:
    return as_int(read_value(root, "schema"), SCHEMA_VERSION)


def board_created_at(root: Map[Any]) -> int:
    return as_int(read_value(root, "created_at"))


# ------------------------------------------------------------ columns, labels


def read_column(column_id: str, m: Map[Any]) -> Column:
    return Column(
        column_id,
        as_str(read_value(m, "title")),
        as_str(read_value(m, "rank")),
        as_int(read_value(m, "wip_limit")),
        bool(read_value(m, "deleted")),
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


def read_label(label_id: str, m: Map[Any]) -> Label:
    return Label(label_id, as_str(read_value(m, "name")), as_str(read_value(m, "color")))


def label_map(label: Label) -> Map[Any]:
    return Map({"name": label.name, "color": label.color})


# -------------------------------------------------------------------- tickets


def read_placement(m: Map[Any]) -> Placement:
    """The fields of a ticket the index keeps (see model.index)."""
    return Placement(
        as_str(read_value(m, "column")),
        as_str(read_value(m, "rank")),
        bool(read_value(m, "deleted")),
        as_int(read_value(m, "number")),
        as_int(read_value(m, "created_at")),
    )


def read_comment(m: Map[Any]) -> Comment:
    return Comment(
        as_str(read_value(m, "id")),
        as_str(read_value(m, "author")),
        as_str(read_value(m, "text")),
        as_int(read_value(m, "at")),
    )


def comment_map(comment: Comment) -> Map[Any]:
    return Map({"id": comment.id, "author": comment.author, "text": comment.text, "at": comment.at})


def read_ticket(ticket_id: str, m: Map[Any], place: Placement, shown_in: str | None) -> Ticket:
    """A ticket from its Map; ``place`` as the index holds it, ``shown_in``
    the column it shows in."""
    comments = read_value(m, "comments")
    labels = read_value(m, "labels")
    description = read_value(m, "description")
    return Ticket(
        id=ticket_id,
        number=place.number,
        title=as_str(read_value(m, "title")),
        description=str(description) if description is not None else "",
        column=shown_in,
        stored_column=place.column,
        rank=place.rank,
        assignee=as_str(read_value(m, "assignee")),
        labels=tuple(sorted(labels.keys())) if isinstance(labels, Map) else (),
        comments=tuple(
            read_comment(c)
            for c in (comments if isinstance(comments, Array) else [])
            if isinstance(c, Map)
        ),
        created_by=as_str(read_value(m, "created_by")),
        created_at=place.created_at,
        updated_by=as_str(read_value(m, "updated_by")),
        updated_at=as_int(read_value(m, "updated_at")),
        deleted=place.deleted,
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
        }
    )


def label_set_map(label_ids: Iterable[str]) -> Map[Any]:
    return Map({label_id: True for label_id in label_ids})


def description_of(m: Map[Any]) -> str:
    value = read_value(m, "description")
    return str(value) if value is not None else ""


# Edits go to a ticket's own shared values, made afresh when another client
# wrote something else under their key.


def description_text(m: Map[Any]) -> Text:
    text = read_value(m, "description")
    if not isinstance(text, Text):
        text = m["description"] = Text(as_str(text))
    return text


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
    return as_str(read_value(m, "id")) if isinstance(m, Map) else None


def touch(m: Map[Any], actor: str, at: int) -> None:
    """Record who last edited a ticket, and when."""
    m["updated_by"] = actor
    m["updated_at"] = at
