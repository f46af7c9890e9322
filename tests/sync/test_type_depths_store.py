"""A board file holding a Map chain nested one level per row (issue 9, stored poison).

An older Lanban took such a chain from a key holder and stored it, one row per
update. Opening the board counts type depths across the rows (sync/board_rows.py):
the rows past the depth limit are quarantined, everything else opens, and a
later row deleting the chain's root (what made yrs recurse and crash) is harmless.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Map

from lanban.model.schema import new_client_id
from lanban.sync.board_rows import checked
from lanban.sync.store import Store
from lanban.sync.update_check import MAX_TYPE_DEPTH
from lanban.sync.update_log import BOARD_LAYOUT, Row, UpdateLog
from tests.sync.nodes import lanban
from tests.sync.test_update_check import item, section, update

LEVELS = 40  # stored: past the limit by 33 rows
TAKEN = MAX_TYPE_DEPTH - 1  # the ticket is at depth 1


def poison_file(data_dir: Path, *, compacted: bool) -> tuple[str, Path, str]:
    """A board with two honest tickets, then (written without any check) a chain
    one level per row under the first ticket's column, an honest ticket, and a
    peer's delete of the chain's root. ``compacted``: the honest start is one
    snapshot row, as a compaction leaves it."""
    store = Store(data_dir)
    with store.create_board("Deep") as bf:
        first = bf.board.add_ticket("first kept")
        bf.board.add_ticket("second kept")
        board_id, path, state = bf.board_id, bf.path, bf.board.get_update()
    conn = sqlite3.connect(path)
    log = UpdateLog(conn, BOARD_LAYOUT)
    if compacted:
        log.replace(state)
    doc: Doc[Any] = Doc(client_id=new_client_id(), skip_gc=True)
    doc.apply_update(state)
    rows: list[bytes] = []
    subscription = doc.observe(lambda event: rows.append(event.update))
    tickets = doc.get("tickets", type=Map)
    parent, key = tickets[first], "column"
    for _ in range(LEVELS):
        parent[key] = Map()
        parent, key = parent[key], "k"
    doc.unobserve(subscription)
    honest: Doc[Any] = Doc(client_id=new_client_id(), skip_gc=True)
    honest.apply_update(state)
    before = honest.get_state()
    ticket = Map({"id": "later", "title": "added later", "column": "x", "rank": "a"})
    honest.get("tickets", type=Map)["later"] = ticket
    rows.append(honest.get_update(before))
    before = doc.get_state()
    del tickets[first]["column"]
    rows.append(doc.get_update(before))
    for data in rows:
        log.append(data)
    conn.commit()
    conn.close()
    return board_id, path, first


@pytest.mark.parametrize("compacted", [False, True], ids=["rows", "snapshot-then-rows"])
def test_a_stored_chain_opens_with_the_rows_past_the_limit_quarantined(
    tmp_path: Path, compacted: bool
) -> None:
    board_id, path, _ = poison_file(tmp_path, compacted=compacted)
    shown = lanban(tmp_path, "board", "show", board_id)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "first kept" in shown.stdout and "second kept" in shown.stdout
    quarantined = LEVELS - TAKEN
    assert f"{quarantined} updates quarantined" in shown.stderr
    assert f"nested over {MAX_TYPE_DEPTH} deep" in shown.stderr
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM quarantine").fetchone() == (quarantined,)
    conn.close()
    with Store(tmp_path).open(board_id) as bf:  # nothing else was lost
        titles = {t.title for t in bf.board.tickets(include_deleted=True)}
        assert {"first kept", "second kept"} <= titles
        assert bf.quarantine_size() == quarantined
    repaired = lanban(tmp_path, "board", "repair", board_id)
    assert repaired.returncode == 0, repaired.stderr[-2000:]
    assert f"{quarantined} update(s) are kept in its quarantine" in repaired.stdout


def test_rows_after_a_gap_cannot_hide_a_level() -> None:
    # Row 1 puts a value in the deepest Map at its client's second clock (the first is
    # missing: yrs takes it anyway); row 2 sends another value with that id, at the
    # root, and a Map after it. Which of the two values yrs keeps is not known, so
    # the Map's depth is not either: row 2 is refused.
    deep: Doc[Any] = Doc(skip_gc=True)
    parent = deep.get("tickets", type=Map)
    for _ in range(MAX_TYPE_DEPTH):
        parent["k"] = child = Map()
        parent = child
    writer, forger = deep.client_id, 555
    rows = [
        Row(1, deep.get_update(), True),
        Row(
            2,
            update(section(forger, 1, [item(8, b"\x01\x78", parent=(writer, 7), sub="v")])),
            False,
        ),
        Row(
            3,
            update(
                section(
                    forger,
                    0,
                    [
                        item(8, b"\x01\x78", root="r", sub="a"),
                        item(8, b"\x01\x78", root="r", sub="b"),
                        item(7, b"\x01", origin=(forger, 1)),
                    ],
                )
            ),
            False,
        ),
    ]
    _, refused = checked(rows, {})
    assert [r.row.seq for r in refused] == [3]
    assert "builds on changes" in refused[0].reason


def test_rows_counted_once_are_not_indexed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An open indexes depths across rows only for rows no open or writer of this
    version counted: a board's next open skips the index (~0.15 s at 10,000 changes)."""
    board_id, path, _ = poison_file(tmp_path, compacted=True)
    import lanban.sync.board_rows as board_rows

    built: list[int] = []
    real = board_rows._depths_of
    monkeypatch.setattr(board_rows, "_depths_of", lambda rows: built.append(1) or real(rows))
    store = Store(tmp_path)
    with store.open(board_id) as bf:  # the rows an older Lanban stored: counted
        bf.board.add_ticket("made here")
        assert bf.quarantined
    assert built == [1]
    with store.open(board_id) as bf:
        assert not bf.quarantined
        assert {t.title for t in bf.board.tickets()} >= {"first kept", "made here"}
    assert built == [1]
    conn = sqlite3.connect(path)  # a row stored behind Lanban's back is counted
    with store.open(board_id) as bf:
        state = bf.board.get_update()
    doc: Doc[Any] = Doc(client_id=new_client_id(), skip_gc=True)
    doc.apply_update(state)
    before = doc.get_state()
    doc.get("tickets", type=Map)["odd"] = Map({"id": "odd", "title": "odd", "column": "x"})
    UpdateLog(conn, BOARD_LAYOUT).append(doc.get_update(before))
    conn.commit()
    conn.close()
    with store.open(board_id):
        pass
    assert built == [1, 1]
