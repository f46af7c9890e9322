"""What the ``lanban`` subcommands that share boards and run things do: invites,
``serve``, ``status``, ``relay`` and the desktop app (the board, column, ticket
and label commands are in :mod:`.commands`; parsing lives in cli.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from .commands import CommandError, Context, out, out_json

CommandAdder = Callable[..., argparse.ArgumentParser]
INVITE_ROLES = ("viewer", "editor")
ACCESS_MODES = ("open", "members")


def add_sharing_commands(cmd: CommandAdder, group: Any) -> None:
    p = cmd(group, "invite", board_invite, "print an invite code for a board")
    p.add_argument("board", metavar="BOARD")
    p.add_argument("--relay", metavar="URL", help="a relay the invited peer should use too")
    p.add_argument("--relay-token", metavar="TOKEN")
    p.add_argument(
        "--role",
        metavar="viewer|editor",
        help="make the invited a viewer or an editor of a members-only board "
        "(default: a version 1 invite, which makes an editor)",
    )
    p = cmd(group, "join", board_join, "add a board from an invite code; print its id")
    p.add_argument("code", metavar="CODE")
    p = cmd(
        group,
        "members",
        board_members,
        "list a board's members and their roles, then who else wrote to it",
    )
    p.add_argument("board", metavar="BOARD")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--removed", action="store_true", help="also list removed members")
    p.add_argument(
        "--remove",
        metavar="MEMBER",
        help="remove a member (id, id prefix or name) and give the others a new board key",
    )
    p.add_argument(
        "--role",
        nargs=2,
        metavar=("MEMBER", "ROLE"),
        help="make a member (id, id prefix or name) an admin, editor or viewer",
    )
    p = cmd(
        group,
        "access",
        board_access,
        "show or set who may change a board: everyone who has it (open) "
        "or its editors and above (members)",
    )
    p.add_argument("board", metavar="BOARD")
    p.add_argument("mode", nargs="?", metavar="open|members", help="the new mode")


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise CommandError(f"unknown {what} {value!r}: use {' or '.join(allowed)}")
    return value


def board_invite(ctx: Context) -> None:
    from lanban.sync.invite import Invite, InviteError
    from lanban.sync.local_status import read_node_file
    from lanban.sync.node import address_hints
    from lanban.sync.sharing import mark_invited

    if ctx.args.role is not None:
        _choice(ctx.args.role, INVITE_ROLES, "role")
    with ctx.board() as bf:
        relay = ctx.args.relay or bf.relay
        token = ctx.args.relay_token or (bf.relay_token if relay == bf.relay else None)
        if ctx.args.relay:  # this machine uses it for the board too
            bf.set_meta("relay", ctx.args.relay)
            bf.set_meta("relay_token", ctx.args.relay_token)
        mark_invited(bf)  # no longer "only on this computer"
        try:
            node = read_node_file(ctx.store.root)
            hints = address_hints(str(node.get("host", "")), int(node["port"]))
        except Exception:  # no node running here: peers find us by mDNS or the relay
            hints = ()
        try:
            invite = Invite(bf.board_id, bf.key, bf.board.title[:200], relay, token or None, hints)
        except InviteError as exc:
            raise CommandError(str(exc)) from exc
        if ctx.args.role:  # version 2: recorded in the board (PROTOCOL.md 7.7)
            from lanban.model.members import Access, Role, access
            from lanban.sync.member_invites import with_role

            invite = with_role(invite, bf.board, ctx.store.signing_key(), Role(ctx.args.role))
            if access(bf.board) is Access.OPEN and ctx.args.role == "viewer":
                print(
                    "lanban: note: this board is open, so a viewer can still change it; "
                    "`lanban board access BOARD members` lets only editors change it",
                    file=sys.stderr,
                )
        out(invite.encode())


def board_join(ctx: Context) -> None:
    from lanban.sync.invite import Invite, InviteError

    try:
        invite = Invite.decode(ctx.args.code)
    except InviteError as exc:
        raise CommandError(str(exc)) from exc
    if invite.board_id in ctx.store.board_ids():
        print("you have this board already", file=sys.stderr)
        out(invite.board_id)
        return
    ctx.store.join(invite, actor=ctx.actor).close()
    out(invite.board_id)


def board_members(ctx: Context) -> None:
    from lanban.model.people import people

    from .history_commands import _local

    if ctx.args.remove is not None:
        from .member_removal import remove_member

        return remove_member(ctx)
    if ctx.args.role is not None:
        from .member_removal import change_role

        return change_role(ctx)
    from lanban.model.members import members

    me = ctx.store.signing_key().member_id
    with ctx.board() as bf:
        found = members(bf.board, include_removed=ctx.args.removed)
        everyone = {p.key: p for p in people(bf.board, include_removed=ctx.args.removed)}
    others = [p for p in everyone.values() if not p.member]
    if ctx.args.json:
        listed: list[dict[str, object]] = []
        for m in found:
            person = everyone[m.id]
            listed.append(
                {
                    "id": m.id,
                    "name": person.name,  # a nameless entry: as its computer wrote
                    "role": str(m.role),
                    "removed": m.removed,
                    "added_by": m.added_by,
                    "added_at": m.added_at,
                    "you": m.id == me,
                    "member": True,
                    "color": person.color,
                    "last_wrote": person.last_wrote,
                }
            )
        for p in others:  # wrote to the board, but has no member entry
            listed.append({**p.as_json(), "role": None, "you": bool(p.id) and p.id == me})
        out_json(listed)
        return
    if not found:
        print("lanban: this board has no member list (anyone who has it may edit)", file=sys.stderr)
    for m in found:
        notes = [n for n, on in (("removed", m.removed), ("you", m.id == me)) if on]
        extra = f"  ({', '.join(notes)})" if notes else ""
        out(f"{m.role:<7} {m.id[:8]}  {everyone[m.id].name or '(no name)'}{extra}")
    if others:
        out("")
        out("also wrote to the board (no member entry):")
        for p in others:
            you = "  (you)" if p.id and p.id == me else ""
            when = _local(p.last_wrote or 0).strip()
            out(f"{p.color:<7} {p.id[:8] or '-':<8}  {p.name}  last wrote {when}{you}")


def board_access(ctx: Context) -> None:
    from lanban.model.members import Access, access, role_of, set_access

    if ctx.args.mode is not None:
        _choice(ctx.args.mode, ACCESS_MODES, "access mode")
    with ctx.board() as bf:
        if ctx.args.mode is None:
            out(str(access(bf.board)))
            return
        role = role_of(bf.board, ctx.store.signing_key().member_id)
        if role is None or not role.manages_members:
            raise CommandError("only the board's owner or an admin can change who may edit it")
        set_access(bf.board, Access(ctx.args.mode))


def add_network_commands(cmd: CommandAdder, sub: Any, network_options: Callable[..., None]) -> None:
    p = cmd(sub, "serve", serve, "run a headless node that syncs every board here")
    network_options(p)
    p = cmd(sub, "status", status, "ask the running node for peers and sync state")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = cmd(sub, "relay", relay, "run a relay (a y-websocket server) for boards")
    from lanban.sync.relay import add_relay_arguments

    add_relay_arguments(p)


def node_options(args: argparse.Namespace) -> Any:
    from lanban.sync.node import NodeError, NodeOptions, parse_address

    for peer in args.peer:
        try:
            parse_address(peer)
        except NodeError as exc:
            raise CommandError(f"--peer: {exc}") from exc
    if args.relay and not args.relay.startswith(("ws://", "wss://")):
        raise CommandError(f"--relay: {args.relay!r} is not a ws:// or wss:// URL")
    return NodeOptions(
        host=args.host,
        port=args.port,
        peers=list(args.peer),
        relay=args.relay,
        relay_token=args.relay_token,
        discovery=not args.no_discovery,
        name=args.name or "",
    )


def serve(ctx: Context) -> int:
    from lanban.sync.serve import run_serve

    options = node_options(ctx.args)
    options.name = options.name or ctx.actor
    return run_serve(ctx.store, options)


def status(ctx: Context) -> None:
    from lanban.sync.node import NodeError
    from lanban.sync.serve import fetch_status, format_status

    try:
        data = fetch_status(ctx.store.root)
    except NodeError as exc:
        raise CommandError(str(exc)) from exc
    if ctx.args.json:
        out_json(data.to_json())
    else:
        out(format_status(data))


def relay(ctx: Context) -> int:
    from lanban.sync.relay import run_relay_from_args

    return run_relay_from_args(ctx.args, ctx.data_dir)


def run_desktop(args: argparse.Namespace) -> int:
    from .app import main as app_main  # Qt is only imported for the app

    return app_main(args)
