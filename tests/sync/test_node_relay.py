"""Nodes meeting through a relay: the stock y-websocket server, and `lanban relay`."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lanban.sync.invite import Invite
from lanban.sync.status_text import SyncState, summarize
from lanban.sync.store import Store
from tests.interop.harness import NodeClient, RelayProcess, StockRelay
from tests.support import async_holds, async_wait_until
from tests.sync.nodes import running, share_board

pytest_plugins = ["tests.interop.fixtures"]

GRACE = {
    "user": {"id": "grace", "name": "Grace", "color": "#03a9f4"},
    "editing": None,
    "dragging": None,
    "typing": None,
}


def titles(node: Any, board_id: str) -> list[str]:
    return [t.title for t in node.boards[board_id].board.tickets()]


async def test_two_nodes_sync_through_the_stock_server(
    tmp_path: Path, stock_relay: StockRelay
) -> None:
    a_store, b_store = Store(tmp_path / "a"), Store(tmp_path / "b")
    board_id = share_board(a_store, b_store)
    async with (
        running(a_store, relay=stock_relay.url) as a,
        running(b_store, relay=stock_relay.url) as b,
    ):
        a.boards[board_id].board.add_ticket("through the relay")
        await async_wait_until(
            lambda: titles(b, board_id) == ["through the relay"],
            what="B to get A's ticket via the stock server",
        )
        assert not any(link.info.kind == "lan" for link in b.boards[board_id].links.values())
        b.set_presence(board_id, GRACE)
        await async_wait_until(
            lambda: any(
                s.get("user", {}).get("name") == "Grace"
                for s in a.boards[board_id].presence.states.values()
            ),
            what="A to see B's presence via the relay",
        )
        status = a.status().boards[0]
        assert status.relay and status.connected_peers == 0


async def test_a_stock_yjs_client_reads_and_edits_a_board(
    tmp_path: Path, stock_relay: StockRelay, node_client: Callable[..., NodeClient]
) -> None:
    store = Store(tmp_path / "a")
    board_id = share_board(store, title="Interop")
    async with running(store, relay=stock_relay.url) as node:
        board = node.boards[board_id].board
        board.add_ticket("Seen by JavaScript")
        js = node_client(stock_relay.url, board_id, maps=("board", "tickets"))
        await js.until(
            lambda c: c.map("board").get("title") == "Interop",
            what="the board title in a y-websocket client",
        )
        await js.until(
            lambda c: any(
                t.get("title") == "Seen by JavaScript" for t in c.map("tickets").values()
            ),
            what="the ticket in a y-websocket client",
        )
        js.set("title", "Renamed in JavaScript", map_name="board")
        await async_wait_until(
            lambda: board.title == "Renamed in JavaScript", what="the JavaScript edit in Lanban"
        )


@pytest.mark.parametrize("cli", [False, True], ids=["python -m lanban.sync.relay", "lanban relay"])
async def test_lanban_relay_token_and_invite_with_a_relay(
    tmp_path: Path, lanban_relay: Callable[..., RelayProcess], cli: bool
) -> None:
    # The token comes from $LANBAN_RELAY_TOKEN (kept out of ps) in both entry points.
    relay = lanban_relay(token="s3cret", cli=cli)
    a_store, b_store, m_store = (Store(tmp_path / n) for n in ("a", "b", "mallory"))
    with a_store.create_board("Remote team") as bf:
        bf.board.add_ticket("kept on the relay")
        invite = Invite(bf.board_id, bf.key, "Remote team", relay.url, "s3cret")
    # Bob joins with the invite: its relay is used for that board, no --relay needed.
    b_store.join(invite).close()
    # Mallory has the board id and key but the wrong relay token.
    m_store.join(Invite(invite.board_id, invite.key, "", relay.url, "wrong")).close()
    async with (
        running(a_store, relay=relay.url, relay_token="s3cret") as a,
        running(b_store) as b,
        running(m_store) as m,
    ):
        await async_wait_until(
            lambda: titles(b, invite.board_id) == ["kept on the relay"],
            what="Bob to get the board through lanban relay",
        )
        a.boards[invite.board_id].board.add_ticket("second")
        await async_wait_until(lambda: len(titles(b, invite.board_id)) == 2)
        await async_holds(
            lambda: not m.boards[invite.board_id].links and titles(m, invite.board_id) == [],
            seconds=1.0,
            what="no relay link with a wrong token",
        )
        # ... and her status says why, in the words the app and `lanban status` use
        said = summarize(m.board_status(invite.board_id))
        assert said.state is SyncState.RECONNECTING
        assert said.text.startswith("Relay 127.0.0.1:") and "refused this board" in said.text
        assert re.fullmatch(
            r"relay at ws://127\.0\.0\.1:\d+: Refused: next try in \d+ s "
            r"\(HTTP 403, check the relay token\)",
            said.tries[0],
        ), said.tries
