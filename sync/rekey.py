"""Removing a member and handing the new board key to the others (PROTOCOL.md 7.6).

The pattern is Matrix's Megolm rotation: a removal makes a new random board
key for the next *epoch*, sealed to each remaining member's key-agreement key
(:mod:`.key_delivery`) and signed by the remover, in the document's ``keys`` map
(:mod:`lanban.model.board_keys`). From then on nodes use the new key for
handshakes, discovery tags and invites, so the removed member can no longer link.

- A member online during the removal gets the entry through the document:
  :meth:`KeyKeeper.after_change` opens its box and keeps the key.
- A member offline then later dials with an old epoch's key; the responder
  recognises it (:mod:`.secure`) and answers *re-key only*
  (:meth:`KeyKeeper.answer_old_epoch`): after the identity proof, a current member
  gets the entries sealed to it (a KEYS message) and the link closes; nobody gets
  board data on such a link. The member keeps the key and dials again.
- Links of a member marked removed close as soon as the removal is in the
  board (after the transaction that brought it, before anything else is sent).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from websockets.exceptions import ConnectionClosed

from lanban.model.board import Board
from lanban.model.board_keys import KeyEntry, add_key_entry, entry_count, key_entries
from lanban.model.errors import BoardError
from lanban.model.members import (
    Role,
    member,
    members,
    remove_member,
    role_of,
    set_kex,
    watch_members,
)

from .identity import NodeKey, b64url, public_key, unb64url, verify_proof
from .key_delivery import kex_fields, member_kex, open_board_key, seal_board_key
from .key_epochs import KEYS_MESSAGE, current_epoch, reload, store_key
from .protocol import MAX_NODE_INFO_BYTES, NODE_INFO
from .secure import BOARD_KEY_BYTES, HANDSHAKE_TIMEOUT_SECONDS, SecureError

if TYPE_CHECKING:
    from .board_file import BoardFile
    from .hub import BoardHub
    from .link import Link

log = logging.getLogger("lanban.node")

LABEL_KEY_EPOCH = b"lanban/1 key epoch"
LABEL_KEY_CHECK = b"lanban/1 key check"
LABEL_RELAY_ROOM = b"lanban/1 relay room"
MAX_KEYS_MESSAGE_BYTES = 1024 * 1024
CLOSE_REFUSED = 1008
REASON_REMOVED = "removed from this board"
REASON_NOT_MEMBER = "not a member of this board: it has a new key"
REASON_NO_BOX = "no new key was sealed to you: ask a member for a new invite"
REASON_NEW_KEY = "the board has a new key: linking again with it"
REASON_NEW_ROOM = "the board has a new key: moving to its new relay room"
REASON_REKEYED = "re-keyed: dial again with the new key"


@dataclass(frozen=True)
class Removal:
    member: str
    epoch: int
    sealed_to: tuple[str, ...]  # remaining members who get the new key
    without_key: tuple[str, ...]  # remaining members with no published kex: shut out too


def remove(file: BoardFile, me: NodeKey, target: str) -> Removal:
    """Remove ``target`` from the board and rotate its key (the caller's node switches).

    BoardError if ``me`` is not an owner or admin, or ``target`` is not a member
    that may be removed.
    """
    board = file.board
    mine = role_of(board, me.member_id)
    if mine is None or not mine.manages_members:
        raise BoardError("only the board's owner or an admin can remove a member")
    if target == me.member_id:
        raise BoardError("you cannot remove yourself")
    theirs = role_of(board, target)
    if theirs is None:
        raise BoardError(f"{target} is not a member of this board")
    if theirs is Role.OWNER:
        raise BoardError("the board's owner cannot be removed")
    reload(file)
    epoch = current_epoch(file) + 1
    key = secrets.token_bytes(BOARD_KEY_BYTES)
    publish_own_kex(board, me)
    sealed, without = {}, []
    for m in members(board):
        if m.id == target:
            continue
        recipient = (
            me.kex.public_key() if m.id == me.member_id else member_kex(m.id, m.kex, m.kex_sig)
        )
        if recipient is None:
            without.append(m.id)
            continue
        sealed[m.id] = seal_board_key(key, file.board_id, epoch, recipient)
    unsigned = KeyEntry(
        epoch, me.member_id, board._clock(), sealed, "", key_check(key, file.board_id, epoch)
    )
    entry = replace(unsigned, sig=b64url(me.sign(_entry_message(file.board_id, unsigned))))
    # The removal first: the removed member's links close before the new key's
    # entry goes out to the others' (over links still under the old key). The
    # entry holds a box sealed to us too: a node that dies before store_key
    # takes the key up from it when it opens the board again.
    remove_member(board, target)
    add_key_entry(board, entry)
    store_key(file, epoch, key)
    log.info("board %s: removed %s; new key epoch %d", file.board_id, target, epoch)
    return Removal(target, epoch, tuple(sealed), tuple(without))


def publish_own_kex(board: Board, me: NodeKey) -> bool:
    """Write this node's key-agreement key in its own member entry if it may; True if written."""
    entry = member(board, me.member_id)
    if entry is None or entry.removed or not entry.role.writes:
        return False
    if (
        member_kex(me.member_id, entry.kex, entry.kex_sig) is not None
        and _unb64(entry.kex) == me.kex.public_key().public_bytes_raw()
    ):
        return False
    fields = kex_fields(me, me.kex)
    set_kex(board, me.member_id, fields["kex"], fields["kex_sig"])
    return True


def record_peer_kex(board: Board, me: str, peer: str, info: dict[str, Any]) -> bool:
    """Write a peer's key-agreement key from its NODE_INFO into its entry, if it has
    none and this node may write (a viewer cannot write its own); True if written."""
    mine, entry = role_of(board, me), member(board, peer)
    if mine is None or not mine.writes or entry is None or entry.removed:
        return False
    if member_kex(peer, entry.kex, entry.kex_sig) is not None:
        return False
    kex, kex_sig = info.get("kex"), info.get("kex_sig")
    if member_kex(peer, kex, kex_sig) is None:
        return False
    assert isinstance(kex, str) and isinstance(kex_sig, str)
    set_kex(board, peer, kex, kex_sig)
    return True


def adopt(file: BoardFile, me: NodeKey, entries: list[KeyEntry]) -> list[int]:
    """Keep the keys of later epochs sealed to ``me`` in trusted entries; the epochs kept.

    An entry counts if its signer is, on this node's copy of the board, a current
    owner or admin, and its signature holds.
    """
    kept = []
    for entry in entries:
        if entry.epoch in file.keys or me.member_id not in entry.sealed:
            continue
        if not _trusted(file.board, file.board_id, entry):
            log.warning(
                "board %s: ignored key epoch %d (not signed by an owner or admin)",
                file.board_id,
                entry.epoch,
            )
            continue
        try:
            key = open_board_key(entry.sealed[me.member_id], file.board_id, entry.epoch, me.kex)
        except ValueError as exc:
            log.warning("board %s: key epoch %d: %s", file.board_id, entry.epoch, exc)
            continue
        store_key(file, entry.epoch, key)
        kept.append(entry.epoch)
        log.info("board %s: took up the board key of epoch %d", file.board_id, entry.epoch)
    return kept


def _trusted(board: Board, board_id: str, entry: KeyEntry) -> bool:
    role = role_of(board, entry.by)
    signer = public_key(entry.by)
    if role is None or not role.manages_members or signer is None:
        return False
    message = _entry_message(board_id, entry)
    try:
        signer.verify(_unb64(entry.sig), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _entry_message(board_id: str, entry: KeyEntry) -> bytes:
    """What ``entry.sig`` signs: every field but the signature itself."""
    boxes = json.dumps(sorted(entry.sealed.items()), separators=(",", ":")).encode()
    return (
        LABEL_KEY_EPOCH
        + board_id.encode()
        + b"\x00"
        + entry.epoch.to_bytes(8, "big")
        + entry.by.encode()
        + entry.at.to_bytes(8, "big")
        + hashlib.sha256(boxes).digest()
        + entry.check.encode()
    )


def key_check(key: bytes, board_id: str, epoch: int) -> str:
    """A value that only a holder of ``key`` can compute, naming it as ``epoch``'s key."""
    context = board_id.encode() + b"\x00" + epoch.to_bytes(8, "big")
    return b64url(hmac.digest(key, LABEL_KEY_CHECK + context, "sha256")[:16])


def relay_room(key: bytes) -> str:
    """The relay room of a board whose key was rotated: only key holders can name it."""
    digest = hmac.digest(key, LABEL_RELAY_ROOM, "sha256")[:20]
    return "k" + base64.b32encode(digest).decode("ascii").lower()


def _unb64(text: str) -> bytes:
    try:
        return unb64url(text)
    except (ValueError, binascii.Error):
        return b""


# ------------------------------------------------------------------ messages


def keys_message(entries: list[KeyEntry]) -> bytes:
    payload = [
        {
            "epoch": e.epoch,
            "by": e.by,
            "at": e.at,
            "sealed": e.sealed,
            "sig": e.sig,
            "check": e.check,
        }
        for e in entries
    ]
    return bytes([KEYS_MESSAGE]) + json.dumps({"keys": payload}).encode()


def read_keys_message(payload: bytes) -> list[KeyEntry]:
    """The entries of a KEYS message (after its type byte); SecureError if malformed."""
    if len(payload) > MAX_KEYS_MESSAGE_BYTES:
        raise SecureError("keys message too large")
    try:
        data = json.loads(payload)
        entries = [
            KeyEntry(
                int(e["epoch"]),
                str(e["by"]),
                int(e["at"]),
                dict(e["sealed"]),
                str(e["sig"]),
                str(e.get("check", "")),
            )
            for e in data["keys"]
        ]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise SecureError(f"malformed keys message: {type(exc).__name__}") from None
    for e in entries:
        if not 0 < e.epoch <= 2**31 or not 0 <= e.at < 2**63:
            raise SecureError("malformed keys message: a number out of range")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in e.sealed.items()):
            raise SecureError("malformed keys message: sealed keys")
    return entries


# -------------------------------------------------------------------- a hub's


class KeyKeeper:
    """A board hub's part in removals: key epochs, kex publishing, shutting links."""

    def __init__(self, hub: BoardHub) -> None:
        self.hub = hub
        self._epoch = current_epoch(hub.file)
        self._entries_seen = -1  # size of the keys map when last read
        self.shut_out = 0  # links of removed members closed (for tests and logs)
        self.refused_old = 0  # links under an old epoch's key refused
        self._members_touched = True  # the member list changed since last checked
        self._rotated = False  # a trusted keys entry names our epoch-0 key (a late joiner)
        self._room = ""  # the relay room our relay links use
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
        stops = [
            watch_members(board, self._touch),
            board.on_update(self.after_change, after_commit=True),
        ]

        def stop_all() -> None:
            for stop in stops:
                stop()

        return stop_all

    def _touch(self) -> None:
        self._members_touched = True

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
        root_size = entry_count(self.file.board)
        if root_size != self._entries_seen or force:
            self._entries_seen = root_size
            key = self.hub.node_key
            if root_size:
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
            and _trusted(self.file.board, board_id, e)
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
            and _trusted(self.file.board, self.file.board_id, e)
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
