"""A board's people (issue 11): its member entries, and everyone who has ever
written to it, with a name, a colour and when they last wrote.

Who wrote is read from the board itself, the same on every copy:

- a client id whose ``clients`` entry (model.clients, PROTOCOL.md 9) names a
  member id is that member (a node: all its client ids are one person), named
  as its member entry says, else as the entry says; one that names no member
  is the name it wrote under. ``at`` in the entry (stamped at most once a
  minute as the client writes) is when it last wrote. Only client ids that
  wrote to the document (its state vector) count.
- a client id with no ``clients`` entry (a stock Yjs client, or a Lanban from
  before issue 11) is the name it wrote as ``updated_by``, ``created_by`` or a
  comment's ``author`` (model.history names it so), when it last wrote is its
  latest change's time; one that wrote no name is not listed. Only then is the
  board's history read (it is kept on the board until the document changes).

Colours follow one rule, here, for the app and the CLI alike: a member's
colour as its entry says, else a stable one from the name (:func:`color_for`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from pycrdt import Map

from .board import Board
from .clients import CLIENTS
from .history import MAX_NAME_LENGTH
from .history import _name as written_name
from .limits import MAX_TIME_MS
from .members import MEMBER_ID_PATTERN, Member, members
from .reading import entries, read_value, string, whole
from .structs import state_vector

# Distinct, readable on light and dark backgrounds; users pick one at first start.
USER_COLORS = [
    "#e91e63",
    "#9c27b0",
    "#3f51b5",
    "#03a9f4",
    "#009688",
    "#4caf50",
    "#ff9800",
    "#ff5722",
    "#795548",
    "#607d8b",
]
HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
MAX_CLIENT_KEY = 20  # digits of a 64-bit client id


def color_for(key: str) -> str:
    """A stable colour for a name or id that has none."""
    digest = hashlib.sha256(key.encode()).digest()
    return USER_COLORS[digest[0] % len(USER_COLORS)]


def person_color(color: str, name: str) -> str:
    """A person's colour: the one they chose (``#rgb`` or ``#rrggbb``), else
    a stable one from their name."""
    return color if HEX_COLOR.fullmatch(color) else color_for(name)


@dataclass(frozen=True, slots=True)
class Person:
    """One of a board's people."""

    id: str  # member id (the node), "" when only a name is known
    name: str
    color: str  # "#rrggbb" or "#rgb"
    last_wrote: int | None  # ms since the epoch (0: a time unknown); None: never wrote
    member: bool  # has an entry in the board's member list
    removed: bool = False  # ... a removed one

    @property
    def key(self) -> str:
        """What tells this person from the others: the member id, else the name."""
        return self.id or "name:" + self.name.casefold()

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "color": self.color,
            "last_wrote": self.last_wrote,
            "member": self.member,
            "removed": self.removed,
        }


@dataclass(slots=True)
class _Writer:
    member: str
    name: str
    at: int  # of the name


def people(board: Board, *, include_removed: bool = False) -> list[Person]:
    """The board's member entries (in the member list's order), then everyone
    else who wrote to it (by name); see the module docstring."""
    listed = members(board, include_removed=True)
    by_id = {m.id: m for m in listed}
    wrote: dict[str, _Writer] = {}  # Person.key -> the latest name it wrote under
    last: dict[str, int] = {}
    for member_id, name, at in _writes(board):
        entry = by_id.get(member_id)
        if entry is not None and entry.name:
            name = entry.name
        if not name and not member_id:
            continue
        key = member_id or "name:" + name.casefold()
        known = wrote.get(key)
        if known is None or at >= known.at:
            wrote[key] = _Writer(member_id, name or (known.name if known else ""), at)
        last[key] = max(at, last.get(key, 0))
    result = [
        _member(m, last.get(m.id), wrote[m.id].name if m.id in wrote else "")
        for m in listed
        if include_removed or not m.removed
    ]
    others = [
        Person(w.member, w.name, person_color("", w.name or w.member), last[key], member=False)
        for key, w in wrote.items()
        if w.member not in by_id
    ]
    others.sort(key=lambda p: (p.name.casefold(), p.id))
    return result + others


def writers(board: Board) -> list[Person]:
    """Everyone who has written to the board (members too), as :func:`people` lists them."""
    return [p for p in people(board, include_removed=True) if p.last_wrote is not None]


def _member(m: Member, last_wrote: int | None, written: str) -> Person:
    """A member entry; named as it wrote when the entry has no name."""
    name = m.name or written
    return Person(m.id, name, person_color(m.color, name or m.id), last_wrote, True, m.removed)


def _writes(board: Board) -> list[tuple[str, str, int]]:
    """(member id or "", name, when) for each client id that wrote to the board."""
    doc = board.doc
    state = state_vector(doc.get_state())
    found: list[tuple[str, str, int]] = []
    stamped: set[int] = set()
    with doc.transaction():
        for key, entry in entries(doc.get(CLIENTS, type=Map), "client"):
            if not (key.isdigit() and len(key) <= MAX_CLIENT_KEY and int(key) in state):
                continue  # no client that wrote here
            member = string(read_value(entry, "member"), "", 43, verbatim=True)
            name = written_name(string(read_value(entry, "name"), "", MAX_NAME_LENGTH))
            at = whole(read_value(entry, "at"), "", 0, MAX_TIME_MS) or 0
            stamped.add(int(key))
            found.append((member if MEMBER_ID_PATTERN.fullmatch(member) else "", name, at))
    if set(state) - stamped:  # some wrote no entry: their names are in what they wrote
        for change in board.history().changes:
            if change.client not in stamped and change.author:
                found.append(("", change.author, change.time))
    return found
