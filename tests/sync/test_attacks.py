"""Hostile updates from a key holder, against a real ``lanban serve`` and ``lanban relay``.

Each attack of issue 9 (findings 3, 5, 7 and 8, and a run of values pycrdt merges one by
one) goes through a direct peer link - an attacker that completes the real handshake with
the board key - and through the relay, as a raw y-websocket client. What must hold:

- the attacker's link is closed with code 1008 and the reason;
- the process stays alive, and its memory within the stated bound (64 x N + 1 MiB for
  an update of N bytes, PROTOCOL.md "Limits");
- the board is intact: an honest peer still syncs and sees every acknowledged edit;
- nothing of the attack was stored: after a restart the board is the same, without the
  attacker's clients.

Two attacks build up over many updates: forged client ids (finding 5 spread out: the
board stops at MAX_BOARD_CLIENTS), and updates that wait for changes nobody has (pycrdt
holds them in memory: over MAX_PENDING_BYTES a node stalls until restarted, a relay
reloads the room).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from lanban.model.board import Board
from lanban.sync.messages import (
    Message,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode,
    encode,
    var_uint,
)
from lanban.sync.secure import Handshake, SecureChannel
from lanban.sync.session import NODE_INFO
from lanban.sync.store import Store
from lanban.sync.update_check import state_vector_clocks
from lanban.sync.update_guard import (
    GROWTH_ALLOWANCE,
    GROWTH_PER_BYTE,
    MAX_BOARD_CLIENTS,
    MAX_PENDING_BYTES,
)
from tests.interop.harness import RelayProcess
from tests.interop.yclient import YClient
from tests.support import HARD_KILL, LINUX_ONLY, async_wait_until, timeout
from tests.sync.nodes import ServeProcess
from tests.sync.test_update_check import gc, item, section, update

# Memory is read from /proc; relays are restarted by SIGTERM and expected to exit 0.
pytestmark = LINUX_ONLY

POLICY_VIOLATION = 1008
SERVICE_RESTART = 1012
ANSWER_S = 10.0
ALICE = 1_000_001  # honest relay clients
FORGED = 2**33  # the attacker's made-up client ids: past the 32 bits of honest ones


# ------------------------------------------------------------------ the attacks


def gc_clock(victim: int, known: int) -> bytes:
    """Finding 3: 15 bytes moving a victim's clock to 2**32 - 1."""
    return update(section(victim, known, [gc(2**32 - 1 - known)]))


def many_clients(victim: int, known: int) -> bytes:
    """Finding 5: 100,000 forged client ids (about 1 MB)."""
    return update(*(section(FORGED + i, 0, [gc(1)]) for i in range(100_000)))


def sixty_megabytes(victim: int, known: int) -> bytes:
    """Finding 7: forged tickets, 15 structs each, in one 61 MB update (under the frame
    limit of both a peer link and the relay)."""
    ticket = item(7, b"\x01", root="tickets", sub="t0000001")
    fields = [item(8, b"\x01\x78", parent=(victim, 0), sub=f"f{i}") for i in range(14)]
    one = ticket + b"".join(fields)
    count = 61_000_000 // len(one)
    header = var_uint(1) + var_uint(15 * count) + var_uint(FORGED) + var_uint(0)
    return header + one * count + b"\x00"


def huge_count(victim: int, known: int) -> bytes:
    """Finding 8: 5 bytes claiming 2**28 clients."""
    return var_uint(2**28)


def merge_run(victim: int, known: int) -> bytes:
    """1,000 values each after the previous one: 6 KB that pycrdt takes 23 MB to merge."""
    structs = [item(8, b"\x01\x78", root="tickets")]
    structs += [item(8, b"\x01\x78", origin=(FORGED, i)) for i in range(999)]
    return update(section(FORGED, 0, structs))


def waiting(n: int) -> bytes:
    """60,000 values placed after structs no document has (about 720 kB): pycrdt holds
    them aside, ~30 MB in memory, out of the state vector, the board file and the store."""
    missing = FORGED + 10**6
    structs = b"".join(
        b"\x88" + var_uint(missing) + var_uint(i) + b"\x01\x78" for i in range(60_000)
    )
    return var_uint(1) + var_uint(60_000) + var_uint(FORGED + n) + b"\x00" + structs + b"\x00"


# Memory that waiting updates may take: the cap, the update that went over it, and one
# refused while the board is stalled.
WAITING_BOUND_BYTES = MAX_PENDING_BYTES + 2 * len(waiting(0))


ATTACKS: dict[str, tuple[Callable[[int, int], bytes], str]] = {
    "gc-clock-15-bytes": (gc_clock, "past"),
    "100k-client-ids": (many_clients, "clients"),
    "61-MB-of-tickets": (sixty_megabytes, "structs"),
    "2**28-clients-in-5-bytes": (huge_count, "client sections"),
    "merge-run": (merge_run, "merge"),
}


