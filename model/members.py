"""A board's members: who may read and write it (sync/PROTOCOL.md section 7.4).

The root Map ``members`` maps a member id (a node's Ed25519 public key,
base64url without padding) to a Map ``{name, color, role, added_by, added_at,
removed}``. Removal is soft, as for tickets: an entry is never deleted, so a
concurrent edit of a removed member's name cannot bring them back. Whoever
holds the board key can write anything here until roles are enforced by the
peers (PROTOCOL.md 7.5), so every read is defensive (model.reading).

The model checks the *form* of a member id; that it is a valid public key is
sync's business (lanban.sync.identity).

Signed entries (PROTOCOL.md 7.5): an entry's *authority fields* (``role``,
``removed``, ``added_by``, ``version``) carry ``signed_by`` and ``sig``, the
signature of the board's owner or of an admin (:class:`Grant`). The model does
not check signatures (it imports no cryptography and knows no pinned owner):
sync installs a *verifier* on a board (:func:`set_verifier`), a callable that
returns the verified view (:class:`MemberView`). While one is installed and the
board is in ``members`` mode, :func:`members`, :func:`member`, :func:`role_of`
and :func:`access` answer from that view: an entry without an accepted grant
is ignored, and the grant's role and removal count, never the raw fields. With
no verifier, or on an ``open`` board, they read the document as written.
Writes of authority fields are signed by an installed :class:`Signer`. (Over 500
lines: reading, writing and the signed view of one map belong together; invites
are in .invites.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from pycrdt import Map

from .board import Board
from .errors import BoardError
from .limits import MAX_TIME_MS
from .reading import NOT_COUNTED, WRONG_TYPE, Ignored, entries, flag, read_value, string, whole
from .writes import clean

ROOT = "members"
MEMBER_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_MEMBER_NAME_LENGTH = 100
MAX_COLOR_LENGTH = 32
MAX_KEX_LENGTH = 128  # base64url of a 32-byte key (43) or a 64-byte signature (86)


class Access(StrEnum):
    """Who writes the board: ``open`` (every key holder, the default) or ``members``."""

    OPEN = "open"
    MEMBERS = "members"


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"

    @property
    def writes(self) -> bool:
        return self is not Role.VIEWER

    @property
    def manages_members(self) -> bool:
        return self in (Role.OWNER, Role.ADMIN)


_ROLES = frozenset(Role)


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    name: str
    color: str
    role: Role
    added_by: str  # member id; "" for the board's creator (or unknown)
    added_at: int  # ms since the epoch; 0 if unknown
    removed: bool
    # The member's X25519 key-agreement key and its signature (PROTOCOL.md 7.6),
    # as written; whether they are well formed and signed is sync's business.
    kex: str = ""
    kex_sig: str = ""


@dataclass(frozen=True, slots=True)
class Grant:
    """A member entry's authority fields as written, and who signed them (PROTOCOL.md 7.5)."""

    role: Role
    removed: bool
    added_by: str
    version: int  # grows with every signed change of this member's entry
    signed_by: str  # member id of the owner or admin who signed; "" if unsigned
    sig: str = ""  # base64url Ed25519 signature; checking it is sync's business


@dataclass(frozen=True, slots=True)
class MemberView:
    """What the board's verifier accepts: its access mode and, per member, the grant
    that counts (only consulted in ``members`` mode)."""

    access: Access
    grants: Mapping[str, Grant] = field(default_factory=dict)


Verifier = Callable[[Board], MemberView]
MAX_GRANT_VERSION = 2**31
# Kept on the board object itself (not in a registry that would keep it alive): a
# verifier or signer may refer to the board; the cycle goes with it.
_VERIFIER_ATTR, _SIGNER_ATTR = "_lanban_member_verifier", "_lanban_member_signer"


class Signer(Protocol):
    """Signs this node's authority writes (installed by sync, :func:`set_signer`).

    Each method returns the signed record, None if this node may not sign but the
    board is open (the write goes out unsigned, as before), or raises BoardError
    if the write would not count (a members board, and no right to sign).
    """

    def sign_grant(
        self, board: Board, member_id: str, role: Role, removed: bool, added_by: str
    ) -> Grant | None: ...

    def sign_access(self, board: Board, mode: Access) -> AccessGrant | None: ...


def set_signer(board: Board, signer: Signer | None) -> None:
    """Sign ``add_member``, ``update_member(role=)``, ``remove_member`` and ``set_access``
    on ``board`` with ``signer`` (None: write unsigned)."""
    setattr(board, _SIGNER_ATTR, signer)


