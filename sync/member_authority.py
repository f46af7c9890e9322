"""Signing this node's changes to the member list and the access mode (PROTOCOL.md 7.5).

:class:`MemberSigner` is the model's :class:`~lanban.model.members.Signer` for one
board: ``add_member``, ``update_member(role=...)``, ``remove_member`` and
``set_access`` are signed with this node's key when it may sign (it is the pinned
owner or an admin that counts). On an open board a node that may not sign writes
unsigned, as before; on a members board such a write would not count, so it is
refused. :func:`protect` installs the verifier (:mod:`.member_signing`) and the
signer on a board file; :class:`~lanban.sync.store.Store` does it for every board
it opens, makes or joins.

Rules kept simple: only the owner or an admin signs, so on a members board only
they make invites and admit whoever claims one; the owner's entry only ever
makes it the owner; demoting or removing an admin re-signs, in the signer's name,
the entries that admin had signed, so the members it added stay members.
:func:`heal` (a node's tick) writes the grants this node keeps back into the
document where someone overwrote them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.model.members import (
    MAX_GRANT_VERSION,
    Access,
    AccessGrant,
    Grant,
    Role,
    access,
    access_grant_of,
    grant_of,
    members,
    role_of,
    set_signer,
    write_access_grant,
    write_grant,
)

from .identity import NodeKey, b64url
from .member_signing import (
    MemberTrust,
    access_message,
    grant_message,
    install,
    later,
    next_version,
    signature_holds,
    signed,
)

if TYPE_CHECKING:
    from .board_file import BoardFile

REFUSED = "only the board's owner or an admin can change its members or who may edit it"


class MemberSigner:
    """Signs one board's authority writes with ``key`` (see the module's doc).

    ``trust`` is the board file's verified view; None for a board being made
    (no file yet), whose owner is ``key`` itself.
    """

    def __init__(self, key: NodeKey, board_id: str, trust: MemberTrust | None) -> None:
        self.key = key
        self.board_id = board_id
        self.trust = trust

    @property
    def owner(self) -> str:
        return self.trust.owner if self.trust is not None else self.key.member_id

    def may_sign(self) -> bool:
        if self.trust is None:
            return True  # a new board: we are its owner
        return self.trust.may_sign(self.key.member_id)

    def _refuse_or_unsigned(self, board: Board, why: str = REFUSED) -> None:
        if access(board) is Access.MEMBERS:
            raise BoardError(why)

    def sign_grant(
        self, board: Board, member_id: str, role: Role, removed: bool, added_by: str
    ) -> Grant | None:
        owner = self.owner
        if not self.may_sign():
            self._refuse_or_unsigned(board)
            return None
        if (role is Role.OWNER) != (member_id == owner) or (member_id == owner and removed):
            self._refuse_or_unsigned(board, "a board has one owner, who stays its owner")
            return None
        before = self.trust.accepted(member_id) if self.trust is not None else None
        if before is not None and before.role is Role.ADMIN and (removed or role is not Role.ADMIN):
            self._reanchor(board, member_id)
        return self._sign(board, member_id, role, removed, added_by)

    def _sign(
        self, board: Board, member_id: str, role: Role, removed: bool, added_by: str
    ) -> Grant:
        version = next_version(self.trust, board, member_id)
        grant = Grant(role, removed, added_by, version, self.key.member_id)
        return signed(self.key, self.board_id, member_id, grant)

    def _reanchor(self, board: Board, demoted: str) -> None:
        """Re-sign in our name the entries ``demoted`` signed, before it stops counting."""
        assert self.trust is not None
        for member_id, grant in sorted(self.trust.grants.items()):
            if grant.signed_by == demoted and member_id != demoted:
                signed = self._sign(board, member_id, grant.role, grant.removed, grant.added_by)
                write_grant(board, member_id, signed)

    def sign_access(self, board: Board, mode: Access) -> AccessGrant | None:
        trust = self.trust
        if trust is not None and not trust.owner and mode is Access.MEMBERS:
            trust.pin_sole_owner(board)  # trust on first use, by whoever switches
        if not self.may_sign():
            self._refuse_or_unsigned(board)
            if access(board) is Access.OPEN and mode is Access.MEMBERS and trust is not None:
                raise BoardError(
                    "only the board's owner can turn members mode on for this board "
                    "(its member list is not signed yet)"
                )
            return None
        accepted = trust.access_grant() if trust is not None else None
        if mode is Access.MEMBERS and (accepted is None or accepted.mode is Access.OPEN):
            self._sign_unsigned(board)
        written = access_grant_of(board)
        version = max(g.version for g in (written, accepted, _ZERO) if g is not None) + 1
        if version > MAX_GRANT_VERSION:
            raise BoardError("the access mode has no versions left")
        grant = AccessGrant(mode, version, self.key.member_id, "")
        signature = self.key.sign(access_message(self.board_id, grant))
        return replace(grant, sig=b64url(signature))

    def _sign_unsigned(self, board: Board) -> None:
        """Turning members mode on: sign the entries that no signature covers yet (as
        written now: members who joined with a version 1 invite, or a board made
        before signed entries). Entries already signed keep their signed grant."""
        owner, me = self.owner, self.key.member_id
        for m in members(board, include_removed=True, verified=False):
            known = self.trust.accepted(m.id) if self.trust is not None else None
            if m.id == owner:
                if me == owner and (known is None or known.version == 0):
                    write_grant(board, m.id, self._sign(board, m.id, Role.OWNER, False, ""))
            elif known is None and m.role is not Role.OWNER:
                write_grant(board, m.id, self._sign(board, m.id, m.role, m.removed, m.added_by))


_ZERO = AccessGrant(Access.OPEN, 0, "", "")


def protect(file: BoardFile, key: NodeKey, *, owner: str = "") -> BoardFile:
    """Install the verified view and this node's signer on ``file``'s board; pin
    ``owner`` as the root of trust if given and none is pinned. Returns ``file``."""
    trust = install(file)
    if owner:
        trust.pin(owner)
    set_signer(file.board, MemberSigner(key, file.board_id, trust))
    return file


def heal(board: Board, trust: MemberTrust, key: NodeKey) -> int:
    """Write back the grants this node keeps where the document holds something else
    (an editor's overwrite, an older grant, nothing), so that a node that never saw
    them reads them too; only on a members board, by a member who may write (anyone's
    copy of a signed grant is as good as the signer's). Returns how many were written.

    A *later* grant that someone did sign but that does not count here (its signer is
    no admin: demoted, perhaps after signing it, so another node may have taken it) is
    overwritten only by an owner or admin, re-signing what it keeps with a later
    version, which every node takes; a plain write-back there could go on forever
    between two honest nodes that judge that grant differently."""
    if access(board) is not Access.MEMBERS:
        return 0
    mine = role_of(board, key.member_id)
    if mine is None or not mine.writes:
        return 0
    written, board_id = 0, trust.board_id
    signer = MemberSigner(key, board_id, trust) if trust.may_sign(key.member_id) else None
    for member_id, grant in sorted(trust.grants.items()):
        there = grant_of(board, member_id)
        if grant.version == 0 or there == grant:
            continue
        if (
            there is not None
            and later(there, grant)
            and _signed_by_someone(board_id, member_id, there)
        ):
            if signer is None or there.version >= MAX_GRANT_VERSION:
                continue
            grant = signed(key, board_id, member_id, replace(grant, version=there.version + 1))
        write_grant(board, member_id, grant)
        written += 1
    kept, there_access = trust.access_grant(), access_grant_of(board)
    if kept is not None and there_access != kept:
        message = access_message(board_id, there_access) if there_access else b""
        if not (
            there_access
            and later(there_access, kept)
            and signature_holds(there_access.signed_by, there_access.sig, message)
        ):
            write_access_grant(board, kept)
            written += 1
    return written


def _signed_by_someone(board_id: str, member_id: str, grant: Grant) -> bool:
    message = grant_message(board_id, member_id, grant)
    return signature_holds(grant.signed_by, grant.sig, message)


def sign_as_creator(board: Board, key: NodeKey) -> None:
    """A board being made (no file yet): its owner, ``key``, signs what it writes."""
    set_signer(board, MemberSigner(key, board.id, None))
