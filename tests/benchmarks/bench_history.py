"""A board's history (issue 11) against replaying its updates into a fresh pycrdt Doc.

The board: two replicas (Ada and Bob) make 10,000 changes between them (moves,
renames, comments, description edits, new tickets, trash and restore) with a
clock that moves 20 s a change; every change's update is kept.

- feed, cold: ``Board.activity()`` of the merged board with no history read
  or kept yet (the first read of a board ever, or after its kept history was
  dropped), vs applying the 10,000 updates one by one to a fresh
  ``Doc(skip_gc=True)`` (the issue's reference). No target: a Python walk of
  every item cannot be that fast (the walk alone is the next row).
- structs: model.structs reading the merged update alone (the floor of a cold read).
- feed, opened in the app (the target row, 1.5x): the board opened with its
  history kept in its file (model.history_blob, loaded when the board opens,
  as the app's "while you were away" read does), then 100 changes from a
  peer applied, then ``Board.activity()``: what a user pays to open the feed.
- kept history loaded at open: the blob loaded and the diff walked (no
  target; the app does it once per open, after the first paint: its "while
  you were away" read, 300 ms after a board is shown), with the blob's size
  and the memory a kept history and its feed hold (tracemalloc).
- moment: the board at a random moment, read whole (columns, every ticket),
  with the history already read (a slider moving): against the issue's
  200 ms budget (reference column: the budget).
- open, cold: the history view's data with nothing kept: the history, its
  moments, the deletion times and the last moment read whole (the view
  opens on it); no target.
- open (kept history + 100 peer changes): the same, as the app pays it.
- history view opened (window, painted): the app's View > History window
  built, shown and painted (``QWidget.grab``) on the kept history after 100
  peer changes; against the 200 ms budget.
- history view shows a moment: the app's View > History window (offscreen Qt)
  on that board, a random moment chosen: the snapshot, its columns' cards
  handed to the card lists, laid out and painted (``QWidget.grab``), with
  the history already read; against the 200 ms budget.
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import time
import tracemalloc
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


def peer_changes(merged: bytes, count: int = 100, seed: int = 7) -> list[bytes]:
    """The updates of ``count`` changes a peer makes on top of ``merged``."""
    rng = random.Random(seed)
    clock = _Clock()
    clock.now += 10**9  # after the board's own changes
    peer = Board.from_update(merged, actor="Peer")
    peer._clock = clock
    made: list[bytes] = []
    peer.on_update(lambda update, source: made.append(update))
    tickets = [t.id for t in peer.tickets()]
    columns = [c.id for c in peer.columns()]
    for n in range(count):
        roll = rng.random()
        tid = rng.choice(tickets)
        if roll < 0.5:
            peer.move_ticket(tid, rng.choice(columns))
        elif roll < 0.7:
            peer.edit_ticket(tid, title=f"Peer title {n}")
        elif roll < 0.85:
            peer.add_comment(tid, f"peer comment {n}")
        else:
            peer.splice_description(tid, 0, 0, f"peer line {n}\n")
    return made


def _opened(merged: bytes, board_id: str, blob: bytes, news: list[bytes]) -> Board:
    """The board as the app has it: opened with its kept history (loaded, as
    the first read after an open does), then a peer's changes applied."""
    board = Board.from_update(merged, actor="Ada", board_id=board_id)
    board.keep_history(blob)
    board.activity()
    for update in news:
        board.apply_update(update)
    return board


def _timed(prepare: Callable[[], Any], run: Callable[[Any], object], repeat: int = 5) -> float:
    """Median seconds of ``run(prepare())``, the preparing not counted."""
    samples = []
    for _ in range(repeat):
        subject = prepare()
        gc.collect()
        start = time.perf_counter()
        run(subject)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _open_view_data(board: Board) -> None:
    moments = board.moments()
    _read_whole(board.at_moment(len(moments) - 1))


