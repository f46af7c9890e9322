"""Boards to and from JSON: Lanban's export format and Trello's board export.

Lanban's format (a stable contract, see ``lanban board export``)::

    {"id", "title", "columns": [{"id", "title", "wip_limit", "tickets": [
        {"id", "number", "title", "description", "assignee", "assignees", "labels",
         "due", "checklist": [{"text", "done"}], "created_at", "updated_at", ...}]}]}

Columns, tickets and checklist items come in display order; ``labels`` holds
label names, ``assignees`` names (``assignee`` is the first), ``due`` an ISO
8601 date or "" (model.due). Importing makes a new board with new ids;
numbers, order, labels, comments, assignees, due dates, checklists and trash
state are kept. From Trello: lists, cards, labels, members, comments, ``due``
and checklists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import codec
from .board import Board
from .due import read_due
from .errors import BoardError
from .limits import (
    COLOR_PATTERN,
    DEFAULT_COLUMNS,
    DEFAULT_LABEL_COLOR,
    MAX_ASSIGNEES,
    MAX_CHECKLIST_ITEMS,
    MAX_CHECKLIST_TEXT_LENGTH,
    MAX_LABEL_NAME_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_TICKET_NUMBER,
    MAX_TIME_MS,
    MAX_TITLE_LENGTH,
    MAX_WIP_LIMIT,
)
from .ranks import ranks_between
from .reading import printable, whole
from .schema import ChecklistItem, Column, Comment, Label, Ticket, new_id, now_ms

TRELLO_COLORS = {
    "green": "#61bd4f",
    "yellow": "#f2d600",
    "orange": "#ff9f1a",
    "red": "#eb5a46",
    "purple": "#c377e0",
    "blue": "#0079bf",
    "sky": "#00c2e0",
    "lime": "#51e898",
    "pink": "#ff78cb",
    "black": "#344563",
}


def export_board(board: Board, *, include_deleted: bool = False) -> dict[str, Any]:
    labels = {label.id: label.name for label in board.labels()}
    columns = board.columns(include_deleted=include_deleted)
    by_column: dict[str, list[tuple[str, str, dict[str, Any]]]] = {c.id: [] for c in columns}
    for ticket in board.tickets(include_deleted=include_deleted):
        home = ticket.column
        if ticket.deleted or home is None:
            home = ticket.stored_column if ticket.stored_column in by_column else None
            home = home or (columns[0].id if columns else None)
        if home is None:
            continue
        entry: dict[str, Any] = {
            "id": ticket.id,
            "number": ticket.number,
            "title": ticket.title,
            "description": ticket.description,
            "assignee": ticket.assignee,
            "assignees": list(ticket.assignees),
            "labels": sorted(labels[lid] for lid in ticket.labels if lid in labels),
            "due": ticket.due,
            "checklist": [{"text": i.text, "done": i.done} for i in ticket.checklist],
            "created_at": ticket.created_at,
            "updated_at": ticket.updated_at,
            "created_by": ticket.created_by,
            "updated_by": ticket.updated_by,
            "comments": [{"author": c.author, "text": c.text, "at": c.at} for c in ticket.comments],
        }
        if include_deleted:
            entry["deleted"] = ticket.deleted
        by_column[home].append((ticket.rank, ticket.id, entry))
    result_columns = []
    for column in columns:
        rows = by_column[column.id]
        if include_deleted:  # trashed tickets join their column in rank order
            rows.sort(key=lambda row: (row[0], row[1]))
        col: dict[str, Any] = {
            "id": column.id,
            "title": column.title,
            "wip_limit": column.wip_limit,
            "tickets": [row[2] for row in rows],
        }
        if include_deleted:
            col["deleted"] = column.deleted
        result_columns.append(col)
    return {
        "id": board.id,
        "title": board.title,
        "labels": [{"name": lb.name, "color": lb.color} for lb in board.labels()],
        "columns": result_columns,
    }


# -------------------------------------------------------------------- import


@dataclass
class _Ticket:
    title: str
    number: int | None = None
    description: str = ""
    assignee: str = ""
    labels: list[str] = field(default_factory=list)
    comments: list[tuple[str, str, int]] = field(default_factory=list)
    created_by: str = ""
    created_at: int | None = None
    updated_at: int | None = None
    deleted: bool = False
    assignees: list[str] = field(default_factory=list)
    due: str = ""
    checklist: list[tuple[str, bool]] = field(default_factory=list)


@dataclass
class _Column:
    title: str
    wip_limit: int = 0
    deleted: bool = False
    tickets: list[_Ticket] = field(default_factory=list)


@dataclass
class _Plan:
    title: str
    columns: list[_Column]
    labels: dict[str, str]  # name -> colour


def import_board(data: Any, *, actor: str = "") -> Board:
    """A new board (new ids) from Lanban export JSON or a Trello board export."""
    if not isinstance(data, dict):
        raise BoardError("the file is not a board export (expected a JSON object)")
    if "lists" in data and "cards" in data:
        plan = _plan_trello(data)
    elif "columns" in data:
        plan = _plan_lanban(data)
    else:
        raise BoardError(
            "the file is neither a Lanban export (no 'columns') nor a Trello export "
            "(no 'lists' and 'cards')"
        )
    return _build(plan, actor)


def _text(value: Any, what: str, limit: int = MAX_TITLE_LENGTH) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BoardError(f"{what} must be a string, not {type(value).__name__}")
    if len(value) > limit:
        raise BoardError(f"{what} is too long ({len(value)} characters, at most {limit})")
    return printable(value, lines=True)


def _int(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BoardError(f"{what} must be a number")
    number = whole(value, what, -MAX_TIME_MS, MAX_TIME_MS)
    if number is None:  # NaN, a fraction, or past what any Yjs client can hold
        raise BoardError(f"{what} must be a whole number of at most {MAX_TIME_MS}")
    return number


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BoardError(f"{what} must be a list")
    return value


def _plan_lanban(data: dict[str, Any]) -> _Plan:
    title = _text(data.get("title"), "the board title").strip() or "Imported board"
    labels = {}
    for lb in _list(data.get("labels"), "labels"):
        if isinstance(lb, dict) and isinstance(lb.get("name"), str) and lb["name"].strip():
            color = _text(lb.get("color"), "a label colour")
            good = COLOR_PATTERN.fullmatch(color)
            labels[lb["name"].strip()] = color if good else DEFAULT_LABEL_COLOR
    columns = []
    for i, col in enumerate(_list(data.get("columns"), "columns")):
        where = f"column {i + 1}"
        if not isinstance(col, dict):
            raise BoardError(f"{where} must be an object")
        column = _Column(
            _text(col.get("title"), f"the title of {where}").strip() or f"Column {i + 1}",
            max(0, _int(col.get("wip_limit"), f"the WIP limit of {where}") or 0),
            bool(col.get("deleted", False)),
        )
        for j, t in enumerate(_list(col.get("tickets"), f"the tickets of {where}")):
            what = f"ticket {j + 1} of {where}"
            if not isinstance(t, dict):
                raise BoardError(f"{what} must be an object")
            names = [
                n.strip()
                for n in _list(t.get("labels"), f"the labels of {what}")
                if isinstance(n, str) and n.strip()
            ]
            for name in names:
                labels.setdefault(name, DEFAULT_LABEL_COLOR)
            comments = []
            for c in _list(t.get("comments"), f"the comments of {what}"):
                if isinstance(c, dict) and isinstance(c.get("text"), str):
                    comments.append(
                        (
                            _text(c.get("author"), "a comment author"),
                            _text(c["text"], "a comment", MAX_TEXT_LENGTH),
                            _int(c.get("at"), "a comment time") or now_ms(),
                        )
                    )
            column.tickets.append(
                _Ticket(
                    title=_text(t.get("title"), f"the title of {what}").strip() or "Untitled",
                    number=_int(t.get("number"), f"the number of {what}"),
                    description=_text(
                        t.get("description"), f"the description of {what}", MAX_TEXT_LENGTH
                    ),
                    assignee=_text(t.get("assignee"), f"the assignee of {what}").strip(),
                    labels=names,
                    comments=comments,
                    created_by=_text(t.get("created_by"), f"the author of {what}"),
                    created_at=_int(t.get("created_at"), f"the creation time of {what}"),
                    updated_at=_int(t.get("updated_at"), f"the update time of {what}"),
                    deleted=bool(t.get("deleted", False)),
                    assignees=_names(t.get("assignees"), f"the assignees of {what}"),
                    due=_due(t.get("due"), f"the due date of {what}"),
                    checklist=_checklist(t.get("checklist"), f"the checklist of {what}"),
                )
            )
        columns.append(column)
    return _Plan(title, columns, labels)


def _names(value: Any, what: str) -> list[str]:
    names = [_text(n, what).strip() for n in _list(value, what) if isinstance(n, str)]
    return list(dict.fromkeys(n for n in names if n))[:MAX_ASSIGNEES]


def _due(value: Any, what: str) -> str:
    if value in (None, ""):
        return ""
    due = read_due(value)
    if not due:
        raise BoardError(f"{what} is not an ISO 8601 date: {str(value)[:40]!r}")
    return due


def _checklist(value: Any, what: str) -> list[tuple[str, bool]]:
    result = []
    for item in _list(value, what)[:MAX_CHECKLIST_ITEMS]:
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            text = " ".join(_text(item["text"], what, MAX_CHECKLIST_TEXT_LENGTH).split())
            if text:
                result.append((text, bool(item.get("done", False))))
    return result


def _trello_checklists(data: dict[str, Any]) -> dict[str, list[tuple[str, bool]]]:
    """Card id -> its checklists' items, checklist after checklist, by position."""
    found: dict[str, list[tuple[str, bool]]] = {}
    checklists = [c for c in _list(data.get("checklists"), "checklists") if isinstance(c, dict)]
    for checklist in sorted(checklists, key=_pos):
        entries = [
            i for i in _list(checklist.get("checkItems"), "check items") if isinstance(i, dict)
        ]
        items = [
            (" ".join(i["name"].split())[:MAX_CHECKLIST_TEXT_LENGTH], i.get("state") == "complete")
            for i in sorted(entries, key=_pos)
            if isinstance(i.get("name"), str) and i["name"].strip()
        ]
        found.setdefault(str(checklist.get("idCard")), []).extend(items)
    return found


