"""What a user sees on a board, and an in-memory network of replicas."""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Sequence
from enum import Enum
from itertools import count
from typing import Any

from pycrdt import Doc

from lanban.model.board import Board
from lanban.model.events import BoardEvent
from lanban.model.schema import REMOTE_SOURCE, Column, Ticket


def titles(board: Board, column: str) -> list[str]:
    """Ticket titles of one column, top to bottom."""
    return [t.title for t in board.tickets(column)]


def layout(board: Board) -> list[tuple[str, list[str]]]:
    """Each live column's title with its ticket titles, left to right."""
    return [(c.title, titles(board, c.id)) for c in board.columns()]


def snapshot(board: Board) -> tuple[str, list[Column], list[Ticket]]:
    """Everything the board shows: title, every column (deleted ones too, in
    order), every ticket column by column in display order, then the trash."""
    return board.title, board.columns(include_deleted=True), board.tickets(include_deleted=True)


class Clock:
    """A fake millisecond clock that moves on by ``step`` on every reading."""

    def __init__(self, start: int = 1_700_000_000_000, step: int = 1) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> int:
        self.now += self.step
        return self.now


def counting_ids(prefix: str = "id") -> Callable[[], str]:
    """Predictable ids, so a failing example replays exactly."""
    numbers = count()
    return lambda: f"{prefix}{next(numbers):05d}"


class Delivery(Enum):
    """How updates may arrive (see :meth:`Network.deliver`)."""

    CAUSAL = "causal"  # nothing arrives before what it builds on
    PER_SENDER = "per-sender"  # each sender's updates in order, senders interleaved
    ANY = "any"  # any order (pycrdt 0.14.13 mishandles it: see test_pycrdt_bugs.py)


class Network:
    """Replicas of one board whose updates travel only when delivered.

    Each replica's own updates (edits, undo/redo, post-merge fixes) are queued
    for every other replica; updates it applied from elsewhere are not sent
    on, as in a full mesh.
    """

    def __init__(
        self,
        origin: Board,
        size: int,
        clock: Callable[[], int] | None = None,
        client_ids: Sequence[int] = (),
        skip_gc: bool = False,
    ) -> None:
        self.boards = [origin]
        for n in range(1, size):
            client_id = client_ids[n] if n < len(client_ids) else 1000 + n
            doc: Doc[Any] = Doc(client_id=client_id, skip_gc=skip_gc)
            replica = Board(doc, actor=f"user{n}", clock=clock or Clock())
            replica.apply_update(origin.get_update())
            self.boards.append(replica)
        # inboxes[n]: (sender, update) waiting for replica n, in the order sent
        self.inboxes: list[list[tuple[int, bytes]]] = [[] for _ in range(size)]
        self.events: list[list[BoardEvent]] = [[] for _ in range(size)]
        for n, board in enumerate(self.boards):
            board.on_update(self._sender(n))
            board.subscribe(self.events[n].append)

    def _sender(self, n: int) -> Callable[[bytes, Hashable], None]:
        def send(update: bytes, source: Hashable) -> None:
            if source == REMOTE_SOURCE:
                return
            for other, inbox in enumerate(self.inboxes):
                if other != n:
                    inbox.append((n, update))

        return send

    def pending(self) -> bool:
        return any(self.inboxes)

    def deliver(
        self,
        n: int,
        rnd: random.Random | None = None,
        duplicates: float = 0.0,
        order: Delivery = Delivery.CAUSAL,
        *,
        partial: bool = False,
    ) -> None:
        """Apply updates queued for replica ``n``.

        Without ``rnd``, all of them in the order sent. With ``rnd``: CAUSAL
        applies them in the order sent (only a random number of the oldest if
        ``partial``; the rest wait), PER_SENDER interleaves senders at random,
        ANY shuffles; and some updates come a second time, later (a second
        path, a resend).
        """
        queue = self.inboxes[n]
        if rnd is None:
            arrivals = [update for _, update in queue]
            queue.clear()
        elif order is Delivery.CAUSAL:
            count = rnd.randint(0, len(queue)) if partial else len(queue)
            arrivals = [update for _, update in queue[:count]]
            del queue[:count]
        elif order is Delivery.PER_SENDER:
            streams: dict[int, list[bytes]] = {}
            for sender, update in reversed(queue):
                streams.setdefault(sender, []).append(update)
            queue.clear()
            arrivals = []
            while streams:
                sender = rnd.choice(sorted(streams))
                arrivals.append(streams[sender].pop())
                if not streams[sender]:
                    del streams[sender]
        else:
            arrivals = [update for _, update in queue]
            queue.clear()
            rnd.shuffle(arrivals)
        if rnd is not None and duplicates:
            for update in list(arrivals):
                if rnd.random() < duplicates:
                    first = arrivals.index(update)
                    arrivals.insert(rnd.randint(first + 1, len(arrivals)), update)
        for update in arrivals:
            self.boards[n].apply_update(update)

    def settle(
        self,
        rnd: random.Random | None = None,
        duplicates: float = 0.0,
        order: Delivery = Delivery.CAUSAL,
        rounds: int = 100,
    ) -> None:
        """Deliver until nobody has anything left to send (fixes send more)."""
        for _ in range(rounds):
            if not self.pending():
                return
            for n in range(len(self.boards)):
                self.deliver(n, rnd, duplicates, order)
        raise AssertionError(f"replicas still exchanging updates after {rounds} rounds")


def two_replicas() -> tuple[Board, Board, Network]:
    """Alice's new board and Bob's copy of it, connected by a :class:`Network`."""
    origin = Board.create("Team board", actor="alice", clock=Clock())
    net = Network(origin, 2)
    net.boards[1].actor = "bob"
    return net.boards[0], net.boards[1], net
