"""The walk behind a board's history (model.history): items to places to changes.

:class:`Walk` holds what walking a board's items has found so far: the items
(model.structs), each one's place, the changes they make up, and who each
client says it is. :meth:`Walk.extend` walks more items, an update holding
those the walk has not seen (``doc.get_update(walk.state)``): the history of a
board kept open, or kept on disk (model.history_blob), costs the new items
only. A client's items come in its clock order, in one block per extension,
so the grouping of a client's items into changes picks up where it stopped
(its loop state is kept per client): walking a board in several extensions
gives the changes one walk of the whole gives (tests/model/test_history_kept.py).

The rules the walk follows are model.history's (its docstring).
"""

from __future__ import annotations

import operator
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import count, groupby, repeat
from typing import Any, cast

from .clients import CLIENTS, NOTES, PURGED
from .limits import MAX_TIME_MS
from .structs import ANY, CLOCK_BITS, NO_ID, RIGHT, STRING, TYPE, Structs, read_structs

# Fields whose values are times (ms since the epoch) in the entities they sit in.
_TIME_KEYS = frozenset({"updated_at", "created_at", "at", "added_at", "edited_at"})
_AUTHOR_KEYS = frozenset({"updated_by", "created_by", "author"})
TOUCH = frozenset({"updated_at", "updated_by"})
# A write of one of these to another entity of the same root stays in the
# change (a move re-spaces its neighbours' ranks in the same transaction).
_NEIGHBOUR_KEYS = frozenset({"rank"})
_CLOCK_MASK = (1 << CLOCK_BITS) - 1

Where = tuple[str, str, str | None, str | None]  # root, entity, field, key
NOWHERE: Where = ("", "", None, None)


@dataclass(slots=True, eq=False)
class Change:
    """One change: some of one client's items, consecutive in its clock."""

    client: int
    clock: int  # the first item's clock
    end: int  # one past the last item's clock
    root: str = ""  # "tickets", "columns", "labels", "board", "members", ...
    entity: str = ""  # the ticket, column, label or member id ("" for the board)
    time: int = 0  # as placed in the history (model.history._times)
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
    stamped: int = 0  # the largest time its own items wrote (0: none)

    @property
    def fields(self) -> set[str]:
        return set(self.values) | set(self.inner)

    @property
    def touch_only(self) -> bool:
        """Only ``updated_by``/``updated_at``: something was removed (a label,
        text), which writes no item of its own."""
        return bool(self.values) and set(self.values) <= TOUCH and not self.inner


# A client's grouping loop state where its items stopped (see _group): its
# current change, c_end, c_root, c_entity, empty, written, made, closed,
# previous, listed.
Run = tuple[Change, int, str, str, bool, set[str], int, bool, str | None, bool]


class Walk:
    """What walking a board's items has found (the module's docstring).

    Only the walk of an item reads its parent and key (its place says where
    it is after): a walk loaded from bytes (model.history_blob) has None there
    for the items walked before."""

    def __init__(self) -> None:
        self.structs = Structs()
        self.places: list[Where] = []
        self.state = b"\x00"  # the state vector (encoded) of the items walked
        # client -> its blocks of items: (first clock, first index, end index)
        self.blocks: dict[int, list[tuple[int, int, int]]] = {}
        self.changes: list[Change] = []  # as made: each client's in its clock order
        self.owners: list[Change] = []  # each item's change
        self.by_client: dict[int, list[Change]] = {}
        # the items of neighbours' ranks written along (Change.neighbours): a
        # write over one is not a write over the change they are in
        self.neighbour_items: set[int] = set()
        self.runs: dict[int, Run] = {}
        # client -> (clock, name) from its own clients entry / its member id /
        # the updated_by ... it wrote; member id -> (clock, client, name)
        self.named: dict[int, tuple[int, str]] = {}
        self.member_of: dict[int, tuple[int, str]] = {}
        self.signed: dict[int, tuple[int, str]] = {}
        self.member_names: dict[str, tuple[int, int, str]] = {}

    def extend(self, update: bytes, state: bytes) -> int:
        """Walk the items of ``update`` (a pycrdt update of the items not yet
        walked, and the document's whole delete set); ``state``: the state
        vector they bring the walk to. Returns how many items were new."""
        new = read_structs(update)
        start = len(self.structs)
        s = self.structs
        if start == 0:
            self.structs = s = new
        else:
            for name in ("client", "clock", "length", "origin", "parent", "key", "kind", "value"):
                getattr(s, name).extend(getattr(new, name))
            s.deleted = new.deleted
        index_items(self, start)
        # the new items by their first ids: most origins name one (of the
        # items walked before, find() finds them)
        fresh = dict(
            zip(
                map(
                    operator.or_,
                    map(operator.lshift, s.client[start:], repeat(CLOCK_BITS)),
                    s.clock[start:],
                ),
                count(start),
            )
        )
        _place(self, start, fresh)
        unresolved = _group(self, start)
        _resolve(self, unresolved, fresh)
        _names(self, start)
        self.state = state
        return len(s) - start

    def find(self, item: int) -> int:
        """The index of the item holding ``item`` (an id), or -1."""
        found = self.blocks.get(item >> CLOCK_BITS)
        if found is None:
            return -1
        clock = item & _CLOCK_MASK
        b = bisect_right(found, clock, key=_first_clock) - 1
        if b < 0:
            return -1
        _first, lo, hi = found[b]
        clocks = self.structs.clock
        j = bisect_right(clocks, clock, lo, hi) - 1
        if j < lo or clock >= clocks[j] + self.structs.length[j]:
            return -1
        return j


