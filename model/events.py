"""What observers of a board are told after each transaction."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class Origin(StrEnum):
    """Who made a change: this user (including undo/redo) or anyone else."""

    LOCAL = "local"
    REMOTE = "remote"


class Kind(StrEnum):
    TICKET_ADDED = "ticket-added"  # created, or restored from the trash
    TICKET_CHANGED = "ticket-changed"  # fields: which ones
    TICKET_MOVED = "ticket-moved"  # new column and/or position
    TICKET_REMOVED = "ticket-removed"  # moved to the trash, or purged
    COLUMNS_CHANGED = "columns-changed"  # any column added, renamed, moved, deleted
    LABELS_CHANGED = "labels-changed"
    BOARD_CHANGED = "board-changed"  # title


class Change(NamedTuple):  # not a frozen dataclass: one is made for every change seen
    kind: Kind
    id: str | None = None
    fields: frozenset[str] = frozenset()
    # TICKET_CHANGED whose number a merge changed (model.numbers): the number it had
    previous_number: int | None = None


@dataclass(frozen=True, slots=True)
class BoardEvent:
    """All changes one transaction made, in no particular order."""

    origin: Origin
    changes: tuple[Change, ...]

    def ticket_ids(self, *kinds: Kind) -> set[str]:
        return {c.id for c in self.changes if c.id is not None and (not kinds or c.kind in kinds)}
