"""While you were away: the tickets that changed since this user last looked.

What a user has seen is this copy's business, not the board's: it is kept in
the board file's meta (any object with ``meta(key)`` and ``set_meta(key,
value)``, as lanban.sync.store.BoardFile has), never in the document. A mark
is a state vector (client id -> clock): a change is seen when the mark covers
its items. Marks are per board (all seen) and per ticket (that ticket opened
or its dot dismissed since). The user's own changes are never news: those
under the name it writes with, and those of any client whose own ``clients``
entry names its member id (the history names those by the member's name).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from .activity import Activity, activity
from .history import Change, History

SEEN_KEY = "history_seen"  # JSON {"state": {client: clock}, "at": ms, "tickets": {id: state}}


class Meta(Protocol):
    def meta(self, key: str) -> Any: ...

    def set_meta(self, key: str, value: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class Away:
    """What changed since the last look (nothing if this user never looked)."""

    since: int  # when the user last marked the board seen (ms; 0: never)
    changes: list[Activity] = field(default_factory=list)  # newest first
    tickets: dict[str, list[Activity]] = field(default_factory=dict)  # ticket id -> its news

    @property
    def count(self) -> int:
        return len({a.moment for a in self.changes})

    def line(self, now_ms: int | None = None) -> str:
        """'12 changes since yesterday' ('' when there is nothing new)."""
        if not self.changes:
            return ""
        n = self.count
        return f"{n} change{'s' if n != 1 else ''} since {since(self.since, now_ms)}"


def since(at: int, now_ms: int | None = None) -> str:
    """'09:14' (today), 'yesterday', 'Monday' (this week), '28 Nov'."""
    now = datetime.fromtimestamp((time.time_ns() // 1_000_000 if now_ms is None else now_ms) / 1000)
    then = datetime.fromtimestamp(at / 1000)
    days = (now.date() - then.date()).days
    if days <= 0:
        return f"{then:%H:%M}"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{then:%A}"
    return f"{then:%d %b}".lstrip("0")


def away(
    history: History,
    store: Meta,
    actor: str,
    member: str = "",
    feed: list[Activity] | None = None,
) -> Away:
    """The changes (by others than ``actor``, and than clients that write as
    ``member``: a member id) that the marks in ``store`` do not cover;
    ``feed``: the history's activity if told already."""
    marks = _marks(store)
    if marks is None:
        return Away(0)
    state, at, per_ticket = marks
    unseen: set[int] = set()
    for index, change in enumerate(history.changes):
        own = change.author == actor or (member and history.members.get(change.client) == member)
        if own or _covered(change, state):
            continue
        if change.root == "tickets" and _covered(change, per_ticket.get(change.entity, {})):
            continue
        unseen.add(index)
    told = activity(history) if feed is None else feed
    changes = [a for a in told if a.moment in unseen]
    tickets: dict[str, list[Activity]] = {}
    for entry in changes:
        if entry.ticket:
            tickets.setdefault(entry.ticket, []).append(entry)
    return Away(at, changes, tickets)


def mark_seen(
    history: History, store: Meta, *, ticket: str | None = None, now_ms: int | None = None
) -> None:
    """Mark everything seen, or one ticket (an id): opened, or its dot dismissed."""
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    marks = _marks(store)
    state, at, per_ticket = marks if marks is not None else ({}, now, {})
    if ticket is None:
        state, at, per_ticket = dict(history.state), now, {}
    else:
        per_ticket[ticket] = dict(history.state)
    data = {
        "state": _encode(state),
        "at": at,
        "tickets": {t: _encode(s) for t, s in per_ticket.items()},
    }
    store.set_meta(SEEN_KEY, json.dumps(data, separators=(",", ":")))


def _covered(change: Change, state: dict[int, int]) -> bool:
    return change.end <= state.get(change.client, 0)


def _encode(state: dict[int, int]) -> dict[str, int]:
    return {str(client): clock for client, clock in state.items()}


Marks = tuple[dict[int, int], int, dict[str, dict[int, int]]]


def _marks(store: Meta) -> Marks | None:
    """The stored marks; None if never marked (or unreadable: then as never)."""
    raw = store.meta(SEEN_KEY)
    if not isinstance(raw, str):
        return None
    try:
        data = json.loads(raw)
        state = _decode(data["state"])
        at = int(data["at"])
        tickets = {str(t): _decode(s) for t, s in dict(data.get("tickets", {})).items()}
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return state, at, tickets


def _decode(value: Any) -> dict[int, int]:
    return {int(client): int(clock) for client, clock in dict(value).items()}
