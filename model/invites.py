"""A board's ``invites`` root Map: version 2 invites as the board records them (PROTOCOL.md 7.7).

``invites`` maps an invite id to a Map ``{role, key, by, at, used_by, revoked,
sig}``: the role it grants, the public half of the invite key whose private half
only the code carries, who made it and ``sig``, that member's signature over the
invite (checked by sync, :mod:`lanban.sync.member_invites`, so that an editor
cannot record an invite of its own making on a members board).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pycrdt import Map

from .board import Board
from .errors import BoardError
from .limits import MAX_TIME_MS
from .members import MAX_KEX_LENGTH, Role, _check_id, is_member_id
from .reading import flag, read_value, whole

INVITES_ROOT = "invites"


@dataclass(frozen=True, slots=True)
class InviteEntry:
    """A version 2 invite as the board records it (PROTOCOL.md 7.7)."""

    id: str
    role: Role  # viewer or editor
    key: str  # the invite key's public half, in member id form
    by: str  # the member who made it
    at: int
    used_by: str  # the member it admitted; "" while unused
    revoked: bool
    sig: str = ""  # ``by``'s signature (base64url); "" if unsigned


def add_invite(
    board: Board, invite_id: str, *, role: Role, key: str, by: str, sig: str = ""
) -> None:
    """Record an invite whose code carries the private half of ``key``."""
    role = Role(role)
    if role not in (Role.VIEWER, Role.EDITOR):
        raise BoardError("an invite makes a viewer or an editor")
    _check_id(key)
    _check_id(by)
    if len(sig) > MAX_KEX_LENGTH:
        raise BoardError("an invite's signature is too long")
    fields = {"role": str(role), "key": key, "by": by, "at": board._clock(), "used_by": ""}
    fields["sig"] = sig
    with board._writes.local():
        root: Map[Any] = board.doc.get(INVITES_ROOT, type=Map)
        if invite_id in root:
            raise BoardError(f"invite {invite_id} exists already")
        root[invite_id] = Map(fields | {"revoked": False})


def invite_entry(board: Board, invite_id: str) -> InviteEntry | None:
    """The recorded invite, or None if absent or malformed."""
    value = read_value(board.doc.get(INVITES_ROOT, type=Map), invite_id)
    if not isinstance(value, Map):
        return None
    with value.doc.transaction():
        role, key, by = (read_value(value, k) for k in ("role", "key", "by"))
        if role not in (Role.VIEWER.value, Role.EDITOR.value) or not is_member_id(key):
            return None
        used_by, sig = read_value(value, "used_by"), read_value(value, "sig")
        return InviteEntry(
            id=invite_id,
            role=Role(role),
            key=key,
            by=by if is_member_id(by) else "",
            at=whole(read_value(value, "at"), "invite at", 0, MAX_TIME_MS) or 0,
            used_by=used_by if is_member_id(used_by) else "",
            revoked=flag(read_value(value, "revoked"), "invite revoked"),
            sig=sig if type(sig) is str and len(sig) <= MAX_KEX_LENGTH else "",
        )


def use_invite(board: Board, invite_id: str, member_id: str) -> None:
    """Mark an invite used by the member it admitted."""
    _check_id(member_id)
    with board._writes.local():
        value = read_value(board.doc.get(INVITES_ROOT, type=Map), invite_id)
        if not isinstance(value, Map):
            raise BoardError(f"no invite {invite_id}")
        value["used_by"] = member_id
