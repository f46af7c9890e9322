"""Which container each struct of one update lives in, for sync/update_check.py.

An item names its parent one of three ways: a root type by name, a type item
by ID, or nothing - then Yjs takes the parent of its origin (left, else right)
item. Origins may point at any struct of any client in the update, so
containers are followed through the update's structs, remembered per struct
(one byte and one 32-bit int each). What lies outside the update is looked up
in what the receiving document holds (:class:`Outside`, sync/type_depths.py),
when the caller has it: then a struct's level is its absolute depth in the
document, so nesting a key holder builds one level per update is counted in
full. Without it, outside structs count as level 0 (the update's own nesting).

Three things come out: how deep types nest (``depth``; a type over the limit,
or one whose container is in neither the update nor the document, is
refused), how many types one container receives (``per_container``; all types
put next to structs the update does not hold count as one container, so that
spreading them over many anchors in one real container does not help; the
number of containers is capped too, as each costs a dict entry), and every
struct's level (``levels``: what the document's index records after the update
is applied).

Against a document, a type is also refused when pycrdt would not integrate it at
once (``integrates``): what it waits for could come later in another version
(two updates may carry different structs under one id, and yrs keeps one of them
- also one it took after a gap in its client's clocks, which yrs, unlike Yjs,
does), so the depth it lands at would not be the one checked now. The structs
the document holds are its own versions: an update's copy of them does not count.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from typing import Protocol

from .messages import ProtocolError

# How a struct names its parent (the low bits of Section.kinds).
NO_PARENT = 0  # GC / Skip: Yjs drops an item whose origin is one of these
ROOT = 1  # a root type: ref_clock is the root name's number
PARENT_ID = 2  # a type item, by ID
FROM_ORIGIN = 3  # its origin's parent
IS_TYPE = 4  # flag: the struct's content is a type
IS_DELETED = 8  # flag: Deleted content (a type a peer's garbage collection emptied, or not)
IS_SKIP = 16  # flag (with NO_PARENT): a Skip, clocks the update does not hold
_TYPE_KINDS = re.compile(rb"[\x04-\x07]")

# Levels (types around a struct) in the memo, one byte each; the top four values mark
# what is not a level. A walk that refuses nothing (a document's own state) keeps
# levels up to SATURATED, which stands for "that deep or deeper".
SATURATED = 0xFB
MISSING = 0xFC  # its container is in neither the update nor the document
_UNKNOWN = 0xFF  # not resolved yet
_ON_PATH = 0xFE  # on the path being resolved

# What :meth:`Outside.entry` says of a struct the document holds: level << 2 | kind.
GC_ENTRY = 0  # a GC struct: what hangs off it is dropped
ITEM_ENTRY = 1
TYPE_ENTRY = 2
DELETED_ENTRY = 3  # Deleted content: if it was a type, what is put in it is dropped


_NO_REFS = array("i")  # shared, never written: sections without right origins
_NO_BYTES = bytearray()


_UNKNOWN_BASE = "a type builds on changes this copy does not have yet"
# Section.sure: whether pycrdt integrates a struct when the update is applied
_SURE_UNKNOWN, _SURE_YES, _SURE_NO, _SURE_ON_PATH = 0, 1, 2, 3


class NestingRefused(ProtocolError):
    """Types that nest too deep, or too many in one container (a reason in words)."""


class Outside(Protocol):
    def entry(self, client: int, clock: int) -> int:
        """The document's struct holding ``client:clock`` as level << 2 | kind, or -1
        when the document does not hold it."""
        ...

    def held(self, client: int) -> int:
        """The client's clock in the document: it holds every struct below it."""
        ...

    def claimed(self, client: int) -> int:
        """How far updates pycrdt holds back (pending) reach for the client: another
        version of a struct between ``held`` and this may be integrated instead."""
        ...