# ------------------------------------------------------------------ memory


@dataclass(frozen=True)
class Memory:
    rss: int
    peak: int

    @classmethod
    def of(cls, pid: int) -> Memory:
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        )
        return cls(_kib(fields["VmRSS"]), _kib(fields["VmHWM"]))


def _kib(text: str) -> int:
    return int(text.split()[0]) * 1024


def assert_within_bound(before: Memory, after: Memory, update_bytes: int) -> None:
    bound = GROWTH_PER_BYTE * update_bytes + GROWTH_ALLOWANCE
    assert after.rss - before.rss <= bound, f"grew {after.rss - before.rss} bytes (bound {bound})"
    assert after.peak <= max(before.peak, before.rss + bound), (
        f"peaked {after.peak - before.rss} bytes over its size before (bound {bound})"
    )


# ------------------------------------------------------------------ a peer with the key


class Peer:
    """A raw peer link: the real handshake, then sealed y-protocols frames."""

    def __init__(self, ws: ClientConnection, channel: SecureChannel) -> None:
        self.ws = ws
        self.channel = channel

    @classmethod
    async def link(cls, port: int, board_id: str, key: bytes) -> Peer:
        ws = await connect(
            f"ws://127.0.0.1:{port}/p2p", compression=None, ping_interval=None, max_size=None
        )
        handshake = Handshake.initiator(board_id, key, os.urandom(16))
        hello = handshake.receive(await ws.recv())  # type: ignore[arg-type]
        assert hello is not None
        await ws.send(hello)
        handshake.receive(await ws.recv())  # type: ignore[arg-type]
        return cls(ws, handshake.channel)

    async def send(self, message: Message) -> None:
        await self.ws.send(self.channel.seal(encode(message)))

    async def sync(self) -> bytes:
        """Answer the node's step 1 (we hold nothing), ask for its state: its step 2."""
        await self.send(SyncStep1(b"\x00"))
        async with asyncio.timeout(timeout(ANSWER_S)):
            while True:
                frame = self.channel.open(await self.ws.recv())  # type: ignore[arg-type]
                if frame[:1] == bytes([NODE_INFO]):
                    continue
                message = decode(frame)
                if isinstance(message, SyncStep1):
                    await self.send(SyncStep2(b"\x00\x00"))
                elif isinstance(message, SyncStep2):
                    return message.update

    async def closed(self) -> tuple[int | None, str]:
        """Read until the node closes the link: its close code and reason."""
        try:
            async with asyncio.timeout(timeout(ANSWER_S)):
                while True:
                    await self.ws.recv()
        except ConnectionClosed:
            pass
        return self.ws.close_code, self.ws.close_reason or ""

    async def close(self) -> None:
        await self.ws.close()


@dataclass
class NodeTarget:
    data_dir: Path
    board_id: str
    key: bytes
    process: ServeProcess

    async def board(self) -> Board:
        """The board as an honest peer gets it now."""
        peer = await Peer.link(self.process.port, self.board_id, self.key)
        try:
            return Board.from_update(await peer.sync())
        finally:
            await peer.close()

    def log_lines(self, words: str) -> list[str]:
        """Lines of the node's log that say the attacker's link was closed for ``words``."""
        self.process.log.seek(0)
        return [
            line
            for line in self.process.log.read().splitlines()
            if "closed: protocol error" in line and words in line
        ]

    def reopened(self) -> list[str]:
        """Lines of the node's log that say it reopened a board from its file."""
        self.process.log.seek(0)
        return [line for line in self.process.log.read().splitlines() if "reopening" in line]

    def restart(self) -> None:
        assert self.process.proc.poll() is None, "the node died"
        assert self.process.stop() == 0
        self.process = ServeProcess(self.data_dir)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NodeTarget]:
    store = Store(tmp_path / "node")
    with store.create_board("Trust") as bf:
        bf.board.add_ticket("kept before", description="written by the owner")
        board_id, key = bf.board_id, bf.key
    target = NodeTarget(tmp_path / "node", board_id, key, ServeProcess(tmp_path / "node"))
    try:
        yield target
    finally:
        target.process.kill()


def titles(board: Board) -> set[str]:
    return {ticket.title for ticket in board.tickets()}


