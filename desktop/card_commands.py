"""The ``lanban`` subcommands for richer cards (issue 11): a ticket's checklist
(``ticket check``), comments (``comment edit|delete|list``), labels
(``label rename|color``), and the ``--due`` options of ``ticket add|edit|list``.

:func:`add_parsers` registers them on the parser cli.py builds. A checklist
item or a comment is named by its 1-based position as listed, or by the start
of its id.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .card_output import checklist_json, checklist_lines, comment_json
from .commands import Context, out, out_json

Command = Callable[..., argparse.ArgumentParser]
if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

DUE_HELP = "due date: 2026-12-01, 2026-12-01T17:00 (this machine's time zone) or with +01:00"


def _subparsers(parser: argparse.ArgumentParser) -> SubParsers:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise LookupError(f"{parser.prog} has no subcommands")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a position (1 = first)")
    return int(text)


def add_parsers(cmd: Command, sub: SubParsers) -> None:
    """Add this module's subcommands and options to cli.py's parser (``sub``:
    its COMMAND subparsers; ``cmd`` its helper that makes one subcommand)."""
    tsub = _subparsers(sub.choices["ticket"])
    for name in ("add", "edit"):
        tsub.choices[name].add_argument("--due", metavar="DATE", help=DUE_HELP + "; none clears")
    listing = tsub.choices["list"]
    listing.add_argument(
        "--due",
        dest="due_filter",
        choices=["overdue", "soon", "any", "none"],
        help="only tickets overdue, due within 48 hours, with any due date, or with none",
    )
    listing.add_argument("--sort", choices=["board", "due"], default="board", help="order")

    check = tsub.add_parser(
        "check",
        help="a ticket's checklist: add, done, undo, edit, move, remove, list",
        description="A ticket's checklist. ITEM: the item's position (1 = first, as "
        "'lanban ticket check list' shows) or the start of its id.",
    )
    ksub = check.add_subparsers(dest="check_action", metavar="ACTION", required=True)

    def on_ticket(
        name: str, func: Callable[[Context], object], text: str
    ) -> argparse.ArgumentParser:
        p = cmd(ksub, name, func, text)
        p.add_argument("board", metavar="BOARD")
        p.add_argument("ticket", metavar="TICKET")
        return p

    p = on_ticket("add", check_add, "add an item (or several) and print each id")
    p.add_argument("text", nargs="+", metavar="TEXT", help="one item per argument")
    p.add_argument("--at", type=_positive, metavar="POS", help="position (default: last)")
    for name, func, text in (
        ("done", check_done, "tick items"),
        ("undo", check_undo, "untick items"),
        ("remove", check_remove, "remove items"),
    ):
        on_ticket(name, func, text).add_argument("items", nargs="+", metavar="ITEM")
    p = on_ticket("edit", check_edit, "change an item's text")
    p.add_argument("item", metavar="ITEM")
    p.add_argument("text")
    p = on_ticket("move", check_move, "move an item to a position")
    p.add_argument("item", metavar="ITEM")
    p.add_argument("position", type=_positive, metavar="POS", help="1 = first")
    p = on_ticket("list", check_list, "list the checklist")
    p.add_argument("--json", action="store_true", help="print JSON")

    comment = sub.add_parser("comment", help="list, edit and delete comments")
    csub = comment.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = cmd(csub, "list", comment_list, "list a ticket's comments with their ids")
    p.add_argument("board", metavar="BOARD")
    p.add_argument("ticket", metavar="TICKET")
    p.add_argument("--json", action="store_true", help="print JSON")
    for name, func, text in (
        ("edit", comment_edit, "change the text of one of your comments"),
        ("delete", comment_delete, "delete one of your comments"),
    ):
        p = cmd(csub, name, func, text)
        p.add_argument("board", metavar="BOARD")
        p.add_argument("ticket", metavar="TICKET")
        p.add_argument(
            "comment", metavar="COMMENT", help="its position (1 = first) or the start of its id"
        )
        if name == "edit":
            p.add_argument("text")

    lsub = _subparsers(sub.choices["label"])
    p = cmd(lsub, "rename", label_rename, "rename a label")
    p.add_argument("board", metavar="BOARD")
    p.add_argument("name", help="the label's name or id")
    p.add_argument("new_name", metavar="NEW")
    p = cmd(lsub, "color", label_color, "change a label's colour")
    p.add_argument("board", metavar="BOARD")
    p.add_argument("name", help="the label's name or id")
    p.add_argument("color", help="#rrggbb")


# ----------------------------------------------------------------- checklists


def check_add(ctx: Context) -> None:
    a = ctx.args
    with ctx.board() as bf:
        index = None if a.at is None else a.at - 1
        for n, text in enumerate(a.text):
            at = None if index is None else index + n
            out(bf.board.add_checklist_item(a.ticket, text, index=at))


def _each_item(ctx: Context, act: Callable[[Any, str, str], None]) -> None:
    """Resolve every ITEM first (positions shift as items go), then act on each."""
    a = ctx.args
    with ctx.board() as bf:
        board = bf.board
        tid = board.ticket(a.ticket).id
        ids = list(dict.fromkeys(board.checklist_item(tid, ref).id for ref in a.items))
        for item_id in ids:
            act(board, tid, item_id)


def check_done(ctx: Context) -> None:
    _each_item(ctx, lambda board, tid, item: board.set_checklist_done(tid, item, True))


def check_undo(ctx: Context) -> None:
    _each_item(ctx, lambda board, tid, item: board.set_checklist_done(tid, item, False))


def check_remove(ctx: Context) -> None:
    _each_item(ctx, lambda board, tid, item: board.remove_checklist_item(tid, item))


def check_edit(ctx: Context) -> None:
    with ctx.board() as bf:
        bf.board.edit_checklist_item(ctx.args.ticket, ctx.args.item, ctx.args.text)


def check_move(ctx: Context) -> None:
    with ctx.board() as bf:
        bf.board.move_checklist_item(ctx.args.ticket, ctx.args.item, ctx.args.position - 1)


def check_list(ctx: Context) -> None:
    with ctx.board() as bf:
        t = bf.board.ticket(ctx.args.ticket)
        if ctx.args.json:
            out_json(checklist_json(t))
            return
        for line in checklist_lines(t):
            out(line)


# -------------------------------------------------------------------- comments


def comment_list(ctx: Context) -> None:
    with ctx.board() as bf:
        comments = bf.board.ticket(ctx.args.ticket).comments
        if ctx.args.json:
            out_json([comment_json(c) for c in comments])
            return
        for n, c in enumerate(comments, start=1):
            edited = "  (edited)" if c.edited_at else ""
            out(f"{n}. {c.author}: {c.text}{edited}  ({c.id})")


def comment_edit(ctx: Context) -> None:
    with ctx.board() as bf:
        bf.board.edit_comment(ctx.args.ticket, ctx.args.comment, ctx.args.text)


def comment_delete(ctx: Context) -> None:
    with ctx.board() as bf:
        bf.board.delete_comment(ctx.args.ticket, ctx.args.comment)


# ---------------------------------------------------------------------- labels


def label_rename(ctx: Context) -> None:
    with ctx.board() as bf:
        bf.board.rename_label(ctx.args.name, ctx.args.new_name)


def label_color(ctx: Context) -> None:
    with ctx.board() as bf:
        bf.board.set_label_color(ctx.args.name, ctx.args.color)
