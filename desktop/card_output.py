"""How the command line prints a ticket's due date, checklist and comments
(issue 11): shared by the ticket commands (commands.py) and card_commands.py."""

from __future__ import annotations

from typing import Any

from lanban.model.due import DueStatus
from lanban.model.schema import Comment, Ticket

# ``lanban ticket list --due WHICH``
DUE_FILTERS = {
    "overdue": (DueStatus.OVERDUE,),
    "soon": (DueStatus.SOON,),
    "any": (DueStatus.OVERDUE, DueStatus.SOON, DueStatus.LATER),
    "none": (DueStatus.NONE,),
}


def due_words(status: DueStatus) -> str:
    return {DueStatus.OVERDUE: " (overdue)", DueStatus.SOON: " (due soon)"}.get(status, "")


def checklist_json(t: Ticket) -> list[dict[str, Any]]:
    return [{"id": i.id, "text": i.text, "done": i.done} for i in t.checklist]


def checklist_lines(t: Ticket) -> list[str]:
    """``1. [x] text  (id)`` per item, in order."""
    return [
        f"{n}. [{'x' if i.done else ' '}] {i.text}  ({i.id})"
        for n, i in enumerate(t.checklist, start=1)
    ]


def comment_json(c: Comment) -> dict[str, Any]:
    data: dict[str, Any] = {"id": c.id, "author": c.author, "text": c.text, "at": c.at}
    if c.edited_at:
        data["edited_at"] = c.edited_at
    return data