@pytest.mark.parametrize("attack", ATTACKS, ids=ATTACKS.keys())
async def test_an_attack_on_a_peer_link(node: NodeTarget, attack: str) -> None:
    make, reason = ATTACKS[attack]
    # An honest edit, acknowledged: a second peer sees it.
    honest = await Peer.link(node.process.port, node.board_id, node.key)
    board = Board.from_update(await honest.sync(), actor="honest")
    before_edit = board.get_state()
    board.add_ticket("acknowledged edit")
    await honest.send(SyncUpdate(board.get_update(before_edit)))
    seen = await _eventually_titles(node, {"kept before", "acknowledged edit"})
    victim, known = next(iter(state_vector_clocks(seen.get_state()).items()))

    data = make(victim, known)
    attacker = await Peer.link(node.process.port, node.board_id, node.key)
    await attacker.sync()
    before = Memory.of(node.process.proc.pid)
    await attacker.send(SyncUpdate(data))
    code, words = await attacker.closed()
    after = Memory.of(node.process.proc.pid)
    assert code == POLICY_VIOLATION, (code, words)
    assert reason in words
    assert node.process.proc.poll() is None, "the node died"
    await async_wait_until(lambda: len(node.log_lines(reason)) == 1, what="one log line")
    assert_within_bound(before, after, len(data))

    # The honest peer's link is untouched, and its edits still arrive.
    before_edit = board.get_state()
    board.add_ticket("after the attack")
    await honest.send(SyncUpdate(board.get_update(before_edit)))
    expected = {"kept before", "acknowledged edit", "after the attack"}
    await _eventually_titles(node, expected)
    await honest.close()

    node.restart()
    restarted = await node.board()
    assert titles(restarted) == expected
    assert max(state_vector_clocks(restarted.get_state())) < FORGED
    assert state_vector_clocks(restarted.get_state())[victim] < 2**31


async def _eventually_titles(node: NodeTarget, expected: set[str]) -> Board:
    """The board as a new peer gets it, once it has these tickets."""
    deadline = asyncio.get_running_loop().time() + timeout(ANSWER_S)
    while True:
        board = await node.board()
        got = titles(board)
        if got == expected:
            return board
        assert asyncio.get_running_loop().time() < deadline, f"{got} != {expected}"
        await asyncio.sleep(0.05)


async def test_forged_clients_over_many_updates_stop_at_the_board_cap(node: NodeTarget) -> None:
    """Finding 5 built up: 4,000 new client ids per update; the third update would take
    the board past MAX_BOARD_CLIENTS and is refused, so the state vector stays small and
    every honest peer still links up after a restart."""
    attacker = await Peer.link(node.process.port, node.board_id, node.key)
    await attacker.sync()
    batch = 4_000
    assert 2 * batch < MAX_BOARD_CLIENTS < 3 * batch
    for n in range(5):
        ids = range(FORGED + n * batch, FORGED + (n + 1) * batch)
        await attacker.send(SyncUpdate(update(*(section(c, 0, [gc(1)]) for c in ids))))
    code, words = await attacker.closed()
    assert code == POLICY_VIOLATION and "board full" in words, (code, words)
    node.restart()
    board = await node.board()
    clocks = state_vector_clocks(board.get_state())
    assert 2 * batch <= len(clocks) <= MAX_BOARD_CLIENTS
    assert "kept before" in titles(board)


async def test_updates_waiting_for_missing_changes_make_the_node_reopen_the_board(
    node: NodeTarget,
) -> None:
    """A node cannot drop what pycrdt holds aside: it drops the document, reopening the
    board from its file (which never held it), and takes edits again without a restart."""
    before = Memory.of(node.process.proc.pid)
    # Five rounds: what waited is gone from memory after each, so it does not add up.
    for n in range(5):
        attacker = await Peer.link(node.process.port, node.board_id, node.key)
        await attacker.sync()
        await attacker.send(SyncUpdate(waiting(2 * n)))
        await attacker.send(SyncUpdate(waiting(2 * n + 1)))
        code, words = await attacker.closed()
        assert code == POLICY_VIOLATION and "wait for changes" in words, (code, words)
        await async_wait_until(
            lambda rounds=n + 1: len(node.reopened()) == rounds,
            what="the node to log that it reopens the board",
        )
        assert_within_bound(before, Memory.of(node.process.proc.pid), WAITING_BOUND_BYTES)
    assert "board stalled" in node.reopened()[0], node.reopened()

    # The board takes an honest peer's edit again, without a restart.
    honest = await Peer.link(node.process.port, node.board_id, node.key)
    board = Board.from_update(await honest.sync(), actor="honest")
    assert max(state_vector_clocks(board.get_state())) < FORGED
    before_edit = board.get_state()
    board.add_ticket("after the reopen")
    await honest.send(SyncUpdate(board.get_update(before_edit)))
    await _eventually_titles(node, {"kept before", "after the reopen"})
    await honest.close()
    assert node.process.proc.poll() is None, "the node died"

    node.restart()  # what waited was never stored
    restarted = await node.board()
    assert titles(restarted) == {"kept before", "after the reopen"}
    assert max(state_vector_clocks(restarted.get_state())) < FORGED


# ------------------------------------------------------------------ through the relay