def run() -> list[Row]:
    board, updates = make_board()
    changes = len(updates) - 1
    merged = board.get_update()
    reference = median_time(lambda: _replay(updates))

    def fresh() -> Board:
        return Board.from_update(merged, actor="Eve", board_id=board.id)

    cold = _timed(fresh, lambda b: b.activity())
    walk = median_time(lambda: read_structs(merged))
    tracemalloc.start()
    kept_board = fresh()
    entries = len(kept_board.activity())
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    blob = kept_board.kept_history()
    assert blob is not None
    news = peer_changes(merged)
    in_app = _timed(lambda: _opened(merged, board.id, blob, news), lambda b: b.activity())
    assert _opened(merged, board.id, blob, news).activity() == activity(
        read_history(_opened(merged, board.id, blob, news).doc)
    )

    def loaded() -> Board:
        b = fresh()
        b.keep_history(blob)
        return b

    load = _timed(loaded, lambda b: b.history())
    open_cold = _timed(fresh, _open_view_data, repeat=3)
    open_kept = _timed(lambda: _opened(merged, board.id, blob, news), _open_view_data)
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
    window = _window_open(lambda: _opened(merged, board.id, blob, news))
    shown = _view_samples(board, moments)
    ref = "ref: replay the updates into a fresh Doc"
    budget = "ref: the 200 ms budget"
    return [
        Row(
            f"activity feed, cold first build, {changes:,} changes",
            cold * 1000,
            reference * 1000,
            "ms",
            None,
            f"no history kept; {entries:,} entries; {ref} (no target)",
        ),
        Row("  of which: reading the merged update's items", walk * 1000, reference * 1000, "ms"),
        Row(
            "activity feed opened in the app (kept + 100 new)",
            in_app * 1000,
            reference * 1000,
            "ms",
            1.5,
            f"history kept from load, then 100 changes from a peer; {ref}",
        ),
        Row(
            "  kept history loaded at open (load + diff)",
            load * 1000,
            reference * 1000,
            "ms",
            None,
            f"blob {len(blob) / 1e6:.1f} MB; kept history + feed hold {held / 1e6:.1f} MB",
        ),
        Row(
            f"history view: any of {len(moments):,} moments, read whole (p50)",
            samples[len(samples) // 2] * 1000,
            BUDGET_S * 1000,
            "ms",
            1.0,
            f"worst of 20: {samples[-1] * 1000:.0f} ms; {budget}",
        ),
        Row(
            "history view data, cold (history, moments, last moment)",
            open_cold * 1000,
            BUDGET_S * 1000,
            "ms",
            None,
            f"no history kept; {budget} (no target)",
        ),
        Row(
            "history view data opened in the app (kept + 100 new)",
            open_kept * 1000,
            BUDGET_S * 1000,
            "ms",
            1.0,
            f"history, moments, deletion times, last moment read whole; {budget}",
        ),
        Row(
            "history view window opened, painted (kept + 100 new)",
            window * 1000,
            BUDGET_S * 1000,
            "ms",
            1.0,
            f"HistoryView built, shown and grabbed; {budget}",
        ),
        Row(
            "history view shows a moment (the window, painted; p50)",
            shown[len(shown) // 2] * 1000,
            BUDGET_S * 1000,
            "ms",
            1.0,
            f"worst of {len(shown)}: {shown[-1] * 1000:.0f} ms; {budget}",
        ),
    ]


def _app() -> Any:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def _window_open(prepare: Callable[[], Board], repeat: int = 5) -> float:
    """Median seconds to build, show and paint the app's history window (Qt
    warmed up by one window first, as in the app, whose main window is up)."""
    app = _app()
    from lanban.desktop.history_view import HistoryView

    samples = []
    for n in range(repeat + 1):
        board = prepare()
        gc.collect()
        start = time.perf_counter()
        view = HistoryView(board, lambda _change: False)
        view.show()
        view.grab()
        if n:
            samples.append(time.perf_counter() - start)
        view.close()
        app.processEvents()
    return statistics.median(samples)


def _view_samples(board: Board, moments: list[Any], count: int = 20) -> list[float]:
    """Seconds to show random moments in the app's history window, sorted."""
    app = _app()
    from lanban.desktop.history_view import HistoryView

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
