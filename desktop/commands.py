"""What the board, column, ticket and label ``lanban`` subcommands do, and what all
subcommands share (:class:`Context`, output); invites, serve, status, relay and the app
are in :mod:`.network_commands`. Parsing lives in cli.py."""

from __future__ import annotations

import argparse
import base64
import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from lanban.model.board import Board
from lanban.model.due import by_due
from lanban.model.exchange import export_board, import_board
from lanban.model.schema import Ticket
from lanban.sync.store import BoardFile, BoardSummary, Store, StoreError

from .card_output import DUE_FILTERS, checklist_json, checklist_lines, comment_json, due_words


class CommandError(Exception):
    """A command cannot do what was asked; exit status 1."""


@dataclass
class Context:
    data_dir: Path | None
    args: argparse.Namespace

    @cached_property
    def store(self) -> Store:
        store = Store(self.data_dir)
        notice = store.checked_identity()
        if notice:
            print(f"lanban: warning: {notice}", file=sys.stderr)
        return store

    @cached_property
    def actor(self) -> str:
        # the label commands' NAME (a label's) lands where --name (yours) would
        given = (
            None
            if getattr(self.args, "command", None) == "label"
            else getattr(self.args, "name", None)
        )
        name = given or os.environ.get("LANBAN_USER_NAME")
        if not name:
            name = self.store.identity().name
        if not name:
            try:
                name = getpass.getuser()
            except (KeyError, OSError):
                name = "someone"
        return name

    @contextmanager
    def board(self) -> Iterator[BoardFile]:
        bf = self.store.find(self.args.board, actor=self.actor)
        if bf.quarantine_notice:  # issue 9: the board opened without these
            print(f"lanban: warning: {bf.quarantine_notice}", file=sys.stderr)
        bf.board.set_member(self.store.identity().member_id)  # who writes (the history)
        try:
            bf.board.repair()  # other processes' writes may have merged just now
            yield bf
        finally:
            bf.close()


def out(text: str = "") -> None:
    print(text, flush=True)


def out_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False), flush=True)


def warn_ignored(board: Board) -> None:
    """Say on stderr how much of the board's document was ignored (issue 9)."""
    summary = board.ignored().summary()
    if summary:
        print(f"lanban: warning: {summary}", file=sys.stderr)


def ticket_json(board: Board, t: Ticket, labels: dict[str, str]) -> dict[str, Any]:
    column = board.column(t.column, include_deleted=True).title if t.column else None
    return {
        "id": t.id,
        "number": t.number,
        "title": t.title,
        "column": column,
        "column_id": t.column,
        "description": t.description,
        "assignee": t.assignee,
        "assignees": list(t.assignees),
        "labels": sorted(labels[x] for x in t.labels if x in labels),
        "due": t.due,
        "due_status": board.due_status(t).value,
        "checklist": checklist_json(t),
        "checklist_done": t.checklist_done,
        "comments": [comment_json(c) for c in t.comments],
        "created_by": t.created_by,
        "created_at": t.created_at,
        "updated_by": t.updated_by,
        "updated_at": t.updated_at,
        "deleted": t.deleted,
        "misplaced": t.misplaced,
    }


def ticket_line(board: Board, t: Ticket, labels: dict[str, str]) -> str:
    parts = [f"#{t.number:<4}", t.title]
    parts += [f"@{name}" for name in t.assignees]
    names = sorted(labels[x] for x in t.labels if x in labels)
    if names:
        parts.append("[" + ", ".join(names) + "]")
    if t.due:
        parts.append(f"due {t.due}{due_words(board.due_status(t))}")
    if t.checklist:
        parts.append(f"[{t.checklist_summary}]")
    if t.comments:
        parts.append(f"({len(t.comments)} comments)")
    if t.misplaced:
        parts.append("(its column was deleted)")
    return "  ".join(parts)


# ------------------------------------------------------------------- boards


def board_create(ctx: Context) -> None:
    columns = [c.strip() for c in ctx.args.columns.split(",") if c.strip()]
    if not columns:
        raise CommandError("--columns needs at least one column title")
    same = ctx.store.titled(ctx.args.title)
    bf = ctx.store.create_board(ctx.args.title, columns, actor=ctx.actor)
    out(bf.board_id)
    bf.close()
    warn_same_title(same)


def warn_same_title(same: list[BoardSummary]) -> None:
    """A title another board has is allowed: say so, and how to tell them apart."""
    if same:
        ids = ", ".join(s.id for s in same)
        print(
            f"lanban: warning: another board is called {same[0].title!r} ({ids}); "
            "name these boards by id",
            file=sys.stderr,
        )


