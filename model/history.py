"""A board's history, read from its own document: who changed what, and when.

Every copy of a board holds the same items (board documents keep all history,
DESIGN.md 8), and each item carries its writer's client id, its clock and the
item it overwrote (model.structs). So the history is derived from the items
alone, never from the order updates arrived or were stored in, and is the
same on every copy, offline, after a restart and after the board file is
compacted (a compaction keeps every item; only the row boundaries go).

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
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc

from .clients import CLIENTS, NOTES, PURGED
from .limits import MAX_TIME_MS
from .reading import printable
from .structs import (
    ANY,
    CLOCK_BITS,
    NO_ID,
    RIGHT,
    STRING,
    TYPE,
    Structs,
    read_structs,
    state_vector,
)

MAX_NAME_LENGTH = 100  # as a member's name (model.members)
MAX_TIME_ROUNDS = 8  # passes that carry a time on to the changes written over it

# Fields whose values are times (ms since the epoch) in the entities they sit in.
_TIME_KEYS = frozenset({"updated_at", "created_at", "at", "added_at", "edited_at"})
_AUTHOR_KEYS = frozenset({"updated_by", "created_by", "author"})
_TOUCH = frozenset({"updated_at", "updated_by"})
# A write of one of these to another entity of the same root stays in the
# change (a move re-spaces its neighbours' ranks in the same transaction).
_NEIGHBOUR_KEYS = frozenset({"rank"})

Where = tuple[str, str, str | None, str | None]  # root, entity, field, key


@dataclass(slots=True)
class Change:
    """One change: some of one client's items, consecutive in its clock."""

    client: int
    clock: int  # the first item's clock
    end: int  # one past the last item's clock
    root: str = ""  # "tickets", "columns", "labels", "board", "members", ...
    entity: str = ""  # the ticket, column, label or member id ("" for the board)
    time: int = 0
    author: str = ""
    created: bool = False  # the entity's Map was written (made, or made again)
    recreated: bool = False  # ... over an earlier one of the same id
    # field -> (value before, value after) for plain values written in the
    # entity's own Map; ``before`` is None when nothing was overwritten
    values: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    # field -> keys written inside it (a text's, a list's items: None)
    inner: dict[str, set[str | None]] = field(default_factory=dict)
    added: dict[str, set[str]] = field(default_factory=dict)  # field -> keys set in it
    notes: dict[str, str] = field(default_factory=dict)  # removals noted (PURGED ...)
    neighbours: int = 0  # other entities' ranks written along
    overwrote: list[Change] = field(default_factory=list)  # the changes whose values it replaced

    @property
    def fields(self) -> set[str]:
        return set(self.values) | set(self.inner)

    @property
    def touch_only(self) -> bool:
        """Only ``updated_by``/``updated_at``: something was removed (a label,
        text), which writes no item of its own."""
        return bool(self.values) and set(self.values) <= _TOUCH and not self.inner


@dataclass(slots=True)
class History:
    """Every change of a board, oldest first (see the module's docstring)."""

    changes: list[Change]
    state: dict[int, int]  # the document's state vector (client -> next clock)
    structs: Structs  # its items (model.structs), in the encoding's order
    places: list[Where]  # each item's place, beside the items
    # client -> the member id its own ``clients`` entry names (model.away: my own changes)
    members: dict[int, str] = field(default_factory=dict)


def read_history(doc: Doc[Any]) -> History:
    """The history of a board's document (reads the whole document once)."""
    with collecting_later():
        structs = read_structs(doc.get_update())
        places = _place(structs)
        changes = _group(structs, places)
        _times(changes)
        members = _authors(changes, structs, places)
    changes = [c for c in changes if c.root not in ("", CLIENTS)]
    changes.sort(key=lambda c: (c.time, c.client, c.clock))
    return History(changes, state_vector(doc.get_state()), structs, places, members)


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


# ------------------------------------------------------------------ places

