"""The board model and store against raw pycrdt doing the same work.

- moves: 1,000 ``Board.move_ticket`` calls (ordering, index upkeep, undo
  tracking) on a 500-ticket board vs raw pycrdt writing the same two fields
  per move in one transaction each, with an UndoManager tracking them, the
  rank strings given (raw pycrdt does no ordering work at all). The board
  keeps the Maps of the tickets it added or touched, so it skips the lookup
  that raw pycrdt makes on every move; it still writes through pycrdt
  transactions, with its undo manager.
- load: opening a 10,000-ticket board with ``Store.open`` vs reading the same
  SQLite rows and ``Doc.apply_update``.
- size: encoded update of a 10,000-ticket board made with ``Board`` vs the
  same content written with raw pycrdt (default ``Doc()``).
- memory: peak RSS of a process that loads that board, ours vs raw.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from pycrdt import Array, Doc, Map, Text, UndoManager

from lanban.model.board import Board
from lanban.sync.store import Store
from tests.benchmarks.common import Row, median_time

ROOT = Path(__file__).resolve().parents[2]
MOVES = 1000
MOVE_BOARD = 500
BIG_BOARD = 10_000


def _ticket_fields(i: int, column: str, rank: str) -> dict[str, Any]:
    return {
        "number": i + 1,
        "title": f"Ticket number {i}",
        "description": Text(""),
        "column": column,
        "rank": rank,
        "assignee": "",
        "labels": Map(),
        "comments": Array(),
        "created_by": "bench",
        "created_at": 1_700_000_000_000 + i,
        "updated_by": "bench",
        "updated_at": 1_700_000_000_000 + i,
        "deleted": False,
    }


def bench_moves() -> list[Row]:
    rng = random.Random(42)
    plan = [(rng.randrange(MOVE_BOARD), rng.randrange(3), rng.randrange(200)) for _ in range(MOVES)]

    def ours() -> float:
        board = Board.create("Bench", ["A", "B", "C"])
        cols = [c.id for c in board.columns()]
        ids = [board.add_ticket(f"Ticket {i}", cols[i % 3]) for i in range(MOVE_BOARD)]
        board.ticket_ids(cols[0])  # the UI has shown the board
        moves = [(ids[t], cols[c], i) for t, c, i in plan]

        def run() -> None:
            for tid, col, index in moves:
                board.move_ticket(tid, col, index)

        return median_time(run, repeat=1)

    def raw(undo: bool) -> float:
        doc: Doc[Any] = Doc()
        tickets = doc.get("tickets", type=Map)
        cols = ["colA", "colB", "colC"]
        with doc.transaction():
            for i in range(MOVE_BOARD):
                tickets[f"t{i:05d}"] = Map(_ticket_fields(i, cols[i % 3], f"a{i:04d}"))
        if undo:
            manager = UndoManager(scopes=[tickets])
            manager.include_origin("local")
        ids = list(tickets.keys())
        moves = [(ids[t], cols[c], f"a{rng.randrange(62**3):05d}") for t, c, _ in plan]

        def run() -> None:
            for tid, col, rank in moves:
                with doc.transaction(origin="local"):
                    m = tickets[tid]
                    m["column"] = col
                    m["rank"] = rank

        return median_time(run, repeat=1)

    samples: dict[str, list[float]] = {"ours": [], "raw": [], "undo": []}
    for _ in range(7):  # interleaved, best of 7: noise only ever adds time
        samples["ours"].append(ours())
        samples["raw"].append(raw(False))
        samples["undo"].append(raw(True))
    ours_t, raw_t, raw_undo_t = (min(samples[k]) for k in ("ours", "raw", "undo"))
    per = 1e6 / MOVES
    return [
        Row(
            "1,000 moves, 500 tickets (vs raw pycrdt)",
            ours_t * per,
            raw_t * per,
            "us/mv",
            target=1.3,
        ),
        Row(
            "1,000 moves, 500 tickets (vs raw + UndoManager)",
            ours_t * per,
            raw_undo_t * per,
            "us/mv",
            target=1.3,
        ),
    ]


def _big_board() -> Board:
    board = Board.create("Big", ["To do", "Doing", "Done"], actor="bench")
    cols = [c.id for c in board.columns()]
    for i in range(BIG_BOARD):
        board.add_ticket(f"Ticket number {i}", cols[i % 3])
    return board


def _raw_big_doc() -> Doc[Any]:
    doc: Doc[Any] = Doc()
    root_board = doc.get("board", type=Map)
    columns = doc.get("columns", type=Map)
    tickets = doc.get("tickets", type=Map)
    with doc.transaction():
        root_board.update({"id": "bench", "title": "Big", "schema": 1, "created_at": 0})
        for c, name in enumerate(["To do", "Doing", "Done"]):
            columns[f"col{c}"] = Map(
                {"title": name, "rank": f"a{c}", "wip_limit": 0, "deleted": False}
            )
    for i in range(BIG_BOARD):
        with doc.transaction():
            tickets[f"t{i:011d}"] = Map(_ticket_fields(i, f"col{i % 3}", f"a{i:04d}"))
    return doc


# Loading runs in fresh processes, as at app start: in a process that has
# already built and freed big documents, allocator state swings timings 2-3x.
_LOAD = """
import sqlite3, sys, time
from pycrdt import Doc
from lanban.sync.store import Store

def peak_mib():  # VmHWM starts afresh at exec (ru_maxrss is inherited from the parent)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0

mode, data_dir, board_id, path = sys.argv[1:5]
start = time.perf_counter()
if mode == "ours":
    bf = Store(data_dir).open(board_id)
else:
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT data FROM updates ORDER BY seq").fetchall()
    conn.close()
    doc = Doc()
    for (data,) in rows:
        doc.apply_update(data)
print(time.perf_counter() - start, peak_mib())
"""


def _load(mode: str, data_dir: str, board_id: str, path: Path) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", _LOAD, mode, data_dir, board_id, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), float(out[1])


def bench_big_board() -> list[Row]:
    board = _big_board()
    ours_size = len(board.get_update())
    raw_size = len(_raw_big_doc().get_update())
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        store.add_board(board).close()
        path = store.path_for(board.id)
        runs = {"ours": [], "raw": []}  # type: dict[str, list[tuple[float, float]]]
        for _ in range(5):
            for mode in runs:
                runs[mode].append(_load(mode, tmp, board.id, path))
    ours_t = min(t for t, _ in runs["ours"])
    raw_t = min(t for t, _ in runs["raw"])
    ours_mb = min(m for _, m in runs["ours"])
    raw_mb = min(m for _, m in runs["raw"])
    return [
        Row(
            "load 10,000-ticket board from the store",
            ours_t * 1e3,
            raw_t * 1e3,
            "ms",
            target=1.2,
            note="reference: read rows + apply_update",
        ),
        Row(
            "encoded size of 10,000-ticket board",
            ours_size / 1024,
            raw_size / 1024,
            "KiB",
            target=1.1,
            note="reference: raw pycrdt, default Doc()",
        ),
        Row(
            "peak memory loading that board",
            ours_mb,
            raw_mb,
            "MiB",
            note="reference: read rows + apply_update (VmHWM)",
        ),
    ]


def run() -> list[Row]:
    return bench_moves() + bench_big_board()


if __name__ == "__main__":
    from tests.benchmarks.common import HEADER

    print(HEADER)
    for row in run():
        print(row.line())
