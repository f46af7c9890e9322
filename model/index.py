"""Where every ticket shows, kept in step with the document.

Built lazily on the first query (loading a board does no per-ticket work) and
updated in place after each transaction, so a move costs O(column) list work
in C rather than a scan of the document.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass

from .numbers import free_numbers
from .ordering import Entry


@dataclass(slots=True)
class Placement:
    column: str  # as stored
    rank: str
    deleted: bool
    number: int
    created_at: int
    # One of the fields above holds a shared value (another client wrote it):
    # check it can be replaced before writing (writes.replaceable).
    tainted: bool = False


class TicketIndex:
    def __init__(self, places: dict[str, Placement], live_columns: list[str]) -> None:
        self.places = places
        self._live = live_columns
        self._live_set = set(live_columns)
        self.orders: dict[str, list[Entry]] = {c: [] for c in live_columns}
        self.by_number: dict[int, set[str]] = {}
        for ticket_id, place in places.items():
            self._insert(ticket_id, place)

    def display_column(self, place: Placement) -> str | None:
        if place.column in self._live_set:
            return place.column
        return self._live[0] if self._live else None

    def _insert(self, ticket_id: str, place: Placement) -> None:
        self.by_number.setdefault(place.number, set()).add(ticket_id)
        column = None if place.deleted else self.display_column(place)
        if column is not None:
            insort(self.orders[column], (place.rank, ticket_id))

    def _remove(self, ticket_id: str, place: Placement) -> None:
        holders = self.by_number.get(place.number)
        if holders is not None:
            holders.discard(ticket_id)
            if not holders:
                del self.by_number[place.number]
        column = None if place.deleted else self.display_column(place)
        if column is not None:
            order = self.orders[column]
            i = bisect_left(order, (place.rank, ticket_id))
            if i < len(order) and order[i][1] == ticket_id:
                del order[i]

    def put(self, ticket_id: str, place: Placement | None) -> None:
        old = self.places.pop(ticket_id, None)
        if old is not None:
            self._remove(ticket_id, old)
        if place is not None:
            self.places[ticket_id] = place
            self._insert(ticket_id, place)

    def move(self, ticket_id: str, column: str, rank: str) -> None:
        """``put`` for a live ticket whose column and rank change."""
        place = self.places[ticket_id]
        old = self.display_column(place)
        if old is not None:
            order = self.orders[old]
            i = bisect_left(order, (place.rank, ticket_id))
            if i < len(order) and order[i][1] == ticket_id:
                del order[i]
        place.column = column
        place.rank = rank
        new = self.display_column(place)
        if new is not None:
            insort(self.orders[new], (rank, ticket_id))

    def order(self, column: str) -> list[Entry]:
        return self.orders.get(column, [])

    def highest_number(self) -> int:
        return max(self.by_number, default=0)

    def next_number(self) -> int:
        """The number a new ticket takes (model.numbers)."""
        return free_numbers(self.by_number, self.highest_number(), 1)[0]

    def holders(self, number: int) -> set[str]:
        return self.by_number.get(number, set())