_NOWHERE: Where = ("", "", None, None)


def _place(structs: Structs) -> list[Where]:
    """Each item's (root, entity, field, key).

    An item with a left origin sits where its origin sits (yjs writes no
    parent for it), one with only a right origin where that sits, and an
    origin may lie inside a run of text. What an item depends on is placed
    first (origins may come later in the update, from another client).
    Equal places are one tuple (fewer objects to keep).
    """
    n = len(structs)
    places: list[Where | None] = [None] * n
    clients, clocks = structs.client, structs.clock
    origins, parents, keys, kinds = structs.origin, structs.parent, structs.key, structs.kind
    spans: dict[int, tuple[int, int]] = {}  # client -> its items' index range (one block each)
    for i, client in enumerate(clients):
        first, _ = spans.get(client, (i, i))
        spans[client] = (first, i + 1)
    shared: dict[Where, Where] = {}
    # an item by its first id (most origins are a whole Map value); find() for the rest
    by_id = {c << CLOCK_BITS | k: i for i, (c, k) in enumerate(zip(clients, clocks, strict=True))}

    def find(item: int) -> int:
        """The index of the item holding ``item`` (an id), or -1."""
        span = spans.get(item >> CLOCK_BITS)
        if span is None:
            return -1
        clock = item & _CLOCK_MASK
        j = bisect_right(clocks, clock, span[0], span[1]) - 1
        if j < span[0] or clock >= clocks[j] + structs.length[j]:
            return -1
        return j

    for start in range(n):
        if places[start] is not None:
            continue
        stack = [start]
        while stack:
            i = stack[-1]
            origin, parent = origins[i], parents[i]
            dep = -2  # -2: none needed
            if origin != NO_ID:
                dep = by_id.get(origin, -1)
                if dep < 0:
                    dep = find(origin)
            elif type(parent) is int:
                dep = by_id.get(parent, -1)
                if dep < 0:
                    dep = find(parent)
            if dep >= 0 and places[dep] is None and len(stack) <= n:
                stack.append(dep)
                continue
            stack.pop()
            found: Where
            if dep == -1:
                found = _NOWHERE  # depends on what the update does not hold
            elif dep >= 0:
                outer = places[dep] or _NOWHERE
                if origin != NO_ID or kinds[i] & RIGHT:
                    found = outer  # beside it: the same place
                elif kinds[dep] & 0xFF != TYPE:
                    found = _NOWHERE
                else:  # inside it: a field of an entity, or deeper
                    key = keys[i]
                    inner = outer[2]
                    if outer[0] == "":
                        found = _NOWHERE
                    elif inner is None and outer[0] != "board":
                        found = (outer[0], outer[1], key, key)
                    else:
                        found = (outer[0], outer[1], inner, key)
            elif type(parent) is str:
                key = keys[i]
                found = (
                    ("board", "", key, key) if parent == "board" else (parent, key or "", None, key)
                )
            else:
                found = _NOWHERE
            places[i] = shared.setdefault(found, found)
    return [p or _NOWHERE for p in places]


_CLOCK_MASK = (1 << CLOCK_BITS) - 1


# ------------------------------------------------------------------ changes


