"""``lanban``: the command line, and the entry point of the desktop app.

Exit status: 0 success, 1 the command failed (message on stderr), 2 usage
error. Never a traceback (set LANBAN_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from lanban.model.errors import BoardError
from lanban.model.limits import DEFAULT_COLUMNS, DEFAULT_LABEL_COLOR
from lanban.sync.runner import port_number, whole_number
from lanban.sync.store import StoreError

from . import card_commands, commands, history_commands, network_commands
from .version import VersionAction


class Failure(Exception):
    """A command failed in a way the user can fix; exit status 1."""


_non_negative = whole_number(0, None, "{value} is negative")


def add_network_options(p: argparse.ArgumentParser) -> None:
    """Options of ``serve`` and of the desktop app, which runs the same node."""
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all)")
    p.add_argument(
        "--port", type=port_number, default=0, help="port to listen on (0 = any free port)"
    )
    p.add_argument(
        "--peer",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="also connect to this node (for networks that block multicast)",
    )
    p.add_argument("--relay", metavar="URL", help="also sync every board through this relay")
    p.add_argument("--relay-token", metavar="TOKEN", help="token the relay asks for")
    p.add_argument("--no-discovery", action="store_true", help="do not use mDNS on the LAN")
    p.add_argument("--name", help="your display name (default: the saved one)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lanban",
        description="A kanban board for small teams on one network. "
        "With no command, opens the desktop app.",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where boards are kept (default: LANBAN_HOME or the user data dir)",
    )
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check that this installation works (Qt, zeroconf, two nodes syncing on "
        "127.0.0.1, in a temporary directory) and exit",
    )
    add_network_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def cmd(
        group: argparse._SubParsersAction[argparse.ArgumentParser],
        name: str,
        func: Callable[..., object],
        help_text: str,
    ) -> argparse.ArgumentParser:
        p = group.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    def listing(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--json", action="store_true", help="print JSON")
        return p

    # board
    board = sub.add_parser("board", help="create, list, show and share boards")
    bsub = board.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = cmd(bsub, "create", commands.board_create, "create a board and print its id")
    p.add_argument("title")
    p.add_argument(
        "--columns", default=",".join(DEFAULT_COLUMNS), help="comma-separated column titles"
    )
    listing(cmd(bsub, "list", commands.board_list, "list the boards in the data directory"))
    p = listing(cmd(bsub, "show", commands.board_show, "show a board's columns and tickets"))
    p.add_argument("board", metavar="BOARD")
    p = cmd(bsub, "rename", commands.board_rename, "rename a board")
    p.add_argument("board", metavar="BOARD")
    p.add_argument("title")
    p = cmd(bsub, "export", commands.board_export, "print a board as JSON")
    p.add_argument("board", metavar="BOARD")
    p.add_argument(
        "--include-deleted",
        action="store_true",
        help='keep deleted columns and trashed tickets, marked "deleted": true',
    )
    p = cmd(
        bsub,
        "import",
        commands.board_import,
        "import a Lanban or Trello JSON export as a new board; print its id",
    )
    p.add_argument("file", metavar="FILE", help="a JSON file, or - for standard input")
    p = cmd(
        bsub,
        "snapshot",
        commands.board_snapshot,
        "print a token for the board as it is now (keep it to restore from later)",
    )
    p.add_argument("board", metavar="BOARD")
    p = cmd(
        bsub,
        "restore",
        commands.board_restore,
        "bring back the columns, labels and tickets the board had at a snapshot "
        "and lacks now (an ordinary change: it syncs and others' later work stays)",
    )
    p.add_argument("board", metavar="BOARD")
    p.add_argument("snapshot", metavar="SNAPSHOT", help="a token from lanban board snapshot")
    p = cmd(
        bsub,
        "repair",
        commands.board_repair,
        "check a board file; rebuild a damaged one from what can be read "
        "(the damaged file is kept beside it)",
    )
    p.add_argument("board", metavar="BOARD", help="the board's id (or title, if it opens)")
    p = cmd(
        bsub,
        "leave",
        commands.board_leave,
        "stop keeping a board here (its file is moved aside, not deleted)",
    )
    p.add_argument("board", metavar="BOARD")
    network_commands.add_sharing_commands(cmd, bsub)

    # column
    column = sub.add_parser("column", help="add, rename, move and delete columns")
    csub = column.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = listing(cmd(csub, "list", commands.column_list, "list a board's columns"))
    p.add_argument("board", metavar="BOARD")
    p = cmd(csub, "add", commands.column_add, "add a column and print its id")
    p.add_argument("board", metavar="BOARD")
    p.add_argument("title")
    p.add_argument("--index", type=_non_negative, help="position (0 = first; default: last)")
    p.add_argument("--wip", type=_non_negative, default=0, help="WIP limit (0 = none)")
    p = cmd(csub, "rename", commands.column_rename, "rename a column")
    p.add_argument("board", metavar="BOARD")
    p.add_argument("column", metavar="COL")
    p.add_argument("title")
    p = cmd(csub, "move", commands.column_move, "move a column to a position")
    p.add_argument("board", metavar="BOARD")
    p.add_argument("column", metavar="COL")
    p.add_argument("--index", type=_non_negative, required=True, help="0 = first")
    p = cmd(csub, "wip", commands.column_wip, "set a column's WIP limit (0 = none)")
    p.add_argument("board", metavar="BOARD")
    p.add_argument("column", metavar="COL")
    p.add_argument("limit", type=_non_negative)
    for name, func, text in (
        (
            "delete",
            commands.column_delete,
            "delete a column (its tickets show in the first column until moved)",
        ),
        ("restore", commands.column_restore, "restore a deleted column"),
    ):
        p = cmd(csub, name, func, text)
        p.add_argument("board", metavar="BOARD")
        p.add_argument("column", metavar="COL")

    # ticket
    ticket = sub.add_parser("ticket", help="add, edit, move and delete tickets")
    tsub = ticket.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = listing(cmd(tsub, "list", commands.ticket_list, "list tickets in display order"))
    p.add_argument("board", metavar="BOARD")
    p.add_argument("--column", metavar="COL")
    p.add_argument("--deleted", action="store_true", help="list the trash instead")
    p = listing(cmd(tsub, "show", commands.ticket_show, "show one ticket"))
    p.add_argument("board", metavar="BOARD")
    p.add_argument("ticket", metavar="TICKET")
    p = cmd(tsub, "add", commands.ticket_add, "add a ticket and print its id")
    p.add_argument("board", metavar="BOARD")
    p.add_argument("title")
    p.add_argument("--column", metavar="COL", help="default: the first column")
    p.add_argument("--index", type=_non_negative, help="position (default: last)")
    p.add_argument("--description", default="")
    p.add_argument(
        "--assignee", action="append", metavar="NAME", help="a member's name or anyone's; repeat"
    )
    p.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="NAME",
        help="add a label (created if new); repeat for more",
    )
    p = cmd(tsub, "move", commands.ticket_move, "move a ticket to a column and position")
    p.add_argument("board", metavar="BOARD")
    p.add_argument("ticket", metavar="TICKET")
    p.add_argument("--column", metavar="COL", required=True)
    p.add_argument("--index", type=_non_negative, help="0 = top (default: bottom)")
    p = cmd(tsub, "edit", commands.ticket_edit, "change a ticket's fields")
    p.add_argument("board", metavar="BOARD")
    p.add_argument("ticket", metavar="TICKET")
    p.add_argument("--title")
    p.add_argument("--description")
    p.add_argument(
        "--assignee",
        action="append",
        metavar="NAME",
        help="set the assignees (a member's name or anyone's); repeat; '' clears",
    )
    p.add_argument("--labels", metavar="A,B", help="set the labels (created if new); '' clears")
    for name, func, text in (
        ("delete", commands.ticket_delete, "move a ticket to the trash"),
        ("restore", commands.ticket_restore, "bring a ticket back from the trash"),
        ("purge", commands.ticket_purge, "remove a trashed ticket for good"),
    ):
        p = cmd(tsub, name, func, text)
        p.add_argument("board", metavar="BOARD")
        p.add_argument("ticket", metavar="TICKET")
    p = cmd(tsub, "comment", commands.ticket_comment, "add a comment to a ticket")
    p.add_argument("board", metavar="BOARD")
    p.add_argument("ticket", metavar="TICKET")
    p.add_argument("text")

    # label
    label = sub.add_parser("label", help="board labels")
    lsub = label.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = listing(cmd(lsub, "list", commands.label_list, "list a board's labels"))
    p.add_argument("board", metavar="BOARD")
    p = cmd(lsub, "add", commands.label_add, "add a label and print its id")
    p.add_argument("board", metavar="BOARD")
    p.add_argument("name")
    p.add_argument("--color", default=DEFAULT_LABEL_COLOR, help="#rrggbb")
    p = cmd(lsub, "delete", commands.label_delete, "delete a label (and take it off tickets)")
    p.add_argument("board", metavar="BOARD")
    p.add_argument("name")

    card_commands.add_parsers(cmd, sub)
    history_commands.add_history_commands(cmd, bsub, tsub)
    network_commands.add_network_commands(cmd, sub, add_network_options)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(os.environ.get("LANBAN_DEBUG"))
    try:
        if args.self_test:
            from .selftest import run as self_test

            return self_test()
        if args.command is None:
            return network_commands.run_desktop(args)
        data_dir = Path(args.data_dir) if args.data_dir else None
        result = args.func(commands.Context(data_dir, args))
        return int(result) if isinstance(result, int) else 0
    except (BoardError, StoreError, commands.CommandError, Failure) as exc:
        print(f"lanban: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # never a traceback for users
        if debug:
            raise
        print(
            f"lanban: internal error: {type(exc).__name__}: {exc} (set LANBAN_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
