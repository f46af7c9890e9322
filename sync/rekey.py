"""Removing a member and handing the new board key to the others (PROTOCOL.md 7.6).

The pattern is Matrix's Megolm rotation: a removal makes a new random board
key for the next *epoch*, sealed to each remaining member's key-agreement key
(:mod:`.key_delivery`) and signed by the remover, in the document's ``keys`` map
(:mod:`lanban.model.board_keys`). From then on nodes use the new key for
handshakes, discovery tags and invites, so the removed member can no longer link.

This module holds the pieces that need no links: removing (:func:`remove`),
publishing key-agreement keys, taking keys up (:func:`adopt`), the KEYS message,
and the names derived from a key. What a board's hub does with them on its links
is :mod:`.key_keeper`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature

from lanban.model.board import Board
from lanban.model.board_keys import KeyEntry, add_key_entry, key_entries
from lanban.model.errors import BoardError
from lanban.model.members import (
    Role,
    member,
    members,
    remove_member,
    role_of,
    set_kex,
)

from .identity import NodeKey, b64url, public_key, unb64url
from .key_delivery import kex_fields, member_kex, open_board_key, seal_board_key
from .key_epochs import KEYS_MESSAGE, current_epoch, reload, store_key
from .member_authority import protect
from .member_signing import install
from .secure import BOARD_KEY_BYTES, SecureError

if TYPE_CHECKING:
    from .board_file import BoardFile

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
    protect(file, me)  # verified roles on a members board; the removal is signed by us
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
    # Past every epoch the board has seen: someone who joined with a later invite
    # holds its key as epoch 0 of its own file.
    epoch = max([current_epoch(file)] + [e.epoch for e in key_entries(board)]) + 1
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
    entry = replace(unsigned, sig=b64url(me.sign(entry_message(file.board_id, unsigned))))
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
    install(file)
    for entry in entries:
        if entry.epoch in file.keys or me.member_id not in entry.sealed:
            continue
        if not trusted(file.board, file.board_id, entry):
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


def trusted(board: Board, board_id: str, entry: KeyEntry) -> bool:
    role = role_of(board, entry.by)
    signer = public_key(entry.by)
    if role is None or not role.manages_members or signer is None:
        return False
    message = entry_message(board_id, entry)
    try:
        signer.verify(_unb64(entry.sig), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def entry_message(board_id: str, entry: KeyEntry) -> bytes:
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