def _group(structs: Structs, places: list[Where]) -> list[Change]:
    """Split each client's runs of items into changes (module docstring).

    A client's transactions follow each other in its clock with no mark
    between them, so a change also ends where every command's write ends:
    after the ``updated_at`` that ticket edits write last, after the rank of a
    move (its neighbours' ranks stay with it), after a field of a column,
    label or the board is overwritten; and a new one starts where a field is
    written twice, an entity's Map is made, a plain field follows writes
    inside a text or list, a list gets a second new element (a comment, a
    checklist item), or, after a new entity, something goes into one of its
    fields other than the one its content was last in (a new entity's fields
    come one after the other, each with its content). (Locals, not
    attributes: it runs for every item.)
    """
    changes: list[Change] = []
    values: dict[int, Any] = {}  # plain field values, to say what a write replaced
    owner: dict[int, Change] = {}  # the change of each plain field value
    current = Change(-1, -1, -1)
    c_client = c_end = -1
    c_root = c_entity = ""
    empty = True  # only the clients entry so far
    written: set[str] = set()
    made = NO_ID  # the entity Map the current change made
    closed = False
    previous: str | None = None  # the field of the change's previous item
    listed = False  # the change added an element (a Map) to a list
    s = structs
    for client, clock, length, origin, parent, kind, value, place in zip(
        s.client, s.clock, s.length, s.origin, s.parent, s.kind, s.value, places, strict=False
    ):
        root, entity, fld, key = place
        direct = fld is not None and fld == key  # a field of the entity's own Map
        if direct and kind == ANY:
            values[client << CLOCK_BITS | clock] = value
        entity_map = fld is None and key is not None and root != "board" and root != ""
        own_child = made != NO_ID and parent == made
        if client != c_client or clock != c_end:
            fresh = True
        elif empty:
            fresh = False
        elif root == CLIENTS or entity_map:
            fresh = True
        elif entity != c_entity or root != c_root:
            if root == c_root and direct and key in _NEIGHBOUR_KEYS:
                current.neighbours += 1
                c_end = clock + length
                continue
            fresh = True
        elif closed:
            fresh = True
        elif direct and not own_child:
            fresh = fld in written or (bool(current.inner) and key not in _TOUCH)
        elif fld is None or direct:
            fresh = False
        elif made != NO_ID:
            # what a new entity holds follows the field it is in; anything in
            # another field after that is a later write (codec.ticket_map ends
            # with a plain field for that)
            fresh = fld != previous
        else:  # a second new element of a list: a second write (add_comment ...)
            fresh = key is None and kind & 0xFF == TYPE and listed
        if fresh:
            current.end = c_end
            current = Change(client, clock, clock + length)
            changes.append(current)
            c_client = client
            c_root = c_entity = ""
            empty = True
            written = set()
            listed = False
            made = NO_ID
            closed = False
        previous = fld
        c_end = clock + length
        if root == CLIENTS:
            if direct and key in _TIME_KEYS:
                _time_into(current, value)
            elif direct and key in NOTES and type(value) is str:
                assert key is not None
                current.notes[key] = value
                if empty:
                    c_root = current.root = "tickets" if key == PURGED else "labels"
                    c_entity = current.entity = value
                    empty = False
                closed = True
            elif empty:
                current.root = CLIENTS
            continue
        if empty:
            c_root = current.root = root
            c_entity = current.entity = entity
            empty = False
        if entity_map:
            current.created = True
            current.recreated = origin != NO_ID
            made = client << CLOCK_BITS | clock
        elif direct:
            assert fld is not None and key is not None
            written.add(fld)
            if key in _TIME_KEYS:
                _time_into(current, value)
            # the id of what it replaced, for now: its value may come later in the update
            current.values[key] = (origin, value if kind == ANY else _Shared(kind))
            owner[client << CLOCK_BITS | clock] = current
            overwrite = not own_child and not (root == "board" and origin == NO_ID)
            if overwrite and (root != "tickets" or key == "updated_at" or key == "rank"):
                closed = True
        elif fld is not None:
            inner = current.inner.get(fld)
            if inner is None:
                inner = current.inner[fld] = set()
            inner.add(key)
            if key is None and kind & 0xFF == TYPE:
                listed = True
            if key is not None and value is True and kind == ANY:
                current.added.setdefault(fld, set()).add(key)
            if key in _TIME_KEYS:
                _time_into(current, value)
    current.end = c_end
    for change in changes:
        fields = change.values
        for key, (origin, after) in fields.items():
            if origin != NO_ID:
                fields[key] = (values.get(origin), after)
                replaced = owner.get(origin)
                if replaced is not None and replaced is not change:
                    change.overwrote.append(replaced)
            else:
                fields[key] = (None, after)
    return changes


