"""The activity feed of a board: "Ada moved #12 from To do to Doing, 3 min ago".

One entry per thing a change did (model.history), in the history's order;
names (ticket numbers, column and label titles) are the latest the history
itself holds, so the feed reads the same on every copy. Values a peer wrote
are shown only if they are short printable strings or numbers; anything
else reads as missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from .clients import LABEL_DELETED, PURGED
from .history import Change, History, collecting_later
from .limits import MAX_TITLE_LENGTH
from .reading import printable

# Fields whose changes the feed does not show on their own: bookkeeping, and
# positions within a column (a drag re-ranks neighbours too).
_QUIET = frozenset(
    {"rank", "number", "updated_by", "updated_at", "created_by", "created_at", "id", "schema"}
)
_TICKET_FIELDS = {
    "title": "renamed",
    "description": "described",
    "assignee": "assigned",
    "assignees": "assigned",
    "labels": "labelled",
    "comments": "commented",
    "due": "due",
    "checklist": "checklist",
}


class Activity(NamedTuple):
    """One entry of the feed (a tuple: a board's feed makes thousands)."""

    kind: str  # "created", "moved", ... (the keys of what()'s phrases)
    time: int  # ms since the epoch (0: unknown)
    author: str  # "" when the history names nobody
    moment: int  # the change's index in History.changes (a moment of time travel)
    ticket: str = ""  # the ticket's id, for ticket kinds
    number: int = 0  # the ticket's number (0: unknown)
    column: str = ""  # the column's id, for column kinds
    before: str = ""
    after: str = ""

    def text(self, now_ms: int | None = None) -> str:
        """One line: who did what, how long ago."""
        who = self.author or "someone"
        return f"{who} {self.what()}, {ago(self.time, now_ms)}"

    def what(self) -> str:
        phrase = _PHRASES.get(self.kind)
        if phrase is None:
            return self.kind
        ref = f"#{self.number}" if self.number else "a ticket"
        return phrase(self, ref, _quote(self.before), _quote(self.after))

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "time": self.time,
            "at": iso(self.time),
            "author": self.author,
            "moment": self.moment,
            "ticket": self.ticket or None,
            "number": self.number or None,
            "column": self.column or None,
            "before": self.before or None,
            "after": self.after or None,
            "text": f"{self.author or 'someone'} {self.what()}",
        }


# kind -> its phrase, from (entry, the ticket as "#12", before and after quoted)
_PHRASES: dict[str, Callable[[Activity, str, str, str], str]] = {
    "created": lambda e, ref, b, a: f"created {ref}" + (f" in {e.after}" if e.after else ""),
    "moved": lambda e, ref, b, a: f"moved {ref} from {e.before or '?'} to {e.after or '?'}",
    "renamed": lambda e, ref, b, a: (
        f"renamed {ref} from {b} to {a}" if e.before else f"renamed {ref} to {a}"
    ),
    "described": lambda e, ref, b, a: f"edited the description of {ref}",
    "assigned": lambda e, ref, b, a: (
        f"assigned {ref} to {e.after}" if e.after else f"unassigned {ref}"
    ),
    "assignees": lambda e, ref, b, a: f"changed the assignees of {ref}",
    "labelled": lambda e, ref, b, a: (
        f"labelled {ref} {e.after}" if e.after else f"changed the labels of {ref}"
    ),
    "commented": lambda e, ref, b, a: f"commented on {ref}",
    "comment_edited": lambda e, ref, b, a: f"edited a comment on {ref}",
    "comment_deleted": lambda e, ref, b, a: f"deleted a comment on {ref}",
    "due": lambda e, ref, b, a: (
        f"set {ref} due {e.after}" if e.after else f"cleared the due date of {ref}"
    ),
    "checklist": lambda e, ref, b, a: f"changed the checklist of {ref}",
    "edited": lambda e, ref, b, a: f"edited {ref}" + (f" ({e.after})" if e.after else ""),
    "deleted": lambda e, ref, b, a: f"moved {ref} to the trash",
    "restored": lambda e, ref, b, a: f"restored {ref}",
    "purged": lambda e, ref, b, a: f"purged {ref}",
    "column_added": lambda e, ref, b, a: f"added column {a}",
    "column_renamed": lambda e, ref, b, a: f"renamed column {b} to {a}",
    "column_removed": lambda e, ref, b, a: f"removed column {b}",
    "column_restored": lambda e, ref, b, a: f"restored column {a}",
    "column_wip": lambda e, ref, b, a: f"set the WIP limit of column {b} to {e.after}",
    "label_added": lambda e, ref, b, a: f"added label {a}",
    "label_changed": lambda e, ref, b, a: f"changed label {a}",
    "label_deleted": lambda e, ref, b, a: f"deleted label {b}",
    "board_created": lambda e, ref, b, a: f"created the board {a}",
    "board_renamed": lambda e, ref, b, a: f"renamed the board to {a}",
    "member_added": lambda e, ref, b, a: f"added member {a}" if e.after else "added a member",
    "member_joined": lambda e, ref, b, a: "joined the board",
    "member_changed": lambda e, ref, b, a: f"changed member {a}" if e.after else "changed a member",
    "member_updated_self": lambda e, ref, b, a: "updated their member details",
    "member_removed": lambda e, ref, b, a: f"removed member {a}" if e.after else "removed a member",
}


