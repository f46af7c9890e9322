"""The fields issue 11 adds to a ticket's Map, read and written (see model.codec).

- ``checklist``: a Y.Array of Y.Map ``{id, text, done, rank}``, shown in
  ``(rank, id)`` order; a reorder sets ``rank`` (fractional keys, model.ranks),
  a tick sets ``done``, so concurrent edits of one item resolve per key and
  concurrent adds all stay.
- ``assignees``: a Y.Array of names. ``assignee`` (the one field older clients
  know) stays the first of them: see :func:`read_assignees` for how a change
  an older client made to ``assignee`` alone reads.
- ``due``: see model.due.

Every read is bounded (model.reading.items) and typed; the rest is ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pycrdt import Array, Map

from .errors import BoardError
from .limits import (
    MAX_ASSIGNEES,
    MAX_CHECKLIST_ITEMS,
    MAX_CHECKLIST_TEXT_LENGTH,
    MAX_RANK_LENGTH_READ,
    MAX_TITLE_LENGTH,
)
from .reading import (
    NOT_COUNTED,
    WRONG_TYPE,
    Ignored,
    flag,
    items,
    read_value,
    reference,
    string,
)
from .schema import ChecklistItem

NO_ID = "without an id"
REPEATED = "repeated"


# ------------------------------------------------------------------ checklist


def read_item(m: Map[Any], ignored: Ignored = NOT_COUNTED) -> ChecklistItem:
    return ChecklistItem(
        reference(read_value(m, "id"), "checklist.id", ignored),
        string(read_value(m, "text"), "checklist.text", MAX_CHECKLIST_TEXT_LENGTH, ignored),
        flag(read_value(m, "done"), "checklist.done", ignored),
        string(
            read_value(m, "rank"), "checklist.rank", MAX_RANK_LENGTH_READ, ignored, verbatim=True
        ),
    )


def checklist_entries(m: Map[Any], ignored: Ignored = NOT_COUNTED) -> list[tuple[int, Map[Any]]]:
    """(index in the Array, item Map) of the items read, in Array order."""
    result = []
    found = items(read_value(m, "checklist"), "ticket.checklist", MAX_CHECKLIST_ITEMS, ignored)
    for i, value in enumerate(found):
        if isinstance(value, Map):
            result.append((i, value))
        else:
            ignored.add("checklist", WRONG_TYPE)
    return result


def read_checklist(m: Map[Any], ignored: Ignored = NOT_COUNTED) -> tuple[ChecklistItem, ...]:
    """The items in display order: (rank, id). An item without a usable id
    cannot be ticked by anyone, and a second item with one id is a copy: both
    are ignored."""
    seen: set[str] = set()
    result = []
    for _, value in checklist_entries(m, ignored):
        item = read_item(value, ignored)
        if not item.id:
            ignored.add("checklist", NO_ID)
        elif item.id in seen:
            ignored.add("checklist.id", REPEATED)
        else:
            seen.add(item.id)
            result.append(item)
    result.sort(key=lambda item: (item.rank, item.id))
    return tuple(result)


def item_map(item: ChecklistItem) -> Map[Any]:
    return Map({"id": item.id, "text": item.text, "done": item.done, "rank": item.rank})


def checklist_array(m: Map[Any]) -> Array[Any]:
    """The ticket's checklist Array, made if missing (the caller checked that
    what it replaces may be replaced)."""
    value = read_value(m, "checklist")
    if not isinstance(value, Array):
        value = m["checklist"] = Array()
    return value


# ------------------------------------------------------------------ assignees


def read_assignees(m: Map[Any], ignored: Ignored = NOT_COUNTED) -> tuple[str, ...]:
    """A ticket's assignees, first one first.

    ``assignee`` says who is first: Lanban writes it equal to the first of
    ``assignees``. If an older client changed ``assignee`` alone, its value
    is the first and replaces the one ``assignees`` had first; if it cleared
    it, the ticket has no assignees. A client that writes only ``assignees``
    (no ``assignee`` key at all) is read as it wrote.
    """
    stored = read_value(m, "assignee")
    first = string(stored, "ticket.assignee", MAX_TITLE_LENGTH, ignored).strip()
    names: list[str] = []
    raw = read_value(m, "assignees")
    for value in items(raw, "ticket.assignees", MAX_ASSIGNEES, ignored):
        if type(value) is not str:
            ignored.add("ticket.assignees", WRONG_TYPE)
            continue
        name = string(value, "ticket.assignees", MAX_TITLE_LENGTH, ignored).strip()
        if name and name not in names:
            names.append(name)
    if not first and stored is None:
        return tuple(names)
    return with_first(names, first)


def with_first(names: Sequence[str], first: str) -> tuple[str, ...]:
    """``names`` after its first is set to ``first`` alone (what an older
    client's ``assignee`` means): "" clears them all; one of ``names`` moves to
    the front; another name takes the first's place."""
    if not first:
        return ()
    if first in names:
        return (first, *(name for name in names if name != first))
    return (first, *names[1:])


def write_assignees(m: Map[Any], wanted: Sequence[str]) -> None:
    """Make the ticket's assignees ``wanted`` (inside the caller's transaction):
    only the names that go are deleted and only new ones appended, so a
    concurrent change of another name stays."""
    m["assignee"] = wanted[0] if wanted else ""
    array = read_value(m, "assignees")
    if not isinstance(array, Array):
        m["assignees"] = Array(list(wanted))
        return
    present = items(array, "", MAX_ASSIGNEES)
    if len(present) < len(array):  # more than is read: start afresh
        m["assignees"] = Array(list(wanted))
        return
    kept: set[str] = set()
    for i in range(len(present) - 1, -1, -1):
        value = present[i]
        if type(value) is str and value.strip() in wanted and value.strip() not in kept:
            kept.add(value.strip())
        else:
            del array[i]
    array.extend([name for name in wanted if name not in kept])


def check_assignees(names: Sequence[str]) -> None:
    if len(names) > MAX_ASSIGNEES:
        raise BoardError(f"a ticket can have at most {MAX_ASSIGNEES} assignees, not {len(names)}")
