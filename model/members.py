"""A board's members: who may read and write it (sync/PROTOCOL.md section 7.4).

The root Map ``members`` maps a member id (a node's Ed25519 public key,
base64url without padding) to a Map ``{name, color, role, added_by, added_at,
removed}``. Removal is soft, as for tickets: an entry is never deleted, so a
concurrent edit of a removed member's name cannot bring them back. Whoever
holds the board key can write anything here until roles are enforced by the
peers (PROTOCOL.md 7.5), so every read is defensive (model.reading).

The model checks the *form* of a member id; that it is a valid public key is
sync's business (lanban.sync.identity).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

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


def is_member_id(value: object) -> bool:
    return isinstance(value, str) and MEMBER_ID_PATTERN.fullmatch(value) is not None


def members(
    board: Board, *, include_removed: bool = False, ignored: Ignored = NOT_COUNTED
) -> list[Member]:
    """The board's members by role (owners first), then name and id."""
    root = _root(board)
    result = []
    for key, value in entries(root, "member", ignored):
        member = _read(key, value, ignored)
        if member is not None and (include_removed or not member.removed):
            result.append(member)
    order = list(Role)
    result.sort(key=lambda m: (order.index(m.role), m.name.casefold(), m.id))
    return result


def member(board: Board, member_id: str) -> Member | None:
    """One entry (removed ones too), or None if absent or unreadable."""
    if not is_member_id(member_id):
        return None
    value = read_value(_root(board), member_id)
    return _read(member_id, value, NOT_COUNTED) if isinstance(value, Map) else None


def access(board: Board) -> Access:
    """The board's access mode (``board.access``); anything but "members" reads as open."""
    value = read_value(board.doc.get("board", type=Map), "access")
    return Access.MEMBERS if value == Access.MEMBERS.value else Access.OPEN


def set_access(board: Board, mode: Access) -> None:
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
    root = _root(board)
    with board._writes.local():
        existing = read_value(root, member_id)
        if isinstance(existing, Map):
            current = _read(member_id, existing, NOT_COUNTED)
            if current is not None and not current.removed:
                raise BoardError(f"{member_id} is already a member")
            existing.update(fields)
        else:
            root[member_id] = Map(fields)


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
    with board._writes.local():
        _current(board, member_id)["removed"] = True


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


def _current(board: Board, member_id: str) -> Map[Any]:
    value = read_value(_root(board), member_id) if is_member_id(member_id) else None
    found = _read(member_id, value, NOT_COUNTED) if isinstance(value, Map) else None
    if found is None or found.removed or not isinstance(value, Map):
        raise BoardError(f"{member_id!r} is not a member of this board")
    return value


def _read(member_id: str, m: Map[Any], ignored: Ignored) -> Member | None:
    if not is_member_id(member_id):
        ignored.add("member id", WRONG_TYPE)
        return None
    with m.doc.transaction():
        value = read_value(m, "role")
        if type(value) is not str or value not in _ROLES:
            ignored.add("member role", WRONG_TYPE)
            return None
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


# ---------------------------------------------------------------- invites

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


def add_invite(board: Board, invite_id: str, *, role: Role, key: str, by: str) -> None:
    """Record an invite whose code carries the private half of ``key``."""
    role = Role(role)
    if role not in (Role.VIEWER, Role.EDITOR):
        raise BoardError("an invite makes a viewer or an editor")
    _check_id(key)
    _check_id(by)
    fields = {"role": str(role), "key": key, "by": by, "at": board._clock(), "used_by": ""}
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
        used_by = read_value(value, "used_by")
        return InviteEntry(
            id=invite_id,
            role=Role(role),
            key=key,
            by=by if is_member_id(by) else "",
            at=whole(read_value(value, "at"), "invite at", 0, MAX_TIME_MS) or 0,
            used_by=used_by if is_member_id(used_by) else "",
            revoked=flag(read_value(value, "revoked"), "invite revoked"),
        )


def use_invite(board: Board, invite_id: str, member_id: str) -> None:
    """Mark an invite used by the member it admitted."""
    _check_id(member_id)
    with board._writes.local():
        value = read_value(board.doc.get(INVITES_ROOT, type=Map), invite_id)
        if not isinstance(value, Map):
            raise BoardError(f"no invite {invite_id}")
        value["used_by"] = member_id
