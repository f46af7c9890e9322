"""A node's links take each frame as websockets parses it (sync/frame_tap.py), on the
side that dialled and on the side that accepted: edits arrive whole and in order, and a
bad frame taken that way closes the link with the reason the reader task gives."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from lanban.sync.link import Link
from lanban.sync.messages import SyncUpdate
from lanban.sync.store import Store
from tests.support import async_wait_until
from tests.sync.nodes import peer_of, running, share_board
from tests.sync.test_attacks import Peer

EDITS = 40


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, bool, str]]:
    """Every frame a link handled: (it dialled, outside any task, what it raised)."""
    frames: list[tuple[bool, bool, str]] = []
    original = Link._take

    def spy(self: Link, *args: Any) -> None:
        outside = asyncio.current_task() is None  # data_received runs in no task
        try:
            original(self, *args)
        except Exception as exc:
            frames.append((self.info.initiator, outside, str(exc)))
            raise
        frames.append((self.info.initiator, outside, ""))

    monkeypatch.setattr(Link, "_take", spy)
    return frames


async def test_edits_taken_as_parsed_arrive_whole_and_in_order(
    tmp_path: Path, taken: list[tuple[bool, bool, str]]
) -> None:
    a_store, b_store = Store(tmp_path / "a"), Store(tmp_path / "b")
    board_id = share_board(a_store, b_store)
    async with running(a_store) as a, running(b_store, peers=[peer_of(a)]) as b:
        board_a, board_b = a.boards[board_id].board, b.boards[board_id].board
        ticket = board_a.add_ticket("0")
        await async_wait_until(
            lambda: ticket in {t.id for t in board_b.tickets()}, what="B to get the ticket"
        )
        seen: list[str] = []
        board_b.subscribe(lambda _event: seen.append(board_b.ticket(ticket).title))
        for n in range(1, EDITS + 1):  # each its own update, sent at once
            board_a.edit_ticket(ticket, title=str(n))
        await async_wait_until(
            lambda: board_b.ticket(ticket).title == str(EDITS), what="B to get every edit"
        )
        titles = [int(t) for t in seen if t.isdigit()]
        assert titles == sorted(titles) and titles[-1] == EDITS  # never an older one after
        board_b.edit_ticket(ticket, title="back")
        await async_wait_until(lambda: board_a.ticket(ticket).title == "back", what="B's edit")
    tapped = {initiator for initiator, outside, error in taken if outside and not error}
    assert tapped == {True, False}  # both the dialling and the accepting side took frames so


async def test_a_bad_frame_taken_as_parsed_closes_the_link_with_its_reason(
    tmp_path: Path, taken: list[tuple[bool, bool, str]]
) -> None:
    store = Store(tmp_path / "a")
    with store.create_board("Target") as bf:
        board_id, key = bf.board_id, bf.key
    async with running(store) as node:
        peer = await Peer.link(node.address[1], board_id, key)
        await peer.sync()  # the node's reader now waits for the next frame
        await async_wait_until(lambda: node.status().boards[0].links, what="the link")
        await peer.send(SyncUpdate(b"\xff" * 20))
        code, reason = await peer.closed()
        assert (code, reason) == (1008, "protocol error: varUint longer than 53 bits")
        assert (False, True, "varUint longer than 53 bits") in taken  # raised as parsed
        assert node.boards[board_id].board.title == "Target"  # and the node goes on
        await async_wait_until(lambda: not node.status().boards[0].links, what="link gone")