def _trello_time(object_id: Any) -> int | None:
    # Trello ids are MongoDB ObjectIds: the first 4 bytes are seconds since the epoch.
    if isinstance(object_id, str) and len(object_id) == 24:
        try:
            return int(object_id[:8], 16) * 1000
        except ValueError:
            return None
    return None


def _iso_ms(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def _pos(item: dict[str, Any]) -> float:
    pos = item.get("pos")
    return float(pos) if isinstance(pos, (int, float)) and not isinstance(pos, bool) else 0.0


def _plan_trello(data: dict[str, Any]) -> _Plan:
    title = _text(data.get("name"), "the board name").strip() or "Trello board"
    members = {
        m["id"]: str(m.get("fullName") or m.get("username") or "")
        for m in _list(data.get("members"), "members")
        if isinstance(m, dict) and isinstance(m.get("id"), str)
    }
    label_names: dict[str, str] = {}
    labels: dict[str, str] = {}
    for lb in _list(data.get("labels"), "labels"):
        if not isinstance(lb, dict) or not isinstance(lb.get("id"), str):
            continue
        color = lb.get("color") if isinstance(lb.get("color"), str) else None
        name = (lb.get("name") or "").strip() if isinstance(lb.get("name"), str) else ""
        name = name or (color or "label")
        label_names[lb["id"]] = name
        labels.setdefault(name, TRELLO_COLORS.get(color or "", DEFAULT_LABEL_COLOR))
    comments: dict[str, list[tuple[str, str, int]]] = {}
    for action in _list(data.get("actions"), "actions"):
        if not isinstance(action, dict) or action.get("type") != "commentCard":
            continue
        body = action.get("data")
        card = body.get("card") if isinstance(body, dict) else None
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(card, dict) or not isinstance(text, str):
            continue
        creator = action.get("memberCreator")
        author = creator.get("fullName", "") if isinstance(creator, dict) else ""
        comments.setdefault(str(card.get("id")), []).append(
            (str(author), text[:MAX_TEXT_LENGTH], _iso_ms(action.get("date")) or now_ms())
        )
    checklists = _trello_checklists(data)
    lists = [x for x in _list(data.get("lists"), "lists") if isinstance(x, dict)]
    lists.sort(key=_pos)
    columns: dict[str, _Column] = {}
    for lst in lists:
        columns[str(lst.get("id"))] = _Column(
            _text(lst.get("name"), "a list name").strip() or "Untitled list",
            deleted=bool(lst.get("closed", False)),
        )
    cards = [c for c in _list(data.get("cards"), "cards") if isinstance(c, dict)]
    cards.sort(key=_pos)
    numbers = [c.get("idShort") for c in cards]
    keep_numbers = len(set(numbers)) == len(numbers) and all(
        isinstance(n, int) and n > 0 for n in numbers
    )
    for card in cards:
        column = columns.get(str(card.get("idList")))
        if column is None:
            continue
        card_id = str(card.get("id"))
        assignees = [members.get(m, "") for m in _list(card.get("idMembers"), "card members")]
        assignees = list(dict.fromkeys(printable(a).strip() for a in assignees if a.strip()))
        created = _trello_time(card.get("id"))
        column.tickets.append(
            _Ticket(
                title=_text(card.get("name"), "a card name").strip()[:MAX_TITLE_LENGTH]
                or "Untitled",
                number=card.get("idShort") if keep_numbers else None,
                description=_text(card.get("desc"), "a card description", MAX_TEXT_LENGTH),
                assignees=assignees[:MAX_ASSIGNEES],
                due=read_due(card.get("due")),
                checklist=checklists.get(card_id, [])[:MAX_CHECKLIST_ITEMS],
                labels=[
                    label_names[x]
                    for x in _list(card.get("idLabels"), "card labels")
                    if x in label_names
                ],
                comments=sorted(comments.get(card_id, []), key=lambda c: c[2]),
                created_at=created,
                updated_at=_iso_ms(card.get("dateLastActivity")) or created,
                deleted=bool(card.get("closed", False)),
            )
        )
    return _Plan(title, list(columns.values()), labels)


def _build(plan: _Plan, actor: str) -> Board:
    if not any(not c.deleted for c in plan.columns):
        plan.columns.insert(0, _Column(DEFAULT_COLUMNS[0]))
    board = Board(actor=actor)
    cache = board._cache
    now = now_ms()
    kept = [
        t.number
        for c in plan.columns
        for t in c.tickets
        if t.number and 0 < t.number <= MAX_TICKET_NUMBER
    ]
    used = set(kept)
    duplicate = len(used) != len(kept)
    next_number = 1
    with board._writes.system():
        cache.board.update(codec.board_fields(new_id(), plan.title[:MAX_TITLE_LENGTH], now))
        label_ids = {}
        for name, color in plan.labels.items():
            label = Label(new_id(), printable(name)[:MAX_LABEL_NAME_LENGTH], color)
            label_ids[name] = label.id
            cache.labels[label.id] = codec.label_map(label)
        column_ranks = ranks_between(None, None, len(plan.columns)) or []
        for column, column_rank in zip(plan.columns, column_ranks, strict=True):
            column_id = new_id()
            cache.columns[column_id] = codec.column_map(
                Column(
                    column_id,
                    column.title[:MAX_TITLE_LENGTH],
                    column_rank,
                    min(column.wip_limit, MAX_WIP_LIMIT),
                    column.deleted,
                )
            )
            ticket_ranks = ranks_between(None, None, len(column.tickets)) or []
            for ticket, rank in zip(column.tickets, ticket_ranks, strict=True):
                number = (
                    ticket.number
                    if ticket.number and 0 < ticket.number <= MAX_TICKET_NUMBER and not duplicate
                    else None
                )
                if number is None:
                    while next_number in used:
                        next_number += 1
                    number = next_number
                    used.add(number)
                created_at = ticket.created_at or now
                ticket_id = new_id()
                item_ranks = ranks_between(None, None, len(ticket.checklist)) or []
                cache.tickets[ticket_id] = codec.ticket_map(
                    Ticket(
                        id=ticket_id,
                        number=number,
                        title=ticket.title,
                        description=ticket.description,
                        column=column_id,
                        stored_column=column_id,
                        rank=rank,
                        assignee=ticket.assignee,
                        labels=tuple(label_ids[n] for n in ticket.labels if n in label_ids),
                        comments=tuple(Comment(new_id(), a, t, at) for a, t, at in ticket.comments),
                        created_by=ticket.created_by or actor,
                        created_at=created_at,
                        updated_by=actor,
                        updated_at=ticket.updated_at or created_at,
                        deleted=ticket.deleted,
                        assignees=tuple(
                            ticket.assignees or [ticket.assignee] * bool(ticket.assignee)
                        ),
                        due=ticket.due,
                        checklist=tuple(
                            ChecklistItem(new_id(), text, done, item_rank)
                            for (text, done), item_rank in zip(
                                ticket.checklist, item_ranks, strict=True
                            )
                        ),
                    )
                )
    return board
