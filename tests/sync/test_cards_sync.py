"""Richer cards (issue 11) between two nodes over real websockets on loopback: a
checklist, due date and assignees written with the CLI on one side show on the
other, and two people ticking different items at once both keep their tick."""

from __future__ import annotations

from pathlib import Path

from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.sync.store import Store
from tests.support import async_wait_until
from tests.sync.nodes import lanban, peer_of, running, share_board


def cli(data_dir: Path, *args: str) -> str:
    done = lanban(data_dir, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def shown(board: Board, tid: str) -> tuple[str, tuple[str, ...], list[tuple[str, bool]]]:
    t = board.ticket(tid)
    return t.due, t.assignees, [(i.text, i.done) for i in t.checklist]


async def test_checklist_due_and_assignees_sync_and_ticks_at_once_keep(tmp_path: Path) -> None:
    a_store, b_store = Store(tmp_path / "a"), Store(tmp_path / "b")
    board_id = share_board(a_store, b_store)
    async with running(a_store, name="Ada") as a, running(b_store, peers=[peer_of(a)]) as b:
        await async_wait_until(lambda: len(b.boards[board_id].links) == 1, what="the link")
        tid = cli(a_store.root, "ticket", "add", board_id, "Ship", "--due", "2026-12-01").strip()
        cli(a_store.root, "ticket", "check", "add", board_id, tid, "one", "two", "three")
        cli(a_store.root, "ticket", "edit", board_id, tid, "--assignee", "Ada", "--assignee", "Bob")
        board_a, board_b = a.boards[board_id].board, b.boards[board_id].board
        want = ("2026-12-01", ("Ada", "Bob"), [("one", False), ("two", False), ("three", False)])

        def b_has_it() -> bool:
            try:
                return shown(board_b, tid) == want
            except BoardError:  # not there yet
                return False

        await async_wait_until(b_has_it, what="Bob's node to show Ada's ticket")
        board_a.set_checklist_done(tid, "1")  # at once, before either hears of the other
        board_b.set_checklist_done(tid, "3")
        board_b.move_checklist_item(tid, "2", 0)
        done = ("2026-12-01", ("Ada", "Bob"), [("two", False), ("one", True), ("three", True)])
        await async_wait_until(
            lambda: shown(board_a, tid) == done == shown(board_b, tid),
            what="both nodes to show both ticks and the move",
        )
