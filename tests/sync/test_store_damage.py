"""A damaged, full or poisoned board file affects only that board, and nothing is lost (issue 9).

Real SQLite files with real damage (garbage over a page), a real full filesystem
(a small tmpfs; Linux and root only), real ``lanban serve`` / CLI subprocesses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from lanban.model.board import Board
from lanban.sync import board_file
from lanban.sync.board_file import COMPACT_MIN_BYTES
from lanban.sync.serve import format_status
from lanban.sync.status import BoardStatus, NodeStatus
from lanban.sync.store import Store, StoreError
from tests.support import async_wait_until, timeout, wait_until
from tests.sync.nodes import lanban, peer_of, running, serving, share_board

ROOT = Path(__file__).resolve().parents[2]


def _page_of(path: Path, name: str) -> tuple[int, int]:
    """The byte offset and size of the root page of table or index ``name``."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)
        ).fetchone()
    finally:
        conn.close()
    return (root - 1) * size, size


def _smash(path: Path, offset: int, size: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(bytes([0xA5]) * size)


def test_a_corrupt_page_in_one_board_leaves_the_others_served(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.create_board("Healthy") as good:
        good.board.add_ticket("fine")
        good_id = good.board_id
    with store.create_board("Hurt") as hurt:
        hurt.board.add_ticket("rescue me")
        hurt.board.add_ticket("me too")
        hurt_id, hurt_path = hurt.board_id, hurt.path
    _smash(hurt_path, *_page_of(hurt_path, "sqlite_autoindex_meta_1"))
    listed = lanban(tmp_path, "board", "list")
    assert listed.returncode == 0 and "Healthy" in listed.stdout
    assert f"{hurt_id}.lanban is damaged" in listed.stderr and "Traceback" not in listed.stderr

    with serving(tmp_path) as node:
        status = node.status()
        assert [b["id"] for b in status["boards"]] == [good_id]
        problems = [p for p in status["problems"] if hurt_id in p]
        assert len(problems) == 1 and "is damaged" in problems[0], status["problems"]
        assert f"lanban board repair {hurt_id}" in problems[0]
        text = lanban(tmp_path, "status")
        assert text.returncode == 0 and f"board {hurt_id}" in text.stdout, text.stdout
        assert lanban(tmp_path, "ticket", "add", good_id, "still works").returncode == 0

        repaired = lanban(tmp_path, "board", "repair", hurt_id)
        assert repaired.returncode == 0, repaired.stderr
        assert "damaged" in repaired.stdout and "recovered 3 update row(s)" in repaired.stdout
        kept = [p for p in store.boards_dir.iterdir() if ".damaged-" in p.name]
        assert len(kept) == 1 and kept[0].name.startswith(hurt_path.name)
        # The node retries boards that failed: the rebuilt file is served.
        wait_until(
            lambda: hurt_id in [b["id"] for b in node.status()["boards"]],
            seconds=10,
            what="the repaired board to be served",
        )
        assert not any(hurt_id in p for p in node.status()["problems"])
    with store.open(hurt_id) as bf:
        assert sorted(t.title for t in bf.board.tickets()) == ["me too", "rescue me"]
    again = lanban(tmp_path, "board", "repair", hurt_id)
    assert again.returncode == 0 and "intact" in again.stdout


def _one_ticket_update() -> bytes:
    board = Board.create("Many")
    before = board.get_state()
    board.add_ticket("t100")
    return board.get_update(before)


def test_repair_recovers_the_rows_a_damaged_page_did_not_hold(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.create_board("Many") as bf:
        # One row each, fewer bytes in all than the compaction threshold.
        count = COMPACT_MIN_BYTES * 3 // 4 // len(_one_ticket_update())
        assert count > 100
        for i in range(count):
            bf.board.add_ticket(f"t{i}")
        board_id, path = bf.board_id, bf.path
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    # A leaf page of the updates table in the middle of the file.
    pages = [
        p
        for (p,) in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = 'updates' AND pagetype = 'leaf'"
        )
    ]
    conn.close()
    assert len(pages) > 5
    _smash(path, (pages[len(pages) // 2] - 1) * size, size)
    with pytest.raises(StoreError, match=str(path)):
        store.open(board_id)
    done = lanban(tmp_path, "board", "repair", board_id)
    assert done.returncode == 0, done.stderr
    assert "rows on damaged pages are lost" in done.stdout
    with store.open(board_id) as bf:
        titles = {t.title.split()[0] for t in bf.board.tickets()}
    # One page of rows lost, the rest back.
    assert count * 0.8 < len(titles) < count, (len(titles), count)
    assert "t0" in titles and f"t{count - 1}" in titles


def test_repair_quarantines_a_log_of_which_nothing_can_be_read(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.create_board("Unreadable") as bf:
        bf.board.add_ticket("x")
        board_id, path = bf.board_id, bf.path
    conn = sqlite3.connect(path)
    conn.execute("UPDATE updates SET data = ?", (b"\x07" * 40,))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=f"lanban board repair {board_id}"):
        store.open(board_id)
    done = lanban(tmp_path, "board", "repair", board_id)
    assert done.returncode == 0, done.stderr
    assert "2 updates quarantined" in done.stdout and "until peers send it again" in done.stdout
    with store.open(board_id) as bf:  # empty, with its id and key: peers fill it in
        assert bf.board.tickets() == [] and bf.quarantine_size() == 2


def test_repair_of_something_that_is_no_board_fails_clearly(tmp_path: Path) -> None:
    store = Store(tmp_path)
    (store.boards_dir / "Junk.lanban").write_bytes(os.urandom(5000))
    done = lanban(tmp_path, "board", "repair", "Junk")
    assert done.returncode == 1 and "not an SQLite file" in done.stderr
    assert "Traceback" not in done.stderr


# ------------------------------------------------------------ stored poison


def test_a_board_with_a_poisonous_row_opens_with_the_row_quarantined(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.create_board("Poisoned") as bf:
        bf.board.add_ticket("kept")
        board_id, path = bf.board_id, bf.path
    conn = sqlite3.connect(path)
    poison = b"\x01\xff\xff\xff\xff\x0f" + b"\x07" * 30  # 2**32 - 1 clients
    conn.execute("INSERT INTO updates(data, local, snapshot) VALUES (?, 0, 0)", (poison,))
    conn.commit()
    conn.close()

    shown = lanban(tmp_path, "board", "show", board_id)
    assert shown.returncode == 0, shown.stderr
    assert "kept" in shown.stdout
    assert "1 update quarantined" in shown.stderr
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT data FROM quarantine").fetchall() == [(poison,)]
    assert conn.execute("SELECT count(*) FROM updates WHERE data = ?", (poison,)).fetchone() == (0,)
    conn.close()
    with store.open(board_id) as bf:  # told once: it is out of the log now
        assert bf.quarantine_notice is None and bf.quarantine_size() == 1
        assert [t.title for t in bf.board.tickets()] == ["kept"]
    checked = lanban(tmp_path, "board", "repair", board_id)
    assert checked.returncode == 0 and "1 update(s) are kept in its quarantine" in checked.stdout


def test_a_row_only_pycrdt_refuses_is_quarantined_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second line of defence: with the walk waved through, pycrdt's refusal
    of one row (at load and at poll) finds that row alone."""
    monkeypatch.setattr(board_file, "checked", lambda rows, clocks, *_: (list(rows), []))
    store = Store(tmp_path)
    with store.create_board("Odd") as bf:
        bf.board.add_ticket("kept")
        board_id, path = bf.board_id, bf.path
    reader = store.open(board_id)
    with store.open(board_id) as writer:
        writer.board.add_ticket("after")
    _insert(path, b"\x07" * 40)
    with store.open(board_id) as bf:
        assert bf.quarantine_notice and "pycrdt cannot apply it" in bf.quarantine_notice
        assert sorted(t.title for t in bf.board.tickets()) == ["after", "kept"]
    with store.open(board_id) as writer:
        writer.board.add_ticket("later")
    _insert(path, b"\x07" * 41)
    assert reader.poll() == 2  # "after" and "later"; the bad row is moved aside
    assert reader.quarantine_notice and "1 update quarantined" in reader.quarantine_notice
    assert sorted(t.title for t in reader.board.tickets()) == ["after", "kept", "later"]
    assert reader.quarantine_size() == 2
    reader.close()


def _insert(path: Path, data: bytes) -> None:
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO updates(data, local, snapshot) VALUES (?, 0, 0)", (data,))
    conn.commit()
    conn.close()


# ------------------------------------------------------------ PRAGMA in a transaction


POLLER = textwrap.dedent(
    """
    import sys
    from lanban.sync.store import Store
    bf = Store(sys.argv[1]).open(sys.argv[2])
    for line in sys.stdin:
        command = line.strip()
        if command == "big":  # a local edit that makes the next poll compact
            bf.board.add_ticket("big", description="x" * 70_000)
        elif command == "poll":
            bf.poll()
        numbers = sorted(t.number for t in bf.board.tickets())
        print(command, bf.needs_compaction, *numbers, flush=True)
    bf.close()
    """
)


def test_a_long_running_poller_survives_a_compaction_that_repairs_numbers(tmp_path: Path) -> None:
    """Compaction applies others' rows in its transaction; the merge fix it makes
    (two tickets with one number) is written there, with no PRAGMA (finding 12)."""
    store = Store(tmp_path)
    with store.create_board("Numbers") as bf:
        board_id = bf.board_id
    poller = subprocess.Popen(
        [sys.executable, "-c", POLLER, str(tmp_path), board_id],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert poller.stdin is not None and poller.stdout is not None

    def ask(command: str) -> list[str]:
        assert poller.stdin is not None and poller.stdout is not None
        poller.stdin.write(command + "\n")
        poller.stdin.flush()
        return poller.stdout.readline().split()

    try:
        assert ask("big") == ["big", "True", "1"]  # compaction is due at the next poll
        # Two writers that do not see each other: both hand out number 2.
        first, second = store.open(board_id), store.open(board_id)
        first.board.add_ticket("from first")
        second.board.add_ticket("from second")
        assert first.board.tickets()[-1].number == second.board.tickets()[-1].number == 2
        answer = ask("poll")
        assert answer == ["poll", "False", "1", "2", "3"], (answer, poller.stderr)
        assert ask("poll") == ["poll", "False", "1", "2", "3"]
        first.close()
        second.close()
        poller.stdin.close()
        assert poller.wait(timeout(20)) == 0, poller.stderr.read() if poller.stderr else ""
    finally:
        if poller.poll() is None:
            poller.kill()
            poller.wait(timeout(10))
    with store.open(board_id) as bf:
        assert sorted(t.number for t in bf.board.tickets()) == [1, 2, 3]
        assert bf.size_on_disk()[0] < 4 * COMPACT_MIN_BYTES


# ------------------------------------------------------------------ full disk


@contextlib.contextmanager
def small_disk(path: Path, size: str = "2M") -> Iterator[Path]:
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("needs Linux and root to mount a small tmpfs")
    path.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path) -> Path:
    """Fill the filesystem to the last byte; the filler file to delete."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * chunk)
    finally:
        os.close(fd)
    return filler


async def test_a_peers_edit_on_a_full_disk_is_not_called_synced_nor_blamed(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        here, peer = Store(disk / "data"), Store(tmp_path / "peer")
        board_id = share_board(peer, here, title="Full")
        async with running(here) as a, running(peer, peers=[peer_of(a)]) as b:
            await async_wait_until(
                lambda: a.boards[board_id].board.title == "Full", what="the first sync"
            )
            link_ids = set(a.boards[board_id].links)
            filler = fill(disk)
            b.boards[board_id].board.add_ticket("sent while the disk is full")
            hub = a.boards[board_id]
            await async_wait_until(
                lambda: [t.title for t in hub.board.tickets()] == ["sent while the disk is full"],
                what="the edit to arrive",
            )
            status = a.board_status(board_id)
            assert status is not None and status.problem is not None
            assert "not saved" in status.problem and "full" in status.problem
            assert set(hub.links) == link_ids, "the peer's link must not be closed"
            with Store(disk / "data").open(board_id) as on_disk:
                assert on_disk.board.tickets() == []
            # A local edit cannot be saved either: it says so.
            with pytest.raises(StoreError, match="not saved"):
                hub.board.add_ticket("mine")
            filler.unlink()
            await async_wait_until(
                lambda: (s := a.board_status(board_id)) is not None and s.problem is None,
                what="the changes to be saved once there is room",
            )
            await asyncio.sleep(0)
        with Store(disk / "data").open(board_id) as on_disk:
            assert sorted(t.title for t in on_disk.board.tickets()) == [
                "mine",
                "sent while the disk is full",
            ]


def test_serve_starts_on_a_full_disk_and_names_the_board(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        data = disk / "data"
        store = Store(data)
        with store.create_board("Crowded") as bf:
            bf.board.add_ticket("there")
            board_id = bf.board_id
        store.identity()
        filler = fill(disk)
        with serving(data) as node:

            def warnings() -> list[str]:
                node.log.seek(0)
                lines = node.log.read().splitlines()
                return [x for x in lines if x.startswith("lanban serve: warning:")]

            wait_until(lambda: len(warnings()) == 2, what="two warnings after 'listening on'")
            node.log.seek(0)
            log = node.log.read()
            assert "Traceback" not in log, log
            assert any(f"board {board_id}: " in x and "disk is full" in x for x in warnings()), log
            assert any("node.json" in x for x in warnings()), log
            # Once there is room, the node writes node.json and opens the board.
            filler.unlink()
            wait_until(lambda: (data / "node.json").exists(), what="node.json to be written")
            wait_until(
                lambda: [b["id"] for b in node.status()["boards"]] == [board_id],
                what="the board to be served",
            )
            assert node.status()["problems"] == []


def test_a_boards_problem_is_in_the_status_text_and_json() -> None:
    problem = "not saved: 2 changes only in memory, x.lanban cannot be written (full)"
    board = BoardStatus("b1", "T", 1, False, 0, None, (), problem)
    status = NodeStatus("ab" * 16, "", "0.0.0.0:1", False, (), (board,), ())
    assert f"  PROBLEM: {problem}" in format_status(status).splitlines()
    data = json.loads(json.dumps(status.to_json()))
    assert data["boards"][0]["problem"] == problem
    assert NodeStatus.from_json(data) == status
    # An older node's JSON has no such field; a healthy board's has none either.
    del data["boards"][0]["problem"]
    assert NodeStatus.from_json(data).boards[0].problem is None
    assert "problem" not in replace(board, problem=None).to_json()