def board_list(ctx: Context) -> None:
    summaries = ctx.store.summaries()
    if ctx.args.json:
        out_json(
            [
                {"id": s.id, "title": s.title, "tickets": s.tickets, "path": str(s.path)}
                | ({"error": s.error} if s.error else {})
                | ({"notice": s.notice} if s.notice else {})
                for s in summaries
            ]
        )
    else:
        for s in summaries:
            if s.error:
                print(f"lanban: warning: {s.error}", file=sys.stderr)
            else:
                out(f"{s.id}  {s.title}  ({s.tickets} tickets)")
            if s.notice:
                print(f"lanban: warning: board {s.id}: {s.notice}", file=sys.stderr)
        if not summaries:
            print("no boards yet (lanban board create TITLE)", file=sys.stderr)


def board_show(ctx: Context) -> None:
    with ctx.board() as bf:
        warn_ignored(bf.board)
        show_board(bf.board, as_json=ctx.args.json)


def show_board(board: Board, *, as_json: bool) -> None:
    if as_json:
        out_json(export_board(board))
        return
    labels = {lb.id: lb.name for lb in board.labels()}
    out(f"{board.title}  ({board.id})")
    for column in board.columns():
        tickets = board.tickets(column.id)
        limit = f"/{column.wip_limit}" if column.wip_limit else ""
        over = "  OVER WIP LIMIT" if column.wip_limit and len(tickets) > column.wip_limit else ""
        out(f"\n== {column.title} ({len(tickets)}{limit}){over}")
        for t in tickets:
            out("  " + ticket_line(board, t, labels))


def board_repair(ctx: Context) -> int:
    """Check a board file; rebuild a damaged one beside it (issue 9). 0: the board opens."""
    from lanban.sync.board_repair import repair_board_file
    from lanban.sync.store import check_board_id

    ref = ctx.args.board.strip()
    try:
        path = ctx.store.path_for(check_board_id(ref))
    except StoreError:
        path = ctx.store.boards_dir / ref
    if not path.exists():  # a title: only a board that opens can be found by it
        bf = ctx.store.find(ref, actor=ctx.actor)
        path = bf.path
        bf.close()
    report = repair_board_file(path)
    for line in report.lines:
        print(
            line if report.ok else f"lanban: {line}", file=sys.stdout if report.ok else sys.stderr
        )
    if report.kept is not None and (ctx.store.root / "node.json").exists():
        out("if the node or the app had this board open, restart it to use the rebuilt file")
    return 0 if report.ok else 1


def board_rename(ctx: Context) -> None:
    same = ctx.store.titled(ctx.args.title)
    with ctx.board() as bf:
        bf.board.rename(ctx.args.title)
        warn_same_title([s for s in same if s.id != bf.board_id])


def board_export(ctx: Context) -> None:
    with ctx.board() as bf:
        warn_ignored(bf.board)
        out_json(export_board(bf.board, include_deleted=ctx.args.include_deleted))


def board_import(ctx: Context) -> None:
    source = ctx.args.file
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {source}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"{source} is not UTF-8 text") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"{source} is not valid JSON: {exc}") from exc
    board = import_board(data, actor=ctx.actor)
    bf = ctx.store.add_board(board)
    out(bf.board_id)
    bf.close()


def board_snapshot(ctx: Context) -> None:
    with ctx.board() as bf:
        out(base64.urlsafe_b64encode(bf.board.snapshot()).decode("ascii"))


def board_restore(ctx: Context) -> None:
    """Bring back what the board had at a snapshot (issue 9: undo a wipe)."""
    try:
        token = base64.urlsafe_b64decode(ctx.args.snapshot.strip())
    except ValueError as exc:
        raise CommandError(f"{ctx.args.snapshot!r} is not a snapshot") from exc
    with ctx.board() as bf:
        try:
            earlier = bf.board.as_of(token)
        except ValueError as exc:
            raise CommandError(f"{ctx.args.snapshot!r} is not a snapshot of this board") from exc
        done = bf.board.restore_from(earlier)
    out(
        f"brought back {done.columns} columns, {done.labels} labels and {done.tickets} tickets"
        if done.total
        else "nothing to bring back: the board has everything it had then"
    )


def board_leave(ctx: Context) -> None:
    with ctx.board() as bf:
        board_id = bf.board_id
    moved = ctx.store.leave(board_id)
    print(f"left board {board_id}; its file was moved to {moved}", file=sys.stderr)


# ------------------------------------------------------------------ columns


def column_list(ctx: Context) -> None:
    with ctx.board() as bf:
        board = bf.board
        rows = [
            {
                "id": c.id,
                "title": c.title,
                "wip_limit": c.wip_limit,
                "tickets": len(board.ticket_ids(c.id)),
            }
            for c in board.columns()
        ]
        if ctx.args.json:
            out_json(rows)
        else:
            for r in rows:
                limit = f"/{r['wip_limit']}" if r["wip_limit"] else ""
                out(f"{r['id']}  {r['title']}  ({r['tickets']}{limit})")


def column_add(ctx: Context) -> None:
    with ctx.board() as bf:
        out(bf.board.add_column(ctx.args.title, index=ctx.args.index, wip_limit=ctx.args.wip))


def column_rename(ctx: Context) -> None:
    with ctx.board() as bf:
        bf.board.rename_column(ctx.args.column, ctx.args.title)


