"""A node's presence on one board: its own awareness state and everyone else's.

One :class:`Presence` per board and process, over the shared
:class:`~lanban.sync.awareness.AwarenessTable` with the node's ownership rule: each
remote state is vouched for by the links it came through, so that when a link
closes the states only it vouched for are removed at once (no ghosts for 30 s) and
the removal is announced to the other links. The local state is renewed every
``RENEW_MS`` and remote states expire after ``OUTDATED_MS`` without news
(y-protocols' values).

pycrdt ships an ``Awareness`` class, but it encodes string lengths in
characters rather than UTF-8 bytes and has no notion of links, so the
bookkeeping is done here and the bytes in :mod:`lanban.sync.messages`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from .awareness import NODE_OWNERSHIP, AwarenessTable, Client
from .messages import AwarenessEntry

RENEW_MS = 15_000  # y-protocols: renew the local state at half the timeout
OUTDATED_MS = 30_000  # y-protocols' outdatedTimeout
MAX_CLIENTS = NODE_OWNERSHIP.max_clients or 0  # remote clients one board's presence will hold

LinkId = Hashable
# (added, updated, removed) client ids, and the link the change came over
# (None: local or a timeout)
PresenceListener = Callable[[list[int], list[int], list[int], LinkId | None], None]


def now_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class Presence:
    def __init__(self, client_id: int, *, clock: Callable[[], int] = now_ms) -> None:
        self.client_id = client_id
        self._now = clock
        self._table = AwarenessTable(NODE_OWNERSHIP, local_id=client_id)
        self._clients = self._table.clients
        self._listeners: list[PresenceListener] = []
        # Outgoing entries, for the node to send: (entries, link to skip)
        self._outbox: list[tuple[list[AwarenessEntry], LinkId | None]] = []

    # ------------------------------------------------------------------ reading

    @property
    def states(self) -> dict[int, dict[str, Any]]:
        """Every known client's current state, the local one included."""
        return {cid: c.state for cid, c in self._clients.items() if c.state is not None}

    @property
    def local_state(self) -> dict[str, Any] | None:
        client = self._clients.get(self.client_id)
        return None if client is None else client.state

    def entries(self, client_ids: Iterable[int] | None = None) -> list[AwarenessEntry]:
        return self._table.entries(client_ids)

    def full_update(self) -> list[AwarenessEntry]:
        """What a newly connected peer should be told: every live state."""
        return list(self._table.states())

    def subscribe(self, listener: PresenceListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def take_outbox(self) -> list[tuple[list[AwarenessEntry], LinkId | None]]:
        out, self._outbox = self._outbox, []
        return out

    # ------------------------------------------------------------------ writing

    def set_local(self, state: dict[str, Any] | None) -> None:
        """Publish (or, with None, withdraw) this client's state."""
        me = self._clients.get(self.client_id)
        before = None if me is None else me.state
        # y-protocols ignores a client's first state at clock 0 (its own start at
        # 0 and publish from 1), so ours start at 1.
        clock = 1 if me is None else me.clock + 1
        self._table.set_local(Client(clock, state, self._now()))
        self._outbox.append((self.entries([self.client_id]), None))
        added = [self.client_id] if before is None and state is not None else []
        removed = [self.client_id] if before is not None and state is None else []
        updated = [] if added or removed or before == state else [self.client_id]
        self._emit(added, updated, removed, None)

    def set_local_field(self, key: str, value: Any) -> None:
        state = dict(self.local_state or {})
        if state.get(key) != value:
            state[key] = value
            self.set_local(state)

    def apply(self, entries: Iterable[AwarenessEntry], via: LinkId) -> list[AwarenessEntry]:
        """Apply entries received over link ``via``; return those to pass on."""
        remote = []
        for entry in entries:
            if entry.client_id != self.client_id:
                remote.append(entry)
                continue
            # Someone says we left, or has an old copy of us: a newer clock
            # tells everyone we are still here.
            me = self._clients.get(self.client_id)
            if me is not None and me.state is not None and entry.clock >= me.clock:
                me.clock = entry.clock + 1
                self._outbox.append((self.entries([self.client_id]), None))
        done = self._table.apply(remote, via, self._now())
        if done.forward:
            self._outbox.append((done.forward, via))
        self._emit(done.added, done.updated, done.removed, via)
        return done.forward

    def link_closed(self, via: LinkId) -> list[int]:
        """Forget what link ``via`` vouched for; announce who is gone for good."""
        removals = self._table.drop_owner(via, self._now())
        gone = [e.client_id for e in removals]
        if removals:
            self._outbox.append((removals, via))
        self._emit([], [], gone, via)
        return gone

    def tick(self) -> None:
        """Renew the local state and expire silent clients; call every few seconds."""
        now = self._now()
        me = self._clients.get(self.client_id)
        if me is not None and me.state is not None and now - me.seen >= RENEW_MS:
            me.clock += 1
            me.seen = now
            self._outbox.append((self.entries([self.client_id]), None))
        self._table.forget_left(now, OUTDATED_MS)
        expired = self._table.expire(now, OUTDATED_MS)  # not announced: each peer times out
        self._emit([], [], [e.client_id for e in expired], None)

    def _emit(
        self, added: list[int], updated: list[int], removed: list[int], via: LinkId | None
    ) -> None:
        if added or updated or removed:
            for listener in list(self._listeners):
                listener(added, updated, removed, via)
