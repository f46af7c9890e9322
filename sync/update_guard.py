"""What one document takes from outside: every update is checked before pycrdt applies it.

The sync core (:class:`~lanban.sync.protocol.SyncProtocol`) asks a document's
:class:`UpdateGuard` before applying a peer's or a relay client's step 2 or update;
one guard serves every link of a document (a node's board, a relay room). It runs

- :func:`~lanban.sync.update_check.check_update` (the encoding and its per-update
  caps), against the document's current state vector. That is kept, not parsed per
  update (``get_state`` is ~0.2 ms for 10,000 clients; parsing them ~3 ms): after a
  checked update it is taken from pycrdt's record of the transaction when that equals
  the update (all of it landed, nothing else), otherwise read with only the clocks of
  the clients that moved replaced (sync/update_state.py);
- the growth bound (PROTOCOL.md "Limits"): what pycrdt may allocate for an update of
  N bytes, estimated from the check's summary, must stay under ``64 N + 1 MiB``;
- what builds up over many updates: the document's distinct clients (its state
  vector), its encoded size, and updates pycrdt keeps aside until what they build on
  arrives ("pending": invisible in the state vector and in ``get_update``, and never
  stored, but held in memory, ~50 bytes per byte). An update that leaves structs
  pending is seen after it is applied (a client's clock stays short of the update's);
  over ``pending_bytes`` of such updates :class:`PendingOverflow` is raised. pycrdt
  cannot drop them, so the document is dropped: a relay room reloads from its store,
  a node reopens the board from its file (neither ever held them) and its peers
  resync. Until then (:attr:`UpdateGuard.stalled`) every update is refused.

A refusal raises :class:`~lanban.sync.update_check.UpdateRefused` (a ProtocolError):
the caller closes the link with its reason, and nothing was applied, stored or sent on.

Type nesting is counted in the whole document: the guard keeps the level of every
struct the document holds (:class:`~lanban.sync.type_depths.TypeDepths`), so the
check's depth limit bounds a chain built one level per update as well as one built in
a single update. The index is built from the document's state at the first update
(~0.15 s for a board of 10,000 changes), then kept up to date from each applied update
(a few us) and from each transaction a Board reports (the user's own edits, rows
another process stored); when the document changed otherwise (structs pycrdt held
back landed) it catches up from a diff of what it lacks. A type put next to or inside
a change the document lacks is refused (its depth is unknowable), and so is one
pycrdt would keep waiting, or one that builds on ids an update held back also claims
(which version yrs keeps there is not known). If the document's own encoding cannot
be read (only an older version's file could hold such bytes), the board keeps the
per-update limit alone and the log says so.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import NoReturn, Protocol

from lanban.model.schema import LOCAL_SOURCE, SYSTEM_SOURCE

from .messages import ProtocolError, read_var_uint
from .type_depths import TypeDepths
from .update_check import (
    DEFAULT_UPDATE_LIMITS,
    UpdateLimits,
    UpdateRefused,
    UpdateSummary,
    check_update,
)
from .update_lean import check_small
from .update_state import KnownState

log = logging.getLogger(__name__)

# Measured in pycrdt 0.14.13 (skip_gc): a Map created after the previous one takes
# ~410 bytes of memory, a keyed value ~465, a Deleted item ~210, a GC run ~20; an
# Any value ~24 bytes per byte of its encoding. The estimate takes the worst of each.
# (An honest item is 9 bytes or more: its origin names a 32-bit client.)
BYTES_PER_ITEM = 480
BYTES_PER_GC = 32
BYTES_PER_CONTENT_BYTE = 32
# No update of N bytes may grow a node or relay by more than this (PROTOCOL.md).
GROWTH_PER_BYTE = 64
GROWTH_ALLOWANCE = 1024 * 1024
# A board's encoded state (Doc.get_update()): a 10,000-ticket board is ~3.6 MB.
MAX_BOARD_BYTES = 64 * 1024 * 1024
# Distinct clients in a board's state vector: every app start is a new client, so
# 10,000 is years of daily use by a team; the state vector then is ~60 KB, far under
# the 1 MiB state-vector limit every peer must accept (Limits.state_vector_bytes).
MAX_BOARD_CLIENTS = 10_000
# Bytes of applied updates whose structs wait for changes the document lacks (honest
# ones wait briefly for an update that is on its way by another link).
MAX_PENDING_BYTES = 1024 * 1024
# The sources of a Board's own writes (the user's edits, fixes after a merge).
OWN_SOURCES = (LOCAL_SOURCE, SYSTEM_SOURCE)
# From this many clients on, the clocks a Board's own write moved are read from its
# update (~6 us) rather than from the state vector (get_state: ~1.3 us + 25 us per
# 1,000 clients, in Rust).
OWN_CLOCKS_FROM_UPDATE = 128


class GuardedDoc(Protocol):
    def get_state(self) -> bytes: ...

    def get_update(self, state_vector: bytes) -> bytes: ...


class BoardFull(UpdateRefused):
    """The update would take the board past one of its totals."""


class PendingOverflow(UpdateRefused):
    """Raised after applying: too much of what was applied waits for missing changes."""


@dataclass(frozen=True, slots=True)
class GuardLimits:
    update: UpdateLimits = DEFAULT_UPDATE_LIMITS
    board_bytes: int = MAX_BOARD_BYTES
    board_clients: int = MAX_BOARD_CLIENTS
    growth_per_byte: int = GROWTH_PER_BYTE
    growth_allowance: int = GROWTH_ALLOWANCE
    pending_bytes: int = MAX_PENDING_BYTES


DEFAULT_GUARD_LIMITS = GuardLimits()


def growth_estimate(summary: UpdateSummary) -> int:
    """Bytes pycrdt may allocate applying an update with this summary (an upper bound)."""
    items = summary.structs - summary.gc_structs
    return (
        items * BYTES_PER_ITEM
        + summary.gc_structs * BYTES_PER_GC
        + summary.content_bytes * BYTES_PER_CONTENT_BYTE
    )


class UpdateGuard:
    def __init__(
        self,
        doc: GuardedDoc,
        limits: GuardLimits = DEFAULT_GUARD_LIMITS,
        *,
        changes_reported: bool = False,
    ) -> None:
        """``changes_reported``: the owner calls :meth:`doc_changed` at every change of
        the document (a relay room observes its Doc anyway), so :meth:`admit` can take
        the state vector :meth:`applied` read as current (a ``get_state`` less per update).
        A Board reports its changes itself (every transaction reaches ``_doc_wrote``)."""
        self.doc = doc
        self.limits = limits
        self._known = KnownState()  # the state vector as last read
        self._changes_reported = changes_reported
        self._state_current = False  # _known is the document's (changes_reported only)
        # The document's encoded size, measured when needed and grown by the bytes of
        # every update applied since (an update adds at most its own size to it).
        self._size: int | None = None
        self._waiting: dict[int, int] = {}  # client -> clock an update reached, not the doc
        self.pending_bytes = 0  # bytes of the applied updates still waiting
        self._full: str | None = None  # why the last update was refused as over a total
        # The levels of the document's structs, built at the first update and kept up
        # to date; ``_depths_state``: the state vector it covers exactly (None: stale).
        self.depths = TypeDepths()
        self._depths_state: bytes | None = None
        self._depths_failed = False
        self._admitted = False  # between admit and applied: applied records that update
        self._deferred: list[bytes] = []  # the Board's own writes meanwhile, recorded after
        self._own_client: tuple[int, ...] = ()  # the client of the Board's own writes
        # transactions while the checked update lands that are not the Board's own, and
        # the update of the last (None: not told)
        self._landings = 0
        self._landed: bytes | None = None
        on_update = getattr(doc, "on_update", None)  # a Board: see _doc_wrote
        if callable(on_update):
            on_update(self._doc_wrote, after_commit=True)
            self._changes_reported = True

    @property
    def stalled(self) -> str | None:
        """Why the document takes no more updates until it is dropped (over
        ``pending_bytes`` wait for changes); None when it takes them."""
        if self.pending_bytes > self.limits.pending_bytes:
            return (
                f"board stalled: {self.pending_bytes // 1000} kB of updates wait for "
                "changes it lacks"
            )
        return None

    @property
    def problem(self) -> str | None:
        """Why this board refuses peers' updates now, for the status; None when it does not."""
        return self.stalled or self._full

    def admit(self, update: bytes) -> UpdateSummary:
        """Check an update before it is applied; raises UpdateRefused (or BoardFull)."""
        limits = self.limits
        self._admitted = False
        self._deferred.clear()
        self._landings, self._landed = 0, None
        stalled = self.stalled
        if stalled is not None:
            raise BoardFull(stalled)
        clocks = self._known.clocks if self._state_current else self._known_clocks()
        summary = check_update(
            update,
            limits.update,
            known_clock=lambda c: clocks.get(c, 0),
            outside=self._depths_now(),
        )
        allowed = limits.growth_per_byte * len(update) + limits.growth_allowance
        if growth_estimate(summary) > allowed:
            raise UpdateRefused(
                f"{summary.structs} structs in {len(update)} bytes could take over "
                f"{allowed // 1_000_000} MB to apply"
            )
        new_clients = 0
        for client in summary.clients:  # (a set difference with the keys would copy them)
            if client not in clocks:
                new_clients += 1
        if new_clients and len(clocks) + new_clients > limits.board_clients:
            self._refuse_as_full(
                f"board full: {len(clocks)} clients, {new_clients} more is over "
                f"{limits.board_clients}"
            )
        if self._size is None or self._size + len(update) > limits.board_bytes:
            self._size = len(self.doc.get_update(b"\x00"))
            if self._size + len(update) > limits.board_bytes:
                self._refuse_as_full(
                    f"board full: {self._size // 1_000_000} MB + {len(update) // 1000} kB "
                    f"is over the {limits.board_bytes // 1024 // 1024} MiB a board may hold"
                )
        self._full = None
        self._admitted = True
        return summary

    def _refuse_as_full(self, reason: str) -> NoReturn:
        self._full = reason
        raise BoardFull(reason)

    def applied(self, update: bytes, summary: UpdateSummary) -> None:
        """After ``update`` (with this summary from :meth:`admit`) was applied; raises
        PendingOverflow when too much of what was applied waits for missing changes."""
        self._admitted = False
        if self._size is not None:
            self._size += len(update)
        # What the document integrated is what the update said, unless structs held
        # back earlier came in with it (then the index catches up at the next update).
        known = self._known
        depths_in_step = self._depths_state == known.encoded and not self._waiting
        deferred = self._deferred
        landed = self._landings == 1 and not deferred and self._landed == update
        if landed:
            # pycrdt's own record of the transaction is the update: all of it landed,
            # and nothing else (no structs held back before, none held back now)
            changed: dict[int, int] | None = summary.clock_ends
            known.advance(summary.clock_ends)
        else:
            moved: Collection[int] = summary.clock_ends
            if deferred:
                self._deferred = []
                moved = set(moved).union(*map(self._writers, deferred))
            changed = known.read(self.doc.get_state(), moved)
        clocks = known.clocks
        self._state_current = self._changes_reported
        depths = self.depths
        if (
            depths_in_step
            and depths.record(summary.sections, clocks)
            and all(depths.queue(own, clocks if changed is None else changed) for own in deferred)
            # (landed: what record added, exactly, is what moved: each client's new
            # structs from its old clock to the end of its section)
            and (landed or depths.matches(clocks, changed))
        ):
            self._depths_state = known.encoded
        waiting = self._waiting
        short = False
        for client, end in summary.clock_ends.items():
            if clocks.get(client, 0) < end:
                waiting[client] = max(waiting.get(client, 0), end)
                short = True
        if waiting:
            for client, end in list(waiting.items()):
                if clocks.get(client, 0) >= end:
                    del waiting[client]
        if not waiting:
            self.pending_bytes = 0
        elif short:
            self.pending_bytes += len(update)
            if self.pending_bytes > self.limits.pending_bytes:
                raise PendingOverflow(
                    f"{self.pending_bytes // 1000} kB of updates wait for changes the board lacks"
                )

    def doc_changed(self, update: bytes | None = None) -> None:
        """The document changed (a transaction committed changes): see ``changes_reported``.
        ``update``: the transaction's update, if known (while a checked update lands, an
        equal one tells :meth:`applied` what the document holds without reading it)."""
        self._state_current = False
        if self._admitted:
            self._landings += 1
            self._landed = update

    def _doc_wrote(self, update: bytes, source: object) -> None:
        """Every transaction of a Board (the user's edits, rows another process
        stored): while the index is in step, its update is queued for the index to
        read when a peer's update names what it made (~4 us; read at once ~12 us), so
        the next peer update needs no catch-up (a diff of a 10,000-change board costs
        ~0.2 ms, most of it its delete set)."""
        if self._admitted:
            # the checked update itself: ``applied`` records it; what is written while it
            # lands (an event handler's answer, a fix after a merge): recorded after it
            if source in OWN_SOURCES:
                self._state_current = False
                self._deferred.append(update)
            else:
                self.doc_changed(update)
            return
        current = self._state_current
        self.doc_changed()
        known = self._known
        if self._depths_state != known.encoded or self._depths_failed:
            return  # not in step: caught up at the next update
        own_write = source in OWN_SOURCES
        changed = None
        if (
            own_write
            and current
            and not known.guessed
            and len(known.clocks) >= OWN_CLOCKS_FROM_UPDATE
        ):
            changed = self._moved_by(update)
        if changed is not None:
            known.advance(changed)
        else:
            writers = self._writers(update) if own_write else _section_clients(update)
            changed = known.read(self.doc.get_state(), writers)
        self._state_current = True
        clocks = known.clocks
        own = clocks if changed is None else changed
        if self.depths.queue(update, own) and self.depths.matches(clocks, changed):
            self._depths_state = known.encoded
        else:
            self._depths_state = None  # the next update catches up

    def _moved_by(self, own: bytes) -> dict[int, int] | None:
        """The clocks a Board's own write moved, from its update (pycrdt's record of
        the transaction: its structs start where the document's clocks were); None
        when the update is not of the lean shape."""
        clocks = self._known.clocks
        summary = check_small(own, self.limits.update, lambda c: clocks.get(c, 0), None)
        if summary is None or not all(
            end > clocks.get(client, 0) for client, end in summary.clock_ends.items()
        ):
            return None
        return summary.clock_ends

    def _writers(self, own: bytes) -> tuple[int, ...]:
        """The client whose clock a Board's own write moved: its own, the same every
        time (read from its first write that has structs)."""
        if not self._own_client:
            self._own_client = _section_clients(own)
        return self._own_client

    def _depths_now(self) -> TypeDepths | None:
        """The document's depth index, caught up with it (None if its encoding cannot
        be read: the board then has only the per-update depth limit, as it is logged)."""
        if self._depths_failed:
            return None
        self.depths.pending = self._waiting
        if self._depths_state != self._known.encoded:
            try:
                self.depths.catch_up(self.doc)
            except Exception as exc:  # the document's own bytes: not the peer's fault
                log.warning("cannot index the depth of this board's types: %s", exc)
                self._depths_failed = True
                return None
            self._depths_state = self._known.encoded
        return self.depths

    def _known_clocks(self) -> dict[int, int]:
        self._known.read(self.doc.get_state())
        return self._known.clocks


def _section_clients(update: bytes) -> tuple[int, ...]:
    """The client of an update's first section (a Board's own transaction has one
    section, its own client's); none if it has no structs."""
    try:
        sections, pos = read_var_uint(update, 0)
        if not sections:
            return ()
        _, pos = read_var_uint(update, pos)
        client, _ = read_var_uint(update, pos)
    except ProtocolError:
        return ()
    return (client,)
