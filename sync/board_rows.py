"""Which stored updates a board file loads, and moving the others aside (issue 9).

A board file can hold an update that poisons the document: written by an older
Lanban that did not check what peers sent, or edited on disk. Such a row is
*refused* when :func:`~lanban.sync.update_check.check_update` refuses it (a log row, measured
against the clocks of the rows before it and, when the board is read from its
first row, against the type depths they hold: a Map chain nested one level per
row stops at the depth limit) or when pycrdt cannot apply it. A
refused row is moved, in the same file, from ``updates`` to the ``quarantine``
table (never deleted; ``lanban board repair`` reports it) and the board opens
from the rest.

The fast path costs one check per row and one merged apply; only when the merged
apply fails are the rows applied one by one to a scratch document to find the
culprit.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

from pycrdt import Doc, merge_updates

from .messages import ProtocolError
from .type_depths import TypeDepths
from .update_check import (
    DEFAULT_UPDATE_LIMITS,
    MAX_CLOCK,
    UpdateLimits,
    UpdateRefused,
    UpdateSummary,
    check_update,
    read_structs,
)
from .update_log import Row, transaction

# A stored row was accepted once or made here, and a compaction's snapshot holds
# the whole history: the caps that bound what one peer update may add (structs,
# clients, keys, clock jumps, types per container) do not apply to it. Those that
# keep pycrdt itself safe do: counts against the bytes left, clocks within yrs' 32
# bits, the size of one value, lib0 Any nesting, and how deep types nest.
# A compaction's snapshot row is only read for its type depths, refusing nothing:
# pycrdt wrote it from a document it held (the model reads any such document);
# pycrdt still refuses bytes that are no update.
_GROWS_WITH_HISTORY = (
    "structs",
    "clients",
    "types_per_container",
    "containers",
    "keys",
    "clock_jump",
)
STORED_LIMITS = replace(
    DEFAULT_UPDATE_LIMITS,
    **{
        f.name: MAX_CLOCK if f.name == "clock_jump" else 1 << 40
        for f in fields(UpdateLimits)
        if f.name in _GROWS_WITH_HISTORY
    },
)

QUARANTINE_SCHEMA = """
CREATE TABLE IF NOT EXISTS quarantine (
    seq INTEGER PRIMARY KEY,    -- the row's number in ``updates``
    data BLOB NOT NULL,
    local INTEGER NOT NULL,
    snapshot INTEGER NOT NULL,
    reason TEXT NOT NULL,       -- why it was refused
    at REAL NOT NULL            -- when (Unix seconds)
);
"""


@dataclass(frozen=True)
class Refused:
    row: Row
    reason: str


def merged(rows: Iterable[Row]) -> bytes | None:
    """The rows' updates as one (None for no rows); pycrdt may raise for bad bytes."""
    datas = [row.data for row in rows]
    if not datas:
        return None
    return datas[0] if len(datas) == 1 else merge_updates(*datas)


def checked(
    rows: Iterable[Row], clocks: dict[int, int], depths_checked: int = 0
) -> tuple[list[Row], list[Refused]]:
    """The rows ``check_update`` accepts (with :data:`STORED_LIMITS`), and the others.

    ``clocks`` (client -> clock) is what the document already holds; each row's
    clock jumps are measured from it and the accepted rows before it (updated in place).
    When it is empty (the board is read from its first row), type depths are counted
    across the rows, snapshots first (a compaction's snapshot holds what the rows
    before it held); otherwise each row's own nesting is. The depths are indexed only
    from the first row that makes a type (before it no row can nest deeper): indexing
    a compacted 10,000-change board costs ~0.15 s, opening it without that ~35 ms.
    Rows up to ``depths_checked`` (a seq) had their depths counted by an earlier open,
    or were written by a Lanban that checks them before it stores them: they start no
    indexing.
    """
    good: list[Row] = []
    refused: list[Refused] = []
    depths: TypeDepths | None = None
    indexing = not clocks
    for row in sorted(rows, key=lambda row: not row.snapshot):
        if row.snapshot:
            good.append(row)
            continue
        try:
            summary = _check(row, clocks, depths)
            if depths is None and indexing and summary.type_depth and row.seq > depths_checked:
                depths = _depths_of(good)
                indexing = depths is not None
                summary = _check(row, clocks, depths)
        except UpdateRefused as exc:
            refused.append(Refused(row, exc.reason))
            continue
        if depths is not None:
            depths.record(summary.sections)
        for client, end in summary.clock_ends.items():
            if end > clocks.get(client, 0):
                clocks[client] = end
        good.append(row)
    return good, refused


def _check(row: Row, clocks: dict[int, int], depths: TypeDepths | None) -> UpdateSummary:
    return check_update(
        row.data, STORED_LIMITS, known_clock=lambda c: clocks.get(c, 0), outside=depths
    )


def _depths_of(rows: list[Row]) -> TypeDepths | None:
    """The type depths of these accepted rows (None if one cannot be read: pycrdt
    decides on it, and each row's own nesting still counts)."""
    depths = TypeDepths()
    try:
        for row in rows:
            depths.add_own(read_structs(row.data))
    except ProtocolError:
        return None
    return depths


def applicable(rows: Iterable[Row]) -> tuple[list[Row], list[Refused]]:
    """The rows pycrdt applies one by one to a scratch document, and the others."""
    doc: Doc[Any] = Doc()
    good: list[Row] = []
    refused: list[Refused] = []
    for row in rows:
        try:
            doc.apply_update(row.data)
        except Exception as exc:  # pycrdt raises bare exceptions for bad bytes
            refused.append(Refused(row, f"pycrdt cannot apply it: {exc}"))
        else:
            good.append(row)
    return good, refused


def quarantine(conn: sqlite3.Connection, refused: Iterable[Refused]) -> None:
    """Move these rows from ``updates`` to ``quarantine`` (in the caller's transaction, if any)."""
    at = time.time()

    def move() -> None:
        conn.execute(QUARANTINE_SCHEMA)
        for item in refused:
            conn.execute(
                "INSERT OR IGNORE INTO quarantine(seq, data, local, snapshot, reason, at) "
                "SELECT seq, data, local, snapshot, ?, ? FROM updates WHERE seq = ?",
                (item.reason, at, item.row.seq),
            )
            conn.execute("DELETE FROM updates WHERE seq = ?", (item.row.seq,))

    if conn.in_transaction:
        move()
    else:
        with transaction(conn):
            move()


def quarantined_count(conn: sqlite3.Connection) -> int:
    """How many rows the file's quarantine holds (0 without the table)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'quarantine'"
    ).fetchone()
    return int(conn.execute("SELECT count(*) FROM quarantine").fetchone()[0]) if exists else 0


def describe(refused: list[Refused]) -> str:
    """``1 update quarantined: <reason>`` (the first few reasons)."""
    n = len(refused)
    reasons = "; ".join(f"row {r.row.seq}: {r.reason}" for r in refused[:3])
    more = f"; and {n - 3} more" if n > 3 else ""
    return f"{n} update{'s' if n != 1 else ''} quarantined: {reasons}{more}"