def activity(history: History, *, ticket: str | None = None) -> list[Activity]:
    """The feed, newest first; only ``ticket``'s entries when given (an id)."""
    return Feed().entries(history, ticket=ticket)


# How often (in changes) the feed keeps the names as they were, to tell again
# from there when a read's new changes fall before the last ones told.
CHECKPOINT_EVERY = 1024


class Feed:
    """A board's feed kept between reads of its history.

    A change's entries depend on the change (its items, time and author) and
    on the names the changes before it taught. So when a history read again
    keeps the order of the changes told before and only extends changes or
    adds them after those (new work, a peer's latest), only those are told;
    where new changes fall earlier (a peer's work from while it was away), the
    feed is told again from the last checkpoint before them.
    """

    def __init__(self) -> None:
        self._told: list[tuple[Change, int, str, int, str, str]] = []
        self._groups: list[list[Activity]] = []  # per change of the history
        self._summaries: list[str] = []  # per change, as far as asked (summaries())
        self._checkpoints: list[_Names] = []  # the names before change k * CHECKPOINT_EVERY
        self._names = _Names()  # after the last change told
        self._history: History | None = None  # the one told last

    def entries(self, history: History, *, ticket: str | None = None) -> list[Activity]:
        """The feed, newest first; only ``ticket``'s entries when given (an id)."""
        self._tell(history)
        groups = self._groups
        if ticket is not None:
            groups = [
                g
                for g, c in zip(groups, history.changes, strict=True)
                if c.root == "tickets" and c.entity == ticket
            ]
        return [entry for group in reversed(groups) for entry in group]

    def summaries(self, history: History) -> list[str]:
        """What each change of ``history`` did: its entries' phrases ("": none)."""
        self._tell(history)
        done = self._summaries
        for group in self._groups[len(done) :]:
            done.append("; ".join(entry.what() for entry in group))
        return done

    def _tell(self, history: History) -> None:
        if history is self._history:
            return  # a read again makes a new History (model.history.KeptHistory)
        self._history = history
        changes = history.changes
        told = [(c, c.time, c.author, c.end, c.root, c.entity) for c in changes]
        same = 0
        for before, now in zip(self._told, told, strict=False):
            if before != now:
                break
            same += 1
        if same < len(self._told):
            point = same // CHECKPOINT_EVERY
            del self._checkpoints[point + 1 :]
            self._names = self._checkpoints[point].copy() if self._checkpoints else _Names()
            same = point * CHECKPOINT_EVERY
            del self._groups[same:]
            del self._summaries[same:]
        names, groups = self._names, self._groups
        with collecting_later():
            for index in range(same, len(changes)):
                if index % CHECKPOINT_EVERY == 0 and index // CHECKPOINT_EVERY == len(
                    self._checkpoints
                ):
                    self._checkpoints.append(names.copy())
                change = changes[index]
                names.learn(change)
                groups.append(_entries(index, change, names, history.members))
        self._told = told


