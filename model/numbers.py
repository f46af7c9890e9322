"""Ticket numbers (#12) that stay unique when replicas merge.

The rule:

1. A new ticket takes 1 + the highest number on the board, counting tickets
   in the trash (so a restored ticket keeps its number). Purged tickets free
   their numbers.
2. Two peers working apart may both hand out the same number. After every
   merge, each replica looks for numbers held by more than one ticket. The
   ticket created first (smallest ``(created_at, id)``) keeps it; the others,
   in that same order, get the next numbers above the board's highest.
3. The fix is a function of the merged document only, so every replica that
   sees the same state writes the same numbers; writing equal values twice is
   harmless, and a replica that saw less fixes any collision that is left on
   its next merge.
"""

from __future__ import annotations

from collections.abc import Iterable


def next_number(numbers: Iterable[int]) -> int:
    return max(numbers, default=0) + 1


def renumbering(tickets: Iterable[tuple[str, int, int]], highest: int) -> dict[str, int]:
    """New numbers for tickets that share one.

    ``tickets`` holds ``(id, number, created_at)`` of every ticket involved in
    a collision; ``highest`` is the highest number on the whole board.
    """
    rows = sorted(tickets, key=lambda t: (t[2], t[0]))
    taken: set[int] = set()
    losers: list[str] = []
    # A number below 1 is as good as a collision: everyone renumbers it.
    for ticket_id, number, _ in rows:
        if number < 1 or number in taken:
            losers.append(ticket_id)
        else:
            taken.add(number)
    fixes = {}
    for ticket_id in losers:
        highest += 1
        fixes[ticket_id] = highest
    return fixes
