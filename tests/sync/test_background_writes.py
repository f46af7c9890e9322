"""A node's board file writes on a thread of its own (BoardFile.write_in_background).

What must hold: an edit made through ``BoardFile.edit`` / ``Node.edit`` is on disk
(seen by another connection) once its future resolves, and the event loop runs
while the write is in progress; a direct call on the board still returns only once
it is written; closing writes everything queued; poll never applies this process's
own rows as if another process wrote them; a failed write surfaces as the board's
problem (and as StoreError to whoever awaits the edit), and is written once the
disk takes it again; updates reach the file in the order they were made.

The writer's connection is wrapped (``Gate``) so that a test can hold its commit
or make it fail: real SQLite files throughout.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lanban.model.board import Board
from lanban.sync import board_file
from lanban.sync.board_file import BoardFile
from lanban.sync.board_writer import WRITER_NICENESS
from lanban.sync.store import Store, StoreError
from tests.support import async_wait_until, timeout, within
from tests.sync.nodes import running

Rows = list[tuple[int, int]]  # (seq, local)


class Gate:
    """Holds or fails the writer thread's COMMITs (its connection is wrapped)."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.open.set()
        self.waiting = threading.Event()  # a commit waits at the gate
        self.fail: str | None = None  # the next commits raise this (a full disk)
        self.commits = 0

    def wrap(self, conn: sqlite3.Connection) -> Any:
        gate = self

        class Wrapped:
            def __getattr__(self, name: str) -> Any:
                return getattr(conn, name)

            def execute(self, sql: str, *args: Any) -> Any:
                if sql == "COMMIT":
                    gate.waiting.set()
                    assert gate.open.wait(timeout(10)), "the test never opened the gate"
                    gate.waiting.clear()
                    if gate.fail is not None:
                        raise sqlite3.OperationalError(gate.fail)
                    gate.commits += 1
                return conn.execute(sql, *args)

        return Wrapped()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    gate = Gate()
    connect = board_file.connect

    def connecting(path: Path, *, any_thread: bool = False) -> Any:
        conn = connect(path, any_thread=any_thread)
        return gate.wrap(conn) if any_thread else conn

    monkeypatch.setattr(board_file, "connect", connecting)
    yield gate
    gate.open.set()


def setup(tmp_path: Path) -> tuple[BoardFile, Board, sqlite3.Connection]:
    """A board file, a peer's copy of its board, and another connection to the file."""
    store = Store(tmp_path)
    bf = store.create_board("Background", ["Todo", "Done"], actor="here")
    bf.board.add_ticket("first", "Todo")
    peer = Board.from_update(bf.board.get_update(), actor="peer")
    return bf, peer, sqlite3.connect(bf.path)


def rows(reader: sqlite3.Connection) -> Rows:
    return [(s, loc) for s, loc in reader.execute("SELECT seq, local FROM updates ORDER BY seq")]


def titles_on_disk(tmp_path: Path, board_id: str) -> set[str]:
    with Store(tmp_path).open(board_id) as again:
        return {t.title for t in again.board.tickets()}


def peer_edit(peer: Board, bf: BoardFile, title: str) -> None:
    updates: list[bytes] = []
    unlisten = peer.on_update(lambda update, _source: updates.append(update))
    peer.add_ticket(title, "Done")
    unlisten()
    for update in updates:
        bf.board.apply_update(update, "peer link")


async def test_an_awaited_edit_is_on_disk_when_its_future_resolves(tmp_path: Path) -> None:
    bf, _peer, reader = setup(tmp_path)
    bf.write_in_background(True)
    try:
        before = rows(reader)
        ticket = await within(bf.edit(lambda: bf.board.add_ticket("awaited", "Todo")))
        assert isinstance(ticket, str) and bf.board.ticket(ticket).title == "awaited"
        assert rows(reader)[len(before) :] == [(before[-1][0] + 1, 1)]  # one local row
        assert "awaited" in titles_on_disk(tmp_path, bf.board_id)
    finally:
        bf.close()


async def test_the_loop_runs_while_an_edit_is_written(tmp_path: Path, gate: Gate) -> None:
    bf, _peer, reader = setup(tmp_path)
    bf.write_in_background(True)
    try:
        gate.open.clear()
        before = rows(reader)
        written = bf.edit(lambda: bf.board.add_ticket("held", "Todo"))
        await async_wait_until(gate.waiting.is_set, what="the writer to reach its commit")
        ran = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(ran.set_result, "ran")
        assert await within(ran) == "ran"  # a loop callback runs: the loop is not held
        assert not written.done()
        assert rows(reader) == before  # not committed yet
        gate.open.set()
        await within(written)
        assert len(rows(reader)) == len(before) + 1
    finally:
        bf.close()


