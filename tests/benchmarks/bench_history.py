"""A board's history (issue 11) against replaying its updates into a fresh pycrdt Doc.

The board: two replicas (Ada and Bob) make 10,000 changes between them (moves,
renames, comments, description edits, new tickets, trash and restore) with a
clock that moves 20 s a change; every change's update is kept.

- feed: ``Board.activity()`` of the merged board, its history not read yet
  (what opening the feed costs), vs applying the 10,000 updates one by one
  to a fresh ``Doc(skip_gc=True)`` (the issue's reference; target 1.5x).
- structs: model.structs reading the merged update alone (no target: the
  floor of the approach, a Python walk over every item).
- moment: the board at a random moment, read whole (columns, every ticket),
  with the history already read (a slider moving): against the issue's
  200 ms budget (reference column: the budget).
- open: the first moment shown, history and deletion times worked out
  (opening the history view), against the same budget.
- history view shows a moment: the app's View > History window (offscreen Qt)
  on that board, a random moment chosen: the snapshot, its columns' cards
  handed to the card lists, laid out and painted (``QWidget.grab``), with
  the history already read; against the 200 ms budget.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Hashable
from typing import Any

from pycrdt import Doc

from lanban.model.activity import activity
from lanban.model.board import Board
from lanban.model.history import read_history
from lanban.model.schema import REMOTE_SOURCE
from lanban.model.structs import read_structs
from tests.benchmarks.common import Row, median_time

CHANGES = 10_000
BUDGET_S = 0.2


class _Clock:
    def __init__(self) -> None:
        self.now = 1_790_000_000_000

    def __call__(self) -> int:
        self.now += 20_000
        return self.now


def make_board(changes: int = CHANGES, seed: int = 11) -> tuple[Board, list[bytes]]:
    """A board with ``changes`` changes by two replicas, and each change's update."""
    rng = random.Random(seed)
    clock = _Clock()
    ada = Board.create("History", actor="Ada", clock=clock)
    bob = Board(actor="Bob", clock=clock)
    updates: list[bytes] = [ada.get_update()]
    bob.apply_update(updates[0])
    made: list[bytes] = []

    def sender(to: Board) -> Callable[[bytes, Hashable], None]:
        def send(update: bytes, source: Hashable) -> None:
            if source != REMOTE_SOURCE:  # this replica's own: to the other one
                made.append(update)
                to.apply_update(update)

        return send

    ada.on_update(sender(bob))
    bob.on_update(sender(ada))
    columns = [c.id for c in ada.columns()]
    tickets: list[str] = []  # live ones
    count = 0
    while count < changes:
        board = ada if rng.random() < 0.6 else bob
        before = len(made)
        roll = rng.random()
        if len(tickets) < 200 or roll < 0.08:
            tickets.append(board.add_ticket(f"Ticket {len(tickets)}", rng.choice(columns)))
        elif roll < 0.55:
            board.move_ticket(rng.choice(tickets), rng.choice(columns))
        elif roll < 0.7:
            board.edit_ticket(rng.choice(tickets), title=f"Title {rng.random():.6f}")
        elif roll < 0.82:
            board.add_comment(rng.choice(tickets), f"comment {count}")
        elif roll < 0.95:
            board.splice_description(rng.choice(tickets), 0, 0, f"line {count}\n")
        else:
            tid = tickets.pop(rng.randrange(len(tickets)))
            board.delete_ticket(tid)
            if rng.random() < 0.5:
                board.restore_ticket(tid)
                tickets.append(tid)
        count += len(made) - before
    return ada, updates + made


def _replay(updates: list[bytes]) -> None:
    doc: Doc[Any] = Doc(skip_gc=True)
    for update in updates:
        doc.apply_update(update)


def _read_whole(board: Board) -> int:
    n = 0
    for column in board.columns():
        n += len(board.tickets(column.id))
    return n


def run() -> list[Row]:
    board, updates = make_board()
    changes = len(updates) - 1
    merged = board.get_update()
    reference = median_time(lambda: _replay(updates))

    def cold_feed() -> None:
        board._history = None  # as a board opened just now: nothing read yet
        board.activity()

    feed = median_time(cold_feed)
    walk = median_time(lambda: read_structs(merged))
    history = read_history(board.doc)
    entries = len(activity(history))

    def first_moment() -> None:
        fresh = Board.from_update(merged, actor="Eve")
        _read_whole(fresh.at_moment(len(fresh.moments()) // 2))

    opening = median_time(first_moment, repeat=3)
    moments = board.moments()
    rng = random.Random(3)
    samples = []
    board.at_moment(0)  # the history view is open: its deletion times are worked out
    for _ in range(20):
        index = rng.randrange(len(moments))
        start = time.perf_counter()
        _read_whole(board.at_moment(index))
        samples.append(time.perf_counter() - start)
    samples.sort()
    shown = _view_samples(board, moments)
    return [
        Row(
            f"activity feed, {changes:,} changes ({entries:,} entries)",
            feed * 1000,
            reference * 1000,
            "ms",
            1.5,
            "ref: replay the updates into a fresh Doc",
        ),
        Row("  of which: reading the merged update's items", walk * 1000, reference * 1000, "ms"),
        Row(
            f"history view: any of {len(moments):,} moments, read whole (p50)",
            samples[len(samples) // 2] * 1000,
            BUDGET_S * 1000,
            "ms",
            1.0,
            f"worst of 20: {samples[-1] * 1000:.0f} ms; ref: the 200 ms budget",
        ),
        Row(
            "history view: opening it (history, deletions, first moment)",
            opening * 1000,
            BUDGET_S * 1000,
            "ms",
            None,
            "ref: the 200 ms budget (no target)",
        ),
        Row(
            "history view shows a moment (the window, painted; p50)",
            shown[len(shown) // 2] * 1000,
            BUDGET_S * 1000,
            "ms",
            1.0,
            f"worst of {len(shown)}: {shown[-1] * 1000:.0f} ms; ref: the 200 ms budget",
        ),
    ]


def _view_samples(board: Board, moments: list[Any], count: int = 20) -> list[float]:
    """Seconds to show random moments in the app's history window, sorted."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from lanban.desktop.history_view import HistoryView

    app = QApplication.instance() or QApplication([])
    view = HistoryView(board, lambda _change: False)
    view.show()
    app.processEvents()
    rng = random.Random(5)
    samples = []
    for _ in range(count):
        index = rng.randrange(len(moments))
        start = time.perf_counter()
        view.show_moment(index)
        view.grab()  # laid out and painted
        samples.append(time.perf_counter() - start)
    view.close()
    return sorted(samples)


if __name__ == "__main__":
    from tests.benchmarks.common import HEADER

    print(HEADER)
    for row in run():
        print(row.line())