@dataclass
class RelayTarget:
    data_dir: Path
    process: RelayProcess

    def restart(self) -> None:
        assert self.process.alive, "the relay died"
        assert self.process.stop(signal.SIGTERM) == 0
        self.process = RelayProcess(self.data_dir, cli=True)


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RelayTarget]:
    target = RelayTarget(tmp_path / "relay", RelayProcess(tmp_path / "relay", cli=True))
    try:
        yield target
    finally:
        target.process.stop(HARD_KILL)


async def synced_client(relay: RelayTarget, client_id: int) -> YClient:
    client = await YClient(relay.process.url, "board", client_id=client_id).connect()
    await asyncio.wait_for(client.synced.wait(), timeout(ANSWER_S))
    return client


@pytest.mark.parametrize("attack", ATTACKS, ids=ATTACKS.keys())
async def test_an_attack_through_the_relay(relay: RelayTarget, attack: str) -> None:
    make, reason = ATTACKS[attack]
    alice = await synced_client(relay, ALICE)
    await alice.set("kept", "before")
    bob = await synced_client(relay, ALICE + 1)
    await async_wait_until(lambda: bob.map() == {"kept": "before"}, what="acknowledged edit")

    data = make(alice.client_id, 1)
    before = Memory.of(relay.process.process.pid)
    async with websockets.connect(f"{relay.process.url}/board", max_size=None) as attacker:
        await attacker.send(encode(SyncStep1(b"\x00")))
        await attacker.send(encode(SyncUpdate(data)))
        try:
            async with asyncio.timeout(timeout(ANSWER_S)):
                async for _ in attacker:
                    pass
        except ConnectionClosed:
            pass
    after = Memory.of(relay.process.process.pid)
    assert attacker.close_code == POLICY_VIOLATION, (attacker.close_code, attacker.close_reason)
    assert reason in (attacker.close_reason or "")
    assert relay.process.alive, "the relay died"
    await async_wait_until(
        lambda: [line for line in relay.process.stderr_lines if reason in line],
        what="the relay to log the refusal",
    )
    assert_within_bound(before, after, len(data))

    await alice.set("after", "the attack")
    await async_wait_until(lambda: len(bob.map()) == 2, what="an edit after the attack")
    assert not alice.closed.is_set() and not bob.closed.is_set()
    await alice.close()
    await bob.close()

    relay.restart()
    carol = await synced_client(relay, ALICE + 2)
    assert carol.map() == {"kept": "before", "after": "the attack"}
    clocks: dict[int, Any] = state_vector_clocks(carol.doc.get_state())
    assert set(clocks) == {ALICE} and clocks[ALICE] == 2  # her two edits, nothing forged
    await carol.close()


async def closed_after(relay: RelayTarget, *updates: bytes) -> tuple[int | None, str]:
    """A raw y-websocket client sends these updates; how the relay closed it."""
    async with websockets.connect(f"{relay.process.url}/board", max_size=None) as ws:
        await ws.send(encode(SyncStep1(b"\x00")))
        for data in updates:
            await ws.send(encode(SyncUpdate(data)))
        try:
            async with asyncio.timeout(timeout(ANSWER_S)):
                async for _ in ws:
                    pass
        except ConnectionClosed:
            pass
    return ws.close_code, ws.close_reason or ""


async def test_updates_waiting_for_missing_changes_make_the_relay_reload_the_room(
    relay: RelayTarget,
) -> None:
    alice = await synced_client(relay, ALICE)
    await alice.set("kept", "before")
    before = Memory.of(relay.process.process.pid)
    code, words = await closed_after(relay, waiting(0), waiting(1))
    assert code == POLICY_VIOLATION and words == "update rejected", (code, words)
    await async_wait_until(
        lambda: [line for line in relay.process.stderr_lines if "wait for changes" in line],
        what="the relay to log why it reloads the room",
    )
    # The room was reloaded from the store, which never held what waited: its clients
    # are asked to reconnect (1012), and the board takes edits again at once.
    await asyncio.wait_for(alice.closed.wait(), timeout(ANSWER_S))
    assert alice.close_code == SERVICE_RESTART
    bob = await synced_client(relay, ALICE + 1)
    assert bob.map() == {"kept": "before"}
    await bob.set("after", "the reload")
    carol = await synced_client(relay, ALICE + 2)
    await async_wait_until(lambda: len(carol.map()) == 2, what="an edit after the reload")
    assert_within_bound(before, Memory.of(relay.process.process.pid), WAITING_BOUND_BYTES)
    await bob.close()
    await carol.close()

    relay.restart()
    dave = await synced_client(relay, ALICE + 3)
    assert dave.map() == {"kept": "before", "after": "the reload"}
    assert set(state_vector_clocks(dave.doc.get_state())) == {ALICE, ALICE + 1}
    await dave.close()