def _first_clock(block: tuple[int, int, int]) -> int:
    return block[0]


def index_items(walk: Walk, start: int) -> None:
    """Where each item from ``start`` on is found: in its client's blocks (Walk.find)."""
    s = walk.structs
    first = start
    for client, run in groupby(s.client[start:]):
        end = first + sum(1 for _ in run)
        blocks = walk.blocks.setdefault(client, [])
        if blocks and blocks[-1][2] == first:  # right after its last block: one block
            blocks[-1] = (blocks[-1][0], blocks[-1][1], end)
        else:
            blocks.append((s.clock[first], first, end))
        first = end


# ------------------------------------------------------------------ places


def _place(walk: Walk, start: int, fresh: dict[int, int]) -> None:
    """Each new item's (root, entity, field, key).

    An item with a left origin sits where its origin sits (yjs writes no
    parent for it), one with only a right origin where that sits, and an
    origin may lie inside a run of text. What an item depends on is placed
    first (origins may come later in the update, from another client).
    Equal places are one tuple (fewer objects to keep).
    """
    structs = walk.structs
    n = len(structs)
    places: list[Where | None] = [*walk.places, *([None] * (n - start))]
    origins, parents, keys, kinds = structs.origin, structs.parent, structs.key, structs.kind
    find, by_id = walk.find, fresh
    shared: dict[Where, Where] = {}

    for first in range(start, n):
        if places[first] is not None:
            continue
        stack = [first]
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
                found = NOWHERE  # depends on what the update does not hold
            elif dep >= 0:
                outer = places[dep] or NOWHERE
                if origin != NO_ID or kinds[i] & RIGHT:
                    found = outer  # beside it: the same place
                elif kinds[dep] & 0xFF != TYPE:
                    found = NOWHERE
                else:  # inside it: a field of an entity, or deeper
                    key = keys[i]
                    inner = outer[2]
                    if outer[0] == "":
                        found = NOWHERE
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
                found = NOWHERE
            places[i] = shared.setdefault(found, found)
    walk.places = cast(list[Where], places)  # every new one placed above


# ------------------------------------------------------------------ changes


