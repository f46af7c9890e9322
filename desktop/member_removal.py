"""``lanban board members BOARD --remove MEMBER``: remove a member, rotate the board key;
``--role MEMBER ROLE``: change a member's role.

The work is :func:`lanban.sync.rekey.remove` and the model's ``update_member``
(signed by this node, PROTOCOL.md 7.5); this module finds the member the user
means (a member id, a unique prefix of one, or a unique name) and says what the
removal does and does not do (PROTOCOL.md 7.6).
"""

from __future__ import annotations

import sys

from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.model.members import Member, Role, members, role_of, update_member

from .commands import CommandError, Context, out


def find_member(board: Board, ref: str) -> Member:
    """The current member ``ref`` names; CommandError if none or more than one."""
    current = members(board)
    if not current:
        raise CommandError("this board has no member list: there is nobody to remove")
    ref = ref.strip()
    exact = [m for m in current if m.id == ref]
    if exact:
        return exact[0]
    by_name = [m for m in current if ref and m.name.casefold() == ref.casefold()]
    by_prefix = [m for m in current if ref and m.id.startswith(ref)]
    for found in (by_name, by_prefix):
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(f"{m.id[:8]} ({m.name or 'no name'})" for m in found)
            raise CommandError(f"{ref!r} names more than one member: {names}; give more of the id")
    raise CommandError(f"no member {ref!r} on this board (see: lanban board members BOARD)")


def remove_member(ctx: Context) -> None:
    from lanban.sync.rekey import relay_room, remove

    me = ctx.store.signing_key()
    with ctx.board() as bf:
        target = find_member(bf.board, ctx.args.remove)
        try:
            removal = remove(bf, me, target.id)
        except BoardError as exc:
            raise CommandError(str(exc)) from exc
        relay = bf.relay or ctx.store.settings().get("relay")
        room = relay_room(bf.key)
        out(
            f"removed {target.name or '(no name)'} ({target.id[:8]}); "
            f"new board key (epoch {removal.epoch}) sealed to {len(removal.sealed_to)} "
            f"member{'s' if len(removal.sealed_to) != 1 else ''}"
        )
    if removal.without_key:
        missing = ", ".join(m[:8] for m in removal.without_key)
        print(
            f"lanban: warning: no key-agreement key is known for {missing} (their node has "
            "not linked since this release): they cannot get the new key; invite them again",
            file=sys.stderr,
        )
    print(
        "lanban: note: the removed member keeps what they already had; their node is "
        "refused from now on, and other members pick the new key up when they next link",
        file=sys.stderr,
    )
    if relay:
        print(
            f"lanban: note: this board uses a relay: its members' nodes move to a new room "
            f"there ({room}), named from the new key, so the removed member no longer finds "
            "the board on the relay (unless the relay's operator tells her where it went); "
            "other y-websocket clients must use that room from now on",
            file=sys.stderr,
        )


ASSIGNABLE_ROLES = (Role.ADMIN, Role.EDITOR, Role.VIEWER)


def change_role(ctx: Context) -> None:
    ref, wanted = ctx.args.role
    if wanted not in [str(r) for r in ASSIGNABLE_ROLES]:
        raise CommandError(f"unknown role {wanted!r}: use admin, editor or viewer")
    me = ctx.store.signing_key().member_id
    with ctx.board() as bf:
        target = find_member(bf.board, ref)
        mine = role_of(bf.board, me)
        if mine is None or not mine.manages_members:
            raise CommandError("only the board's owner or an admin can change a member's role")
        if target.role is Role.OWNER:
            raise CommandError("the board's owner stays its owner")
        try:
            update_member(bf.board, target.id, role=Role(wanted))
        except BoardError as exc:
            raise CommandError(str(exc)) from exc
    out(f"{target.name or '(no name)'} ({target.id[:8]}) is now {wanted}")
