"""A document's state vector as the update guard last read it, kept up to date cheaply.

The guard needs every client's clock after each update (sync/update_guard.py):
``Doc.get_state()`` is cheap (Rust), but parsing it costs ~0.3 us per client, and
every app start adds a client to a board (10,000 is years of a team's use: ~3 ms).
An update moves the clocks of the few clients it has structs of, and yrs encodes the
clients of a document in the same order every time while no client is added
(its client map is not rehashed). So :meth:`KnownState.read` takes the new state
vector as the old one with only the clocks of the clients it is told may have moved
replaced, when the bytes prove exactly that (all other bytes equal, each replaced
clock the same length); otherwise it parses the whole of it. Either way the clocks
it holds are the document's, exactly.
"""

from __future__ import annotations

from collections.abc import Collection

from .messages import ProtocolError, read_var_uint, var_uint

# Clients whose clock changed, or ALL when the vector was parsed again in full.
ALL: None = None


class KnownState:
    __slots__ = ("_at", "clocks", "encoded", "guessed")

    def __init__(self) -> None:
        self.encoded = b""  # the state vector as the document encoded it
        self.guessed = False  # encoded puts a new client where yrs may not: read next
        self.clocks: dict[int, int] = {}  # client -> clock, as parsed from ``encoded``
        self._at: dict[int, int] = {}  # client -> where its clock starts in ``encoded``

    def read(self, state: bytes, moved: Collection[int] = ()) -> dict[int, int] | None:
        """Take ``state`` (``Doc.get_state()``) as the document's state vector;
        ``moved``: the clients whose clocks may have changed since the last read.
        Returns the clocks that changed (client -> clock), or None (:data:`ALL`) when
        the whole vector was parsed again (any clock may have changed)."""
        old = self.encoded
        if state == old:
            self.guessed = False
            return {}
        if len(state) == len(old) and moved:
            changed = self._replaced(state, moved)
            if changed is not None:
                self.encoded, self.guessed = state, False
                self.clocks.update(changed)
                return changed
        self._parse(state)
        return ALL

    def advance(self, clocks: dict[int, int]) -> None:
        """Take these clocks as the document's, known otherwise than from its state
        vector (an update that landed in full, as pycrdt's record of it shows); the
        encoding is updated to match, as yrs would encode it (a client it did not
        have goes last: if yrs puts it elsewhere, the next :meth:`read` parses)."""
        self.clocks.update(clocks)
        at, encoded = self._at, self.encoded
        for client, clock in clocks.items():
            place = at.get(client)
            if place is None:
                self.guessed = True
                break
            _, end = read_var_uint(encoded, place)
            new = var_uint(clock)
            if len(new) != end - place:
                break
            encoded = encoded[:place] + new + encoded[end:]
        else:
            self.encoded = encoded
            return
        self._encode()

    def _encode(self) -> None:
        parts = [var_uint(len(self.clocks))]
        at: dict[int, int] = {}
        size = len(parts[0])
        for client, clock in self.clocks.items():
            part = var_uint(client)
            at[client] = size + len(part)
            part += var_uint(clock)
            size += len(part)
            parts.append(part)
        self.encoded, self._at = b"".join(parts), at

    def _replaced(self, state: bytes, moved: Collection[int]) -> dict[int, int] | None:
        """The clocks of ``moved`` in ``state``, if ``state`` is the old encoding with
        only those clocks replaced, each by a varUint of the same length; else None."""
        at, old = self._at, self.encoded
        try:
            if len(moved) == 1:
                (client,) = moved
                places = [(at[client], client)]
            else:
                places = sorted([(at[client], client) for client in moved])
        except KeyError:  # a new client: the count and the order change
            return None
        changed: dict[int, int] = {}
        done = 0
        for place, client in places:
            if place < done:  # named twice
                continue
            clock, end = read_var_uint(state, place)
            was, old_end = read_var_uint(old, place)
            if end != old_end or state[done:place] != old[done:place]:
                return None
            if clock != was:
                changed[client] = clock
            done = end
        if state[done:] != old[done:]:
            return None
        return changed

    def _parse(self, state: bytes) -> None:
        count, pos = read_var_uint(state, 0)
        if count > (len(state) - pos) // 2:
            raise ProtocolError(f"state vector claims {count} clients in {len(state) - pos} bytes")
        clocks: dict[int, int] = {}
        at: dict[int, int] = {}
        for _ in range(count):
            client, pos = read_var_uint(state, pos)
            at[client] = pos
            clocks[client], pos = read_var_uint(state, pos)
        if pos != len(state):
            raise ProtocolError(f"{len(state) - pos} bytes after the state vector")
        self.encoded, self.clocks, self._at = state, clocks, at
        self.guessed = False
