"""What counting type depths across updates costs (sync/type_depths.py, issue 9).

    python -m tests.benchmarks.run type_depths

On a board of 10,000 changes (bench_history.make_board), each figure with the depth
index against the same work without it (the guard's per-update limit alone), the two
alternating so both see the same load:

- move: ``UpdateGuard.admit`` + ``applied`` of one peer's move (the hop of issue 8),
  microseconds; the index looks up what the move builds on and records its structs.
- answered move: the same when the board answers each move with one of its own from
  its event handler (bench_sync's pong): the answer is queued for the index too.
- step 2: the same for the whole board as one update into an empty document (a fresh
  join).
- index: building the index from the board's state (the guard's first update on a
  board it has not indexed), against pycrdt applying that state.
- open: the stored-row check of a compacted board and 200 rows after it that make
  types (board open), against the same check without depths.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from pycrdt import Doc

from lanban.model.board import Board
from lanban.sync.board_rows import checked
from lanban.sync.type_depths import TypeDepths
from lanban.sync.update_guard import UpdateGuard
from lanban.sync.update_log import Row as LogRow
from tests.benchmarks.bench_history import make_board
from tests.benchmarks.common import Row, median_time

MOVES = 2_000


def _guard(doc: Any, indexed: bool) -> UpdateGuard:
    guard = UpdateGuard(doc)
    if not indexed:
        guard._depths_now = lambda: None  # type: ignore[method-assign]
    return guard


def _medians(board: Callable[[bool], Board], moves: list[bytes]) -> tuple[float, float]:
    """Median us the guard spends on each of ``moves`` after the first (which builds
    the index), with the depth index and without, on a board made by ``board``;
    samples of the two alternate."""
    sides = []
    for indexed in (True, False):
        doc = board(indexed)
        guard = _guard(doc, indexed)
        _take(guard, doc, moves[0])
        sides.append((doc, guard, list[float]()))
    for update in moves[1:]:
        for doc, guard, samples in sides:
            samples.append(_take(guard, doc, update))
    with_index, without = (statistics.median(samples) * 1e6 for _, _, samples in sides)
    return with_index, without


def _take(guard: UpdateGuard, doc: Any, update: bytes) -> float:
    """Seconds the guard spends on one update (pycrdt's apply left out)."""
    start = time.perf_counter()
    summary = guard.admit(update)
    checked_at = time.perf_counter()
    doc.apply_update(update)
    applied_at = time.perf_counter()
    guard.applied(update, summary)
    return checked_at - start + time.perf_counter() - applied_at


def _moves(state: bytes) -> Row:
    mover = Board.from_update(state, actor="mover")
    moves: list[bytes] = []
    mover.on_update(lambda update, source: moves.append(update))
    tickets = [t.id for t in mover.tickets()]
    columns = [c.id for c in mover.columns()]
    for i in range(MOVES + 1):
        mover.move_ticket(tickets[i % len(tickets)], columns[i % len(columns)])
    with_index, without = _medians(lambda indexed: Board.from_update(state, actor="node"), moves)
    return Row(
        name="a peer's move: guard with depth index vs without",
        ours=with_index,
        reference=without,
        unit="us",
        target=1.5,
        note=f"{len(moves[1])} bytes, {MOVES:,} moves",
    )


def _answered_moves(state: bytes) -> Row:
    ada = Board.from_update(state, actor="ada")
    ping, pong = ada.add_ticket("ping"), ada.add_ticket("pong")
    start = ada.get_update()
    sent: list[bytes] = []
    ada.on_update(lambda update, source: sent.append(update))
    q1, q2 = (c.id for c in ada.columns()[:2])
    moves = []
    for i in range(MOVES + 1):
        ada.move_ticket(ping, (q1, q2)[i % 2])
        moves.append(sent.pop())

    def answering(indexed: bool) -> Board:
        bob = Board.from_update(start, actor="bob")
        seen = [bob.ticket(ping).column]

        def answer(event: object) -> None:
            if bob.ticket(ping).column != seen[-1]:
                seen.append(bob.ticket(ping).column)
                bob.move_ticket(pong, q1 if bob.ticket(pong).column == q2 else q2)

        bob.subscribe(answer)
        return bob

    with_index, without = _medians(answering, moves)
    return Row(
        name="a peer's move answered at once: guard with index vs without",
        ours=with_index,
        reference=without,
        unit="us",
        target=1.5,
        note="the answer queued for the index",
    )


def _alternate(ours: Callable[[], object], reference: Callable[[], object]) -> tuple[float, float]:
    a, b = [], []
    for _ in range(3):
        a.append(median_time(ours, 1))
        b.append(median_time(reference, 1))
    return statistics.median(a), statistics.median(b)


def _step_two(state: bytes) -> Row:
    def take(indexed: bool) -> None:
        doc: Doc[Any] = Doc(skip_gc=True)
        _take(_guard(doc, indexed), doc, state)

    ours, reference = _alternate(lambda: take(True), lambda: take(False))
    return Row(
        name="a fresh join's step 2: guard with depth index vs without",
        ours=ours * 1000,
        reference=reference * 1000,
        unit="ms",
        note=f"{len(state) / 1e6:.2f} MB",
    )


def _index(board: Board, state: bytes) -> Row:
    ours, reference = _alternate(
        lambda: TypeDepths().catch_up(board), lambda: Doc(skip_gc=True).apply_update(state)
    )
    depths = TypeDepths()
    structs = depths.catch_up(board)
    return Row(
        name="index a board's type depths vs apply its state",
        ours=ours * 1000,
        reference=reference * 1000,
        unit="ms",
        note=f"{structs:,} structs, {depths.runs:,} runs",
    )


def _open(state: bytes) -> Row:
    later = Board.from_update(state, actor="later")
    rows: list[bytes] = []
    later.on_update(lambda update, source: rows.append(update))
    tickets = [t.id for t in later.tickets()]
    for i in range(200):
        later.add_comment(tickets[i % len(tickets)], f"comment {i}")
    stored = [LogRow(1, state, True)] + [LogRow(i + 2, r, False) for i, r in enumerate(rows)]
    ours, reference = _alternate(lambda: checked(stored, {}), lambda: checked(stored, {0: 0}))
    return Row(
        name="board open: row check with depths vs without",
        ours=ours * 1000,
        reference=reference * 1000,
        unit="ms",
        note="a compacted board + 200 comments",
    )


def run() -> list[Row]:
    board, _ = make_board(10_000)
    state = board.get_update()
    return [
        _moves(state),
        _answered_moves(state),
        _step_two(state),
        _index(board, state),
        _open(state),
    ]


if __name__ == "__main__":
    from tests.benchmarks.common import HEADER

    print(HEADER)
    for row in run():
        print(row.line())
