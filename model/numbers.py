"""Ticket numbers (#12) that stay unique when replicas merge.

The rule:

1. A new ticket takes 1 + the highest number on the board, counting tickets
   in the trash (so a restored ticket keeps its number). Purged tickets free
   their numbers.
2. Two peers working apart may both hand out the same number. After every
   merge, each replica looks for numbers held by more than one ticket. The
   ticket created first (smallest ``(created_at, id)``) keeps it; the others,
   in that same order, get the next numbers above the board's highest.
3. Numbers stay in 1..MAX_TICKET_NUMBER: when the numbers above the highest
   run out (someone wrote a number near the limit), the lowest free ones are
   used instead.
4. The fix is a function of the merged document only, so every replica that
   sees the same state writes the same numbers; writing equal values twice is
   harmless, and a replica that saw less fixes any collision that is left on
   its next merge.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from .errors import BoardError
from .limits import MAX_TICKET_NUMBER


def free_numbers(taken: Collection[int], highest: int, count: int) -> list[int]:
    """``count`` numbers no ticket holds: the next ones above ``highest`` while
    they fit under MAX_TICKET_NUMBER, then the lowest free ones."""
    result = list(range(highest + 1, min(highest + count, MAX_TICKET_NUMBER) + 1))
    number = 0
    while len(result) < count:
        number += 1
        if number > highest:  # 2**31 tickets: not on any board that fits in memory
            raise BoardError("every ticket number is taken")
        if number not in taken:
            result.append(number)
    return result


def renumbering(
    tickets: Iterable[tuple[str, int, int]], highest: int, taken: Collection[int] = ()
) -> dict[str, int]:
    """New numbers for tickets that share one.

    ``tickets`` holds ``(id, number, created_at)`` of every ticket involved in
    a collision; ``highest`` is the highest number on the whole board and
    ``taken`` every number a ticket holds.
    """
    rows = sorted(tickets, key=lambda t: (t[2], t[0]))
    taken_here: set[int] = set()
    losers: list[str] = []
    # A number below 1 is as good as a collision: everyone renumbers it.
    for ticket_id, number, _ in rows:
        if number < 1 or number in taken_here:
            losers.append(ticket_id)
        else:
            taken_here.add(number)
    numbers = free_numbers(set(taken) | taken_here, highest, len(losers))
    return dict(zip(losers, numbers, strict=True))