def _signer(board: Board) -> Signer | None:
    signer: Signer | None = getattr(board, _SIGNER_ATTR, None)
    return signer


def _signed(
    board: Board, member_id: str, role: Role, removed: bool, added_by: str
) -> dict[str, Any]:
    signer = _signer(board)
    grant = signer.sign_grant(board, member_id, role, removed, added_by) if signer else None
    if grant is None:
        return {}
    return {"version": grant.version, "signed_by": grant.signed_by, "sig": grant.sig}


def set_verifier(board: Board, verifier: Verifier | None) -> None:
    """Make ``members``/``member``/``role_of``/``access`` answer from ``verifier``'s view
    (None: the document as written)."""
    setattr(board, _VERIFIER_ATTR, verifier)


def verifier_of(board: Board) -> Verifier | None:
    verifier: Verifier | None = getattr(board, _VERIFIER_ATTR, None)
    return verifier


def _view(board: Board) -> MemberView | None:
    """The verified view if a verifier is installed and the board is in members mode."""
    verifier = verifier_of(board)
    if verifier is None:
        return None
    view = verifier(board)
    return view if view.access is Access.MEMBERS else None


def is_member_id(value: object) -> bool:
    return isinstance(value, str) and MEMBER_ID_PATTERN.fullmatch(value) is not None


def members(
    board: Board,
    *,
    include_removed: bool = False,
    ignored: Ignored = NOT_COUNTED,
    verified: bool = True,
) -> list[Member]:
    """The board's members by role (owners first), then name and id.

    ``verified=False`` reads the entries as written even where a verifier counts.
    """
    root = _root(board)
    result = []
    view = _view(board) if verified else None
    if view is None:
        for key, value in entries(root, "member", ignored):
            member = _read(key, value, ignored)
            if member is not None and (include_removed or not member.removed):
                result.append(member)
    else:
        for member_id, grant in view.grants.items():
            member = _with_grant(board, member_id, grant)
            if include_removed or not member.removed:
                result.append(member)
    order = list(Role)
    result.sort(key=lambda m: (order.index(m.role), m.name.casefold(), m.id))
    return result


def member(board: Board, member_id: str) -> Member | None:
    """One entry (removed ones too), or None if absent or unreadable."""
    if not is_member_id(member_id):
        return None
    view = _view(board)
    if view is not None:
        grant = view.grants.get(member_id)
        return None if grant is None else _with_grant(board, member_id, grant)
    value = read_value(_root(board), member_id)
    return _read(member_id, value, NOT_COUNTED) if isinstance(value, Map) else None


def access(board: Board) -> Access:
    """The board's access mode: the verifier's, else ``board.access`` as written
    (anything but "members" reads as open)."""
    verifier = verifier_of(board)
    return verifier(board).access if verifier is not None else raw_access(board)


def raw_access(board: Board) -> Access:
    """``board.access`` as written, whoever wrote it."""
    value = read_value(board.doc.get("board", type=Map), "access")
    return Access.MEMBERS if value == Access.MEMBERS.value else Access.OPEN


def set_access(board: Board, mode: Access) -> None:
    """Switch the access mode; signed if a signer is installed (see :class:`Signer`)."""
    signer = _signer(board)
    grant = signer.sign_access(board, Access(mode)) if signer is not None else None
    if grant is not None:
        write_access_grant(board, grant)
        return
    with board._writes.local():
        board.doc.get("board", type=Map)["access"] = str(Access(mode))


def role_of(board: Board, member_id: str) -> Role | None:
    """What ``member_id`` may do on the board: None if not a (current) member."""
    found = member(board, member_id)
    return None if found is None or found.removed else found.role


def add_member(
    board: Board,
    member_id: str,
    *,
    name: str = "",
    color: str = "",
    role: Role = Role.EDITOR,
    added_by: str = "",
) -> None:
    """Add a member, or bring a removed one back with this role.

    BoardError if ``member_id`` is malformed or already a current member.
    A present entry's Map is edited, never replaced (DESIGN.md 3).
    """
    _check_id(member_id)
    if added_by:
        _check_id(added_by)
    role = Role(role)
    fields: dict[str, Any] = {
        "name": _name(name),
        "color": _color(color),
        "role": str(role),
        "added_by": added_by,
        "added_at": board._clock(),
        "removed": False,
    }
    current = member(board, member_id)
    if current is not None and not current.removed:
        raise BoardError(f"{member_id} is already a member")
    fields |= _signed(board, member_id, role, False, added_by)
    with board._writes.local():
        _edit_entry(board, member_id, fields)