async def test_a_direct_call_returns_once_written_after_what_is_queued(
    tmp_path: Path, gate: Gate
) -> None:
    bf, _peer, reader = setup(tmp_path)
    bf.write_in_background(True)
    try:
        before = rows(reader)
        bf.board.add_ticket("direct", "Todo")  # not through edit(): written before it returns
        assert rows(reader)[len(before) :] == [(before[-1][0] + 1, 1)]
        gate.open.clear()
        held = bf.edit(lambda: bf.board.add_ticket("held", "Todo"))
        await async_wait_until(gate.waiting.is_set, what="the writer to hold the edit")
        calling = threading.Event()
        opener = threading.Thread(target=lambda: calling.wait(timeout(10)) and gate.open.set())
        opener.start()
        calling.set()
        bf.board.add_ticket("direct, after the held one", "Todo")  # waits for the writer
        opener.join()
        written = rows(reader)[len(before) + 1 :]
        assert [local for _, local in written] == [1, 1]  # both written when it returns
        await within(held)
        assert {"held", "direct, after the held one"} <= titles_on_disk(tmp_path, bf.board_id)
    finally:
        bf.close()


async def test_close_writes_everything_queued(tmp_path: Path, gate: Gate) -> None:
    bf, peer, _reader = setup(tmp_path)
    bf.defer_remote_writes(lambda callback: asyncio.get_running_loop().call_soon(callback))
    bf.write_in_background(True)
    gate.open.clear()
    first = bf.edit(lambda: bf.board.add_ticket("one", "Todo"))
    await async_wait_until(gate.waiting.is_set, what="the writer to hold the first edit")
    second = bf.edit(lambda: bf.board.add_ticket("two", "Todo"))  # queued behind it
    peer_edit(peer, bf, "theirs")  # waits for the loop, then for the writer
    closing = threading.Event()
    unlisten = bf._unlisten  # close() begins with this

    def begin_closing() -> None:
        unlisten()
        closing.set()

    bf._unlisten = begin_closing
    opener = threading.Thread(target=lambda: closing.wait(timeout(10)) and gate.open.set())
    opener.start()  # the gate opens only once close() has begun
    bf.close()
    opener.join()
    assert gate.commits >= 2
    assert {"one", "two", "theirs"} <= titles_on_disk(tmp_path, bf.board_id)
    await within(asyncio.gather(first, second))


async def test_poll_does_not_apply_this_processes_rows_again(tmp_path: Path, gate: Gate) -> None:
    bf, _peer, _reader = setup(tmp_path)
    bf.write_in_background(True)
    try:
        assert bf.poll() == 0
        # Another process (here: another connection) writes.
        with Store(tmp_path).open(bf.board_id) as other:
            other.board.add_ticket("from elsewhere", "Todo")
        gate.open.clear()
        held = bf.edit(lambda: bf.board.add_ticket("held", "Todo"))
        await async_wait_until(gate.waiting.is_set, what="the writer to reach its commit")
        assert bf.poll() == 1  # the other one's row; ours is not committed yet
        gate.open.set()
        await within(held)
        for _ in range(5):
            await within(bf.edit(lambda: bf.board.add_ticket("more", "Todo")))
        with Store(tmp_path).open(bf.board_id) as other:
            other.board.add_ticket("and again", "Todo")
        assert bf.poll() == 1  # only the other's: none of the six rows written here
        assert bf.poll() == 0
        titles = [t.title for t in bf.board.tickets()]
        assert titles.count("from elsewhere") == 1 and titles.count("more") == 5
    finally:
        bf.close()


