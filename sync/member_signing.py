"""Signed member entries, checked by every reader (PROTOCOL.md 7.5; the Keyhive pattern).

An editor can write anything in the document, so the ``members`` map and
``board.access`` only count where a signature says so. Each member entry's
authority fields (role, removed, added_by, a per-entry version) are signed by the
board's owner or by an admin whose own entry counts (:func:`grant_message`), and
``board.access`` likewise (:func:`access_message`). The root of trust is the
owner's member id, *pinned* in the board file (meta ``owner``): written when the
board is made, taken from the version 2 invite on joining, and otherwise (a board
made before signed entries, or joined with a version 1 invite) pinned the first
time this node sees the board in members mode, trust on first use.

:func:`verify` is the rule, a pure function; :class:`MemberTrust` applies it to one
board file: it keeps the grants it accepted (the highest version per member) in
the file's meta ``member_grants`` and ``access_grant``, so an older signed entry
replayed later is ignored, and installs itself as the board's verifier
(:func:`lanban.model.members.set_verifier`): from then on the model's
``members``, ``member``, ``role_of`` and ``access`` answer from the verified view
on a members board, and so do every access decision built on them.
"""

from __future__ import annotations

import binascii
import json
import logging
import weakref
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from pycrdt import Map

from lanban.model.board import Board
from lanban.model.members import (
    MAX_GRANT_VERSION,
    ROOT,
    Access,
    AccessGrant,
    Grant,
    MemberView,
    Role,
    access_grant_of,
    grant_of,
    is_member_id,
    members,
    raw_access,
    set_verifier,
    verifier_of,
)

from .identity import NodeKey, b64url, public_key, unb64url
from .update_log import StoreError

if TYPE_CHECKING:
    from .board_file import BoardFile

log = logging.getLogger("lanban.node")

LABEL_MEMBER_ENTRY = b"lanban/1 member entry"
LABEL_ACCESS = b"lanban/1 board access"
OWNER_META = "owner"  # the pinned owner's member id
GRANTS_META = "member_grants"  # JSON: member id -> the grant accepted (highest version)
ACCESS_META = "access_grant"  # JSON: the access record accepted


def grant_message(board_id: str, member_id: str, grant: Grant) -> bytes:
    """What a member entry's ``sig`` signs: its authority fields, never the member's own."""
    return (
        LABEL_MEMBER_ENTRY
        + board_id.encode()
        + b"\x00"
        + member_id.encode()
        + b"\x00"
        + str(grant.role).encode()
        + b"\x00"
        + (b"\x01" if grant.removed else b"\x00")
        + grant.added_by.encode()
        + b"\x00"
        + grant.version.to_bytes(8, "big")
        + grant.signed_by.encode()
    )


def signed(key: NodeKey, board_id: str, member_id: str, grant: Grant) -> Grant:
    """``grant`` signed by ``key`` (``signed_by`` set to its member id)."""
    grant = replace(grant, signed_by=key.member_id, sig="")
    return replace(grant, sig=b64url(key.sign(grant_message(board_id, member_id, grant))))


def access_message(board_id: str, grant: AccessGrant) -> bytes:
    """What ``board.access_sig`` signs."""
    return (
        LABEL_ACCESS
        + board_id.encode()
        + b"\x00"
        + str(grant.mode).encode()
        + b"\x00"
        + grant.version.to_bytes(8, "big")
        + grant.signed_by.encode()
    )


def signature_holds(signer: str, signature: str, message: bytes) -> bool:
    key = public_key(signer)
    if key is None:
        return False
    try:
        key.verify(unb64url(signature), message)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def manages(grants: Mapping[str, Grant], owner: str, signer: str) -> bool:
    """Whether ``signer`` may sign grants: the pinned owner, or a current admin."""
    if signer == owner:
        return True
    grant = grants.get(signer)
    return grant is not None and not grant.removed and grant.role is Role.ADMIN


def verify(
    board_id: str,
    owner: str,
    written: Mapping[str, Grant],
    accepted: Mapping[str, Grant],
    refused: set[tuple[str, Grant]] | None = None,
) -> dict[str, Grant]:
    """The grants that count: ``accepted`` (kept from before) raised by each grant
    ``written`` in the document that is of a higher version and validly signed by the
    owner or by an admin that counts (chains are followed to the owner, whatever
    order they come in). Only the owner is ever an owner, and never removed.

    ``refused`` (kept by the caller) remembers grants whose signature failed, so a
    document full of forged entries costs one check each, not one per change."""
    refused = set() if refused is None else refused
    view = {m: g for m, g in accepted.items() if _shape_ok(owner, m, g)}
    if owner not in view or view[owner].role is not Role.OWNER:
        view[owner] = Grant(Role.OWNER, False, "", 0, owner, "")  # pinned: the root
    pending = {
        m: g for m, g in written.items() if _shape_ok(owner, m, g) and later(g, view.get(m, _NONE))
    }
    changed = True
    while changed and pending:
        changed = False
        for member_id in sorted(pending):
            grant = pending[member_id]
            if not manages(view, owner, grant.signed_by):
                continue
            del pending[member_id]
            if (member_id, grant) in refused:
                continue
            if signature_holds(
                grant.signed_by, grant.sig, grant_message(board_id, member_id, grant)
            ):
                view[member_id] = grant
                changed = True
            elif len(refused) < MAX_REFUSED:
                refused.add((member_id, grant))
    return view


