"""Who writes with each client id: the ``clients`` root of a board (issue 11).

Yjs items carry their writer's client id, never a person or a time. Each
node writes its own client id's entry (sync/PROTOCOL.md section 9)::

    clients[str(client_id)] = {name, at, member?, purged?, label_deleted?}

:class:`ClientStamp` writes it as this node's first write opens (model.writes
calls it), and ``at`` again at most once a minute; a removal that writes no
item notes itself here. model.history reads it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, Protocol

from pycrdt import Doc, Map

from .reading import read_value
from .writes import replaceable

CLIENTS = "clients"
STAMP_EVERY_MS = 60_000  # how close a change without a time of its own is placed
# Keys of a ``clients`` entry that note a removal which writes no item.
PURGED = "purged"
LABEL_DELETED = "label_deleted"
NOTES = frozenset({PURGED, LABEL_DELETED})


class _Named(Protocol):
    actor: str


class ClientStamp:
    """Writes this node's ``clients`` entry (module docstring) into the
    transaction it is called in: once per client id and name, ``at`` again
    when the last is a minute old. model.writes calls it as a write opens."""

    __slots__ = ("_clock", "_doc", "_last", "_member", "_name", "_owner", "member")

    def __init__(self, doc: Doc[Any], clock: Callable[[], int], owner: _Named) -> None:
        self._doc = doc
        self._clock = clock
        # whose name (``actor``) the entry holds; weakly, as the owner holds this
        # (no cycle: a dropped board goes at once, as model.board wants)
        self._owner = weakref.ref(owner)
        self._last = 0
        self._name: str | None = None  # as written; None: no entry yet
        self._member = ""  # as written
        self.member = ""  # this node's member id, when its owner knows it

    def __call__(self) -> None:
        now = self._clock()
        owner = self._owner()
        actor = owner.actor if owner is not None else ""
        if (
            self._name == actor
            and self._member == self.member
            and 0 <= now - self._last < STAMP_EVERY_MS
        ):
            return
        root: Map[Any] = self._doc.get(CLIENTS, type=Map)
        key = str(self._doc.client_id)
        entry = read_value(root, key)
        if not isinstance(entry, Map):
            if not replaceable(entry):  # a peer's junk too deep to replace safely
                return
            fields: dict[str, Any] = {"name": actor, "at": now}
            if self.member:
                fields["member"] = self.member
            root[key] = Map(fields)
        else:
            if self._name != actor:
                _put(entry, "name", actor)
            if self._member != self.member:
                _put(entry, "member", self.member)
            _put(entry, "at", now)
        self._name = actor
        self._member = self.member
        self._last = now

    def note(self, what: str, ref: str) -> None:
        """Record a removal that writes no item (``PURGED``, ``LABEL_DELETED``)
        in this client's entry, inside the running write."""
        self()
        entry = read_value(self._doc.get(CLIENTS, type=Map), str(self._doc.client_id))
        if isinstance(entry, Map):
            _put(entry, what, ref)


def _put(entry: Map[Any], key: str, value: str | int) -> None:
    """Set a key of this node's entry, unless a peer put something there too
    deep to replace safely (model.writes.replaceable)."""
    if replaceable(read_value(entry, key)):
        entry[key] = value
