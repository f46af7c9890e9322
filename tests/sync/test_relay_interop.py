"""Stock Yjs clients (Node, y-websocket) against ``lanban relay``, and the harness itself
against the stock ``@y/websocket-server``. Every party is a real process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.interop.harness import (
    PROCESS_START_S,
    REPO_ROOT,
    NodeClient,
    RelayProcess,
    StockRelay,
)
from tests.interop.yclient import YClient
from tests.support import HARD_KILL, POSIX_SIGNALS, async_wait_until, timeout, wait_until, within
from tests.sync.test_relay import stored

pytest_plugins = ["tests.interop.fixtures"]

StartClient = Callable[..., NodeClient]
StartRelay = Callable[..., RelayProcess]

ALICE = {"user": {"id": "u-a", "name": "Alice", "color": "#e11"}, "editing": None}
BOB = {"user": {"id": "u-b", "name": "Bøb", "color": "#1e1"}, "editing": "t-1"}


@POSIX_SIGNALS
def test_stock_clients_sync_and_see_each_other_through_lanban_relay(
    lanban_relay: StartRelay, node_client: StartClient
) -> None:
    relay = lanban_relay()
    alice = node_client(relay.url, "board-7", awareness=ALICE)
    bob = node_client(relay.url, "board-7", awareness=BOB)
    alice.wait_synced()
    bob.wait_synced()

    alice.set("title", "Sprint 12")
    bob.set("points", 13)
    want = {"title": "Sprint 12", "points": 13}
    alice.wait(lambda c: c.map() == want, what="alice converged")
    bob.wait(lambda c: c.map() == want, what="bob converged")

    alice.wait(lambda c: c.awareness.get(bob.client_id) == BOB, what="alice sees bob")
    bob.wait(lambda c: c.awareness.get(alice.client_id) == ALICE, what="bob sees alice")

    # Bob's process dies without a goodbye: the relay announces his departure.
    bob.stop(HARD_KILL)
    alice.wait(lambda c: bob.client_id not in c.awareness, what="bob's presence removed")

    # A latecomer gets the board and the presence of who is still there.
    carol = node_client(relay.url, "board-7")
    carol.wait_synced()
    assert carol.map() == want
    carol.wait(lambda c: c.awareness.get(alice.client_id) == ALICE, what="carol sees alice")

    assert relay.stop() == 0, relay.stderr  # SIGTERM: a clean shutdown


def test_stock_client_offline_edits_merge_on_reconnect(
    lanban_relay: StartRelay, node_client: StartClient
) -> None:
    relay = lanban_relay()
    alice = node_client(relay.url, "b", maps=("columns", "tickets"))
    bob = node_client(relay.url, "b", maps=("columns", "tickets"))
    alice.wait_synced()
    bob.wait_synced()
    bob.disconnect()
    bob.wait(lambda c: c.status == "disconnected", what="bob offline")
    bob.set("t1", {"title": "offline ticket"}, "tickets")
    alice.set("c1", {"title": "Doing"}, "columns")
    alice.wait(lambda c: c.map("columns") == {"c1": {"title": "Doing"}}, what="alice's edit")
    bob.connect()
    for client in (alice, bob):
        client.wait(
            lambda c: (
                c.map("tickets") == {"t1": {"title": "offline ticket"}}
                and c.map("columns") == {"c1": {"title": "Doing"}}
            ),
            what="both edits everywhere",
        )


def test_token_param_of_stock_clients(lanban_relay: StartRelay, node_client: StartClient) -> None:
    relay = lanban_relay(token="correct horse")
    member = node_client(relay.url, "board", token="correct horse")
    member.wait_synced()
    intruder = node_client(relay.url, "board", token="guess")
    intruder.set("intruder", "was here")
    # Refused at the HTTP level each time it retries; it never gets to sync.
    intruder.wait(lambda c: len(c.events_named("connection-close")) >= 2, what="two refusals")
    assert not intruder.events_named("synced")
    assert "wrong token" in relay.stderr

    member.set("member", "was here")
    late = node_client(relay.url, "board", token="correct horse")
    late.wait(lambda c: c.synced and c.map() == {"member": "was here"}, what="late synced")


def test_content_survives_a_killed_relay(
    lanban_relay: StartRelay, node_client: StartClient, tmp_path: Path
) -> None:
    data_dir = tmp_path / "relay-data"
    first = lanban_relay(data_dir=data_dir)
    writer = node_client(first.url, "board")
    writer.wait_synced()
    writer.set("title", "survives")
    writer.set("owner", "dana")
    want = {"title": "survives", "owner": "dana"}
    wait_until(lambda: stored(data_dir, "board")[1] == want, what="the relay to store both")
    first.stop(HARD_KILL)  # no shutdown code runs: the update log alone must hold it
    writer.close()

    second = lanban_relay(data_dir=data_dir)
    reader = node_client(second.url, "board")
    reader.wait(lambda c: c.synced and c.map() == want, what="the content after a restart")


async def test_python_and_node_clients_through_the_stock_server(
    stock_relay: StockRelay, node_client: StartClient
) -> None:
    node = node_client(stock_relay.url, "board-x", awareness=ALICE)
    await node.until(lambda c: c.synced, what="node synced")
    async with YClient(stock_relay.url, "board-x") as python:
        await within(python.synced.wait())
        await python.set("from", "python")
        node.set("also", "node")
        want = {"from": "python", "also": "node"}
        await node.until(lambda c: c.map() == want, what="node converged")
        await async_wait_until(lambda: python.map() == want, what="python converged")

        await python.set_awareness(BOB)
        await node.until(lambda c: c.awareness.get(python.client_id) == BOB, what="node sees")
        await async_wait_until(
            lambda: python.awareness.get(node.client_id) == ALICE, what="python sees"
        )


def test_cli_reports_a_busy_port(lanban_relay: StartRelay, tmp_path: Path) -> None:
    running = lanban_relay()
    argv = [sys.executable, "-m", "lanban.sync.relay", "--host", "127.0.0.1"]
    argv += ["--port", str(running.port), "--data-dir", str(tmp_path / "other")]
    result = subprocess.run(
        argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout(PROCESS_START_S)
    )
    assert result.returncode == 1
    assert "address already in use" in result.stderr
    assert "listening on" not in result.stdout