def update_member(
    board: Board,
    member_id: str,
    *,
    name: str | None = None,
    color: str | None = None,
    role: Role | None = None,
) -> None:
    """Change a current member's name, colour or role (only the fields given)."""
    fields: dict[str, Any] = {}
    if name is not None:
        fields["name"] = _name(name)
    if color is not None:
        fields["color"] = _color(color)
    if role is not None:
        fields["role"] = str(Role(role))
        now = member(board, member_id)
        if now is None or now.removed:
            raise BoardError(f"{member_id!r} is not a member of this board")
        fields |= _signed(board, member_id, Role(role), False, now.added_by)
    with board._writes.local():
        entry = _current(board, member_id)
        for key, value in fields.items():
            entry[key] = value


def set_kex(board: Board, member_id: str, kex: str, kex_sig: str) -> None:
    """Publish a current member's key-agreement key (PROTOCOL.md 7.6)."""
    if len(kex) > MAX_KEX_LENGTH or len(kex_sig) > MAX_KEX_LENGTH:
        raise BoardError("a key-agreement key or its signature is too long")
    with board._writes.local():
        entry = _current(board, member_id)
        entry["kex"] = kex
        entry["kex_sig"] = kex_sig


def remove_member(board: Board, member_id: str) -> None:
    """Mark a current member removed (the entry stays, PROTOCOL.md 7.6)."""
    now = member(board, member_id)
    if now is None or now.removed:
        raise BoardError(f"{member_id!r} is not a member of this board")
    fields = {"removed": True} | _signed(board, member_id, now.role, True, now.added_by)
    with board._writes.local():
        _current(board, member_id).update(fields)


def grant_of(board: Board, member_id: str) -> Grant | None:
    """``member_id``'s authority fields as written (signature unchecked), or None if
    the entry is absent or any of them is malformed."""
    value = read_value(_root(board), member_id) if is_member_id(member_id) else None
    if not isinstance(value, Map):
        return None
    with value.doc.transaction():
        role, removed, added_by, signed_by, sig = (
            read_value(value, k) for k in ("role", "removed", "added_by", "signed_by", "sig")
        )
        version = whole(read_value(value, "version"), "member version", 1, MAX_GRANT_VERSION)
    if type(role) is not str or role not in _ROLES or type(removed) is not bool:
        return None
    if version is None or not is_member_id(signed_by) or type(sig) is not str:
        return None
    if len(sig) > MAX_KEX_LENGTH or not (added_by == "" or is_member_id(added_by)):
        return None
    return Grant(Role(role), removed, added_by, version, signed_by, sig)


def write_grant(
    board: Board, member_id: str, grant: Grant, *, name: str | None = None, color: str | None = None
) -> None:
    """Write a signed grant's fields into ``member_id``'s entry (made if absent; a
    present Map is edited, never replaced). Whether the grant counts is the verifier's
    business; a member's own fields (name, colour, kex) are left alone unless given."""
    _check_id(member_id)
    fields: dict[str, Any] = {
        "role": str(Role(grant.role)),
        "removed": grant.removed,
        "added_by": grant.added_by,
        "version": grant.version,
        "signed_by": grant.signed_by,
        "sig": grant.sig,
    }
    if name is not None:
        fields["name"] = _name(name)
    if color is not None:
        fields["color"] = _color(color)
    with board._writes.local():
        _edit_entry(
            board, member_id, fields, lambda: {"name": "", "color": "", "added_at": board._clock()}
        )


@dataclass(frozen=True, slots=True)
class AccessGrant:
    """``board.access`` with its version and signature (PROTOCOL.md 7.5)."""

    mode: Access
    version: int
    signed_by: str
    sig: str = ""


def access_grant_of(board: Board) -> AccessGrant | None:
    """The access mode's signed record as written (unchecked), or None if incomplete."""
    root = board.doc.get("board", type=Map)
    with board.doc.transaction():
        mode, signed_by, sig = (read_value(root, k) for k in ("access", "access_by", "access_sig"))
        version = whole(read_value(root, "access_version"), "access version", 1, MAX_GRANT_VERSION)
    if mode not in (Access.OPEN.value, Access.MEMBERS.value) or version is None:
        return None
    if not is_member_id(signed_by) or type(sig) is not str or len(sig) > MAX_KEX_LENGTH:
        return None
    return AccessGrant(Access(mode), version, signed_by, sig)


