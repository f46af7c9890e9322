"""A peer's update is written after it is handled (BoardFile.defer_remote_writes).

The node's hub asks for it so that the write of a peer's update does not stand
between the update and the board's listeners (nor an answer they send). What
must still hold: it is written soon, in the same file; a local edit that may
build on it writes it first, in its own fsynced transaction; poll and close
write what waits; a write the disk refuses is kept in memory as before.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

from lanban.model.board import Board
from lanban.model.events import BoardEvent, Origin
from lanban.sync.board_file import BoardFile
from lanban.sync.store import Store

Rows = list[tuple[int, int]]  # (seq, local)


def setup(tmp_path: Path) -> tuple[BoardFile, Board, Callable[[], Rows]]:
    """A board file and a peer's copy of its board; rows() reads the file's log."""
    store = Store(tmp_path)
    bf = store.create_board("Deferred", ["Todo", "Done"], actor="here")
    bf.board.add_ticket("first", "Todo")
    peer = Board.from_update(bf.board.get_update(), actor="peer")
    reader = sqlite3.connect(bf.path)

    def rows() -> Rows:
        return [(s, loc) for s, loc in reader.execute("SELECT seq, local FROM updates")]

    return bf, peer, rows


def peer_edit(peer: Board, bf: BoardFile, title: str) -> None:
    updates: list[bytes] = []
    unlisten = peer.on_update(lambda update, _source: updates.append(update))
    peer.add_ticket(title, "Done")
    unlisten()
    for update in updates:
        bf.board.apply_update(update, "peer link")


def test_a_peers_update_is_written_once_the_loop_is_done_with_it(tmp_path: Path) -> None:
    bf, peer, rows = setup(tmp_path)
    seen_in_listener: list[int] = []

    def listener(event: BoardEvent) -> None:
        if event.origin == Origin.REMOTE:
            seen_in_listener.append(len(rows()))

    bf.board.subscribe(listener)

    async def main() -> tuple[int, int]:
        bf.defer_remote_writes(lambda callback: asyncio.get_running_loop().call_soon(callback))
        before = len(rows())
        peer_edit(peer, bf, "from the peer")
        handled = len(rows())
        await asyncio.sleep(0)  # one loop iteration: the scheduled write runs
        return before, handled

    before, handled = asyncio.run(main())
    assert seen_in_listener == [before]  # not written before the listeners ran
    assert handled == before  # nor when the update's handling returned
    assert len(rows()) == before + 1 and rows()[-1][1] == 0  # then, as a peer's
    bf.close()
    with Store(tmp_path).open(bf.board_id) as again:
        assert "from the peer" in [t.title for t in again.board.tickets()]


def test_a_local_edit_writes_the_waiting_peer_updates_first(tmp_path: Path) -> None:
    bf, peer, rows = setup(tmp_path)
    scheduled: list[Callable[[], None]] = []
    bf.defer_remote_writes(scheduled.append)  # a loop that has not come round yet
    before = rows()
    peer_edit(peer, bf, "theirs")
    assert rows() == before and len(scheduled) == 1
    bf.board.add_ticket("mine, after theirs", "Todo")
    written = rows()[len(before) :]
    assert [loc for _, loc in written] == [0, 1]  # theirs first, then the local edit
    for callback in scheduled:  # the scheduled write finds nothing left to do
        callback()
    assert rows()[len(before) :] == written
    bf.close()
    with Store(tmp_path).open(bf.board_id) as again:
        titles = {t.title for t in again.board.tickets()}
        assert {"theirs", "mine, after theirs"} <= titles


def test_poll_and_close_write_what_waits(tmp_path: Path) -> None:
    bf, peer, rows = setup(tmp_path)
    bf.defer_remote_writes(lambda callback: None)  # a scheduler that never runs it
    before = len(rows())
    peer_edit(peer, bf, "polled")
    assert len(rows()) == before
    bf.poll()
    assert len(rows()) == before + 1
    peer_edit(peer, bf, "closed")
    assert len(rows()) == before + 1
    bf.close()
    assert len(rows()) == before + 2
    with Store(tmp_path).open(bf.board_id) as again:
        assert {"polled", "closed"} <= {t.title for t in again.board.tickets()}


def test_writing_at_once_again_writes_what_waits(tmp_path: Path) -> None:
    bf, peer, rows = setup(tmp_path)
    bf.defer_remote_writes(lambda callback: None)
    before = len(rows())
    peer_edit(peer, bf, "waiting")
    bf.defer_remote_writes(None)
    assert len(rows()) == before + 1
    peer_edit(peer, bf, "at once")
    assert len(rows()) == before + 2
    bf.close()
