"""The board's history on the command line (issue 11): ``lanban board history``,
``lanban board show --at TIME`` and ``lanban ticket restore --at TIME``."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lanban.model.activity import iso
from lanban.model.board import Board
from lanban.sync.runner import whole_number

from . import commands
from .commands import CommandError, Context, out, out_json

Command = Callable[..., argparse.ArgumentParser]

TIME_HELP = (
    "a moment: a local time (2026-11-30T10:00, 2026-11-30 10:00, 2026-11-30) "
    "or ISO 8601 with an offset (2026-11-30T10:00+01:00, ...Z)"
)


def add_history_commands(
    cmd: Command,
    boards: argparse._SubParsersAction[argparse.ArgumentParser],
    tickets: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    p = cmd(
        boards,
        "history",
        board_history,
        "the board's activity, newest first: who did what, when (from the board itself, "
        "the same on every copy)",
    )
    p.add_argument("board", metavar="BOARD")
    p.add_argument("--ticket", metavar="TICKET", help="only this ticket's (#12 or its id)")
    p.add_argument("--limit", type=_positive, metavar="N", help="the newest N entries")
    p.add_argument("--json", action="store_true", help="print JSON")
    show = boards.choices["show"]
    show.add_argument("--at", metavar="TIME", help="show the board as it was then; " + TIME_HELP)
    show.set_defaults(func=_either(board_show_at, show.get_default("func")))
    restore = tickets.choices["restore"]
    restore.add_argument(
        "--at",
        metavar="TIME",
        help="bring the ticket's fields back to what they were then (a new change that "
        "syncs; comments and checklist stay); " + TIME_HELP,
    )
    restore.set_defaults(func=_either(ticket_restore_at, restore.get_default("func")))


def _either(with_at: Callable[[Context], None], plain: Any) -> Callable[[Context], None]:
    """``with_at`` when --at is given, else the command as it was."""

    def run(ctx: Context) -> None:
        if ctx.args.at is None:
            plain(ctx)
        else:
            with_at(ctx)

    return run


_positive = whole_number(1, None, "{value} is not a positive number")


# ------------------------------------------------------------------ commands


def board_history(ctx: Context) -> None:
    with ctx.board() as bf:
        board = bf.board
        entries = board.activity(ctx.args.ticket)
        if ctx.args.limit:
            entries = entries[: ctx.args.limit]
        if ctx.args.json:
            out_json([a.as_json() for a in entries])
            return
        now = time.time_ns() // 1_000_000
        for entry in entries:
            out(f"{_local(entry.time)}  {entry.text(now)}")
        if not entries:
            out("no activity yet")


def board_show_at(ctx: Context) -> None:
    with ctx.board() as bf:
        earlier, when = _board_at(bf.board, ctx.args.at)
        if not ctx.args.json:
            out(f"as it was at {when}")
        commands.show_board(earlier, as_json=ctx.args.json)


def ticket_restore_at(ctx: Context) -> None:
    with ctx.board() as bf:
        earlier, when = _board_at(bf.board, ctx.args.at)
        if bf.board.restore_ticket_from(earlier, ctx.args.ticket):
            out(f"restored {ctx.args.ticket} as it was at {when}")
        else:
            out(f"{ctx.args.ticket} is already as it was at {when}")


# ------------------------------------------------------------------ times


def parse_time(text: str, now_ms: int | None = None) -> int:
    """A moment the user typed, in ms since the epoch; CommandError if malformed
    or in the future. A time without an offset is this machine's local time."""
    raw = text.strip()
    try:
        moment = datetime.fromisoformat(raw.replace(" ", "T", 1) if " " in raw else raw)
    except ValueError:
        raise CommandError(f"{text!r} is not a time: give {TIME_HELP}") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # local time
    at = int(moment.timestamp() * 1000)
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    if at > now:
        raise CommandError(f"{text!r} is in the future (it is {_local(now)} now)")
    return at


def _board_at(board: Board, text: str) -> tuple[Board, str]:
    at = parse_time(text)
    index = board.moment_at(at)
    if index is None:
        moments = board.moments()
        start = f"its history starts {_local(moments[0].time)}" if moments else "it has no history"
        raise CommandError(f"board {board.title!r} did not exist yet at {text!r} ({start})")
    return board.at_moment(index), _local(at)


def _local(at: int) -> str:
    shown = iso(at)
    return shown.replace("T", " ")[:16] if shown else "(time unknown)  "
