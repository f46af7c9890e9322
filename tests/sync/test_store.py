"""The board store: durability, several processes, compaction, bad files."""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lanban.sync.store import COMPACT_MIN_BYTES, WAL_LIMIT_BYTES, Store, StoreError
from tests.support import HARD_KILL, timeout, wait_until
from tests.sync.nodes import lanban

ROOT = Path(__file__).resolve().parents[2]


def titles(store_dir: Path, board_id: str) -> list[str]:
    with Store(store_dir).open(board_id) as bf:
        return [t.title for t in bf.board.tickets()]


def test_changes_survive_reopening(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.create_board("Plans", ["Ideas", "Now"], actor="Ada") as bf:
        board_id = bf.board_id
        t = bf.board.add_ticket("Ship it", "Now", description="soon ✨")
        bf.board.add_ticket("Think", "Ideas")
        bf.board.move_ticket(t, "Ideas", 0)
    with store.open(board_id) as bf:
        assert bf.board.title == "Plans"
        assert [t.title for t in bf.board.tickets("Ideas")] == ["Ship it", "Think"]
        assert bf.board.ticket("#1").description == "soon ✨"
        assert bf.board.ticket("#1").created_by == "Ada"


def test_a_local_edit_is_written_after_its_commit_and_before_it_returns(tmp_path: Path) -> None:
    """The board file's write (and fsync) is not inside pycrdt's commit callback."""
    store = Store(tmp_path)
    with store.create_board("Order") as bf:
        reader = sqlite3.connect(bf.path)
        rows = lambda: reader.execute("SELECT count(*) FROM updates").fetchone()[0]  # noqa: E731
        before = rows()
        in_commit: list[int] = []
        bf.board.on_update(lambda _update, _source: in_commit.append(rows()))
        for edit in (lambda: bf.board.add_ticket("one"), bf.board.undo, bf.board.redo):
            edit()
            assert in_commit[-1] == before  # not written yet while pycrdt commits
            assert rows() == before + 1  # written when the edit returns
            before += 1
        reader.close()


def test_a_killed_writer_loses_nothing_it_acknowledged(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.create_board("Crash test") as bf:
        board_id = bf.board_id
    writer = textwrap.dedent(
        f"""
        import sys
        from lanban.sync.store import Store
        bf = Store({str(tmp_path)!r}).open({board_id!r})
        i = 0
        while True:
            tid = bf.board.add_ticket(f"ticket {{i}}")
            bf.board.move_ticket(tid, "Doing", 0)
            print(i, flush=True)
            i += 1
        """
    )
    rng = random.Random(7)
    acknowledged: list[int] = []
    for _round in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", writer], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        wanted = rng.randint(5, 60)
        for line in proc.stdout:
            acknowledged.append(int(line))
            if int(line) >= wanted:
                break
        time.sleep(rng.random() * 0.05)  # kill at an arbitrary moment, mid-write or not
        proc.send_signal(HARD_KILL)
        proc.wait(timeout(10))
        with store.open(board_id) as bf:
            present = {t.title for t in bf.board.tickets("Doing")}
        missing = [i for i in acknowledged if f"ticket {i}" not in present]
        assert not missing, f"acknowledged but lost after SIGKILL: {missing}"
        acknowledged.clear()


def test_another_process_sees_a_cli_change_within_200ms(tmp_path: Path) -> None:
    store = Store(tmp_path)
    bf = store.create_board("Shared")
    try:
        done = lanban(tmp_path, "ticket", "add", bf.board_id, "From the CLI")
        assert done.returncode == 0, done.stderr
        start = time.monotonic()
        wait_until(lambda: bf.poll() > 0, seconds=0.2, what="the CLI's ticket to be read")
        assert time.monotonic() - start < timeout(0.2)
        assert [t.title for t in bf.board.tickets()] == ["From the CLI"]
        # and the other way round: what this process writes, a new CLI run shows
        bf.board.add_ticket("From the app")
        listed = lanban(tmp_path, "ticket", "list", bf.board_id)
        assert "From the app" in listed.stdout
    finally:
        bf.close()


def test_concurrent_writers_in_several_processes_all_land(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.create_board("Busy") as bf:
        board_id = bf.board_id
    script = textwrap.dedent(
        f"""
        import sys
        from lanban.sync.store import Store
        bf = Store({str(tmp_path)!r}).open({board_id!r})
        for i in range(40):
            bf.board.add_ticket(f"{{sys.argv[1]}}-{{i}}")
            bf.poll()
        bf.close()
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, name], cwd=ROOT) for name in "abc"]
    for p in procs:
        assert p.wait(timeout(60)) == 0
    got = titles(tmp_path, board_id)
    assert sorted(got) == sorted(f"{n}-{i}" for n in "abc" for i in range(40))
    # Racing processes may hand out one number twice; the merge rule fixes that
    # as soon as a board is opened for work (here: by the CLI).
    listed = lanban(tmp_path, "ticket", "list", board_id, "--json")
    numbers = [t["number"] for t in json.loads(listed.stdout)]
    assert len(numbers) == 120
    assert len(set(numbers)) == len(numbers), "ticket numbers must be unique after merging"


def test_compaction_keeps_everything_and_the_file_small(tmp_path: Path) -> None:
    store = Store(tmp_path)
    bf = store.create_board("Churn")
    reader = store.open(bf.board_id)
    try:
        board = bf.board
        ids = [board.add_ticket(f"t{i}") for i in range(200)]
        columns = [c.id for c in board.columns()]
        rng = random.Random(3)
        for i in range(6000):
            board.move_ticket(rng.choice(ids), rng.choice(columns), rng.randint(0, 80))
            if i % 50 == 0:
                bf.poll()  # the app polls every few tens of ms; that is when it compacts
        bf.poll()
        snapshot = len(board.get_update())
        assert snapshot > COMPACT_MIN_BYTES / 4
        main, wal = bf.size_on_disk()
        assert main <= 2 * max(snapshot, COMPACT_MIN_BYTES) + 64 * 1024
        assert wal <= 2 * WAL_LIMIT_BYTES
        # A reader that was open all along catches up across the compactions.
        reader.poll()
        expected = {c: board.ticket_ids(c) for c in columns}
        assert {c: reader.board.ticket_ids(c) for c in columns} == expected
    finally:
        bf.close()
        reader.close()
    with store.open(bf.board_id) as fresh:
        assert {c: fresh.board.ticket_ids(c) for c in columns} == expected


def test_pending_local_changes_count_until_synced(tmp_path: Path) -> None:
    with Store(tmp_path).create_board("Offline") as bf:
        before = bf.pending_local_changes()
        bf.board.add_ticket("a")
        bf.board.add_ticket("b")
        assert bf.pending_local_changes() == before + 2
        bf.mark_synced()
        assert bf.pending_local_changes() == 0
        bf.board.add_ticket("c")
        assert bf.pending_local_changes() == 1


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "kind", ["garbage", "empty", "foreign-sqlite", "damaged-update", "truncated"]
)
def test_a_bad_board_file_is_named_and_never_overwritten(tmp_path: Path, kind: str) -> None:
    store = Store(tmp_path)
    with store.create_board("Good one") as good:
        good.board.add_ticket("still here")
        good_id = good.board_id
    bad = store.boards_dir / "Bad_board.lanban"
    if kind == "garbage":
        bad.write_bytes(os.urandom(3000))
    elif kind == "empty":
        bad.write_bytes(b"")
    elif kind == "foreign-sqlite":
        conn = sqlite3.connect(bad)
        conn.execute("CREATE TABLE photos (id INTEGER, data BLOB)")
        conn.commit()
        conn.close()
    elif kind == "damaged-update":
        with store.create_board("Doomed") as doomed:
            doomed.board.add_ticket("x")
            os.replace(doomed.path, bad)
        conn = sqlite3.connect(bad)
        conn.execute("UPDATE updates SET data = ?", (b"\x07" * 40,))
        conn.commit()
        conn.close()
    else:
        with store.create_board("Cut short") as cut:
            for i in range(50):
                cut.board.add_ticket(f"t{i}")
            os.replace(cut.path, bad)
        bad.write_bytes(bad.read_bytes()[:5000])
    before = _digest(bad)
    with pytest.raises(StoreError) as err:
        store.open("Bad_board")
    assert str(bad) in str(err.value)
    assert _digest(bad) == before, "a bad file must never be written to"
    summaries = {s.id: s for s in store.summaries()}
    assert summaries["Bad_board"].error is not None
    assert summaries[good_id].error is None
    assert titles(tmp_path, good_id) == ["still here"]
    listed = lanban(tmp_path, "board", "list")
    assert listed.returncode == 0
    assert "Good one" in listed.stdout
    assert "Bad_board.lanban" in listed.stderr and "Traceback" not in listed.stderr
    assert _digest(bad) == before


def test_leaving_a_board_keeps_its_file(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.create_board("Old") as bf:
        board_id = bf.board_id
    moved = store.leave(board_id)
    assert moved.exists()
    assert board_id not in store.board_ids()


def test_identity_is_stable_and_damage_is_reported(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first = store.identity()
    assert Store(tmp_path).identity() == first
    store.set_user("Ada", "#ff8800")
    assert store.identity().name == "Ada"
    (tmp_path / "identity.json").write_text("{not json")
    # damage is reported, and the damaged file kept aside (issue 10), not deleted
    assert store.identity().member_id == first.member_id
    assert store.identity_notice is not None and "identity.json" in store.identity_notice
    (kept,) = tmp_path.glob("identity.json.damaged-*")
    assert kept.read_text() == "{not json" and kept.name in store.identity_notice


def test_unusable_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot use data directory"):
        Store(blocker / "sub")
