"""Which container each type created in one update lives in, for sync/update_check.py.

An item names its parent one of three ways: a root type by name, a type item
by ID, or nothing - then Yjs takes the parent of its origin (left, else right)
item. Origins may point at any struct of any client in the update, so
containers are followed through the update's structs, remembered per struct
(one byte and one 32-bit int each). Two things come out: how deep types of the
update nest in each other (``depth``), and how many types one container
receives (``per_container``; all types put next to structs the update does not
hold count as one container, so that spreading them over many anchors in one
real container does not help); the number of containers is capped too, as each
costs a dict entry.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right

from .messages import ProtocolError

# How a struct names its parent (the low bits of Section.kinds).
NO_PARENT = 0  # GC / Skip: Yjs drops an item whose origin is one of these
ROOT = 1  # a root type: ref_clock is the root name's number
PARENT_ID = 2  # a type item, by ID
FROM_ORIGIN = 3  # its origin's parent
IS_TYPE = 4  # flag: the struct's content is a type
_TYPE_KINDS = re.compile(rb"[\x04-\x07]")
_UNKNOWN = 0xFF  # memo marks: not resolved yet, and on the path being resolved
_ON_PATH = 0xFE


class NestingRefused(ProtocolError):
    """Types that nest too deep, or too many in one container (a reason in words)."""


class Section:
    """One client's structs: where each starts and how it names its parent."""

    __slots__ = (
        "client",
        "containers",
        "end",
        "kinds",
        "levels",
        "number",
        "ref_client",
        "ref_clock",
        "starts",
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
        self.levels = bytearray()  # per struct, filled by Nesting
        self.containers = array("i")

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
    ):
        if not 0 < max_depth < _ON_PATH:
            raise ValueError(f"a type depth limit is 1 to {_ON_PATH - 1}")
        self.sections = sections
        self.numbered = list(sections.values())
        for sec in self.numbered:  # the memo: 5 bytes per struct
            sec.levels = bytearray([_UNKNOWN]) * len(sec.kinds)
            sec.containers = array("i", bytes(4 * len(sec.kinds)))
        self.max_depth = max_depth
        self.max_per_container = max_per_container
        self.max_containers = max_containers
        self.container_ids: dict[int, int] = {}
        self.per_container: list[int] = []  # types in each container, by its id
        # resolve's path, one pair of arrays per budget (= recursion depth)
        self.paths = [(array("i"), array("i")) for _ in range(max_depth)]

    def depth(self) -> int:
        """The deepest type of the update (0: it makes none); raises NestingRefused."""
        deepest = 0
        for sec in self.sections.values():
            for match in _TYPE_KINDS.finditer(sec.kinds):
                level, container = self.resolve(sec, match.start(), self.max_depth - 1)
                self.per_container[container] += 1
                if self.per_container[container] > self.max_per_container:
                    raise NestingRefused(f"over {self.max_per_container} types in one container")
                deepest = max(deepest, level + 1)
        return deepest

    def container(self, kind: int, client: int, clock: int) -> int:
        """The id of a container: a root by number, a type by ID, or "next to
        structs outside the update" (clocks are under 2**31)."""
        key = (client << 33) | (clock << 2) | kind
        found = self.container_ids.get(key)
        if found is not None:
            return found
        if len(self.container_ids) == self.max_containers:
            raise NestingRefused(f"types go into over {self.max_containers} containers")
        self.per_container.append(0)
        return self.container_ids.setdefault(key, len(self.container_ids))

    def resolve(self, sec: Section, index: int, budget: int) -> tuple[int, int]:
        """The struct's container: (types of this update around it, container id).

        ``budget``: how many more enclosing types of this update are allowed. An
        origin chain can be as long as the update: it is followed in a loop, its
        structs kept in two int arrays (one pair per recursion depth, reused) and
        marked in the memo while on the path.
        """
        path_sections, path_indexes = self.paths[budget]
        del path_sections[:], path_indexes[:]
        sections = self.sections
        while True:
            levels = sec.levels
            mark = levels[index]
            if mark == _ON_PATH:
                raise NestingRefused("items are their own origins")
            if mark != _UNKNOWN:
                level, container = mark, sec.containers[index]
                break
            levels[index] = _ON_PATH
            path_sections.append(sec.number)
            path_indexes.append(index)
            kind = sec.kinds[index] & 3
            if kind in (ROOT, NO_PARENT):
                level, container = 0, self.container(kind, 0, sec.ref_clock[index])
                break
            client, clock = sec.ref_client[index], sec.ref_clock[index]
            target = sections.get(client)
            at = target.find(clock) if target is not None else -1
            if kind == FROM_ORIGIN:
                if at >= 0 and target is not None:
                    sec, index = target, at
                    continue
                # next to a struct the update does not hold: which container that
                # is only the document knows, so all such types count as one
                level, container = 0, self.container(FROM_ORIGIN, 0, 0)
            else:  # PARENT_ID
                level, container = 0, self.container(PARENT_ID, client, clock)
                if at >= 0 and target is not None:
                    if target.starts[at] != clock or not target.kinds[at] & IS_TYPE:
                        raise NestingRefused(f"parent {client}:{clock} is not a type")
                    if budget <= 0:
                        raise NestingRefused(f"types nested over {self.max_depth} deep")
                    level = self.resolve(target, at, budget - 1)[0] + 1
            break
        if level >= self.max_depth:
            raise NestingRefused(f"types nested over {self.max_depth} deep")
        for number, i in zip(path_sections, path_indexes, strict=True):
            memo = self.numbered[number]
            memo.levels[i] = level
            memo.containers[i] = container
        return level, container
