"""One awareness table (who is on a board), as y-protocols keeps it, with owners.

Sans I/O, shared by a node's :class:`~lanban.sync.presence.Presence` and a relay room.
Each client id has a clock and a state; an entry wins when its clock is newer, or
when it has the same clock and removes the state (y-protocols' ``applyAwarenessUpdate``).
A ``None`` state means the client left.

What differs between the two users is who *owns* (speaks for) a client id, so that
the table can drop a client's state when its owner goes away instead of leaving a
ghost for 30 s. That is :class:`AwarenessRules`:

- a node (:data:`NODE_OWNERSHIP`, ``shared``): every link a client's state came through
  vouches for it (peers in a mesh forward each other's states); a removal over one
  link while another still vouches only forgets that path; removals the node makes
  itself move the client's clock on (so they win over the old state everywhere), and
  at most ``max_clients`` clients are held;
- a relay (:data:`RELAY_OWNERSHIP`, not shared): the last connection to send a state for
  an id owns it, as in the stock y-websocket server; a connection may own at most
  ``max_ids_per_owner`` ids (more is :class:`TooManyClientIds`), and removals keep
  the client's clock, so the client's next state (clock + 1) is accepted again.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .messages import AwarenessEntry

Owner = Hashable


class TooManyClientIds(ValueError):
    """A connection claims more awareness client ids than allowed."""


@dataclass(frozen=True, slots=True)
class AwarenessRules:
    shared: bool  # several owners vouch for a client (node) / the last sender owns it (relay)
    bump_clock_on_drop: bool  # removals made here go out at clock + 1 (node)
    max_clients: int | None = None  # entries for further new clients are ignored
    max_ids_per_owner: int | None = None  # more raise TooManyClientIds


NODE_OWNERSHIP = AwarenessRules(shared=True, bump_clock_on_drop=True, max_clients=1024)
RELAY_OWNERSHIP = AwarenessRules(shared=False, bump_clock_on_drop=False, max_ids_per_owner=64)


@dataclass(slots=True)
class Client:
    clock: int
    state: dict[str, Any] | None
    seen: float  # when its state last came (or it left)
    owners: set[Owner] = field(default_factory=set)


@dataclass(slots=True)
class Applied:
    """What applying entries did: the entries to pass on, and the client ids changed."""

    forward: list[AwarenessEntry] = field(default_factory=list)
    added: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)


class AwarenessTable:
    def __init__(self, rules: AwarenessRules, *, local_id: int | None = None) -> None:
        self.rules = rules
        self.local_id = local_id  # a node's own client: never dropped or expired here
        self.clients: dict[int, Client] = {}
        self._owned: dict[Owner, set[int]] = {}

    # ------------------------------------------------------------ reading

    def states(self) -> tuple[AwarenessEntry, ...]:
        """The present clients, as an update a newcomer can apply."""
        return tuple(
            AwarenessEntry(cid, c.clock, c.state)
            for cid, c in self.clients.items()
            if c.state is not None
        )

    def entries(self, client_ids: Iterable[int] | None = None) -> list[AwarenessEntry]:
        ids = self.clients.keys() if client_ids is None else client_ids
        return [
            AwarenessEntry(cid, self.clients[cid].clock, self.clients[cid].state)
            for cid in ids
            if cid in self.clients
        ]

    def owned_by(self, owner: Owner) -> frozenset[int]:
        return frozenset(
            cid for cid in self._owned.get(owner, ()) if self.clients[cid].state is not None
        )

    # ------------------------------------------------------------ writing

    def set_local(self, client: Client) -> None:
        assert self.local_id is not None
        self.clients[self.local_id] = client

    def apply(self, entries: Iterable[AwarenessEntry], owner: Owner, now: float) -> Applied:
        """Apply entries that ``owner`` sent. Raises TooManyClientIds, changing nothing."""
        entries = list(entries)
        limit = self.rules.max_ids_per_owner
        if limit is not None:
            sent = {e.client_id for e in entries if e.state is not None}
            claimed = self.owned_by(owner) | sent
            if len(claimed) > limit:
                raise TooManyClientIds(
                    f"{len(claimed)} awareness client ids on one connection (limit {limit})"
                )
        done = Applied()
        shared = self.rules.shared
        for entry in entries:
            cid, state = entry.client_id, entry.state
            known = self.clients.get(cid)
            if known is None:
                if state is None:
                    continue  # a client we never saw left: nothing to forget or pass on
                if (
                    self.rules.max_clients is not None
                    and len(self.clients) >= self.rules.max_clients
                ):
                    continue
            elif shared:
                self._own(cid, known, owner)  # it vouches, even with an old copy
            if known is not None and not (
                entry.clock > known.clock
                or (
                    entry.clock == known.clock
                    and state is None
                    and (shared or known.state is not None)
                )
            ):
                continue
            if state is None:
                assert known is not None
                if shared and known.owners - {owner}:
                    # Another link still vouches for this client (a mesh): it has
                    # not left, only one path to it has.
                    self._disown(cid, known, owner)
                    continue
                was_present = known.state is not None
                self._disown_all(cid, known)
                if shared:
                    self._own(cid, known, owner)
                known.clock, known.state, known.seen = entry.clock, None, now
                if was_present:
                    done.removed.append(cid)
                if was_present or shared:
                    done.forward.append(entry)
                continue
            before = None if known is None else known.state
            if known is None:
                known = self.clients[cid] = Client(entry.clock, None, now)
            elif not shared:
                # The last connection to send a state for an id speaks for it: a client
                # that reconnects before its old connection is noticed dead keeps it.
                self._disown_all(cid, known)
            known.clock, known.state, known.seen = entry.clock, state, now
            self._own(cid, known, owner)
            done.forward.append(entry)
            if before is None:
                done.added.append(cid)
            elif before != state:
                done.updated.append(cid)
        return done

    def drop_owner(self, owner: Owner, now: float) -> list[AwarenessEntry]:
        """``owner`` is gone: remove the states only it spoke for; the removals."""
        gone = []
        owned = self._owned.pop(owner, set())
        for cid in [cid for cid in self.clients if cid in owned]:  # in the table's order
            client = self.clients[cid]
            client.owners.discard(owner)
            if not client.owners and cid != self.local_id and client.state is not None:
                gone.append(cid)
        return self._remove(gone, now)

    def expire(self, now: float, timeout: float) -> list[AwarenessEntry]:
        """Remove remote states not renewed for ``timeout``; the removals."""
        stale = [
            cid
            for cid, c in self.clients.items()
            if cid != self.local_id and c.state is not None and now - c.seen >= timeout
        ]
        return self._remove(stale, now)

    def forget_left(self, now: float, timeout: float) -> None:
        """Forget clients that left ``timeout`` ago: no older state of theirs can still be
        on its way, and they would fill a ``max_clients`` table for good."""
        for cid in [
            cid
            for cid, c in self.clients.items()
            if cid != self.local_id and c.state is None and now - c.seen >= timeout
        ]:
            self._disown_all(cid, self.clients.pop(cid))

    def _remove(self, client_ids: list[int], now: float) -> list[AwarenessEntry]:
        removals = []
        for cid in client_ids:
            client = self.clients[cid]
            self._disown_all(cid, client)
            if self.rules.bump_clock_on_drop:
                client.clock += 1
                client.seen = now  # when it left, for forgetting it later
            client.state = None
            removals.append(AwarenessEntry(cid, client.clock, None))
        return removals

    # ------------------------------------------------------------ owners

    def _own(self, cid: int, client: Client, owner: Owner) -> None:
        client.owners.add(owner)
        self._owned.setdefault(owner, set()).add(cid)

    def _disown(self, cid: int, client: Client, owner: Owner) -> None:
        client.owners.discard(owner)
        owned = self._owned.get(owner)
        if owned is not None:
            owned.discard(cid)
            if not owned:
                del self._owned[owner]

    def _disown_all(self, cid: int, client: Client) -> None:
        for owner in list(client.owners):
            self._disown(cid, client, owner)