def column_move(ctx: Context) -> None:
    with ctx.board() as bf:
        bf.board.move_column(ctx.args.column, ctx.args.index)


def column_wip(ctx: Context) -> None:
    with ctx.board() as bf:
        bf.board.set_wip_limit(ctx.args.column, ctx.args.limit)


def column_delete(ctx: Context) -> None:
    with ctx.board() as bf:
        bf.board.delete_column(ctx.args.column)


def column_restore(ctx: Context) -> None:
    with ctx.board() as bf:
        bf.board.restore_column(ctx.args.column)


# ------------------------------------------------------------------ tickets


def ticket_list(ctx: Context) -> None:
    with ctx.board() as bf:
        board = bf.board
        labels = {lb.id: lb.name for lb in board.labels()}
        tickets = board.trash() if ctx.args.deleted else board.tickets(ctx.args.column)
        if ctx.args.due_filter:
            wanted = DUE_FILTERS[ctx.args.due_filter]
            tickets = [t for t in tickets if board.due_status(t) in wanted]
        if ctx.args.sort == "due":
            tickets = by_due(tickets)
        if ctx.args.json:
            out_json([ticket_json(board, t, labels) for t in tickets])
            return
        for t in tickets:
            where = board.column(t.column, include_deleted=True).title if t.column else "trash"
            out(f"{where:<12}  " + ticket_line(board, t, labels))


def ticket_show(ctx: Context) -> None:
    with ctx.board() as bf:
        board = bf.board
        labels = {lb.id: lb.name for lb in board.labels()}
        t = board.ticket(ctx.args.ticket)
        data = ticket_json(board, t, labels)
        if ctx.args.json:
            out_json(data)
            return
        out(f"#{t.number}  {t.title}")
        out(f"  column:   {data['column'] or '(trash)'}")
        if t.assignees:
            out(f"  assignee: {', '.join(t.assignees)}")
        if data["labels"]:
            out(f"  labels:   {', '.join(data['labels'])}")
        if t.due:
            out(f"  due:      {t.due}{due_words(board.due_status(t))}")
        if t.checklist:
            out(f"  checklist {t.checklist_summary}:")
            for line in checklist_lines(t):
                out("    " + line)
        out(f"  created:  by {t.created_by or '?'}; updated by {t.updated_by or '?'}")
        if t.description:
            out("")
            for line in t.description.splitlines():
                out("  " + line)
        for c in t.comments:
            out(f"\n  {c.author}: {c.text}" + ("  (edited)" if c.edited_at else ""))


def ticket_add(ctx: Context) -> None:
    with ctx.board() as bf:
        board = bf.board
        labels = [board.ensure_label(name) for name in ctx.args.label]
        out(
            board.add_ticket(
                ctx.args.title,
                ctx.args.column,
                index=ctx.args.index,
                description=ctx.args.description,
                assignees=ctx.args.assignee or [],
                labels=labels,
                due=ctx.args.due or "",
            )
        )


def ticket_move(ctx: Context) -> None:
    with ctx.board() as bf:
        bf.board.move_ticket(ctx.args.ticket, ctx.args.column, ctx.args.index)


def ticket_edit(ctx: Context) -> None:
    a = ctx.args
    if all(v is None for v in (a.title, a.description, a.assignee, a.labels, a.due)):
        raise CommandError(
            "nothing to change: give --title, --description, --assignee, --labels or --due"
        )
    with ctx.board() as bf:
        board = bf.board
        labels = None
        if a.labels is not None:
            labels = [board.ensure_label(n.strip()) for n in a.labels.split(",") if n.strip()]
        board.edit_ticket(
            a.ticket,
            title=a.title,
            description=a.description,
            assignees=a.assignee,  # each --assignee; one "" clears them
            labels=labels,
            due=a.due,
        )


def ticket_delete(ctx: Context) -> None:
    with ctx.board() as bf:
        bf.board.delete_ticket(ctx.args.ticket)


def ticket_restore(ctx: Context) -> None:
    with ctx.board() as bf:
        bf.board.restore_ticket(ctx.args.ticket)


def ticket_purge(ctx: Context) -> None:
    with ctx.board() as bf:
        bf.board.purge_ticket(ctx.args.ticket)


def ticket_comment(ctx: Context) -> None:
    with ctx.board() as bf:
        out(bf.board.add_comment(ctx.args.ticket, ctx.args.text))


# ------------------------------------------------------------------- labels


def label_list(ctx: Context) -> None:
    with ctx.board() as bf:
        labels = bf.board.labels()
        if ctx.args.json:
            out_json([{"id": lb.id, "name": lb.name, "color": lb.color} for lb in labels])
        else:
            for lb in labels:
                out(f"{lb.id}  {lb.name}  {lb.color}")


def label_add(ctx: Context) -> None:
    with ctx.board() as bf:
        out(bf.board.add_label(ctx.args.name, ctx.args.color))


def label_delete(ctx: Context) -> None:
    with ctx.board() as bf:
        bf.board.delete_label(ctx.args.name)
