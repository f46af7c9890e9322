"""What a peer's awareness state says, read defensively: who they are, what they
edit, drag, type, select and point at (PROTOCOL.md section 1). A missing or
malformed value reads as nothing; nothing here trusts the peer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lanban.model.limits import MAX_TITLE_LENGTH

from .app_state import MAX_NAME

# The fields of a ticket that do not merge (last writer wins): one person at a time
# edits each, while their caret is in it (README, "Locks"). The description merges.
LOCKED_FIELDS = ("title", "assignee", "labels", "due")
TYPING_FIELDS = ("comments", "description", "title")  # where "Ada is typing" shows


@dataclass(frozen=True)
class Cursor:
    """A caret and selection in a shared text: Yjs relative positions (JSON), as
    y-codemirror's awareness "cursor", with the ticket and field they are in."""

    ticket: str
    field: str
    anchor: object
    head: object


@dataclass(frozen=True)
class Focus:
    """A claim on a last-writer-wins field: the earliest ``since`` holds it."""

    ticket: str
    field: str
    since: int  # ms since the epoch, as the claimant's clock (or later) says

    def order(self, user_id: str) -> tuple[int, str]:
        return (self.since, user_id)


@dataclass(frozen=True)
class Pointer:
    """A mouse pointer over the board, anchored to what it is over so it lands on
    the same card in any window: a card (``ticket``) or, between cards, its column;
    ``x``, ``y`` are fractions of that card's or column's width and height."""

    column: str
    ticket: str  # "" over a column, not a card
    x: float
    y: float

    def state(self) -> dict[str, Any]:
        return {"column": self.column, "ticket": self.ticket, "x": self.x, "y": self.y}


@dataclass(frozen=True)
class TitleDraft:
    """A title being edited (it is last-writer-wins, so locked to its editor while
    they type): the text so far and the caret (``head``) and selection (``anchor``)
    in it, as indexes; what the others' locked field shows until it is saved."""

    ticket: str
    text: str
    anchor: int
    head: int


@dataclass(frozen=True)
class Peer:
    """Another client on this board, from its (untrusted) awareness state."""

    client_id: int
    user_id: str
    name: str
    color: object  # whatever the peer sent; theme.safe_color() makes it a colour
    editing: str | None
    dragging: tuple[str, str, int] | None  # (ticket, column, index)
    typing: str | None
    typing_field: str = "comments"
    cursor: Cursor | None = None
    focus: Focus | None = None
    selected: str | None = None  # the card selected on their board
    pointer: Pointer | None = None  # their mouse over the board
    title_draft: TitleDraft | None = None  # the title they are typing, not yet saved


def _text(value: object, limit: int = 64) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _cursor(value: object) -> Cursor | None:
    if not isinstance(value, dict):
        return None
    ticket, field = _text(value.get("ticket")), value.get("field")
    if ticket is None or field != "description":
        return None
    return Cursor(ticket, field, value.get("anchor"), value.get("head"))


def _focus(value: object) -> Focus | None:
    if not isinstance(value, dict):
        return None
    ticket, field, since = _text(value.get("ticket")), value.get("field"), value.get("since")
    if ticket is None or field not in LOCKED_FIELDS:
        return None
    if not isinstance(since, int) or isinstance(since, bool) or not 0 <= since < 2**53:
        return None
    return Focus(ticket, str(field), since)


def _fraction(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if -1.0 <= value <= 2.0 else None  # also refuses NaN


def _pointer(value: object) -> Pointer | None:
    if not isinstance(value, dict):
        return None
    column, ticket = _text(value.get("column")), value.get("ticket")
    x, y = _fraction(value.get("x")), _fraction(value.get("y"))
    if column is None or not isinstance(ticket, str) or x is None or y is None:
        return None
    return Pointer(column, ticket[:64], x, y)


def _title_draft(value: object) -> TitleDraft | None:
    if not isinstance(value, dict):
        return None
    ticket, text = _text(value.get("ticket")), value.get("text")
    anchor, head = value.get("anchor"), value.get("head")
    if ticket is None or not isinstance(text, str) or len(text) > MAX_TITLE_LENGTH:
        return None
    if not (_index(anchor, len(text)) and _index(head, len(text))):
        return None
    assert isinstance(anchor, int) and isinstance(head, int)
    return TitleDraft(ticket, text, anchor, head)


def _index(value: object, end: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= end


def parse_peer(client_id: int, state: dict[str, Any]) -> Peer:
    user = state.get("user") if isinstance(state.get("user"), dict) else {}
    assert isinstance(user, dict)
    name = _text(user.get("name"), MAX_NAME) or f"Guest {client_id % 1000}"
    drag = state.get("dragging")
    dragging = None
    if isinstance(drag, dict):
        ticket, column, index = drag.get("ticket"), drag.get("column"), drag.get("index")
        if isinstance(ticket, str) and isinstance(column, str) and isinstance(index, int):
            dragging = (ticket[:64], column[:64], max(0, min(index, 100_000)))
    return Peer(
        client_id,
        _text(user.get("id")) or str(client_id),
        name,
        user.get("color"),
        _text(state.get("editing")),
        dragging,
        _text(state.get("typing")),
        field if (field := state.get("typing_field")) in TYPING_FIELDS else "comments",
        _cursor(state.get("cursor")),
        _focus(state.get("focus")),
        _text(state.get("selected")),
        _pointer(state.get("pointer")),
        _title_draft(state.get("title_draft")),
    )
