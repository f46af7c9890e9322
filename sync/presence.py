"""Awareness (who is on a board and what they are doing), as y-protocols does it.

One :class:`Presence` per board and process. Each client's state carries a
clock; a state with a higher clock wins, a ``None`` state means the client
left. The local state is renewed every ``RENEW_MS`` and remote states expire
after ``OUTDATED_MS`` without news (y-protocols' values).

Unlike y-protocols, this also remembers over which links each client's state
arrived, so that when a link closes the states that came over it, and only
those no other link vouches for, are removed at once (no ghosts for 30 s),
and the removal is announced to the other links.

pycrdt ships an ``Awareness`` class, but it encodes string lengths in
characters rather than UTF-8 bytes and has no notion of links, so the
bookkeeping is done here and the bytes in :mod:`lanban.sync.messages`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .messages import AwarenessEntry

RENEW_MS = 15_000  # y-protocols: renew the local state at half the timeout
OUTDATED_MS = 30_000  # y-protocols' outdatedTimeout
MAX_CLIENTS = 1024  # remote clients one board's presence will hold

LinkId = Hashable
# (added, updated, removed) client ids, and the link the change came over
# (None: local or a timeout)
PresenceListener = Callable[[list[int], list[int], list[int], LinkId | None], None]


def now_ms() -> int:
    return time.monotonic_ns() // 1_000_000


@dataclass
class _Client:
    clock: int
    state: dict[str, Any] | None
    seen_ms: int
    links: set[LinkId] = field(default_factory=set)


class Presence:
    def __init__(self, client_id: int, *, clock: Callable[[], int] = now_ms) -> None:
        self.client_id = client_id
        self._now = clock
        self._clients: dict[int, _Client] = {}
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
        ids = self._clients.keys() if client_ids is None else client_ids
        return [
            AwarenessEntry(cid, self._clients[cid].clock, self._clients[cid].state)
            for cid in ids
            if cid in self._clients
        ]

    def full_update(self) -> list[AwarenessEntry]:
        """What a newly connected peer should be told: every live state."""
        return [e for e in self.entries() if e.state is not None]

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
        self._clients[self.client_id] = _Client(clock, state, self._now())
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
        now = self._now()
        added: list[int] = []
        updated: list[int] = []
        removed: list[int] = []
        forward: list[AwarenessEntry] = []
        for entry in entries:
            cid = entry.client_id
            known = self._clients.get(cid)
            if cid == self.client_id:
                # Someone says we left, or has an old copy of us: a newer clock
                # tells everyone we are still here.
                if known is not None and known.state is not None and entry.clock >= known.clock:
                    known.clock = entry.clock + 1
                    self._outbox.append((self.entries([cid]), None))
                continue
            if known is None and entry.state is None:
                continue  # a client we never saw left: nothing to forget or pass on
            if known is None and len(self._clients) >= MAX_CLIENTS:
                continue
            if known is not None:
                known.links.add(via)
            newer = known is None or entry.clock > known.clock
            same_clock_leave = (
                known is not None and entry.clock == known.clock and entry.state is None
            )
            if not (newer or same_clock_leave):
                continue
            if entry.state is None and known is not None and known.links - {via}:
                # Another link still vouches for this client (a mesh): it has
                # not left, only one path to it has.
                known.links.discard(via)
                continue
            before = None if known is None else known.state
            client = _Client(entry.clock, entry.state, now, {via})
            if known is not None and entry.state is not None:
                client.links |= known.links
            self._clients[cid] = client
            forward.append(entry)
            if before is None and entry.state is not None:
                added.append(cid)
            elif before is not None and entry.state is None:
                removed.append(cid)
            elif entry.state is not None and before != entry.state:
                updated.append(cid)
            elif entry.state is not None:
                pass  # a renewal: nothing changed for the UI
        if forward:
            self._outbox.append((forward, via))
        self._emit(added, updated, removed, via)
        return forward

    def link_closed(self, via: LinkId) -> list[int]:
        """Forget what link ``via`` vouched for; announce who is gone for good."""
        gone = []
        for cid, client in self._clients.items():
            if via in client.links:
                client.links.discard(via)
                if not client.links and cid != self.client_id and client.state is not None:
                    gone.append(cid)
        self._remove(gone, announce=True, via=via)
        return gone

    def tick(self) -> None:
        """Renew the local state and expire silent clients; call every few seconds."""
        now = self._now()
        me = self._clients.get(self.client_id)
        if me is not None and me.state is not None and now - me.seen_ms >= RENEW_MS:
            me.clock += 1
            me.seen_ms = now
            self._outbox.append((self.entries([self.client_id]), None))
        expired = [
            cid
            for cid, c in self._clients.items()
            if cid != self.client_id and c.state is not None and now - c.seen_ms >= OUTDATED_MS
        ]
        # Forget clients that left long ago: an older state of theirs can no longer
        # be on its way, and they would fill the MAX_CLIENTS table for good.
        for cid in [
            cid
            for cid, c in self._clients.items()
            if cid != self.client_id and c.state is None and now - c.seen_ms >= OUTDATED_MS
        ]:
            del self._clients[cid]
        self._remove(expired, announce=False, via=None)

    def _remove(self, client_ids: list[int], *, announce: bool, via: LinkId | None) -> None:
        if not client_ids:
            return
        entries = []
        for cid in client_ids:
            client = self._clients[cid]
            client.clock += 1
            client.state = None
            client.seen_ms = self._now()  # when it left, for forgetting it later
            client.links.clear()
            entries.append(AwarenessEntry(cid, client.clock, None))
        if announce:
            self._outbox.append((entries, via))
        self._emit([], [], client_ids, via)

    def _emit(
        self, added: list[int], updated: list[int], removed: list[int], via: LinkId | None
    ) -> None:
        if added or updated or removed:
            for listener in list(self._listeners):
                listener(added, updated, removed, via)
