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


def add_sharing_commands(cmd: CommandAdder, group: Any) -> None:
    p = cmd(group, "invite", board_invite, "print an invite code for a board")
    p.add_argument("board", metavar="BOARD")
    p.add_argument("--relay", metavar="URL", help="a relay the invited peer should use too")
    p.add_argument("--relay-token", metavar="TOKEN")
    p = cmd(group, "join", board_join, "add a board from an invite code; print its id")
    p.add_argument("code", metavar="CODE")


def board_invite(ctx: Context) -> None:
    from lanban.sync.invite import Invite, InviteError
    from lanban.sync.local_status import read_node_file
    from lanban.sync.node import address_hints

    with ctx.board() as bf:
        relay = ctx.args.relay or bf.relay
        token = ctx.args.relay_token or (bf.relay_token if relay == bf.relay else None)
        if ctx.args.relay:  # this machine uses it for the board too
            bf.set_meta("relay", ctx.args.relay)
            bf.set_meta("relay_token", ctx.args.relay_token)
        try:
            node = read_node_file(ctx.store.root)
            hints = address_hints(str(node.get("host", "")), int(node["port"]))
        except Exception:  # no node running here: peers find us by mDNS or the relay
            hints = ()
        try:
            invite = Invite(bf.board_id, bf.key, bf.board.title[:200], relay, token or None, hints)
        except InviteError as exc:
            raise CommandError(str(exc)) from exc
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