class _Shared:
    """A field whose value is a shared type (a Text, Map or Array), not a plain value."""

    __slots__ = ("kind",)

    def __init__(self, kind: int) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        return "<text>" if self.kind == STRING else "<shared>"


def _time_into(change: Change, value: Any) -> None:
    if type(value) in (int, float) and 0 < value <= MAX_TIME_MS:
        moment = int(value)
        if moment > change.time:
            change.time = moment


def _times(changes: list[Change]) -> None:
    """Give every change a time (module docstring): per client, in clock order."""
    by_client: dict[int, list[Change]] = {}
    for change in changes:
        by_client.setdefault(change.client, []).append(change)
    for own in by_client.values():
        own.sort(key=lambda c: c.clock)
        known = [c.time for c in own if c.time]
        if not known:
            continue
        last = known[0]
        for change in own:
            last = change.time = max(change.time, last)
    # A change is later than what it wrote over, if only by 1 ms (clocks of
    # two machines differ; a client that wrote no time at all has only this), and a
    # client's changes stay in its order. Chains across clients settle in a
    # few rounds; what is left after MAX_TIME_ROUNDS keeps its own time.
    for _ in range(MAX_TIME_ROUNDS):
        moved = False
        for own in by_client.values():
            last = 0
            for change in own:
                latest = max([last, change.time, *(c.time + 1 for c in change.overwrote)])
                if latest != change.time:
                    change.time = latest
                    moved = True
                last = latest
        if not moved:
            break


# ------------------------------------------------------------------ authors


def _authors(changes: list[Change], structs: Structs, places: list[Where]) -> dict[int, str]:
    """Name each change's author; the member id each client's own entry names."""
    named: dict[int, tuple[int, str]] = {}  # client -> (clock, name) from its clients entry
    members: dict[int, tuple[int, str]] = {}
    signed: dict[int, tuple[int, str]] = {}  # client -> (clock, name) from updated_by ...
    s = structs
    for client, clock, kind, value, place in zip(
        s.client, s.clock, s.kind, s.value, places, strict=True
    ):
        if kind != ANY or type(value) is not str or not value:
            continue
        root, entity, _fld, key = place
        if root == CLIENTS:
            if entity != str(client):
                continue  # only a client's own entry names it
            table = named if key == "name" else members if key == "member" else None
        elif key in _AUTHOR_KEYS:
            table = signed
        else:
            continue
        if table is not None and clock >= table.get(client, (-1, ""))[0]:
            table[client] = (clock, value)
    for change in changes:
        found = named.get(change.client) or signed.get(change.client)
        change.author = _name(found[1]) if found else ""
    _member_names(changes, members, structs, places)
    return {client: member for client, (_clock, member) in members.items()}


def _member_names(
    changes: list[Change],
    members: dict[int, tuple[int, str]],
    structs: Structs,
    places: list[Where],
) -> None:
    """A client whose entry names a member is shown by the member's name."""
    if not members:
        return
    names: dict[str, tuple[int, int, str]] = {}
    s = structs
    for client, clock, kind, value, place in zip(
        s.client, s.clock, s.kind, s.value, places, strict=True
    ):
        if kind != ANY or type(value) is not str or not value:
            continue
        root, entity, fld, key = place
        latest = names.get(entity, (-1, -1, ""))[:2]
        if root == "members" and key == "name" and fld == "name" and (clock, client) >= latest:
            names[entity] = (clock, client, value)
    for change in changes:
        member = members.get(change.client)
        if member is not None and member[1] in names:
            change.author = _name(names[member[1]][2])


def _name(value: str) -> str:
    """A name a peer wrote, as shown: printable, one line, not too long."""
    return " ".join(printable(value).split())[:MAX_NAME_LENGTH]
