"""One board's live links in the node, and what passes between them.

The hub runs each link's session, forwards every update and awareness change
to the board's other links (so three peers in a line see each other), keeps
one LAN link per peer (when both sides dial at once, the link dialled by the
lower node id wins) and the sync bookkeeping behind ``lanban status``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from lanban.model.board import Board
from lanban.model.reading import printable

from .access import GatedSession, WriteAccess
from .identity import NodeKey, verify_proof
from .key_keeper import KeyKeeper
from .link import Link, LinkKind
from .member_invites import INVITE_CLAIM_META, admit, claim_from_store
from .presence import Presence
from .status import BoardStatus, NodeEvent, NodeListener
from .store import BoardFile
from .update_guard import UpdateGuard

log = logging.getLogger("lanban.node")  # one log for the node and its parts


class BoardHub:
    def __init__(
        self,
        file: BoardFile,
        node_id: str,
        notify: NodeListener,
        node_key: NodeKey | None = None,
        on_stalled: Callable[[BoardHub, str], None] | None = None,
    ) -> None:
        """``on_stalled(hub, why)``: a link's updates left the board's document stalled
        (:attr:`~.update_guard.UpdateGuard.stalled`); only dropping the document helps."""
        self.file = file
        self.node_id = node_id  # ours, hex
        self.node_key = node_key  # proves our member id to LAN peers (PROTOCOL.md 7.3)
        self.members: dict[int, str] = {}  # link id -> the member id its peer proved
        self.presence = Presence(file.board.doc.client_id)
        self.guard = UpdateGuard(file.board)  # checks every link's updates to the board
        self.links: dict[int, Link] = {}
        self.last_sync: float | None = None
        self._notify = notify
        self._on_stalled = on_stalled
        self._lan: dict[str, Link] = {}  # peer node id (hex) -> its live link
        self._synced_dirty = False  # mark the store synced at the next tick
        self._announced: set[int] = set()  # links whose sync the listeners know of
        self.keys = KeyKeeper(self)  # key epochs, removed members (PROTOCOL.md 7.6)
        self.write_access = WriteAccess(file.board)
        self._unlisten: list[Callable[[], None]] = [
            self.keys.listen(),
            self.write_access.close,
            # Before the store's listener: an edit leaves for peers, then is fsynced.
            file.board.on_update(self._forward, first=True),
            self.presence.subscribe(lambda *_: notify(NodeEvent.PRESENCE, self.id)),
        ]
        # A peer's update is written after its frame is handled: off the way to
        # the board's listeners and to an answer they send; and every write on the
        # file's own thread, so that no fsync holds the loop.
        file.defer_remote_writes(_soon)
        file.write_in_background(True)

    @property
    def board(self) -> Board:
        return self.file.board

    @property
    def id(self) -> str:
        return self.file.board_id

    def lan_link(self, peer_node: str) -> Link | None:
        """The live LAN link to this peer, if any."""
        return self._lan.get(peer_node)

    def close(self, reason: str) -> None:
        """Close every link and stop listening to the board (the file stays open)."""
        for link in list(self.links.values()):
            link.close(reason)
        for unlisten in self._unlisten:
            unlisten()
        self.file.defer_remote_writes(None)
        self.file.write_in_background(False)  # once what is queued is written

    # ------------------------------------------------------------- presence

    def set_presence(self, state: dict[str, Any] | None) -> None:
        self.presence.set_local(state)
        self.flush_presence()

    def set_presence_field(self, key: str, value: Any) -> None:
        self.presence.set_local_field(key, value)
        self.flush_presence()

    def flush_presence(self) -> None:
        for entries, skip in self.presence.take_outbox():
            for link in list(self.links.values()):
                if link.id != skip and link.session is not None:
                    link.session.send_awareness(entries)

    # ------------------------------------------------------------- updates

    def _forward(self, update: bytes, source: object) -> None:
        for link in list(self.links.values()):
            session = link.session
            if link.id != source and session is not None:
                session.send_update(update)
                if session.synced:
                    self._synced_dirty = True
                    self.last_sync = time.time()

    def _after_frame(self, link: Link) -> None:
        self.flush_presence()
        if link.synced:
            self.last_sync = time.time()
            if link.id not in self._announced:
                self._announced.add(link.id)
                self._synced_dirty = True
                self._notify(NodeEvent.LINKS, self.id)

    def tick(self) -> None:
        """Housekeeping, every second or so: presence renewal, sync bookkeeping."""
        self.presence.tick()
        self.flush_presence()
        self.keys.tick()
        # Only while a peer is linked: mark_synced takes every change in the file, and
        # one made since the last peer left was never sent (it would not be counted).
        if self._synced_dirty and any(
            lk.synced and not lk.close_reason for lk in self.links.values()
        ):
            self._synced_dirty = False
            try:
                self.file.mark_synced()
            except Exception as exc:  # sqlite busy: next round
                log.debug("mark_synced: %s", exc)
                self._synced_dirty = True

    # --------------------------------------------------------------- links

    async def run_link(self, link: Link, node_info: dict[str, Any] | None) -> bool:
        """Carry the board over this link until it closes.

        False at once if it is a second LAN link to a peer that lost the
        duplicate rule. ``node_info`` goes to LAN peers first.
        """
        if self.keys.is_old(link):  # under an old epoch's key: re-key only
            await self.keys.answer_old_epoch(link, node_info)
            return True
        peer = link.info.peer_node
        if link.info.kind == LinkKind.LAN:
            existing = self._lan.get(peer)
            if existing is not None and not existing.closed.is_set():
                if self._dialled_by(link) <= self._dialled_by(existing) and (
                    link.info.initiator != existing.info.initiator
                ):
                    existing.close("replaced by a link dialled by the lower node id")
                else:
                    await link.ws.close(1000, "duplicate link")
                    return False
            self._lan[peer] = link
        session = GatedSession(
            self.board,
            self.presence,
            link.id,
            link.send,
            on_node_info=lambda info: self._on_node_info(link, info),
            writer_allowed=lambda: self.write_access.allowed(self.members.get(link.id, "")),
            on_keys=(lambda p: self.keys.received_keys(link, p)) if link.channel else None,
            guard=self.guard,
        )
        self.links[link.id] = link
        if node_info is not None and self.node_key is not None and link.channel is not None:
            binding, me = link.channel.binding, self.node_key.member_id
            node_info = (
                node_info
                | self.node_key.proof(binding, initiator=link.info.initiator)
                | self.keys.node_info()
                | claim_from_store(self.file.meta(INVITE_CLAIM_META), self.board, me, binding)
            )
        session.start(node_info if link.info.kind == LinkKind.LAN else None)
        self._notify(NodeEvent.LINKS, self.id)
        log.info("%r up for board %s", link, self.id)
        try:
            reason = await link.run(session, on_frame=self._after_frame)
        finally:
            self.links.pop(link.id, None)
            self.members.pop(link.id, None)
            self._announced.discard(link.id)
            if link.info.kind == LinkKind.LAN and self._lan.get(peer) is link:
                del self._lan[peer]
            self.flush_presence()
            self._notify(NodeEvent.LINKS, self.id)
        log.info("%r down: %s", link, reason)
        stalled = self.guard.stalled
        if stalled is not None and self._on_stalled is not None:
            self._on_stalled(self, stalled)
        return True

    def _dialled_by(self, link: Link) -> str:
        return self.node_id if link.info.initiator else link.info.peer_node

    def _on_node_info(self, link: Link, info: dict[str, Any]) -> None:
        if link.channel is not None and link.channel.binding:
            # SecureError (a false proof) closes the link; None: an older node.
            member = verify_proof(
                info, link.channel.binding, peer_initiator=not link.info.initiator
            )
            if member is not None:
                self.members[link.id] = member
                self.keys.peer_identified(link, member, info)
                me = self.node_key.member_id if self.node_key is not None else ""
                if admit(self.board, me, member, info, link.channel.binding):
                    log.info("%r: admitted member %s with an invite", link, member)
        name = info.get("name")
        if isinstance(name, str):
            link.info.peer_name = printable(name[:100])  # printed by lanban status
            self._notify(NodeEvent.LINKS, self.id)

    # -------------------------------------------------------------- status

    def status(self) -> BoardStatus:
        links = tuple(
            replace(link.status(), member=self.members.get(link.id, ""))
            for link in self.links.values()
        )
        return BoardStatus(
            id=self.id,
            title=self.board.title or str(self.file.meta("title") or ""),
            connected_peers=len({lk.node_id for lk in links if lk.kind == LinkKind.LAN}),
            relay=any(lk.kind == LinkKind.RELAY for lk in links),
            local_changes_not_seen_by_peers=self.file.pending_local_changes(),
            last_sync=self.last_sync,
            links=links,
            problem=self.file.problem or self.guard.problem,
        )


def _soon(callback: Callable[[], None]) -> None:
    """``callback`` once the event loop is done with what it is handling now."""
    try:
        asyncio.get_running_loop().call_soon(callback)
    except RuntimeError:  # no loop runs (a board used before the node started): now
        callback()


FREE_TRIES, FREE_INTERVAL_S = 30, 0.1  # a dropped board's document: its links end in ~2 s


async def release_memory(hub: BoardHub) -> None:
    """Give back the memory of a dropped board's document once its links are gone.

    What remains of it are reference cycles (a board and its listeners), which only
    the cycle collector frees; what pycrdt held aside in it (tens of MB after an
    attack) would otherwise wait for Python's next full collection, which an idle
    node may not run for a long time.
    """
    board, links = weakref.ref(hub.board), hub.links
    del hub
    for _ in range(FREE_TRIES):
        if not links:  # each link's last step is closing its websocket (at most 2 s)
            await asyncio.sleep(0)  # the task of the link that stalled it ends
            gc.collect()
            if board() is None:
                return
        await asyncio.sleep(FREE_INTERVAL_S)