def later(grant: Grant | AccessGrant, than: Grant | AccessGrant) -> bool:
    """Whether ``grant`` supersedes ``than``: a higher version; at one version (two
    admins signing at once) the greater signature, so every node keeps the same one."""
    return (grant.version, grant.sig) > (than.version, than.sig)


def verify_access(
    board_id: str,
    owner: str,
    grants: Mapping[str, Grant],
    written: AccessGrant | None,
    accepted: AccessGrant | None,
) -> AccessGrant | None:
    """The access record that counts: the accepted one, or a later validly signed one."""
    if written is None or (accepted is not None and not later(written, accepted)):
        return accepted
    if manages(grants, owner, written.signed_by) and signature_holds(
        written.signed_by, written.sig, access_message(board_id, written)
    ):
        return written
    return accepted


MAX_REFUSED = 100_000  # forged grants remembered per board (about 40 MB at most)
_NONE = Grant(Role.VIEWER, True, "", 0, "", "")


def _shape_ok(owner: str, member_id: str, grant: Grant) -> bool:
    if member_id == owner:  # the owner's entry only ever makes it the owner
        return grant.role is Role.OWNER and not grant.removed and grant.signed_by == owner
    return grant.role is not Role.OWNER


class MemberTrust:
    """One board file's verified member list and access mode (see the module's doc).

    Holds its file weakly. Recomputes at a read after any change, or, once
    :meth:`watch` is called (a node's boards), only after the members map or the
    board map's top level changed, right after the transaction.
    """

    def __init__(self, file: BoardFile) -> None:
        self._file = weakref.ref(file)
        self.board_id = file.board_id
        self._dirty = True
        self._view = MemberView(raw_access(file.board))
        self._grants: dict[str, Grant] = {}
        self._access: AccessGrant | None = None
        self._refused: set[tuple[str, Grant]] = set()
        self._told_no_owner = False
        self.owner = _pinned(file)
        board = file.board
        self._watching = False
        board.on_update(self._after_commit, after_commit=True)
        set_verifier(board, self)
        self(board)

    def _after_commit(self, _update: bytes, _source: object) -> None:
        if self._watching:  # accept what a change brings at once (a node's board)
            self._current()
        else:  # recompute at the next read
            self._dirty = True

    def watch(self) -> Callable[[], None]:
        """Recompute only when ``members`` or the board map's top level change, at once
        after the transaction, so a grant replaced later in the document is still
        known; returns how to stop (pycrdt's Rust side holds observers and with them
        the document: a board hub stops it when it closes)."""
        file = self._file()
        if file is None:
            return lambda: None
        board = file.board
        roots = (board.doc.get(ROOT, type=Map), board.doc.get("board", type=Map))
        subscriptions = (
            roots[0].observe_deep(self._touch),
            roots[1].observe(self._touch),  # the access keys are at its top level
        )
        self._watching, self._dirty = True, True

        def stop() -> None:
            self._watching, self._dirty = False, True
            for root, subscription in zip(roots, subscriptions, strict=True):
                root.unobserve(subscription)

        return stop

    def _touch(self, _events: object) -> None:
        self._dirty = True

    def __call__(self, board: Board) -> MemberView:
        if self._dirty:
            self._dirty = False
            try:
                self._view = self._compute(board)
            except RuntimeError as exc:  # pycrdt: read during a raw transaction's commit
                self._dirty = True
                log.debug("board %s: member list not checked yet: %s", self.board_id, exc)
            except Exception:  # a reader must not fail: keep the last view
                self._dirty = True
                log.exception("board %s: checking the member list", self.board_id)
        return self._view

    def _current(self) -> None:
        file = self._file()
        if self._dirty and file is not None:
            self(file.board)

    @property
    def grants(self) -> Mapping[str, Grant]:
        """Every accepted grant (whatever the access mode)."""
        self._current()
        return self._grants

    def accepted(self, member_id: str) -> Grant | None:
        return self.grants.get(member_id)

    def access_grant(self) -> AccessGrant | None:
        self._current()
        return self._access

    def may_sign(self, member_id: str) -> bool:
        """Whether ``member_id`` may sign grants: the pinned owner or a current admin."""
        return bool(self.owner) and manages(self.grants, self.owner, member_id)

    def pin(self, owner: str) -> None:
        """Pin ``owner`` as the root of trust if none is pinned yet."""
        file = self._file()
        if self.owner or not is_member_id(owner) or file is None:
            return
        self.owner = owner
        self._dirty = True
        try:
            file.set_meta(OWNER_META, owner)
        except StoreError as exc:  # pinned for this run; kept when the file can be written
            log.warning("board %s: pinning its owner: %s", self.board_id, exc)

    def _compute(self, board: Board) -> MemberView:
        file = self._file()
        stored_grants, stored_access = _load(file) if file is not None else ({}, None)
        if not self.owner:
            self._pin_on_first_use(board)
        if not self.owner:
            self._grants, self._access = {}, None
            return MemberView(raw_access(board))
        written = {
            m.id: g
            for m in members(board, include_removed=True, verified=False)
            if (g := grant_of(board, m.id)) is not None
        }
        accepted = {m: g for m, g in stored_grants.items() if _newer(g, self._grants.get(m))}
        accepted = {**self._grants, **accepted}
        grants = verify(self.board_id, self.owner, written, accepted, self._refused)
        access = verify_access(
            self.board_id,
            self.owner,
            grants,
            access_grant_of(board),
            _latest(stored_access, self._access),
        )
        kept = {m: g for m, g in grants.items() if g.version > 0}
        if file is not None and (kept != stored_grants or access != stored_access):
            try:
                _store(file, grants, access)
            except StoreError as exc:  # a full disk: the view still counts, kept next time
                log.warning("board %s: keeping member grants: %s", self.board_id, exc)
        self._grants, self._access = grants, access
        mode = access.mode if access is not None else raw_access(board)
        return MemberView(mode, grants)

    def _pin_on_first_use(self, board: Board) -> None:
        """Trust on first use, for a node that joined with a version 1 invite: pin the
        one owner entry that its owner signed itself, as soon as this node sees it;
        on a board made before signed entries, the one owner entry once in members mode."""
        self_signed = [
            m.id
            for m in members(board, include_removed=True, verified=False)
            if m.role is Role.OWNER
            and (g := grant_of(board, m.id)) is not None
            and _shape_ok(m.id, m.id, g)
            and signature_holds(m.id, g.sig, grant_message(self.board_id, m.id, g))
        ]
        if len(self_signed) == 1:
            self.pin(self_signed[0])
        elif raw_access(board) is Access.MEMBERS:
            self.pin_sole_owner(board)

    def pin_sole_owner(self, board: Board) -> None:
        """Trust on first use: pin the one entry written as the owner, if there is one."""
        owners = [
            m.id
            for m in members(board, include_removed=True, verified=False)
            if m.role is Role.OWNER
        ]
        if len(owners) == 1:
            log.warning(
                "board %s: pinned %s as its owner on first use (the board named no owner)",
                self.board_id,
                owners[0],
            )
            self.pin(owners[0])
        elif not self._told_no_owner:
            self._told_no_owner = True
            log.warning(
                "board %s: no single owner to trust (%d written): nobody may change it here",
                self.board_id,
                len(owners),
            )


