"""How deep every struct of a document sits: the depth index behind the nesting limit.

One update's check (sync/update_check.py) bounds how deep the types it creates
nest, but a key holder can nest one level per update: 40,000 levels, each update
harmless on its own, and a peer's one-level delete of the chain's root makes yrs
recurse and crash (tests/model/test_pycrdt_bugs.py). So the nesting pass
(sync/update_nesting.py) looks up what an update builds on here: for each client,
sorted runs of clocks with the same entry - the level of the struct's container
(how many types enclose it) and its kind (GC, item, type, Deleted content) - as
two compact arrays (6 bytes a run). Runs of one client with the same entry merge,
so typing a description costs no entry per character.

It is filled from the document's own encoding (:meth:`TypeDepths.catch_up`: a diff
from what the index covers, walked with the same reader; the first time the whole
state: ~0.15 s and ~14,000 runs for a board of 10,000 changes), from each checked
update's structs the document integrated (:meth:`TypeDepths.record`, clocks below
the new state vector), and from the updates a Board reports for its own
transactions (:meth:`TypeDepths.add_own`). The caller (sync/update_guard.py) catches
up instead whenever the document may hold something else than what it was told:
structs pycrdt held back (pending) and integrated later, for one.

Only the clocks below a client's clock in the state vector are covered. What the
document may hold past them - yrs takes an item after a gap in its client's clocks,
and holds back others - is *claimed* (:meth:`TypeDepths.claimed`): a type that
builds on a claimed id is refused, since the version there is not known.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Mapping
from typing import Protocol

from .messages import var_uint
from .update_check import MAX_TYPE_DEPTH, read_structs, state_vector_clocks
from .update_nesting import (
    DELETED_ENTRY,
    GC_ENTRY,
    IS_DELETED,
    IS_SKIP,
    IS_TYPE,
    ITEM_ENTRY,
    MISSING,
    NO_PARENT,
    TYPE_ENTRY,
    Nesting,
    Section,
)

# The document's own writes kept unread at most (a user's edits of a long session
# are ~50 bytes each; past this the next peer update catches up with a diff).
MAX_QUEUED_BYTES = 256 * 1024


class EncodedDoc(Protocol):
    def get_state(self) -> bytes: ...

    def get_update(self, state_vector: bytes) -> bytes: ...


class TypeDepths:
    """Per client: runs of clocks [start, next start) with one entry (level << 2 | kind)."""

    def __init__(self) -> None:
        self._starts: dict[int, array[int]] = {}
        self._entries: dict[int, array[int]] = {}
        self.ends: dict[int, int] = {}  # client -> clock the runs reach (the doc's clock)
        # client -> clock updates pycrdt holds back reach (the guard's, while any wait)
        self.pending: dict[int, int] = {}
        # client -> clock structs the document may hold past ``ends`` reach: after a gap
        # in their client's clocks (yrs takes those), or waiting
        self.claims: dict[int, int] = {}
        # The document's own writes, kept as bytes until an update names what they
        # made (most never are): read then, in order. ``unread``: client -> clock the
        # document holds through them.
        self._queued: list[bytes] = []
        self._queued_bytes = 0
        self.unread: dict[int, int] = {}

    def entry(self, client: int, clock: int) -> int:
        if clock >= self.ends.get(client, 0):
            if clock >= self.unread.get(client, 0) or not self.read_queued():
                return -1
            return self.entry(client, clock)
        return self._entries[client][bisect_right(self._starts[client], clock) - 1]

    def held(self, client: int) -> int:
        end, unread = self.ends.get(client, 0), self.unread.get(client, 0)
        return end if end >= unread else unread

    def queue(self, update: bytes, clocks: Mapping[int, int]) -> bool:
        """Keep an update the document wrote of itself (``clocks``: its state vector
        after it, or the clocks that changed since the index covered it) to read when
        needed; False when too much waits (read nothing: the caller catches up instead)."""
        self._queued.append(update)
        self._queued_bytes += len(update)
        if self._queued_bytes > MAX_QUEUED_BYTES:
            self.drop_queued()
            return False
        ends, unread = self.ends, self.unread
        for client, clock in clocks.items():
            if clock > ends.get(client, 0):
                unread[client] = clock
        return True

    def read_queued(self) -> bool:
        """Read the queued updates into the index; False if there were none or one
        could not be read (then none is kept and the index covers only ``ends``)."""
        queued = self._queued
        if not queued:
            return False
        self.drop_queued()
        try:
            for update in queued:
                self.add_own(read_structs(update))
        except Exception:  # the document's own bytes: the caller catches up
            return False
        return True

    def drop_queued(self) -> None:
        self._queued, self._queued_bytes, self.unread = [], 0, {}

    def claimed(self, client: int) -> int:
        return max(self.pending.get(client, 0), self.claims.get(client, 0))

    def matches(self, clocks: Mapping[int, int], only: Mapping[int, int] | None = None) -> bool:
        """Whether the index (with what it has queued) covers exactly this state
        vector (client -> clock). ``only``: the clients whose clocks changed since the
        index last covered the state vector exactly (None: any may have)."""
        if only is not None:
            held = self.held
            return all(held(client) == clocks.get(client, 0) for client in only)
        covered = self.ends
        if self.unread:
            covered = dict(covered)
            for client, clock in self.unread.items():
                if clock > covered.get(client, 0):
                    covered[client] = clock
        if covered == clocks:
            return True
        # a state vector may name a client at clock 0
        return all(covered.get(c, 0) == k for c, k in clocks.items()) and all(
            c in clocks for c in covered
        )

    @property
    def runs(self) -> int:
        return sum(len(starts) for starts in self._starts.values())

    def state_vector(self) -> bytes:
        """What the index covers, encoded as a Yjs state vector."""
        ends = self.ends
        return var_uint(len(ends)) + b"".join(var_uint(c) + var_uint(k) for c, k in ends.items())

    def catch_up(self, doc: EncodedDoc) -> int:
        """Add what ``doc`` holds past what the index covers; the structs walked.
        UpdateRefused (a ProtocolError) if the encoding is one the reader refuses."""
        self.drop_queued()  # the diff holds them
        clocks = state_vector_clocks(doc.get_state())
        # yrs encodes the structs it holds back too (after a Skip): only those under
        # the state vector are the document's
        sections = read_structs(doc.get_update(self.state_vector()))
        self.add_own(sections, clocks)
        return sum(len(sec.starts) for sec in sections.values())

    def add_own(
        self, sections: dict[int, Section], integrated: Mapping[int, int] | None = None
    ) -> None:
        """Add structs a document encoded itself (its state, a diff of it, a stored
        snapshot), refusing nothing: levels past any limit are kept as SATURATED."""
        Nesting(sections, MAX_TYPE_DEPTH, 1 << 40, 1 << 40, self).levels()
        self.record(sections, integrated)

    def record(
        self, sections: Mapping[int, Section], integrated: Mapping[int, int] | None = None
    ) -> bool:
        """Add the structs (levels resolved against this index) the document holds now:
        those below ``integrated[client]`` (None: all). False when some could not be
        added (a gap before them, or an unknown container): the index then covers less
        than the document, and the caller should catch up."""
        exact = True
        ends, claims = self.ends, self.claims
        for client, sec in sections.items():
            covered = ends.get(client, 0)
            upto = sec.end if integrated is None else min(sec.end, integrated.get(client, 0))
            starts = sec.starts
            if upto > covered and starts:
                if starts[0] > covered:
                    exact = False  # a gap: claimed, below
                elif not self._add_runs(client, sec, covered, upto):
                    exact = False
            if sec.end > ends.get(client, 0):  # what it could not add may be there
                claims[client] = max(claims.get(client, 0), sec.end)
        return exact

    def _add_runs(self, client: int, sec: Section, covered: int, upto: int) -> bool:
        """Add the section's structs from ``covered`` (where its first starts or
        within one) to ``upto``; False if one before ``upto`` could not be added."""
        starts, kinds, levels = sec.starts, sec.kinds, sec.levels
        run_starts = self._starts.get(client)
        if run_starts is None:
            run_starts = self._starts[client] = array("i")
            self._entries[client] = array("H")
        run_entries = self._entries[client]
        last = run_entries[-1] if run_entries else -1
        exact = True
        first = bisect_right(starts, covered) - 1 if starts[0] < covered else 0
        for i in range(first, len(starts)):
            start = starts[i]
            if start >= upto:
                break
            level = levels[i]
            kind = kinds[i]
            if level >= MISSING or kind & IS_SKIP:
                exact = False
                upto = max(start, covered)
                break
            if kind & 3 == NO_PARENT:
                entry = GC_ENTRY
            elif kind & IS_TYPE:
                entry = level << 2 | TYPE_ENTRY
            elif kind & IS_DELETED:
                entry = level << 2 | DELETED_ENTRY
            else:
                entry = level << 2 | ITEM_ENTRY
            if entry != last:
                run_starts.append(start if start > covered else covered)
                run_entries.append(entry)
                last = entry
        if upto > covered:
            self.ends[client] = upto
        elif not run_starts:
            del self._starts[client], self._entries[client]
        return exact