async def test_poll_reads_no_rows_back_when_only_this_process_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bf, _peer, _reader = setup(tmp_path)
    bf.write_in_background(True)
    read: list[int] = []
    rows_after = board_file.UpdateLog.rows

    def counting(log: Any, after: int = 0) -> Any:
        found = rows_after(log, after)
        read.append(len(found))
        return found

    monkeypatch.setattr(board_file.UpdateLog, "rows", counting)
    try:
        for n in range(5):
            await within(bf.edit(lambda n=n: bf.board.add_ticket(f"mine {n}", "Todo")))
        assert bf.poll() == 0 and read == []  # its own rows: skipped unread
        with Store(tmp_path).open(bf.board_id) as other:
            other.board.add_ticket("from elsewhere", "Todo")
        await within(bf.edit(lambda: bf.board.add_ticket("mine again", "Todo")))
        assert bf.poll() == 1  # another's row among ours: the rows are read
        assert read and bf.poll() == 0
        titles = [t.title for t in bf.board.tickets()]
        assert titles.count("from elsewhere") == 1 and titles.count("mine again") == 1
    finally:
        bf.close()


async def test_a_failed_write_is_the_boards_problem_until_it_is_saved(
    tmp_path: Path, gate: Gate
) -> None:
    bf, peer, _reader = setup(tmp_path)
    bf.write_in_background(True)
    try:
        gate.fail = "database or disk is full"
        with pytest.raises(StoreError, match="not saved"):
            await within(bf.edit(lambda: bf.board.add_ticket("refused", "Todo")))
        assert bf.problem is not None and "not saved: 1 change only in memory" in bf.problem
        assert "database or disk is full" in bf.problem
        peer_edit(peer, bf, "a peer's")  # never raises: the peer did nothing wrong
        await within(bf.flushed())
        found = re.search(r"not saved: (\d+) changes only in memory", bf.problem or "")
        assert found is not None and int(found[1]) >= 2, bf.problem  # and the peer's
        assert "refused" in [t.title for t in bf.board.tickets()]  # applied, kept in memory
        gate.fail = None
        bf.poll()  # writes what the disk refused, on the writer thread
        await within(bf.flushed())
        assert bf.problem is None
        assert {"refused", "a peer's"} <= titles_on_disk(tmp_path, bf.board_id)
    finally:
        bf.close()


async def test_updates_reach_the_file_in_the_order_they_were_made(
    tmp_path: Path, gate: Gate
) -> None:
    bf, peer, reader = setup(tmp_path)
    bf.defer_remote_writes(lambda callback: asyncio.get_running_loop().call_soon(callback))
    bf.write_in_background(True)
    try:
        before = len(rows(reader))
        gate.open.clear()
        mine = bf.edit(lambda: bf.board.add_ticket("mine 1", "Todo"))
        await async_wait_until(gate.waiting.is_set, what="the writer to hold the first edit")
        peer_edit(peer, bf, "theirs 1")
        await asyncio.sleep(0)  # the loop hands the peer's update on
        peer_edit(peer, bf, "theirs 2")  # waits: the next local edit writes it first
        mine_too = bf.edit(lambda: bf.board.add_ticket("mine 2", "Todo"))
        gate.open.set()
        await within(asyncio.gather(mine, mine_too))
        await within(bf.flushed())
        written = [loc for _, loc in rows(reader)[before:]]
        # mine 1; the peer's (each edit may bring a fix of the merge); mine 2
        assert written[0] == 1 and written[-1] == 1 and written[1:-1] == [0] * (len(written) - 2)
        assert len(written) >= 4
    finally:
        bf.close()


async def test_node_edit_is_on_disk_when_awaited(tmp_path: Path) -> None:
    store = Store(tmp_path / "a")
    with store.create_board("Node edits") as bf:
        board_id = bf.board_id
    async with running(store) as node:
        board = node.boards[board_id].board
        column = board.columns()[0].id
        ticket = await within(node.edit(board_id, lambda: board.add_ticket("by the node", column)))
        assert board.ticket(ticket).title == "by the node"
        assert "by the node" in titles_on_disk(tmp_path / "a", board_id)


@pytest.mark.skipif(sys.platform != "linux", reason="a thread's own priority is a Linux notion")
async def test_the_writer_thread_yields_the_cpu_to_the_loop(tmp_path: Path) -> None:
    bf, _peer, _reader = setup(tmp_path)
    bf.write_in_background(True)
    try:
        await within(bf.edit(lambda: bf.board.add_ticket("started", "Todo")))
        (writer,) = [t for t in threading.enumerate() if t.name.startswith("lanban writer ")]
        assert writer.native_id is not None
        loop_priority = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        writer_priority = os.getpriority(os.PRIO_PROCESS, writer.native_id)
        assert writer_priority == min(19, loop_priority + WRITER_NICENESS) > loop_priority
    finally:
        bf.close()
