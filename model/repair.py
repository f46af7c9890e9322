"""Deterministic fixes after a merge, written under the SYSTEM origin.

- Ticket numbers that two tickets hold (numbering on two peers apart): the
  rule is in model.numbers.
- No live column left (everyone deleted a different one at once): the first
  deleted column comes back, even on a board with no live tickets, or a
  ticket restored from the trash later would show nowhere.

Every replica that sees the same state writes the same values.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Map

from .cache import BoardCache
from .events import Change, Kind
from .index import Placement
from .numbers import renumbering
from .reading import read_value
from .writes import Writes, replaceable


def repair(
    cache: BoardCache, writes: Writes, numbers: set[int] | None = None, columns: bool = True
) -> list[Change]:
    """Make the fixes the document needs now; the changes they made.

    ``numbers``: the only numbers that can clash now (those of the tickets a
    merge added or renumbered); None checks them all, and the columns.
    ``columns``: whether the columns may have changed.
    """
    changes = _renumber(cache, writes, numbers) if numbers is None or numbers else []
    if (columns or numbers is None) and not cache.live_columns():
        # the first deleted column whose flag can be written (writes.replaceable)
        deleted = [c for c in cache.all_columns() if _writable(cache.columns[c.id], "deleted")]
        if deleted:
            with writes.system():
                cache.columns[deleted[0].id]["deleted"] = False
            cache.columns_changed()
            changes.append(Change(Kind.COLUMNS_CHANGED))
    return changes


def _renumber(cache: BoardCache, writes: Writes, numbers: set[int] | None) -> list[Change]:
    idx = cache.idx()
    candidates = idx.by_number if numbers is None else {n: idx.holders(n) for n in numbers}
    clashes = {n: ids for n, ids in candidates.items() if len(ids) > 1 or n < 1}
    if not clashes:
        return []
    # A ticket whose number field cannot be replaced keeps what it shows.
    rows = [
        (tid, n, idx.places[tid].created_at)
        for n, ids in clashes.items()
        for tid in ids
        if not idx.places[tid].tainted or _writable(cache.ticket_map(tid), "number")
    ]
    fixes = renumbering(rows, idx.highest_number(), idx.by_number.keys())
    if not fixes:
        return []
    with writes.system():
        for tid, number in fixes.items():
            cache.ticket_map(tid)["number"] = number
    changes = []
    for tid, number in fixes.items():
        p = idx.places[tid]
        idx.put(tid, Placement(p.column, p.rank, p.deleted, number, p.created_at, p.tainted))
        changes.append(Change(Kind.TICKET_CHANGED, tid, frozenset({"number"}), p.number))
    return changes


def _writable(m: Map[Any], key: str) -> bool:
    return replaceable(read_value(m, key))