def install(file: BoardFile) -> MemberTrust:
    """The file's :class:`MemberTrust`, installed as its board's verifier (once)."""
    current = verifier_of(file.board)
    if isinstance(current, MemberTrust):
        return current
    return MemberTrust(file)


def _pinned(file: BoardFile) -> str:
    try:
        value = file.meta(OWNER_META)
    except StoreError:  # a damaged file: its own check says so; nothing pinned here
        return ""
    return value if is_member_id(value) else ""


def _latest(a: AccessGrant | None, b: AccessGrant | None) -> AccessGrant | None:
    if a is None or b is None:
        return a or b
    return a if later(a, b) else b


def _newer(grant: Grant, than: Grant | None) -> bool:
    return than is None or later(grant, than)


def _load(file: BoardFile) -> tuple[dict[str, Grant], AccessGrant | None]:
    grants: dict[str, Grant] = {}
    access: AccessGrant | None = None
    try:
        for member_id, fields in json.loads(file.meta(GRANTS_META) or "{}").items():
            role, removed, added_by, version, signed_by, sig = fields
            grants[member_id] = Grant(Role(role), bool(removed), added_by, version, signed_by, sig)
        stored = file.meta(ACCESS_META)
        if stored:
            mode, version, signed_by, sig = json.loads(stored)
            access = AccessGrant(Access(mode), int(version), signed_by, sig)
    except (ValueError, TypeError, StoreError) as exc:  # damaged: start from the document
        log.warning("board %s: unreadable member grants in the file: %s", file.board_id, exc)
    return grants, access


def _store(file: BoardFile, grants: Mapping[str, Grant], access: AccessGrant | None) -> None:
    kept = {
        m: [str(g.role), g.removed, g.added_by, g.version, g.signed_by, g.sig]
        for m, g in grants.items()
        if g.version > 0  # the pinned owner's implicit grant needs no record
    }
    file.set_meta(GRANTS_META, json.dumps(kept, sort_keys=True))
    if access is not None:
        record = [str(access.mode), access.version, access.signed_by, access.sig]
        file.set_meta(ACCESS_META, json.dumps(record))


def next_version(trust: MemberTrust | None, board: Board, member_id: str) -> int:
    """The version a new grant for ``member_id`` gets: past every one seen."""
    seen = [g.version for g in (grant_of(board, member_id),) if g is not None]
    if trust is not None and (accepted := trust.accepted(member_id)) is not None:
        seen.append(accepted.version)
    version = max(seen, default=0) + 1
    if version > MAX_GRANT_VERSION:
        raise ValueError("this member's entry has no versions left")
    return version
