"""Names and value types of the board document (DESIGN.md section 3)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc

from .limits import ID_BYTES

SCHEMA_VERSION = 1

BOARD = "board"
COLUMNS = "columns"
TICKETS = "tickets"
LABELS = "labels"

# Transaction origins. pycrdt needs hashable origins; these strings never
# leave the process.
LOCAL_SOURCE = "lanban:local"  # this user's edits (tracked by undo)
SYSTEM_SOURCE = "lanban:system"  # creation, import, fixes after a merge (not undoable)
REMOTE_SOURCE = "lanban:remote"  # default for updates from elsewhere


def new_id() -> str:
    """A random URL-safe id that does not start with "-" (it would read as an
    option on a command line)."""
    while True:
        value = secrets.token_urlsafe(ID_BYTES)
        if value[0] != "-":
            return value


def new_client_id() -> int:
    """A 32-bit client id, as Yjs uses (pycrdt's ~50-bit ids bloat updates)."""
    return secrets.randbits(32)


def new_doc() -> Doc[Any]:
    """A document for a board.

    Garbage collection is off: with it on, pycrdt 0.14.13 can corrupt a
    document (or crash) when a peer purges a ticket this user had moved and
    undone (found by the model's property tests). Deleted content therefore
    stays in the document's history, as in any CRDT without GC.
    """
    return Doc(client_id=new_client_id(), skip_gc=True)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Column:
    id: str
    title: str
    rank: str
    wip_limit: int  # 0 = none
    deleted: bool


@dataclass(frozen=True, slots=True)
class Label:
    id: str
    name: str
    color: str


@dataclass(frozen=True, slots=True)
class Comment:
    id: str
    author: str
    text: str
    at: int
    edited_at: int = 0  # 0: never edited
    deleted: bool = False  # soft-deleted by its author: queries leave it out


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One item of a ticket's checklist; shown in (rank, id) order."""

    id: str
    text: str
    done: bool
    rank: str


@dataclass(frozen=True, slots=True)
class Ticket:
    id: str
    number: int
    title: str
    description: str
    column: str | None  # where it shows: its own column, or the first live one
    stored_column: str  # what the document says (may be deleted or unknown)
    rank: str
    assignee: str
    labels: tuple[str, ...]  # label ids
    comments: tuple[Comment, ...]
    created_by: str
    created_at: int
    updated_by: str
    updated_at: int
    deleted: bool
    # Issue 11 (model.cards): all assignees, the first one also in ``assignee``;
    # the due date as ISO 8601 ("" = none, see model.due); the checklist in order.
    assignees: tuple[str, ...] = ()
    due: str = ""
    checklist: tuple[ChecklistItem, ...] = ()

    def __post_init__(self) -> None:
        # ``assignee`` is always the first of ``assignees`` (old callers give only it)
        if self.assignee and not self.assignees:
            object.__setattr__(self, "assignees", (self.assignee,))
        elif self.assignees and self.assignees[0] != self.assignee:
            object.__setattr__(self, "assignee", self.assignees[0])

    @property
    def checklist_done(self) -> int:
        return sum(item.done for item in self.checklist)

    @property
    def checklist_summary(self) -> str:
        """ "3/5" (items done of all), or "" without a checklist."""
        if not self.checklist:
            return ""
        return f"{self.checklist_done}/{len(self.checklist)}"

    @property
    def misplaced(self) -> bool:
        """Shown in a column other than its own (its column was deleted or unknown)."""
        return self.column != self.stored_column
