"""The one update log, in a board file's layout and in the relay's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lanban.sync.update_log import (
    BOARD_LAYOUT,
    RELAY_LAYOUT,
    LogLayout,
    RelayStore,
    Row,
    UpdateLog,
    transaction,
)


def db_with(layout: LogLayout, path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(layout.schema)
    return db


@pytest.mark.parametrize("layout", [BOARD_LAYOUT, RELAY_LAYOUT], ids=["board", "relay"])
def test_append_load_replace_count(layout: LogLayout, tmp_path: Path) -> None:
    db = db_with(layout, tmp_path / "log.sqlite3")
    log = UpdateLog(db, layout, "room" if layout.rooms else None)
    other = UpdateLog(db, layout, "other") if layout.rooms else None
    seqs = [log.append(bytes([i])) for i in range(3)]
    if other is not None:
        other.append(b"x")  # another room's row between
    seqs.append(log.append(b"\x03", local=True))
    assert log.load() == [b"\x00", b"\x01", b"\x02", b"\x03"]
    assert log.count() == 4
    assert [r.data for r in log.rows(after=seqs[1])] == [b"\x02", b"\x03"]
    with transaction(db):
        snap = log.replace(b"snap", up_to=seqs[3] if layout.marks else None)
    if layout.marks:
        # Right above what it covers, so a reader that missed the deleted rows finds it.
        assert log.rows() == [Row(seqs[3] + 1, b"snap", True)]
        assert log.count(local=True) == 0
        with transaction(db):
            assert log.replace(b"snap2") == seqs[3] + 2
    else:
        assert log.rows() == [Row(snap, b"snap", False)]
        assert other is not None and other.load() == [b"x"]
    db.close()


def test_a_failed_transaction_leaves_the_log_as_it_was(tmp_path: Path) -> None:
    db = db_with(BOARD_LAYOUT, tmp_path / "log.sqlite3")
    log = UpdateLog(db, BOARD_LAYOUT)
    log.append(b"a")
    with pytest.raises(RuntimeError), transaction(db):
        log.replace(b"snap")
        raise RuntimeError("interrupted")
    assert log.load() == [b"a"]


def test_relay_store_keeps_rooms_apart_across_reopening(tmp_path: Path) -> None:
    store = RelayStore.open(tmp_path)
    store.append("a", b"1")
    store.append("b", b"2")
    store.append("a", b"3")
    store.replace("a", b"13")
    store.close()
    store = RelayStore.open(tmp_path)
    assert (store.load("a"), store.load("b"), sorted(store.rooms())) == (
        [b"13"],
        [b"2"],
        ["a", "b"],
    )
    assert store.log_length("a") == 1
    store.close()
