"""A board's history, read from its own document: who changed what, and when.

Every copy of a board holds the same items (board documents keep all history,
DESIGN.md 8), and each item carries its writer's client id, its clock and the
item it overwrote (model.structs). So the history is derived from the items
alone, never from the order updates arrived or were stored in, and is the
same on every copy, offline, after a restart and after the board file is
compacted (a compaction keeps every item; only the row boundaries go).

A board keeps what reading its items found (:class:`KeptHistory`,
model.history_walk): reading the history again walks only the items that came
since, and a board file keeps it on disk (model.history_blob) for the next
open. What is kept is a cache; it reads exactly what a read from scratch
reads (tests/model/test_history_kept.py).

- **Changes**: a run of one client's items with consecutive clocks is split
  into changes where a new entity starts (a ticket, column, label, the board)
  or a field is written twice; a change's ``before`` values are the values its
  items overwrote (their left origins), so "moved from To do to Doing" says
  what the writer saw.
- **Time**: Yjs items carry no time. A change takes the largest time written
  among its items (``updated_at``, ``created_at``, a comment's ``at``, the
  ``clients`` stamp below); one without takes its client's previous change's
  time (a client's clocks grow with its real time), else its next one's; and
  never earlier than a change it wrote over (two machines' clocks differ).
  The order is (time, client, clock), a client's times made non-decreasing.
- **Copies from clients that collect garbage** (stock Yjs does by default)
  lack the content of what was deleted before they passed it on: their
  history is thinner (a move's "from", a time), never broken. Lanban's own
  copies keep everything, and read the same.
- **Who**: the root Map ``clients`` (README board contract, PROTOCOL.md)
  maps a client id (decimal string) to ``{name, member, at}``, written by
  the node that owns that client id when it first writes (model.writes calls
  model.clients.ClientStamp), and ``at`` again at most once a minute, so a change
  that writes no time of its own (a move) is placed within a minute. A client
  without an entry is named by the ``updated_by``/``created_by``/comment
  ``author`` values it wrote. Only an entry the client wrote itself counts.
- **Removals** that write no item (a purge, a label deleted) are noted in the
  writer's ``clients`` entry (``purged``: ticket id, ``label_deleted``: label
  id) by the command, so they too are changes with a time and an author.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc

from . import history_blob
from .clients import CLIENTS
from .history_walk import Change, Walk, Where
from .reading import printable
from .structs import Structs, state_vector

__all__ = ["Change", "History", "KeptHistory", "Where", "collecting_later", "read_history"]

MAX_NAME_LENGTH = 100  # as a member's name (model.members)
MAX_TIME_ROUNDS = 8  # passes that carry a time on to the changes written over it


@dataclass(slots=True)
class History:
    """Every change of a board, oldest first (see the module's docstring).

    Its structs and places are the walk's own (model.history_walk), which grow
    when the history is read again: use a History until the next read."""

    changes: list[Change]
    state: dict[int, int]  # the document's state vector (client -> next clock)
    structs: Structs  # its items (model.structs), in the order walked
    places: list[Where]  # each item's place, beside the items
    # client -> the member id its own ``clients`` entry names (model.away: my own changes)
    members: dict[int, str] = field(default_factory=dict)
    owners: list[Change] = field(default_factory=list)  # each item's change
    # client -> its blocks of items: (first clock, first index, end index), by clock
    blocks: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)


def read_history(doc: Doc[Any]) -> History:
    """The history of a board's document (reads the whole document once)."""
    return KeptHistory().read(doc)


class KeptHistory:
    """A board's history kept between reads: a read walks only the items that
    came since the last (model.history_walk); ``walk`` may come from disk
    (model.history_blob)."""

    def __init__(self, walk: Walk | None = None) -> None:
        self.walk = walk if walk is not None else Walk()
        self.history: History | None = None
        self._blob: tuple[bytes, str] | None = None  # kept bytes not loaded yet, the board id
        self._dumped = self.walk.state  # what the bytes last loaded or dumped cover

    def keep_from(self, blob: bytes, board_id: str) -> None:
        """Start from ``blob`` (model.history_blob) at the next read, if it fits."""
        if self.history is None:
            self._blob = (blob, board_id)

    def dump(self, board_id: str) -> bytes | None:
        """The walk as bytes to keep, if it walked more since loaded or dumped."""
        if self.history is None or self.walk.state == self._dumped:
            return None
        self._dumped = self.walk.state
        with collecting_later():
            return history_blob.dump(self.walk, board_id)

    def read(self, doc: Doc[Any]) -> History:
        """The history of ``doc``, which holds at least every item walked so far."""
        encoded = doc.get_state()
        state = state_vector(encoded)
        if self.history is None or self.history.state != state:
            with collecting_later():
                if self._blob is not None:
                    blob, board_id = self._blob
                    self._blob = None
                    loaded = history_blob.load(blob, board_id, state)
                    if loaded is not None:
                        self.walk = loaded
                        self._dumped = loaded.state
                if state != state_vector(self.walk.state) or self.history is None:
                    self.walk.extend(doc.get_update(self.walk.state), encoded)
                self.history = derive(self.walk, state)
        return self.history


def derive(walk: Walk, state: dict[int, int]) -> History:
    """The history from what the walk found: times, authors, the order."""
    _times(walk.by_client)
    members = _authors(walk)
    changes = [c for c in walk.changes if c.root not in ("", CLIENTS)]
    changes.sort(key=lambda c: (c.time, c.client, c.clock))
    return History(changes, state, walk.structs, walk.places, members, walk.owners, walk.blocks)


@contextmanager
def collecting_later() -> Iterator[None]:
    """No garbage collection while the history is built: it makes tens of
    thousands of objects that all stay, and the collector would walk them over
    and over (about a third of the time, measured); one pass after is enough."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


# ------------------------------------------------------------------ times


def _times(by_client: dict[int, list[Change]]) -> None:
    """Give every change a time (module docstring): per client, in clock order
    (each client's changes are in that order). (Loops, not max() over lists:
    it runs over every change at every read.)"""
    for own in by_client.values():
        last = next((c.stamped for c in own if c.stamped), 0)
        for change in own:
            moment = change.stamped
            if moment < last:
                moment = last
            change.time = last = moment
    # A change is later than what it wrote over, if only by 1 ms (clocks of
    # two machines differ; a client that wrote no time at all has only this), and a
    # client's changes stay in its order. Chains across clients settle in a
    # few rounds; what is left after MAX_TIME_ROUNDS keeps its own time.
    for _ in range(MAX_TIME_ROUNDS):
        moved = False
        for client in sorted(by_client):  # one order on every copy
            last = 0
            for change in by_client[client]:
                latest = change.time
                if latest < last:
                    latest = last
                for replaced in change.overwrote:
                    if replaced.time >= latest:
                        latest = replaced.time + 1
                if latest != change.time:
                    change.time = latest
                    moved = True
                last = latest
        if not moved:
            break


# ------------------------------------------------------------------ authors


def _authors(walk: Walk) -> dict[int, str]:
    """Name each change's author; the member id each client's own entry names.
    A client whose entry names a member is shown by the member's name."""
    named, signed, names = walk.named, walk.signed, walk.member_names
    members = {client: member for client, (_clock, member) in walk.member_of.items()}
    shown: dict[int, str] = {}
    for client in walk.by_client:
        member = members.get(client)
        if member is not None and member in names:
            shown[client] = _name(names[member][2])
            continue
        found = named.get(client) or signed.get(client)
        shown[client] = _name(found[1]) if found else ""
    for change in walk.changes:
        change.author = shown[change.client]
    return members


def _name(value: str) -> str:
    """A name a peer wrote, as shown: printable, one line, not too long."""
    return " ".join(printable(value).split())[:MAX_NAME_LENGTH]
