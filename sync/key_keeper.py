"""A board hub's part in removals (PROTOCOL.md 7.6): key epochs on its links.

- A member online during a removal gets the ``keys`` entry through the document:
  :meth:`KeyKeeper.after_change` opens its box, keeps the key and closes the peer
  links (all made under the old key), so members link again under the new one.
- A member offline then later dials with an old epoch's key; the responder
  recognises it (:mod:`.secure`) and answers *re-key only*
  (:meth:`KeyKeeper.answer_old_epoch`): after the identity proof, a current member
  gets the entries sealed to it (a KEYS message) and the link closes; nobody gets
  board data on such a link. The member keeps the key and dials again.
- Links of a member marked removed close as soon as the removal is in the
  board (after the transaction that brought it, before anything else is sent).
- The board's relay room: its id until the key is rotated, then named from the key.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pycrdt import Map
from websockets.exceptions import ConnectionClosed

from lanban.model.board_keys import ROOT as KEYS_ROOT
from lanban.model.board_keys import KeyEntry, key_entries
from lanban.model.members import member, role_of, watch_members

from .identity import verify_proof
from .key_delivery import kex_fields
from .key_epochs import current_epoch, reload
from .member_authority import heal
from .member_signing import install
from .protocol import MAX_NODE_INFO_BYTES, NODE_INFO
from .rekey import (
    CLOSE_REFUSED,
    REASON_NEW_KEY,
    REASON_NEW_ROOM,
    REASON_NO_BOX,
    REASON_NOT_MEMBER,
    REASON_REKEYED,
    REASON_REMOVED,
    adopt,
    key_check,
    keys_message,
    publish_own_kex,
    read_keys_message,
    record_peer_kex,
    relay_room,
    trusted,
)
from .secure import HANDSHAKE_TIMEOUT_SECONDS, SecureError

if TYPE_CHECKING:
    from .board_file import BoardFile
    from .hub import BoardHub
    from .link import Link

log = logging.getLogger("lanban.node")


class KeyKeeper:
    """A board hub's part in removals: key epochs, kex publishing, shutting links."""

    def __init__(self, hub: BoardHub) -> None:
        self.hub = hub
        self.trust = install(hub.file)  # the verified member list (PROTOCOL.md 7.5)
        self._epoch = current_epoch(hub.file)
        self._keys_touched = False  # the keys map changed since last read (listen)
        self.shut_out = 0  # links of removed members closed (for tests and logs)
        self.refused_old = 0  # links under an old epoch's key refused
        self._members_touched = True  # the member list changed since last checked
        self._rotated = False  # a trusted keys entry names our epoch-0 key (a late joiner)
        self._room = ""  # the relay room our relay links use
        # Held, not looked up per change: Doc.get makes a Map and a transaction each time.
        self._keys_root: Map[Any] = hub.file.board.doc.get(KEYS_ROOT, type=Map)
        self._take_up_keys(force=True)

    @property
    def file(self) -> BoardFile:
        return self.hub.file

    def node_info(self) -> dict[str, Any]:
        """The NODE_INFO fields that publish this node's key-agreement key."""
        key = self.hub.node_key
        return {} if key is None else kex_fields(key, key.kex)

    def listen(self) -> Callable[[], None]:
        """Follow the board's changes (:meth:`after_change`); returns how to stop."""
        board = self.file.board
        keys_root = self._keys_root
        # A flag set as the keys change: no read of the map after every other change.
        keys_watch = keys_root.observe_deep(self._touch_keys)
        stops = [
            self.trust.watch(),
            watch_members(board, self._touch),
            lambda: keys_root.unobserve(keys_watch),
            board.on_update(self.after_change, after_commit=True),
        ]

        def stop_all() -> None:
            for stop in stops:
                stop()

        return stop_all

    def _touch(self) -> None:
        self._members_touched = True

    def _touch_keys(self, _events: object) -> None:
        self._keys_touched = True

    def after_change(self, update: bytes, source: object) -> None:
        """After every transaction: take up new keys, close removed members' links."""
        try:
            if self._members_touched:
                self._members_touched = False
                self._shut_out()
            self._take_up_keys()
        except Exception:  # never fail the write that called us
            log.exception("board %s: checking members after a change", self.hub.id)

    def tick(self) -> None:
        try:
            reload(self.file)  # a CLI command may have rotated the key
            self._take_up_keys(force=True)
            key = self.hub.node_key
            if key is not None:
                publish_own_kex(self.file.board, key)
                if heal(self.file.board, self.trust, key):
                    log.info("board %s: wrote signed member entries back", self.hub.id)
        except Exception:
            log.exception("board %s: key housekeeping", self.hub.id)

    def peer_identified(self, link: Link, peer: str, info: dict[str, Any]) -> None:
        board, key = self.file.board, self.hub.node_key
        entry = member(board, peer)
        if entry is not None and entry.removed:
            self._close_removed(link)
            return
        if key is not None and record_peer_kex(board, key.member_id, peer, info):
            log.info("%r: published member %s's key-agreement key", link, peer)

    def received_keys(self, link: Link, payload: bytes) -> None:
        key = self.hub.node_key
        if key is None:
            return
        kept = adopt(self.file, key, read_keys_message(payload))
        if kept:
            log.info("%r: got the board key of epoch %d", link, max(kept))
            self._epoch_changed()

    def _take_up_keys(self, *, force: bool = False) -> None:
        if self._keys_touched or force:
            self._keys_touched = False
            key = self.hub.node_key
            if len(self._keys_root):
                entries = key_entries(self.file.board)
                if key is not None:
                    adopt(self.file, key, entries)
                self._rotated = self._rotated or self._named_by(entries)
        if current_epoch(self.file) != self._epoch:
            self._epoch_changed()
        room = self.relay_room()
        if room != self._room:
            self._room = room
            for link in list(self.hub.links.values()):
                if link.channel is None:  # a relay link: on to the new room
                    link.close(REASON_NEW_ROOM)

    def relay_room(self) -> str:
        """The board's room on a relay: its id until its key is rotated, then a name
        only holders of the key can make (PROTOCOL.md 7.6)."""
        file = self.file
        if current_epoch(file) == 0 and not self._rotated:
            return file.board_id
        return relay_room(file.key)

    def _named_by(self, entries: list[KeyEntry]) -> bool:
        """Whether a trusted entry names our (only) key as a rotated one: we joined
        with an invite made after a removal."""
        key, board_id = self.file.key, self.file.board_id
        return any(
            hmac.compare_digest(e.check, key_check(key, board_id, e.epoch))
            and trusted(self.file.board, board_id, e)
            for e in entries
        )

    def _epoch_changed(self) -> None:
        """Every peer link was made under an older key: members link again under the
        new one (dialling with it), anyone else is out."""
        self._epoch = current_epoch(self.file)
        for link in list(self.hub.links.values()):
            peer = self.hub.members.get(link.id, "")
            if link.channel is None:
                continue  # a relay link: no board key involved
            if peer and role_of(self.file.board, peer) is not None:
                link.close(REASON_NEW_KEY)
            else:
                link.close(REASON_NOT_MEMBER)

    def _shut_out(self) -> None:
        board = self.file.board
        for link_id, peer in list(self.hub.members.items()):
            entry = member(board, peer)
            link = self.hub.links.get(link_id)
            if link is not None and entry is not None and entry.removed and not link.close_reason:
                self._close_removed(link)

    def _close_removed(self, link: Link) -> None:
        log.info("%r: closed: its member was removed from board %s", link, self.hub.id)
        self.shut_out += 1
        link.close(REASON_REMOVED)

    # ------------------------------------------------------- re-key only

    def is_old(self, link: Link) -> bool:
        """Whether a peer dialled us with an old epoch's key (we dial with the newest)."""
        channel = link.channel
        if channel is None or link.info.initiator:
            return False
        return channel.epoch < current_epoch(self.file)

    async def answer_old_epoch(self, link: Link, node_info: dict[str, Any] | None) -> str:
        """Serve a link made under an old epoch's key: keys for a member, nothing else."""
        channel, ws = link.channel, link.ws
        assert channel is not None
        try:
            async with asyncio.timeout(HANDSHAKE_TIMEOUT_SECONDS):
                frame = channel.open(await _binary(ws))
            if frame[:1] != bytes([NODE_INFO]) or len(frame) > MAX_NODE_INFO_BYTES + 1:
                raise SecureError("no node info")
            info = json.loads(frame[1:])
            if not isinstance(info, dict):
                raise SecureError("node info is not an object")
            peer = verify_proof(info, channel.binding, peer_initiator=True)
        except (SecureError, ValueError, RecursionError, TimeoutError, ConnectionClosed) as exc:
            return await self._refuse(link, REASON_NOT_MEMBER, f"no identity ({exc})")
        entry = member(self.file.board, peer) if peer else None
        if entry is None or entry.removed:
            why = REASON_REMOVED if entry is not None else REASON_NOT_MEMBER
            return await self._refuse(link, why, f"member {peer or '(none)'}")
        boxes = [
            e
            for e in key_entries(self.file.board)
            if e.epoch > channel.epoch
            and peer in e.sealed
            and trusted(self.file.board, self.file.board_id, e)
        ]
        if not boxes:
            return await self._refuse(link, REASON_NO_BOX, f"member {peer}")
        key = self.hub.node_key
        if key is None:  # a node without an identity cannot prove who sends the keys
            return await self._refuse(link, REASON_NO_BOX, "this node has no identity")
        mine = (node_info or {}) | key.proof(channel.binding, initiator=False)
        for message in (bytes([NODE_INFO]) + json.dumps(mine).encode(), keys_message(boxes)):
            await ws.send(channel.seal(message))
        log.info("%r: sent member %s the board key of epoch %d", link, peer, boxes[-1].epoch)
        await ws.close(1000, REASON_REKEYED)
        return REASON_REKEYED

    async def _refuse(self, link: Link, reason: str, detail: str) -> str:
        self.refused_old += 1
        log.info("%r: refused a link under an old board key: %s (%s)", link, reason, detail)
        await link.ws.close(CLOSE_REFUSED, reason)
        return reason


async def _binary(ws: Any) -> bytes:
    frame = await ws.recv()
    if isinstance(frame, str):
        raise SecureError("text frame")
    return bytes(frame)
