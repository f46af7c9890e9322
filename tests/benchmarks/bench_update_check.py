"""The update check (sync/update_check.py, pure Python) against pycrdt applying the same update.

    python -m tests.benchmarks.run update_check

- board: a board made with ``Board`` (tickets in three columns, a one-line description on
  every other ticket, a move for every seventh, a comment for every eleventh), as one update
  (``get_update()``, what a peer's sync step 2 carries). Ours: ``check_update`` of it;
  reference: ``Doc().apply_update`` of the same bytes into a fresh document (the Rust decode
  and integration the check runs before). Samples alternate; medians are compared. Rows
  for 1,000 tickets (target: at most 10x) and 10,000 tickets (no target: the ratio at the
  size of bench_model's big board).
"""

from __future__ import annotations

import statistics
from typing import Any

from pycrdt import Doc

from lanban.model.board import Board
from lanban.sync.update_check import check_update
from tests.benchmarks.common import Row, median_time


def _board_update(tickets: int) -> bytes:
    board = Board.create("Bench", ["To do", "Doing", "Done"], actor="bench")
    cols = [c.id for c in board.columns()]
    ids = [
        board.add_ticket(f"Ticket number {i}", cols[i % 3], description="a line " * (i % 2))
        for i in range(tickets)
    ]
    for i in range(0, tickets, 7):
        board.move_ticket(ids[i], cols[(i + 1) % 3], 0)
    for i in range(0, tickets, 11):
        board.add_comment(ids[i], "a comment")
    return board.get_update()


def _row(tickets: int, target: float | None, repeat: int) -> Row:
    update = _board_update(tickets)

    def apply() -> None:
        doc: Doc[Any] = Doc()
        doc.apply_update(update)

    structs = check_update(update).structs
    # rounds alternate check and apply, so both see the same load on a shared machine
    ours_samples, reference_samples = [], []
    for _ in range(repeat):
        ours_samples.append(median_time(lambda: check_update(update), 1))
        reference_samples.append(median_time(apply, 1))
    ours, reference = statistics.median(ours_samples), statistics.median(reference_samples)
    return Row(
        name=f"check {tickets:,}-ticket board vs apply_update",
        ours=ours * 1000,
        reference=reference * 1000,
        unit="ms",
        target=target,
        note=f"{len(update) / 1e6:.2f} MB, {structs:,} structs",
    )


def run() -> list[Row]:
    return [_row(1_000, 10.0, 15), _row(10_000, None, 5)]


if __name__ == "__main__":
    from tests.benchmarks.common import HEADER

    print(HEADER)
    for row in run():
        print(row.line())
