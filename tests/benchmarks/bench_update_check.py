"""The update check (sync/update_check.py, pure Python) against pycrdt applying the same update.

    python -m tests.benchmarks.run update_check

- board: a board made with ``Board`` (tickets in three columns, a one-line description on
  every other ticket, a move for every seventh, a comment for every eleventh), as one update
  (``get_update()``, what a peer's sync step 2 carries). Ours: ``check_update`` of it;
  reference: ``Doc().apply_update`` of the same bytes into a fresh document (the Rust decode
  and integration the check runs before). Samples alternate; medians are compared. Rows
  for 1,000 tickets (target: at most 12x; 4.4x to 8.9x measured on a shared 2-core
  machine: pycrdt is faster per struct on small documents) and 10,000 tickets (no target:
  ~4.3x to 5x, at the size of bench_model's big board).
- refusal: the slowest update to refuse: items of 16 forged clients, each item a one-letter
  string after the previous one, one more than ``MAX_STRUCTS`` in all (the check walks
  them all before the cap trips). Ours: ``check_update`` until it refuses; reference:
  applying the 10,000-ticket board above. No target: the figure says what a forger can
  make a receiver spend per update.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from pycrdt import Doc

from lanban.model.board import Board
from lanban.sync.messages import var_uint
from lanban.sync.update_check import MAX_STRUCTS, UpdateRefused, check_update
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


def _apply(update: bytes) -> None:
    doc: Doc[Any] = Doc()
    doc.apply_update(update)


def _row(tickets: int, target: float | None, repeat: int) -> tuple[Row, bytes]:
    update = _board_update(tickets)
    structs = check_update(update).structs
    ours, reference = _alternate(lambda: check_update(update), lambda: _apply(update), repeat)
    row = Row(
        name=f"check {tickets:,}-ticket board vs apply_update",
        ours=ours * 1000,
        reference=reference * 1000,
        unit="ms",
        target=target,
        note=f"{len(update) / 1e6:.2f} MB, {structs:,} structs",
    )
    return row, update


def _alternate(
    ours: Callable[[], object], reference: Callable[[], object], repeat: int
) -> tuple[float, float]:
    """Medians of rounds that alternate the two, so both see the same load."""
    ours_samples, reference_samples = [], []
    for _ in range(repeat):
        ours_samples.append(median_time(ours, 1))
        reference_samples.append(median_time(reference, 1))
    return statistics.median(ours_samples), statistics.median(reference_samples)


def _slowest_refusal() -> bytes:
    clients = 16
    per_client = MAX_STRUCTS // clients + 1
    sections = []
    for c in range(clients):
        client = 3_000_000_000 + c
        first = b"\x08\x01" + var_uint(1) + b"r" + b"\x01\x77\x01x"  # in root "r"
        items = [
            b"\x88" + var_uint(client) + var_uint(i - 1) + b"\x01\x77\x01x"
            for i in range(1, per_client)
        ]
        sections.append(var_uint(per_client) + var_uint(client) + b"\x00" + first + b"".join(items))
    return var_uint(clients) + b"".join(sections) + b"\x00"


def _refuse(update: bytes) -> None:
    try:
        check_update(update)
    except UpdateRefused:
        return
    raise AssertionError("the forged update passed")


def run() -> list[Row]:
    small, _ = _row(1_000, 12.0, 15)
    big, big_update = _row(10_000, None, 5)
    attack = _slowest_refusal()
    ours, reference = _alternate(lambda: _refuse(attack), lambda: _apply(big_update), 3)
    refusal = Row(
        name="refuse the slowest forged update vs apply 10,000",
        ours=ours * 1000,
        reference=reference * 1000,
        unit="ms",
        note=f"{len(attack) / 1e6:.1f} MB, {MAX_STRUCTS + 1:,} structs",
    )
    return [small, big, refusal]


if __name__ == "__main__":
    from tests.benchmarks.common import HEADER

    print(HEADER)
    for row in run():
        print(row.line())