class _Names:
    """The latest number or title each entity had, as the history goes."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.titles: dict[tuple[str, str], str] = {}

    def copy(self) -> _Names:
        names = _Names()
        names.numbers = dict(self.numbers)
        names.titles = dict(self.titles)
        return names

    def learn(self, change: Change) -> None:
        values = change.values
        if change.root == "tickets" and "number" in values:
            number = values["number"][1]
            if type(number) in (int, float) and 0 < number < 2**31:
                self.numbers[change.entity] = int(number)
        for key in ("title", "name"):
            if key in values:
                shown = _shown(values[key][1])
                if shown:
                    self.titles[change.root, change.entity] = shown

    def column(self, value: Any) -> str:
        shown = _shown(value)
        return self.titles.get(("columns", shown), shown[:12])


MEMBER_SHOWN_FIELDS = ("name", "color", "role", "removed")  # not sig, version, kex...


def _entries(index: int, c: Change, names: _Names, members: dict[int, str]) -> list[Activity]:
    """``members``: the member id each client's own entry names (a member's own entry
    made by one of its clients is that member joining; changed by one, its details)."""
    if c.root == "tickets":
        return _ticket_entries(index, c, names)
    kinds: list[tuple[str, str, str]] = []  # kind, before, after
    values = c.values
    title = names.titles.get((c.root, c.entity), "")
    if c.root == "columns":
        before_title = _shown(values["title"][0]) if "title" in values else title
        if c.created:
            kinds.append(("column_added", "", title))
        elif "title" in values:
            kinds.append(("column_renamed", before_title, title))
        if "deleted" in values and not c.created:
            kinds.append(
                (
                    "column_removed" if values["deleted"][1] is True else "column_restored",
                    title,
                    title,
                )
            )
        if "wip_limit" in values and not c.created:
            kinds.append(("column_wip", title, _shown(values["wip_limit"][1])))
        return [
            Activity(k, c.time, c.author, index, column=c.entity, before=b, after=a)
            for k, b, a in kinds
        ]
    if c.root == "labels":
        if LABEL_DELETED in c.notes:
            kinds.append(("label_deleted", title, ""))
        elif c.created:
            kinds.append(("label_added", "", title))
        elif values:
            kinds.append(("label_changed", "", title))
    elif c.root == "board":
        if "id" in values:
            kinds.append(("board_created", "", title))
        elif "title" in values:
            kinds.append(("board_renamed", "", title))
    elif c.root == "members":
        name = names.titles.get(("members", c.entity), "")
        removed = values.get("removed")
        if c.created:
            joined = members.get(c.client) == c.entity
            kinds.append(("member_joined" if joined else "member_added", "", name))
        elif removed is not None and removed[0] is not True and removed[1] is True:
            kinds.append(("member_removed", "", name))
        elif any(values[key][0] != values[key][1] for key in MEMBER_SHOWN_FIELDS if key in values):
            own = members.get(c.client) == c.entity
            kinds.append(("member_updated_self" if own else "member_changed", "", name))
        # else a node wrote back the same signed grant (PROTOCOL.md 7.5): nothing to tell
    return [Activity(k, c.time, c.author, index, before=b, after=a) for k, b, a in kinds]


# A ticket's fields told by kind, or not told at all ("edited" names the rest).
_TOLD = (
    frozenset({"column", "title", "deleted", "assignee", "assignees", "labels", "comments"})
    | _QUIET
    | frozenset(_TICKET_FIELDS)
)


def _ticket_entries(index: int, c: Change, names: _Names) -> list[Activity]:
    values, inner = c.values, c.inner
    kinds: list[tuple[str, str, str]] = []
    if PURGED in c.notes:
        kinds.append(("purged", "", ""))
    elif c.created:
        kinds.append(
            (
                "restored" if c.recreated else "created",
                "",
                names.column(values.get("column", (None, ""))[1]),
            )
        )
    else:
        fields = set(values) | set(inner)
        if "column" in values:
            before, after = values["column"]
            if before != after:
                kinds.append(("moved", names.column(before), names.column(after)))
        if "title" in values:
            kinds.append(("renamed", _shown(values["title"][0]), _shown(values["title"][1])))
        if "deleted" in values:
            kinds.append(("deleted" if values["deleted"][1] is True else "restored", "", ""))
        first = values.get("assignee")  # the first assignee (all of them: "assignees")
        if first is not None and first[0] != first[1]:
            kinds.append(("assigned", "", _shown(first[1])))
        elif "assignees" in fields or first is not None:
            kinds.append(("assignees", "", ""))
        if "labels" in fields:
            added = sorted(c.added.get("labels", ()))
            shown = [names.titles.get(("labels", label), "") for label in added]
            kinds.append(("labelled", "", ", ".join(n for n in shown if n)))
        if "comments" in inner:
            keys = inner["comments"]
            if None in keys:
                kinds.append(("commented", "", ""))
            elif "deleted" in keys:
                kinds.append(("comment_deleted", "", ""))
            else:
                kinds.append(("comment_edited", "", ""))
        if "description" in fields:
            kinds.append(("described", "", ""))
        if "due" in values:
            kinds.append(("due", "", _shown(values["due"][1])))
        if "checklist" in fields:
            kinds.append(("checklist", "", ""))
        other = sorted(fields - _TOLD)
        if other:
            kinds.append(("edited", "", ", ".join(_shown(f) for f in other)))
        if not kinds and c.touch_only:
            kinds.append(("edited", "", ""))
    number = names.numbers.get(c.entity, 0)
    # (positional: a feed makes thousands) kind, time, author, moment, ticket, number, column ...
    return [Activity(k, c.time, c.author, index, c.entity, number, "", b, a) for k, b, a in kinds]


def _shown(value: Any) -> str:
    if type(value) is str:
        return printable(value)[:MAX_TITLE_LENGTH]
    if type(value) in (int, float):
        return f"{value:g}"
    return ""


def _quote(text: str) -> str:
    return repr(text) if text else "?"


def ago(at: int, now_ms: int | None = None) -> str:
    """ "3 min ago", "yesterday", "on 28 Nov 2026"."""
    if at <= 0:
        return "at an unknown time"
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    seconds = (now - at) // 1000
    if seconds < 0:
        return f"on {datetime.fromtimestamp(at / 1000):%d %b %Y %H:%M} (in the future)"
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86_400:
        return f"{seconds // 3600} h ago"
    if seconds < 2 * 86_400:
        return "yesterday"
    if seconds < 7 * 86_400:
        return f"{seconds // 86_400} days ago"
    return f"on {datetime.fromtimestamp(at / 1000):%d %b %Y}"


def iso(at: int) -> str | None:
    """A time as ISO 8601 with this machine's offset (None if unknown)."""
    return (
        datetime.fromtimestamp(at / 1000).astimezone().isoformat(timespec="seconds")
        if at > 0
        else None
    )
