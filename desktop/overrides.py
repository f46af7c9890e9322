"""'Grace's title replaced yours': when a peer's concurrent change beat mine.

A ticket's title, assignee and due date are last-writer-wins: of two changes made at once,
every copy keeps the same one and the other is gone. The rule for "at once" (the
peer had not seen mine when they wrote): their change reaches me less than
``CONCURRENT_WINDOW_S`` after I made mine, or less than that after a link came up
that was not there when I made mine (edits made apart, meeting on reconnection).
A peer who changes my value later, having seen it, did not override it.

One :class:`Overrides` per board (the controller's): it remembers my last write of
each such field, from whichever panel, so the note comes even if that panel has
closed since.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from lanban.model.board import Board
from lanban.model.errors import BoardError

CONCURRENT_WINDOW_S = 3.0
# The last-writer-wins text fields a panel writes, as a sentence names them
WATCHED = {"title": "title", "assignee": "assignee", "due": "due date"}


@dataclass(frozen=True)
class Override:
    ticket: str
    number: int
    field: str
    mine: str
    theirs: str
    by: str  # who wrote theirs (the ticket's updated_by), "" if unknown

    def sentence(self) -> str:
        who = f"{self.by}'s" if self.by else "A peer's"
        what = WATCHED.get(self.field, self.field)
        return f"{who} {what} replaced yours: '{self.mine}' → '{self.theirs}'"


@dataclass(frozen=True)
class _MyWrite:
    value: str
    at: float  # time.time()


def concurrent(mine_at: float, now: float, links_since: Iterable[float], window: float) -> bool:
    """Whether a change arriving ``now`` was made without knowing mine (see above)."""
    if now - mine_at < window:
        return True
    return any(since > mine_at and now - since < window for since in links_since)


class Overrides:
    def __init__(self) -> None:
        self.window_s = CONCURRENT_WINDOW_S
        self._mine: dict[tuple[str, str], _MyWrite] = {}

    def wrote(self, ticket_id: str, field: str, value: str) -> None:
        """I set this field of the ticket to ``value``."""
        self._mine[(ticket_id, field)] = _MyWrite(value, time.time())

    def check(
        self, board: Board, ticket_ids: Iterable[str], links_since: Iterable[float]
    ) -> list[Override]:
        """After a peer's change to these tickets: my writes it replaced at once."""
        found = []
        since = list(links_since)
        for ticket_id in ticket_ids:
            for field in WATCHED:
                mine = self._mine.get((ticket_id, field))
                if mine is None:
                    continue
                try:
                    ticket = board.ticket(ticket_id)
                except BoardError:
                    del self._mine[(ticket_id, field)]
                    continue
                theirs = str(getattr(ticket, field))
                if theirs == mine.value:
                    continue
                del self._mine[(ticket_id, field)]  # told once; later changes are theirs
                if concurrent(mine.at, time.time(), since, self.window_s):
                    found.append(
                        Override(
                            ticket_id, ticket.number, field, mine.value, theirs, ticket.updated_by
                        )
                    )
        return found
