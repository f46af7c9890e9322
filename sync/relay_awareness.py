"""A relay room's awareness states, and which connection speaks for each client id.

Sans-I/O. Follows y-protocols' ``applyAwarenessUpdate`` rules: an entry wins when its
clock is newer, or when it has the same clock and removes a state we hold. A removal
keeps the client's clock, so the client's next state (clock + 1) is accepted again.

The relay has no awareness state of its own; it only keeps what clients sent so that a
newcomer sees everyone at once, and so that it can announce a client's departure when
its connection closes (or when it stops renewing its state, like y-protocols' timeout).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from .messages import AwarenessEntry


class TooManyClientIds(ValueError):
    """A connection claims more awareness client ids than allowed."""


@dataclass(slots=True)
class _Client:
    clock: int
    state: dict[str, Any] | None
    updated_at: float
    owner: Hashable | None = None


@dataclass(slots=True)
class AwarenessTable:
    max_ids_per_owner: int
    _clients: dict[int, _Client] = field(default_factory=dict)
    _owned: dict[Hashable, set[int]] = field(default_factory=dict)

    def states(self) -> tuple[AwarenessEntry, ...]:
        """The present clients, as an update a newcomer can apply."""
        return tuple(
            AwarenessEntry(client_id, c.clock, c.state)
            for client_id, c in self._clients.items()
            if c.state is not None
        )

    def owned_by(self, owner: Hashable) -> frozenset[int]:
        return frozenset(self._owned.get(owner, ()))

    def apply(
        self, owner: Hashable, entries: tuple[AwarenessEntry, ...], now: float
    ) -> tuple[AwarenessEntry, ...]:
        """Entries that changed the table (to pass on to the room); stale ones are dropped.

        Raises TooManyClientIds, leaving the table unchanged, when ``owner`` would speak
        for more than ``max_ids_per_owner`` client ids.
        """
        sent = {e.client_id for e in entries if e.state is not None}
        claimed = self._owned.get(owner, set()) | sent
        if len(claimed) > self.max_ids_per_owner:
            raise TooManyClientIds(
                f"{len(claimed)} awareness client ids on one connection "
                f"(limit {self.max_ids_per_owner})"
            )
        changed = []
        for entry in entries:
            current = self._clients.get(entry.client_id)
            if current is not None and not self._wins(entry, current):
                continue
            if entry.state is None:
                if current is None:
                    continue
                was_present = current.state is not None
                self._disown(entry.client_id, current)
                current.state = None
                current.clock = entry.clock
                current.updated_at = now
                if not was_present:
                    continue
            else:
                if current is None:
                    current = self._clients[entry.client_id] = _Client(entry.clock, None, now)
                # The last connection to send a state for an id speaks for it: a client that
                # reconnects before its old connection is noticed dead keeps its presence.
                self._disown(entry.client_id, current)
                current.state = entry.state
                current.clock = entry.clock
                current.updated_at = now
                current.owner = owner
                self._owned.setdefault(owner, set()).add(entry.client_id)
            changed.append(entry)
        return tuple(changed)

    def remove_owner(self, owner: Hashable) -> tuple[AwarenessEntry, ...]:
        """Remove the states a closed connection spoke for; the removals to announce."""
        return tuple(self._remove(client_id) for client_id in self._owned.pop(owner, set()))

    def expire(self, older_than: float) -> tuple[AwarenessEntry, ...]:
        """Remove states not renewed since ``older_than``; the removals to announce."""
        stale = [
            client_id
            for client_id, c in self._clients.items()
            if c.state is not None and c.updated_at < older_than
        ]
        return tuple(self._remove(client_id) for client_id in stale)

    @staticmethod
    def _wins(entry: AwarenessEntry, current: _Client) -> bool:
        return current.clock < entry.clock or (
            current.clock == entry.clock and entry.state is None and current.state is not None
        )

    def _remove(self, client_id: int) -> AwarenessEntry:
        client = self._clients[client_id]
        self._disown(client_id, client)
        client.state = None
        return AwarenessEntry(client_id, client.clock, None)

    def _disown(self, client_id: int, client: _Client) -> None:
        if client.owner is None:
            return
        owned = self._owned.get(client.owner)
        if owned is not None:
            owned.discard(client_id)
            if not owned:
                del self._owned[client.owner]
        client.owner = None
