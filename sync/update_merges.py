"""Runs of items pycrdt merges one by one, for sync/update_check.py.

pycrdt 0.14.13 merges a String or Any item into the item before it (same client,
next clock, origin = that item's last clock, both deleted or both not) one merge at
a time, each copying what the run holds so far: 1,000 one-value Any items (6 KB)
took 23 MB, 10,000 took 2.4 GB, a run of 20,000 one-character strings 250 MB.
Honest updates hold such runs already merged (Yjs and yrs squash after every
transaction), but not items that differ in being deleted: a text with every other
character deleted is a long chain of items that never merge.

The walk records which structs continue the one before them (:meth:`MergeRuns.add`,
with an upper bound of the work that ignores deletions). Only when that bound is
over the cap is the work counted again with the delete set
(:meth:`MergeRuns.work`): a run breaks where being deleted changes.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right

from .update_nesting import Section

_LIVE, _DELETED, _PARTIAL = 0, 1, 2


class MergeRuns:
    def __init__(self) -> None:
        # client -> indexes of its structs that continue the struct before them
        self.continuing: dict[int, array[int]] = {}
        self.bound = 0  # clock units copied, were nothing deleted

    def add(self, client: int, continuing: array[int], work: int) -> None:
        self.continuing[client] = continuing
        self.bound += work

    def work(self, sections: dict[int, Section], deleted: dict[int, list[int]]) -> int:
        """Clock units copied merging, with ``deleted[client]`` its deleted ranges
        as a flat list of start, end, start, end..."""
        return sum(
            _section_work(sections[client], continuing, _Deletions(deleted.get(client, [])))
            for client, continuing in self.continuing.items()
        )


def _section_work(sec: Section, continuing: array[int], deletions: _Deletions) -> int:
    starts, last = sec.starts, len(sec.starts) - 1

    def clocks(j: int) -> tuple[int, int]:
        return starts[j], starts[j + 1] if j < last else sec.end

    total, previous, run, before = 0, -2, 0, _LIVE
    for j in continuing:
        if j != previous + 1:  # a new run starts with the struct before j
            start, stop = clocks(j - 1)
            run, before = stop - start, deletions.of(start, stop)
        start, stop = clocks(j)
        now = deletions.of(start, stop)
        # A partly deleted item is split: count it as continuing either way.
        if now == before or _PARTIAL in (now, before):
            total += run
            run += stop - start
        else:
            run = stop - start
        before = now if now != _PARTIAL else before
        previous = j
    return total


class _Deletions:
    """One client's deleted ranges, merged and sorted, asked about clock ranges."""

    def __init__(self, flat: list[int]) -> None:
        pairs = sorted(zip(flat[::2], flat[1::2], strict=True))
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, stop in pairs:
            if start >= stop:
                continue
            if self.ends and start <= self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], stop)
            else:
                self.starts.append(start)
                self.ends.append(stop)

    def of(self, start: int, stop: int) -> int:
        i = bisect_right(self.starts, start) - 1
        if i >= 0 and self.ends[i] >= stop:
            return _DELETED
        if (i >= 0 and self.ends[i] > start) or (
            i + 1 < len(self.starts) and self.starts[i + 1] < stop
        ):
            return _PARTIAL
        return _LIVE
