"""A ticket's checklist (issue 11): add, tick, edit, reorder and remove items.

A mixin of :class:`lanban.model.board.Board`. The items live in the ticket's
``checklist`` Array as Maps ``{id, text, done, rank}`` (model.card_codec):
adding appends a Map, ticking sets ``done``, editing sets ``text``, and
reordering sets ``rank`` (model.ordering, as for tickets), so people ticking,
editing and reordering at once lose nothing: each key resolves
last-writer-wins, and every concurrently added item stays. Removing deletes
the item's Map (a concurrent tick of it is then lost with it).
"""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Map

from .card_codec import checklist_array, checklist_entries, item_map, read_checklist, read_item
from .cards import find
from .codec import touch
from .commands import BoardCommands
from .errors import BoardError
from .events import Change, Kind, Origin
from .limits import MAX_CHECKLIST_ITEMS, MAX_CHECKLIST_TEXT_LENGTH
from .ordering import place
from .reading import read_value
from .schema import ChecklistItem, new_id
from .writes import check_replaceable, clean, replaceable

_TOUCHED = ("checklist", "updated_by", "updated_at")


class ChecklistCommands(BoardCommands):
    def checklist(self, ticket: str) -> tuple[ChecklistItem, ...]:
        """A ticket's checklist in display order."""
        return self.ticket(ticket).checklist

    def checklist_item(self, ticket: str, ref: str) -> ChecklistItem:
        """An item by id, a unique start of its id, or its 1-based position."""
        return find(self.checklist(ticket), ref, "checklist item", "the checklist has")

    def add_checklist_item(self, ticket: str, text: str, *, index: int | None = None) -> str:
        """Add an item at ``index`` (0 = first; default: last); returns its id."""
        tid = self._resolve_ticket(ticket)
        text = clean(text, "A checklist item", MAX_CHECKLIST_TEXT_LENGTH)
        m = self._cache.ticket_map(tid)
        current = read_checklist(m)
        if len(current) >= MAX_CHECKLIST_ITEMS:
            raise BoardError(f"a checklist holds at most {MAX_CHECKLIST_ITEMS} items")
        # a checklist of another type is replaced (codec.checklist_array)
        keys = _TOUCHED[1:] if isinstance(read_value(m, "checklist"), Array) else _TOUCHED
        check_replaceable(m, keys, f"ticket {ticket}")
        item_id = new_id()
        order = [(item.rank, item.id) for item in current]
        ranks = place(order, len(order) if index is None else index, item_id)
        with self._writes.local():
            maps = self._item_maps(m, set(ranks))
            checklist_array(m).append(item_map(ChecklistItem(item_id, text, False, ranks[item_id])))
            for other, rank in ranks.items():
                if other != item_id:
                    maps[other]["rank"] = rank
            touch(m, self.actor, self._clock())
        self._checklist_changed(tid)
        return item_id

    def set_checklist_done(self, ticket: str, ref: str, done: bool = True) -> None:
        """Tick (or untick) an item."""
        self._set_item(ticket, ref, "done", done)

    def edit_checklist_item(self, ticket: str, ref: str, text: str) -> None:
        self._set_item(
            ticket, ref, "text", clean(text, "A checklist item", MAX_CHECKLIST_TEXT_LENGTH)
        )

    def move_checklist_item(self, ticket: str, ref: str, index: int) -> None:
        """Put an item at ``index`` of the list as shown (0 = first)."""
        tid = self._resolve_ticket(ticket)
        item = self.checklist_item(tid, ref)
        order = [(i.rank, i.id) for i in self.checklist(tid)]
        skip = order.index((item.rank, item.id))
        index = max(0, min(index, len(order) - 1))
        if index == skip:
            return
        ranks = place(order, index, item.id, skip)
        m = self._cache.ticket_map(tid)
        check_replaceable(m, _TOUCHED[1:], f"ticket {ticket}")
        with self._writes.local():
            maps = self._item_maps(m, set(ranks))
            for other, rank in ranks.items():
                maps[other]["rank"] = rank
            touch(m, self.actor, self._clock())
        self._checklist_changed(tid)

    def remove_checklist_item(self, ticket: str, ref: str) -> None:
        tid = self._resolve_ticket(ticket)
        item = self.checklist_item(tid, ref)
        m = self._cache.ticket_map(tid)
        array = read_value(m, "checklist")
        check_replaceable(m, _TOUCHED[1:], f"ticket {ticket}")
        with self._writes.local():
            for i, value in reversed(checklist_entries(m)):
                if read_item(value).id == item.id:  # every copy of it
                    if not replaceable(value):
                        raise BoardError("this item holds data nested too deep to delete")
                    del array[i]
            touch(m, self.actor, self._clock())
        self._checklist_changed(tid)

    def _set_item(self, ticket: str, ref: str, key: str, value: Any) -> None:
        tid = self._resolve_ticket(ticket)
        item = self.checklist_item(tid, ref)
        if getattr(item, key) == value:
            return
        m = self._cache.ticket_map(tid)
        check_replaceable(m, _TOUCHED[1:], f"ticket {ticket}")
        with self._writes.local():
            self._item_maps(m, {item.id})[item.id][key] = value
            touch(m, self.actor, self._clock())
        self._checklist_changed(tid)

    def _item_maps(self, m: Map[Any], ids: set[str]) -> dict[str, Map[Any]]:
        """The Maps of the items ``ids`` (the first of each id, as read), checked
        to be safe to write to."""
        maps: dict[str, Map[Any]] = {}
        for _, value in checklist_entries(m):
            item_id = read_item(value).id
            if item_id in ids and item_id not in maps:
                check_replaceable(value, ["text", "done", "rank"], "a checklist item")
                maps[item_id] = value
        return maps

    def _checklist_changed(self, tid: str) -> None:
        self._cache.lists.pop(tid, None)
        self._changes.emit(
            Origin.LOCAL, [Change(Kind.TICKET_CHANGED, tid, frozenset({"checklist"}))]
        )