class Section:
    """One client's structs: where each starts and how it names its parent."""

    __slots__ = (
        "claimed",
        "client",
        "containers",
        "end",
        "held",
        "kinds",
        "levels",
        "number",
        "ref_client",
        "ref_clock",
        "right_at",
        "right_client",
        "right_clock",
        "starts",
        "sure",
    )

    def __init__(self, client: int, number: int) -> None:
        self.client = client
        self.number = number  # sections are numbered in the order the update has them
        # clocks are below update_check.MAX_CLOCK (2**31): 32-bit arrays
        self.starts = array("i")
        self.kinds = bytearray()
        self.ref_client = array("q")
        self.ref_clock = array("i")
        self.end = 0
        self.held = 0  # the document holds its structs below this clock (Nesting sets it)
        self.claimed = 0  # updates pycrdt holds back reach this clock (Nesting sets it)
        # right origins, of the structs that have a left one too (made at the first)
        self.right_at: array[int] | None = None
        self.right_client = _NO_REFS
        self.right_clock = _NO_REFS
        self.sure = _NO_BYTES  # per struct: whether pycrdt integrates it (Nesting fills it)
        self.levels = bytearray()  # per struct, filled by Nesting
        self.containers = array("i")

    def add_right(self, index: int, client: int, clock: int) -> None:
        if self.right_at is None:
            self.right_at, self.right_client, self.right_clock = array("i"), array("q"), array("i")
        self.right_at.append(index)
        self.right_client.append(client)
        self.right_clock.append(clock)

    def right_of(self, index: int) -> int:
        """Where in the right-origin arrays struct ``index``'s is, or -1."""
        if self.right_at is None:
            return -1
        at = bisect_right(self.right_at, index) - 1
        return at if at >= 0 and self.right_at[at] == index else -1

    def find(self, clock: int) -> int:
        """Index of the struct holding ``clock``, or -1."""
        if clock >= self.end or not self.starts or clock < self.starts[0]:
            return -1
        return bisect_right(self.starts, clock) - 1