def write_access_grant(board: Board, grant: AccessGrant) -> None:
    with board._writes.local():
        board.doc.get("board", type=Map).update(
            {
                "access": str(Access(grant.mode)),
                "access_version": grant.version,
                "access_by": grant.signed_by,
                "access_sig": grant.sig,
            }
        )


def watch_members(board: Board, touched: Callable[[], None]) -> Callable[[], None]:
    """Call ``touched()`` (during the transaction: it must not read the board) whenever
    a transaction changes the member list; returns how to stop."""
    root = _root(board)
    subscription = root.observe_deep(lambda _events: touched())
    return lambda: root.unobserve(subscription)


# ---------------------------------------------------------------- internals


def _root(board: Board) -> Map[Any]:
    root: Map[Any] = board.doc.get(ROOT, type=Map)
    return root


def _with_grant(board: Board, member_id: str, grant: Grant) -> Member:
    """The entry's own fields (name, colour, kex) with the accepted grant's authority."""
    value = read_value(_root(board), member_id)
    raw = _read(member_id, value, NOT_COUNTED, any_role=True) if isinstance(value, Map) else None
    return Member(
        id=member_id,
        name=raw.name if raw else "",
        color=raw.color if raw else "",
        role=grant.role,
        added_by=grant.added_by,
        added_at=raw.added_at if raw else 0,
        removed=grant.removed,
        kex=raw.kex if raw else "",
        kex_sig=raw.kex_sig if raw else "",
    )


def _edit_entry(
    board: Board,
    member_id: str,
    fields: dict[str, Any],
    new: Callable[[], dict[str, Any]] = dict,
) -> None:
    """Write ``fields`` into the entry's Map, edited in place if present (never
    replaced: DESIGN.md 3), else made with ``new()`` under them."""
    root = _root(board)
    existing = read_value(root, member_id)
    if isinstance(existing, Map):
        existing.update(fields)
    else:
        root[member_id] = Map(new() | fields)


def _current(board: Board, member_id: str) -> Map[Any]:
    """A current member's entry Map (made again if someone deleted it)."""
    found = member(board, member_id)
    if found is None or found.removed:
        raise BoardError(f"{member_id!r} is not a member of this board")
    root = _root(board)
    value = read_value(root, member_id)
    if not isinstance(value, Map):
        value = Map({"name": found.name, "color": found.color})
        root[member_id] = value
    return value


def _read(
    member_id: str, m: Map[Any], ignored: Ignored, *, any_role: bool = False
) -> Member | None:
    """The entry as written; ``any_role``: read it even if its role is unknown (as a viewer)."""
    if not is_member_id(member_id):
        ignored.add("member id", WRONG_TYPE)
        return None
    with m.doc.transaction():
        value = read_value(m, "role")
        if type(value) is not str or value not in _ROLES:
            if not any_role:
                ignored.add("member role", WRONG_TYPE)
                return None
            value = Role.VIEWER.value
        role = Role(value)
        added_by = read_value(m, "added_by")
        return Member(
            id=member_id,
            name=string(read_value(m, "name"), "member name", MAX_MEMBER_NAME_LENGTH, ignored),
            color=string(read_value(m, "color"), "member color", MAX_COLOR_LENGTH, ignored),
            role=role,
            added_by=added_by if is_member_id(added_by) else "",
            added_at=whole(read_value(m, "added_at"), "member added_at", 0, MAX_TIME_MS, ignored)
            or 0,
            removed=flag(read_value(m, "removed"), "member removed", ignored),
            kex=_short_text(read_value(m, "kex")),
            kex_sig=_short_text(read_value(m, "kex_sig")),
        )


def _short_text(value: object) -> str:
    return value if type(value) is str and len(value) <= MAX_KEX_LENGTH else ""


def _check_id(member_id: str) -> None:
    if not is_member_id(member_id):
        raise BoardError(f"{member_id!r} is not a member id (43 base64url characters)")


def _name(name: str) -> str:
    return clean(name, "A member name", MAX_MEMBER_NAME_LENGTH) if name.strip() else ""


def _color(color: str) -> str:
    color = color.strip()
    if len(color) > MAX_COLOR_LENGTH:
        raise BoardError(f"a colour is at most {MAX_COLOR_LENGTH} characters")
    return color


# Invites live in .invites; kept importable from here (PROTOCOL.md 7.7).
from .invites import INVITES_ROOT, InviteEntry, add_invite, invite_entry, use_invite  # noqa: E402

__all__ = ["INVITES_ROOT", "InviteEntry", "add_invite", "invite_entry", "use_invite"]
