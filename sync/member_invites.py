"""Invites with a role, and admitting whoever claims one (PROTOCOL.md 7.7).

The inviter records the invite in the board (its id, role and the public half
of a fresh Ed25519 *invite key*) and puts the private half in the code. The
joiner does not write its own member entry (as a viewer that write would be
refused); instead its node sends, in NODE_INFO, the invite id and the invite
key's signature over its member id and the link's channel binding. A member
node that may write checks it against the board's record and writes the
joiner's member entry itself, with the invite's role, and marks the invite
used. A reader of the document sees only the public half, so a viewer cannot
claim someone else's editor invite.

On a members board the invite is signed by its maker (``sig``, over the board id,
invite id, role, invite key and maker) and counts only if the maker is the owner
or an admin in the verified view (PROTOCOL.md 7.5): otherwise an editor could
record an invite of its own and have an admin's node admit whoever it likes.
Only the owner or an admin makes invites there, and only their nodes admit (the
joiner's entry they write is signed, :mod:`.member_authority`).
"""

from __future__ import annotations

import binascii
import dataclasses
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.model.invites import InviteEntry
from lanban.model.members import (
    Access,
    Role,
    access,
    add_invite,
    add_member,
    invite_entry,
    members,
    role_of,
    use_invite,
    verifier_of,
)
from lanban.model.schema import new_id

from .identity import NodeKey, b64url, member_id, public_key, unb64url
from .invite import Invite
from .member_signing import MemberTrust, signature_holds

LABEL_INVITE_CLAIM = b"lanban/1 invite claim"
LABEL_INVITE = b"lanban/1 invite"
INVITE_CLAIM_META = "invite_claim"  # board file meta: a version 2 invite not yet claimed


def with_role(base: Invite, board: Board, inviter: NodeKey, role: Role) -> Invite:
    """``base`` (a version 1 invite to ``board``) as a version 2 invite for ``role``.

    Records the invite in the board; BoardError if ``inviter`` may not invite.
    """
    mine = role_of(board, inviter.member_id)
    if mine is None or not mine.writes:
        raise BoardError("only a member who may edit the board can invite")
    if access(board) is Access.MEMBERS and not mine.manages_members:
        raise BoardError("only the board's owner or an admin can invite to a members-only board")
    secret = Ed25519PrivateKey.generate()
    invite_id, key = new_id(), member_id(secret.public_key())
    message = invite_message(base.board_id, invite_id, Role(role), key, inviter.member_id)
    add_invite(
        board,
        invite_id,
        role=role,
        key=key,
        by=inviter.member_id,
        sig=b64url(inviter.sign(message)),
    )
    trust = verifier_of(board)
    pinned = trust.owner if isinstance(trust, MemberTrust) else ""
    owners = [m.id for m in members(board) if m.role is Role.OWNER]
    owner = pinned or (owners[0] if len(owners) == 1 else "")
    return dataclasses.replace(
        base,
        role=str(Role(role)),
        invite_id=invite_id,
        invite_secret=secret.private_bytes_raw(),
        owner=owner,
    )


def invite_message(board_id: str, invite_id: str, role: Role, key: str, by: str) -> bytes:
    """What an invite entry's ``sig`` signs."""
    fields = (board_id, invite_id, str(role), key, by)
    return LABEL_INVITE + b"\x00".join(f.encode() for f in fields)


def _invite_counts(board: Board, entry: InviteEntry) -> bool:
    """On a members board: made and signed by the owner or an admin that counts."""
    if access(board) is not Access.MEMBERS:
        return True
    trust = verifier_of(board)
    if not isinstance(trust, MemberTrust) or not trust.may_sign(entry.by):
        return False
    message = invite_message(trust.board_id, entry.id, entry.role, entry.key, entry.by)
    return signature_holds(entry.by, entry.sig, message)


def claim_fields(invite_id: str, secret: bytes, member: str, binding: bytes) -> dict[str, Any]:
    """The NODE_INFO fields with which ``member`` claims the invite on this link."""
    key = Ed25519PrivateKey.from_private_bytes(secret)
    signature = key.sign(_claim_message(member, binding))
    return {"invite": invite_id, "invite_proof": b64url(signature)}


def admit(board: Board, me: str, peer: str, info: dict[str, Any], binding: bytes) -> bool:
    """Add ``peer`` (a proven member id) if ``info`` holds a valid claim; True if added.

    Only a node whose own member may write admits; an invite admits one member once.
    """
    invite_id, proof = info.get("invite"), info.get("invite_proof")
    if not isinstance(invite_id, str) or not isinstance(proof, str):
        return False
    mine = role_of(board, me)
    if mine is None or not mine.writes or role_of(board, peer) is not None:
        return False
    if access(board) is Access.MEMBERS and not mine.manages_members:
        return False  # the entry it would write must be signed (PROTOCOL.md 7.5)
    entry = invite_entry(board, invite_id)
    if entry is None or entry.used_by or entry.revoked or not _invite_counts(board, entry):
        return False
    key = public_key(entry.key)
    try:
        assert key is not None  # invite_entry checked its form
        key.verify(unb64url(proof), _claim_message(peer, binding))
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    name = info.get("name")
    name = " ".join(name.split())[:100] if isinstance(name, str) else ""
    try:  # signed by this node; refused if its member may not sign (a members board)
        add_member(board, peer, name=name, role=entry.role, added_by=entry.by)
    except BoardError:
        return False
    use_invite(board, invite_id, peer)
    return True


def _claim_message(member: str, binding: bytes) -> bytes:
    return LABEL_INVITE_CLAIM + member.encode("ascii") + binding


def stored_claim(invite: Invite) -> str:
    """What the board file keeps of a version 2 invite until its holder is admitted."""
    return json.dumps({"id": invite.invite_id, "secret": invite.invite_secret.hex()})


def claim_from_store(stored: object, board: Board, member: str, binding: bytes) -> dict[str, Any]:
    """NODE_INFO claim fields from the board file's record; {} if none or already a member."""
    if not isinstance(stored, str) or role_of(board, member) is not None:
        return {}
    try:
        record = json.loads(stored)
        return claim_fields(record["id"], bytes.fromhex(record["secret"]), member, binding)
    except (ValueError, KeyError, TypeError):
        return {}