class Nesting:
    def __init__(
        self,
        sections: dict[int, Section],
        max_depth: int,
        max_per_container: int,
        max_containers: int,
        outside: Outside | None = None,
    ):
        if not 0 < max_depth < SATURATED:
            raise ValueError(f"a type depth limit is 1 to {SATURATED - 1}")
        self.sections = sections
        self.numbered = list(sections.values())
        for sec in self.numbered:  # the memo: 5 bytes per struct
            sec.levels = bytearray([_UNKNOWN]) * len(sec.kinds)
            sec.containers = array("i", bytes(4 * len(sec.kinds)))
            # yrs skips what the document holds: its own version of those structs counts
            if outside is not None:
                sec.held = outside.held(sec.client)
                sec.claimed = outside.claimed(sec.client)
        self.max_depth = max_depth
        self.max_per_container = max_per_container
        self.max_containers = max_containers
        self.outside = outside
        self.container_ids: dict[int, int] = {}
        self.per_container: list[int] = []  # types in each container, by its id
        # resolve's path: (section number << 32 | struct index), 8 bytes a step
        self.path = array("q")

    def depth(self) -> int:
        """The deepest type of the update (0: it makes none); raises NestingRefused."""
        deepest = 0
        typed = [sec for sec in self.numbered if _TYPE_KINDS.search(sec.kinds)]
        if self.outside is not None and typed:
            self.settle()
        for sec in typed:
            for match in _TYPE_KINDS.finditer(sec.kinds):
                if sec.starts[match.start()] < sec.held:
                    continue  # the document holds it already
                level, container = self.resolve(sec, match.start(), strict=True)
                if self.outside is not None and not self.integrates(sec, match.start()):
                    # it would wait, and what it lands in then may be other than now
                    raise NestingRefused(_UNKNOWN_BASE)
                if len(self.container_ids) > self.max_containers:
                    raise NestingRefused(f"types go into over {self.max_containers} containers")
                self.per_container[container] += 1
                if self.per_container[container] > self.max_per_container:
                    raise NestingRefused(f"over {self.max_per_container} types in one container")
                deepest = max(deepest, level + 1)
        return deepest

    def levels(self) -> None:
        """Resolve every struct's level (``Section.levels``), refusing nothing for depth."""
        resolve, sections, container = self.resolve, self.sections, self.container
        for sec in self.numbered:
            levels, containers, kinds = sec.levels, sec.containers, sec.kinds
            starts, ref_client, ref_clock = sec.starts, sec.ref_client, sec.ref_clock
            client, held = sec.client, sec.held
            index = levels.find(_UNKNOWN)
            while index >= 0:
                # the common cases without resolve's path: a struct that continues the
                # one before it (typing, a run of values), and a value in a type of the
                # update whose level is known (a Map's fields)
                kind = kinds[index] & 3
                before = index - 1
                if (
                    kind == FROM_ORIGIN
                    and before >= 0
                    and ref_client[index] == client
                    and starts[before] <= ref_clock[index] < starts[index]
                    and starts[before] >= held
                    and levels[before] < MISSING
                ):
                    levels[index] = levels[before]
                    containers[index] = containers[before]
                elif (
                    kind == FROM_ORIGIN
                    and starts[index] >= held
                    and (
                        ref_client[index] not in sections
                        or ref_clock[index] < sections[ref_client[index]].held
                    )
                ):  # next to a struct of the document (a Map value written over)
                    levels[index], containers[index] = self.origin_outside(
                        ref_client[index], ref_clock[index]
                    )
                elif kind == PARENT_ID and starts[index] >= held:
                    rc, rk = ref_client[index], ref_clock[index]
                    target = sections.get(rc)
                    at = target.find(rk) if target is not None and rk >= target.held else -1
                    if (
                        at >= 0
                        and target is not None
                        and target.starts[at] == rk
                        and target.kinds[at] & IS_TYPE
                        and target.levels[at] < SATURATED
                    ):
                        levels[index] = target.levels[at] + 1
                        containers[index] = container(PARENT_ID, rc, rk)
                    else:
                        resolve(sec, index)
                else:
                    resolve(sec, index)
                index = levels.find(_UNKNOWN, index + 1)

    def container(self, kind: int, client: int, clock: int) -> int:
        """The id of a container: a root by number, a type by ID, or "next to
        structs outside the update" (clocks are under 2**31). Their number is checked
        as types are counted (``depth``): one resolve adds at most the path's length."""
        key = (client << 33) | (clock << 2) | kind
        found = self.container_ids.get(key)
        if found is not None:
            return found
        self.per_container.append(0)
        return self.container_ids.setdefault(key, len(self.container_ids))

    def check_type(self, level: int) -> None:
        """Refuse a type at this level."""
        if level == MISSING:
            raise NestingRefused(_UNKNOWN_BASE)
        if level >= self.max_depth:
            raise NestingRefused(f"types nested over {self.max_depth} deep")

    def resolve(self, sec: Section, index: int, *, strict: bool = False) -> tuple[int, int]:
        """The struct's container: (its level, container id); memoized for every
        struct on the way. ``strict`` (a type's): refuse a type on the way that is too
        deep or whose container is unknown, as soon as it is met, and a cycle or a
        parent that is no type; otherwise those leave the level MISSING (pycrdt keeps
        such values waiting or fails on them, as it did before levels were counted).

        A chain of origins and parents can be as long as the update: it is followed
        in a loop, its structs kept in one int array and marked in the memo while on
        the path, then given their levels from the far end back (a parent step adds
        one, an origin step none, so a strict resolve stops within ``max_depth``
        parent steps).
        """
        path = self.path
        del path[:]
        sections = self.sections
        while True:
            levels = sec.levels
            mark = levels[index]
            if mark == _ON_PATH:
                if strict:
                    raise NestingRefused("items are their own origins")
                level, container = MISSING, 0  # pycrdt leaves them waiting
                break
            if mark != _UNKNOWN:
                level, container = mark, sec.containers[index]
                break
            levels[index] = _ON_PATH
            path.append(sec.number << 32 | index)
            if sec.starts[index] < sec.held:  # held: the document's struct counts
                del path[-1]
                level, container = self.held_level(sec, index)
                break
            kind = sec.kinds[index] & 3
            if kind in (ROOT, NO_PARENT):
                level, container = 0, self.container(kind, 0, sec.ref_clock[index])
                del path[-1]
                break
            client, clock = sec.ref_client[index], sec.ref_clock[index]
            target = sections.get(client)
            at = target.find(clock) if target is not None and clock >= target.held else -1
            if at >= 0 and target is not None:
                if kind == PARENT_ID and (
                    target.starts[at] != clock or not target.kinds[at] & IS_TYPE
                ):
                    if strict:
                        raise NestingRefused(f"parent {client}:{clock} is not a type")
                    level, container = MISSING, 0  # pycrdt fails on it
                    break
                sec, index = target, at
                continue
            # outside the update: which container that is only the document knows
            del path[-1]
            if kind == FROM_ORIGIN:
                level, container = self.origin_outside(client, clock)
            else:
                level = self.parent_outside(client, clock, strict)
                container = self.container(PARENT_ID, client, clock)
            break
        # ``level, container`` belong to the struct at (sec, index); the path leads to it
        if strict and sec.kinds[index] & IS_TYPE:
            self.check_type(level)
        sec.levels[index] = level
        sec.containers[index] = container
        numbered = self.numbered
        for step in reversed(path):
            memo = numbered[step >> 32]
            i = step & 0xFFFFFFFF
            if memo.kinds[i] & 3 == PARENT_ID:
                if level < SATURATED:
                    level += 1
                container = self.container(PARENT_ID, memo.ref_client[i], memo.ref_clock[i])
            if strict and memo.kinds[i] & IS_TYPE:
                self.check_type(level)
            memo.levels[i] = level
            memo.containers[i] = container
        return level, container

    def settle(self) -> None:
        """Whether each struct integrates (``Section.sure``), in the update's order:
        what a struct waits on is then mostly settled already."""
        integrates, first_unsettled = self.integrates, self.first_unsettled
        for sec in self.numbered:
            sec.sure = bytearray(len(sec.kinds))
        for sec in self.numbered:
            sure = sec.sure
            for i in range(len(sure)):
                if not sure[i]:
                    found = first_unsettled(sec, i)
                    if found == -1:
                        sure[i] = _SURE_YES
                    elif found == -2:
                        sure[i] = _SURE_NO
                    else:
                        integrates(sec, i)

    def integrates(self, sec: Section, index: int) -> bool:
        """Whether pycrdt integrates the struct at once (Yjs ``getMissing``): its
        origin, right origin and parent are held or integrate, none of them a Skip,
        and neither it nor they are at a clock an update held back also claims
        (another version of it may win there). Followed in a loop over an int stack;
        a cycle integrates never."""
        state = sec.sure[index]
        if state in (_SURE_YES, _SURE_NO):
            return state == _SURE_YES
        numbered = self.numbered
        stack = array("q", [sec.number << 32 | index])
        while stack:
            top = stack[-1]
            s, i = numbered[top >> 32], top & 0xFFFFFFFF
            if s.sure[i] in (_SURE_YES, _SURE_NO):
                stack.pop()
                continue
            waiting_on = self.first_unsettled(s, i)
            if waiting_on < 0:  # settled: -1 yes, -2 no
                s.sure[i] = _SURE_YES if waiting_on == -1 else _SURE_NO
                stack.pop()
                continue
            dep = numbered[waiting_on >> 32]
            if dep.sure[waiting_on & 0xFFFFFFFF] == _SURE_ON_PATH:
                s.sure[i] = _SURE_NO  # a cycle
                stack.pop()
                continue
            s.sure[i] = _SURE_ON_PATH
            stack.append(waiting_on)
        return sec.sure[index] == _SURE_YES

    def first_unsettled(self, s: Section, i: int) -> int:
        """-1 if struct ``i`` integrates, -2 if it does not, else the first struct of
        the update it waits on (number << 32 | index) not settled yet."""
        start = s.starts[i]
        if start < s.held:
            return -1  # the document's own
        if start < s.claimed:
            return -2
        # (yrs, unlike Yjs, integrates an item after a gap in its client's clocks)
        if s.kinds[i] & 3 >= PARENT_ID:  # PARENT_ID or FROM_ORIGIN
            found = self.waits_on(s.ref_client[i], s.ref_clock[i])
            if found != -1:
                return found
        right = s.right_of(i)
        if right >= 0:
            return self.waits_on(s.right_client[right], s.right_clock[right])
        return -1

    def waits_on(self, client: int, clock: int) -> int:
        """For a struct an item names: -1 if it is there once the item integrates, -2 if
        it never is, else the update's struct not settled yet."""
        target = self.sections.get(client)
        if target is None:
            outside = self.outside
            return -1 if outside is not None and clock < outside.held(client) else -2
        if clock < target.held:
            return -1
        at = target.find(clock)
        if at < 0 or target.kinds[at] & IS_SKIP:
            return -2
        state = target.sure[at]
        if state == _SURE_YES:
            return -1
        if state == _SURE_NO:
            return -2
        return target.number << 32 | at

    def held_level(self, sec: Section, index: int) -> tuple[int, int]:
        """Level and container of a struct the document holds (all of it, or up to
        where its rest continues: Yjs puts that rest after the held part)."""
        end = sec.starts[index + 1] if index + 1 < len(sec.starts) else sec.end
        return self.origin_outside(sec.client, min(end, sec.held) - 1)

    def origin_outside(self, client: int, clock: int) -> tuple[int, int]:
        """Level and container of an item put next to a struct the update does not hold."""
        container = self.container(FROM_ORIGIN, 0, 0)  # all such count as one container
        outside = self.outside
        if outside is None:
            return 0, container
        return level_beside(outside.entry(client, clock)), container

    def parent_outside(self, client: int, clock: int, strict: bool) -> int:
        """Level of an item whose parent is a type the update does not hold."""
        if self.outside is None:
            return 0
        entry = self.outside.entry(client, clock)
        if strict and entry >= 0 and entry & 3 == ITEM_ENTRY:
            raise NestingRefused(f"parent {client}:{clock} is not a type")
        return level_inside(entry)


def level_beside(entry: int) -> int:
    """The level of an item put next to the struct of this index entry (-1: one the
    document lacks)."""
    if entry < 0:
        return MISSING
    return 0 if entry & 3 == GC_ENTRY else min(entry >> 2, SATURATED)


def level_inside(entry: int) -> int:
    """The level of an item whose parent is the struct of this index entry (-1: one
    the document lacks): MISSING for one that is no type (pycrdt fails on it)."""
    if entry < 0:
        return MISSING
    kind = entry & 3
    if kind == TYPE_ENTRY:
        return min((entry >> 2) + 1, SATURATED)
    if kind == ITEM_ENTRY:
        return MISSING
    return 0  # Yjs drops an item whose parent was collected or deleted
