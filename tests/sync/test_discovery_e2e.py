"""End to end: nodes that find each other by mDNS, and a recorded session replayed.

Discovery: two ``lanban serve`` processes, each in a network namespace this test makes
(tests/netns.py: two hosts on a bridge, so mDNS never reaches this machine's network,
DESIGN.md 6), with discovery on and no ``--peer``. The board was shared by invite
before any node ran, so the invite names no address: the only way the nodes can meet
is mDNS. They must link, sync edits both ways, and ``lanban status --json`` run inside
each namespace (status asks 127.0.0.1 there) must list the other as a peer.

Replay: a real node's whole connection to another node, recorded byte for byte by a
TCP proxy (websocket upgrade, HELLO, sealed frames carrying an edit), sent again on a
new connection, to the same node and to a third member of the board that never saw
the edit: both refuse it at the HELLO, and neither board changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from lanban.model.exchange import export_board
from lanban.sync.store import Store
from tests.netns import Host, lan
from tests.support import async_wait_until, timeout
from tests.sync.nodes import ROOT, lanban, running, share_board
from tests.sync.proxy import proxies

# Start-up, mDNS probing and announcement (~1.6 s, DESIGN.md 5), the higher id's
# dial grace (2 s, sync/dialer.py), a handshake: on a slow machine, well within this.
FIND_S = 30.0
SYNC_S = 10.0
START_S = 20.0


def cli(data_dir: Path, *args: str) -> str:
    done = lanban(data_dir, *args)
    assert done.returncode == 0, f"lanban {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


class NamespacedNode:
    """``lanban serve`` with discovery on, inside one namespace host."""

    def __init__(self, host: Host, data_dir: Path, name: str) -> None:
        self.host = host
        self.data_dir = data_dir
        self.log = data_dir.parent / f"{name}.log"
        argv = [sys.executable, "-m", "lanban.desktop.cli", "--data-dir", str(data_dir), "serve"]
        argv += ["--host", "0.0.0.0", "--port", "0", "--name", name]
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                host.command(*argv),
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )

    def wait_listening(self) -> None:
        assert self.proc.stdout is not None
        line = ""
        deadline = time.monotonic() + timeout(START_S)
        while not line and time.monotonic() < deadline and self.proc.poll() is None:
            line = self.proc.stdout.readline()
        assert line.startswith("listening on "), f"serve did not start: {line!r}\n{self.tail()}"

    def status(self) -> dict[str, Any]:
        """``lanban status --json`` inside the namespace (it asks 127.0.0.1 there)."""
        argv = [sys.executable, "-m", "lanban.desktop.cli", "--data-dir", str(self.data_dir)]
        done = subprocess.run(
            self.host.command(*argv, "status", "--json"),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout(30),
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout(10))
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text()[-3000:]
        return ""


def wait_for(condition: Any, seconds: float, what: str, nodes: list[NamespacedNode]) -> None:
    deadline = time.monotonic() + timeout(seconds)
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {n.log.name}\n{n.tail()}" for n in nodes)
            raise AssertionError(f"timed out after {timeout(seconds):.0f}s: {what}\n{logs}")
        time.sleep(0.1)


@contextlib.contextmanager
def namespaced(host: Host, data_dir: Path, name: str) -> Iterator[NamespacedNode]:
    node = NamespacedNode(host, data_dir, name)
    try:
        yield node
    finally:
        node.stop()


def titles(data_dir: Path, board_id: str) -> list[str]:
    board = json.loads(cli(data_dir, "board", "export", "--", board_id))
    return [t["title"] for column in board["columns"] for t in column["tickets"]]


def test_nodes_in_two_namespaces_find_each_other_by_mdns_and_sync(tmp_path: Path) -> None:
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    board_id = cli(a_dir, "board", "create", "Found by mDNS")
    code = cli(a_dir, "board", "invite", "--", board_id)  # no node yet: no address hints
    assert cli(b_dir, "board", "join", "--", code) == board_id
    cli(a_dir, "ticket", "add", "--", board_id, "written before anyone met")
    a_id = json.loads((a_dir / "identity.json").read_text())["node_id"]
    b_id = json.loads((b_dir / "identity.json").read_text())["node_id"]

    with lan(2) as net:
        host_a, host_b = net.hosts
        with namespaced(host_a, a_dir, "Ada") as a, namespaced(host_b, b_dir, "Bob") as b:
            nodes = [a, b]
            a.wait_listening()
            b.wait_listening()

            def peers(node: NamespacedNode) -> list[dict[str, Any]]:
                return node.status()["peers"]  # type: ignore[no-any-return]

            wait_for(
                lambda: (
                    [p["node_id"] for p in peers(a)] == [b_id]
                    and [p["node_id"] for p in peers(b)] == [a_id]
                ),
                FIND_S,
                "each node to list the other in lanban status",
                nodes,
            )
            status = a.status()
            assert status["discovery"] is True
            (peer,) = status["peers"]
            assert peer["name"] == "Bob" and peer["boards"] == [board_id]
            assert peer["address"].split(":")[0] == host_b.address
            assert status["boards"][0]["connected_peers"] == 1
            assert b.status()["peers"][0]["name"] == "Ada"

            wait_for(
                lambda: titles(b_dir, board_id) == ["written before anyone met"],
                SYNC_S,
                "the joined node to get the board",
                nodes,
            )
            cli(b_dir, "ticket", "add", "--", board_id, "from Bob's namespace")
            wait_for(
                lambda: "from Bob's namespace" in titles(a_dir, board_id),
                SYNC_S,
                "Bob's edit to reach Ada",
                nodes,
            )
            assert titles(a_dir, board_id) == titles(b_dir, board_id)


# ------------------------------------------------------------------- replay


async def test_a_recorded_session_replayed_is_refused_and_changes_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lanban.node")
    a_store, b_store, c_store = (Store(tmp_path / n) for n in "abc")
    board_id = share_board(a_store, b_store, c_store)
    with proxies() as hub:
        async with running(a_store) as a:
            tap = hub.proxy(a.address[1], record=True)
            async with running(b_store, peers=[f"127.0.0.1:{tap.port}"]) as b:
                joined = b.boards[board_id].board
                await async_wait_until(lambda: joined.columns(), what="b to get the board")
                joined.add_ticket("sent over the recorded link")
                await async_wait_until(
                    lambda: (
                        [t.title for t in a.boards[board_id].board.tickets()]
                        == ["sent over the recorded link"]
                    ),
                    what="the edit to cross the recorded link",
                )
            await async_wait_until(lambda: not a.boards[board_id].links)
            (session,) = tap.recorded
            # The recording is a real session: an upgrade, a HELLO and sealed frames.
            assert session.startswith(b"GET /p2p HTTP/1.1\r\n") and len(session) > 300
            a_before = export_board(a.boards[board_id].board, include_deleted=True)
            async with running(c_store) as c:
                c_before = export_board(c.boards[board_id].board, include_deleted=True)
                for node in (a, c):
                    port = await replay(node.address[1], bytes(session))
                    refusal = f"127.0.0.1:{port}: unknown board"
                    await async_wait_until(
                        partial(logged, caplog, refusal),
                        what="the node to refuse the replayed HELLO",
                    )
                assert export_board(c.boards[board_id].board, include_deleted=True) == c_before
                assert not c.boards[board_id].board.tickets()
                assert not c.boards[board_id].links
            assert export_board(a.boards[board_id].board, include_deleted=True) == a_before
            assert not a.boards[board_id].links


def logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(text in r.getMessage() for r in caplog.records)


async def replay(port: int, session: bytes) -> int:
    """Send a recorded session on a fresh connection; read until the node hangs up.

    The upgrade request goes first and the rest once the node has answered, as the
    recorded client did. Returns our local port (the node's log names it).
    """
    request, _, sent = session.partition(b"\r\n\r\n")
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    local = int(writer.get_extra_info("sockname")[1])
    writer.write(request + b"\r\n\r\n")
    received = b""
    async with asyncio.timeout(timeout(10)):
        while b"\r\n\r\n" not in received:
            received += await reader.read(65536) or b"(eof)"
        with contextlib.suppress(ConnectionError):
            writer.write(sent)
            await writer.drain()
        while chunk := await reader.read(65536):
            received += chunk
    writer.close()
    assert received.startswith(b"HTTP/1.1 101"), received[:100]
    _, _, answer = received.partition(b"\r\n\r\n")
    # Nothing but the OPEN (one binary frame of 34 bytes) and a close: no WELCOME, no
    # data. (The close may echo the recorded client's own close frame.)
    frames = server_frames(answer)
    assert [(op, len(payload)) for op, payload in frames[:1]] == [(0x2, 34)], frames
    assert [op for op, _ in frames[1:]] == [0x8], frames
    return local


def server_frames(data: bytes) -> list[tuple[int, bytes]]:
    """(opcode, payload) of each websocket frame a server sent (RFC 6455 5.2, unmasked)."""
    frames = []
    while data:
        opcode, length, at = data[0] & 0x0F, data[1] & 0x7F, 2
        if length == 126:
            length, at = int.from_bytes(data[2:4], "big"), 4
        elif length == 127:
            length, at = int.from_bytes(data[2:10], "big"), 10
        frames.append((opcode, data[at : at + length]))
        data = data[at + length :]
    return frames