def _group(walk: Walk, start: int) -> list[tuple[Change, str]]:
    """Split each client's runs of new items into changes (model.history).

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
    attributes: it runs for every item; a client's are kept in walk.runs
    between its blocks of items.)
    """
    changes, by_client, runs = walk.changes, walk.by_client, walk.runs
    owners = walk.owners
    add_owner = owners.append
    unresolved: list[tuple[Change, str]] = []  # fields whose value before is looked up after
    current = Change(-1, -1, -1)
    c_client = c_end = -1
    c_root = c_entity = ""
    empty = True  # only the clients entry so far
    written: set[str] = set()
    made = NO_ID  # the entity Map the current change made
    closed = False
    previous: str | None = None  # the field of the change's previous item
    listed = False  # the change added an element (a Map) to a list
    s = walk.structs
    for client, clock, length, origin, parent, kind, value, place in zip(
        s.client[start:],
        s.clock[start:],
        s.length[start:],
        s.origin[start:],
        s.parent[start:],
        s.kind[start:],
        s.value[start:],
        walk.places[start:],
        strict=True,
    ):
        if client != c_client:
            if c_client >= 0:
                current.end = c_end
                runs[c_client] = (
                    current,
                    c_end,
                    c_root,
                    c_entity,
                    empty,
                    written,
                    made,
                    closed,
                    previous,
                    listed,
                )
            c_client = client
            run = runs.get(client)
            if run is None:
                c_end = -1
            else:
                current, c_end, c_root, c_entity, empty, written, made, closed, previous, listed = (
                    run
                )
        root, entity, fld, key = place
        direct = fld is not None and fld == key  # a field of the entity's own Map
        entity_map = fld is None and key is not None and root != "board" and root != ""
        own_child = made != NO_ID and parent == made
        if clock != c_end:
            fresh = True
        elif empty:
            fresh = False
        elif root == CLIENTS or entity_map:
            fresh = True
        elif entity != c_entity or root != c_root:
            if root == c_root and direct and key in _NEIGHBOUR_KEYS:
                current.neighbours += 1
                c_end = clock + length
                walk.neighbour_items.add(len(owners))
                add_owner(current)
                continue
            fresh = True
        elif closed:
            fresh = True
        elif direct and not own_child:
            fresh = fld in written or (bool(current.inner) and key not in TOUCH)
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
            if c_end >= 0:
                current.end = c_end
            current = Change(client, clock, clock + length)
            changes.append(current)
            own = by_client.get(client)
            if own is None:
                by_client[client] = [current]
            else:
                own.append(current)
            c_root = c_entity = ""
            empty = True
            written = set()
            listed = False
            made = NO_ID
            closed = False
        add_owner(current)
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
            current.values[key] = (origin, value if kind == ANY else Shared(kind))
            unresolved.append((current, key))
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
    if c_client >= 0:
        current.end = c_end
        runs[c_client] = (
            current,
            c_end,
            c_root,
            c_entity,
            empty,
            written,
            made,
            closed,
            previous,
            listed,
        )
    return unresolved


def _resolve(walk: Walk, unresolved: list[tuple[Change, str]], fresh: dict[int, int]) -> None:
    """Each field's value before, and the change that wrote it, from the item
    the field's new value names as its origin (placed by now; only an item
    it names by its first id, as a field's value is one item). (Locals: it
    runs for most items.)"""
    places, owners, s = walk.places, walk.owners, walk.structs
    kinds, values, clocks = s.kind, s.value, s.clock
    neighbours, find, lookup = walk.neighbour_items, walk.find, fresh.get
    for change, key in unresolved:
        fields = change.values
        origin, after = fields[key]
        before = None
        if origin != NO_ID:
            i = lookup(origin, -1)
            if i < 0:
                i = find(origin)
                if i >= 0 and clocks[i] != origin & _CLOCK_MASK:
                    i = -1
            if i >= 0:
                place = places[i]
                fld = place[2]
                if fld is not None and fld == place[3]:  # a value of an entity's own field
                    if kinds[i] == ANY:
                        before = values[i]
                    replaced = owners[i]
                    if replaced is not change and place[0] != CLIENTS and i not in neighbours:
                        change.overwrote.append(replaced)
        fields[key] = (before, after)


class Shared:
    """A field whose value is a shared type (a Text, Map or Array), not a plain value."""

    __slots__ = ("kind",)

    def __init__(self, kind: int) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        return "<text>" if self.kind == STRING else "<shared>"

    def __eq__(self, other: object) -> bool:
        return type(other) is Shared and other.kind == self.kind

    def __hash__(self) -> int:
        return hash(self.kind)


def _time_into(change: Change, value: Any) -> None:
    if type(value) in (int, float) and 0 < value <= MAX_TIME_MS:
        moment = int(value)
        if moment > change.stamped:
            change.stamped = moment


# ------------------------------------------------------------------ names


def _names(walk: Walk, start: int) -> None:
    """Who the new items say their clients are (model.history._authors)."""
    named, member_of, signed, member_names = (
        walk.named,
        walk.member_of,
        walk.signed,
        walk.member_names,
    )
    s = walk.structs
    for client, clock, kind, value, place in zip(
        s.client[start:],
        s.clock[start:],
        s.kind[start:],
        s.value[start:],
        walk.places[start:],
        strict=True,
    ):
        if kind != ANY or type(value) is not str or not value:
            continue
        root, entity, fld, key = place
        if root == CLIENTS:
            if entity != str(client):
                continue  # only a client's own entry names it
            table = named if key == "name" else member_of if key == "member" else None
        elif key in _AUTHOR_KEYS:
            table = signed
        elif root == "members" and key == "name" and fld == "name":
            latest = member_names.get(entity, (-1, -1, ""))[:2]
            if (clock, client) >= latest:
                member_names[entity] = (clock, client, value)
            continue
        else:
            continue
        if table is not None and clock >= table.get(client, (-1, ""))[0]:
            table[client] = (clock, value)
