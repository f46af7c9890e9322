"""Telling the user when a merge renumbers a ticket (issue 10, defect 9).

Two people working apart can hand out the same number; when their copies meet,
the ticket made first keeps it and the other gets the next free one
(model/numbers.py). The board reports that as a change of the ticket's "number"
field with the number it had (Change.previous_number), whether this replica made
the fix or a peer's fix arrived; this watch says "#9 is now #11" and whose ticket
kept #9.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from lanban.model.errors import BoardError
from lanban.model.events import BoardEvent
from lanban.model.schema import Ticket

from .controller import BoardController

LISTED = 3  # renumbered tickets named in one notice; the rest are counted
TITLE_CHARS = 40


class NumberWatch(QObject):
    """Calls ``tell(text)`` when tickets of the controller's board get new numbers."""

    def __init__(self, controller: BoardController, tell: Callable[[str], object]) -> None:
        super().__init__(controller)  # lives as long as the board's controller
        self._board = controller.board
        self._me = controller.settings.name
        self._tell = tell
        controller.ticketsChanged.connect(self._on_event)

    def _on_event(self, event: BoardEvent) -> None:
        renumbered: list[tuple[int, Ticket]] = []
        for change in event.changes:
            if change.previous_number is None or change.id is None:
                continue
            try:
                ticket = self._board.ticket(change.id)
            except BoardError:
                continue
            if not ticket.deleted and ticket.number != change.previous_number:
                renumbered.append((change.previous_number, ticket))
        if renumbered:
            self._tell(self.notice(sorted(renumbered, key=lambda r: r[0])))

    def notice(self, renumbered: list[tuple[int, Ticket]]) -> str:
        """ "#9 'Fix login' is now #11: merged with Grace's copy, whose #9 came first"."""
        old, ticket = renumbered[0]
        whose = self._whose(old)
        if len(renumbered) == 1:
            title = ticket.title[:TITLE_CHARS] + ("…" if len(ticket.title) > TITLE_CHARS else "")
            return (
                f"#{old} {title!r} is now #{ticket.number}: merged with {whose} copy, "
                f"whose #{old} came first"
            )
        moves = ", ".join(f"#{o} is now #{t.number}" for o, t in renumbered[:LISTED])
        more = len(renumbered) - LISTED
        rest = f" and {more} more" if more > 0 else ""
        return f"{moves}{rest}: ticket numbers merged with {whose} copy"

    def _whose(self, number: int) -> str:
        """Whose ticket holds ``number`` now: "Grace Hopper's", or "another"."""
        try:
            holder = self._board.ticket(f"#{number}")
        except BoardError:
            return "another"
        by = holder.created_by
        return f"{by}'s" if by and by != self._me else "another"
