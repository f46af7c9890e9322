"""A board file keeps its board's history as walked (issue 11, sync.board_meta
HISTORY_META): an open walks only what came since, after restarts, other
processes' writes and compactions, and reads what a fresh read reads; bytes
that do not fit are dropped."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lanban.model import history_blob
from lanban.model.activity import activity
from lanban.model.history import read_history
from lanban.sync.board_meta import HISTORY_META
from lanban.sync.store import Store
from tests.model.test_history_kept import walked


def kept_bytes(path: Path) -> bytes | None:
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (HISTORY_META,)).fetchone()
    return None if row is None else bytes(row[0])


def test_an_open_walks_only_what_came_since_the_history_was_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path)
    with store.create_board("Plans", ["Ideas", "Now"], actor="Ada") as bf:
        board_id, path = bf.board_id, bf.path
        tickets = [bf.board.add_ticket(f"T{n}", "Ideas") for n in range(30)]
        bf.board.activity()  # read: kept when the file closes
    assert kept_bytes(path) is not None
    counts = walked(monkeypatch)
    with store.open(board_id, actor="Bob") as bf, store.open(board_id, actor="Cy") as other:
        other.board.move_ticket(tickets[3], "Now")  # another process's write, read by poll
        other.board.edit_ticket(tickets[4], title="Renamed")
        other.write_deferred()
        assert bf.poll() > 0
        feed = bf.board.activity()
        fresh = read_history(bf.board.doc)
        assert feed == activity(fresh)
        assert 0 < counts[0] < len(fresh.structs) // 10  # the two edits, not the whole board
        assert feed[0].text().startswith("Cy renamed #5 from 'T4' to 'Renamed'")
        bf.compact()
        bf.board.add_ticket("After the compaction", "Now")
        bf.board.activity()
    counts.clear()
    with store.open(board_id, actor="Dee") as bf:
        assert bf.board.activity() == activity(read_history(bf.board.doc))
        assert counts[0] < counts[1] // 10


def test_kept_bytes_that_do_not_fit_are_dropped_and_the_history_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path)
    with store.create_board("Plans", ["Ideas", "Now"], actor="Ada") as bf:
        board_id, path = bf.board_id, bf.path
        bf.board.add_ticket("T", "Ideas")
        bf.board.activity()
    blob = kept_bytes(path)
    assert blob is not None
    damaged = blob[:-3] + b"xyz"
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = ?", (damaged, HISTORY_META))
    counts = walked(monkeypatch)
    with store.open(board_id, actor="Bob") as bf:
        assert bf.board.activity() == activity(read_history(bf.board.doc))
        assert counts[0] == counts[1]  # all of it: the damaged bytes were not used
        state, doc_id = read_history(bf.board.doc).state, bf.board.id
    kept = kept_bytes(path)  # and the file keeps good ones again
    assert kept is not None and kept != damaged
    assert history_blob.load(kept, doc_id, state) is not None
