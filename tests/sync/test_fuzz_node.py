"""Fuzz a running node over real websockets: garbage before and after a valid handshake.

The test holds the board key, so after a real handshake (``Handshake.initiator``) it
can seal anything it likes: random bytes, mutated y-protocols messages (bit flips,
truncations, huge lengths), oversize frames, awareness floods and message floods.
Thousands of frames in all, from a seeded generator (LANBAN_FUZZ_SEED=N to rerun).

What must hold, as a user would see it:

- the node never crashes: afterwards a fresh honest peer links up and both converge,
  and after a restart the board file still opens and syncs;
- garbage never changes the board: its export equals a shadow replica that applied
  only the frames the node accepted (a mutated update that is still a valid update
  is a legitimate, authenticated edit);
- every link that sent something bad is closed, and the node's log says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
import secrets
import socket
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from lanban.model.board import Board
from lanban.model.exchange import export_board
from lanban.sync.messages import (
    Awareness,
    AwarenessEntry,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode,
    encode,
    var_uint,
)
from lanban.sync.node import MAX_FRAME_BYTES, Node
from lanban.sync.presence import MAX_CLIENTS, OUTDATED_MS, Presence
from lanban.sync.secure import HANDSHAKE_TIMEOUT_SECONDS, HELLO_BYTES, Handshake, SecureChannel
from lanban.sync.session import NODE_INFO, RateLimit
from lanban.sync.store import Store
from tests.support import async_wait_until, timeout
from tests.sync.nodes import peer_of, running, share_board

PRE_HANDSHAKE_CASES = 300
MUTATED_SYNC_CASES = 260
RANDOM_SEALED_CASES = 120
BATCH = 16  # connections at once
ANSWER_S = 5.0  # the node answers a probe, or closes the link
EMPTY_STATE_VECTOR = b"\x00"


def fuzz_seed() -> int:
    return int(os.environ.get("LANBAN_FUZZ_SEED", "20260101"))


def board_export(board: Board) -> dict[str, Any]:
    return export_board(board, include_deleted=True)


@dataclass
class Target:
    node: Node
    board_id: str
    key: bytes

    @property
    def uri(self) -> str:
        return f"ws://{peer_of(self.node)}/p2p"

    @property
    def board(self) -> Board:
        return self.node.boards[self.board_id].board


async def dial(target: Target) -> ClientConnection:
    return await connect(target.uri, compression=None, ping_interval=None, max_size=None)


async def link_up(target: Target, node_id: bytes) -> tuple[ClientConnection, SecureChannel]:
    """A websocket that passed a real handshake for the target's board."""
    ws = await dial(target)
    handshake = Handshake.initiator(target.board_id, target.key, node_id)
    hello = handshake.receive(await ws.recv())  # type: ignore[arg-type]
    assert hello is not None
    await ws.send(hello)
    handshake.receive(await ws.recv())  # type: ignore[arg-type]
    return ws, handshake.channel


async def closed(ws: ClientConnection, seconds: float = ANSWER_S) -> bool:
    """Whether the node closes this connection (reading and dropping what it sends)."""
    try:
        async with asyncio.timeout(timeout(seconds)):
            while True:
                await ws.recv()
    except ConnectionClosed:
        return True
    except TimeoutError:
        return False


async def answer(ws: ClientConnection, channel: SecureChannel) -> bool:
    """Read until a sync step 2 arrives (True) or the node closes the link (False)."""
    try:
        async with asyncio.timeout(timeout(ANSWER_S)):
            while True:
                frame = channel.open(await ws.recv())  # type: ignore[arg-type]
                if frame[:1] != bytes([NODE_INFO]) and isinstance(decode(frame), SyncStep2):
                    return True
    except ConnectionClosed:
        return False


async def in_batches(jobs: list[Callable[[], Awaitable[None]]]) -> None:
    for start in range(0, len(jobs), BATCH):
        await asyncio.gather(*(job() for job in jobs[start : start + BATCH]))


# ------------------------------------------------------------------ mutations


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One of: bit flips, a cut, extra bytes, a spliced run, a huge length."""
    out = bytearray(data)
    how = rng.randrange(6)
    if how == 0 or not out:
        for _ in range(rng.randint(1, 4)):
            if out:
                out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    elif how == 1:
        del out[rng.randrange(len(out)) :]
    elif how == 2:
        out += rng.randbytes(rng.randint(1, 16))
    elif how == 3:
        at = rng.randrange(len(out))
        out[at : at + rng.randint(1, 8)] = rng.randbytes(rng.randint(0, 8))
    elif how == 4:  # a length field claiming far more than there is
        at = min(len(out), rng.choice([1, 2]))
        huge = var_uint(rng.choice([2**31, 2**53 - 1, 64 * 1024 * 1024 + 1, len(out) * 7]))
        out[at : at + 1] = huge
    else:  # a varUint that never ends
        at = rng.randrange(len(out))
        out[at:] = b"\xff" * rng.randint(8, 12)
    return bytes(out)


def valid_messages(rng: random.Random, shadow: Board) -> list[bytes]:
    """Honest y-protocols messages about the current board, to mutate."""
    scratch = Board.from_update(shadow.get_update(), actor="fuzz")
    before = scratch.get_state()
    tickets = scratch.tickets()
    if tickets and rng.random() < 0.5:
        scratch.edit_ticket(rng.choice(tickets).id, title=f"fuzz {rng.randrange(10**6)}")
    else:
        scratch.add_ticket(f"fuzz {rng.randrange(10**6)}")
    entries = tuple(
        AwarenessEntry(rng.randrange(2**32), rng.randrange(5), {"user": {"name": "z" * i}})
        for i in range(rng.randint(1, 3))
    )
    return [
        encode(SyncStep1(shadow.get_state())),
        encode(SyncStep1(EMPTY_STATE_VECTOR)),
        encode(SyncStep2(shadow.get_update())),
        encode(SyncUpdate(scratch.get_update(before))),
        encode(Awareness(entries)),
        encode(QueryAwareness()),
        bytes([NODE_INFO]) + b'{"name": "fuzz", "port": 1, "version": 1}',
    ]


def accepted_update(frame: bytes) -> bytes | None:
    """The board update a frame the node accepted carries, if any."""
    if frame[:1] == bytes([NODE_INFO]):
        return None
    message = decode(frame)
    if isinstance(message, SyncStep2 | SyncUpdate) and message.update != b"\x00\x00":
        return message.update
    return None


# ----------------------------------------------------------------- the test


class Log:
    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    def lines(self) -> list[str]:
        return [
            r.getMessage() for r in self.caplog.records if r.name in ("lanban.node", "lanban.link")
        ]

    def about(self, needle: str) -> list[str]:
        return [line for line in self.lines() if needle in line]


def unexplained(refused: dict[int, str], log: Log) -> dict[int, str]:
    """The refused connections (port -> kind) the node's log says nothing about."""
    logged = {int(m) for line in log.lines() for m in re.findall(r"127\.0\.0\.1:(\d+)", line)}
    return {port: kind for port, kind in refused.items() if port not in logged}


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> Log:
    caplog.set_level(logging.INFO, logger="lanban")
    return Log(caplog)


async def test_garbage_never_crashes_a_node_or_changes_its_board(tmp_path: Path, log: Log) -> None:
    seed = fuzz_seed()
    print(f"fuzz seed {seed} (rerun: LANBAN_FUZZ_SEED={seed})")
    rng = random.Random(seed)
    a_store, b_store = Store(tmp_path / "a"), Store(tmp_path / "b")
    board_id = share_board(a_store, b_store)
    with a_store.open(board_id) as bf:
        key = bf.key
        for title in ("alpha", "beta", "gamma"):
            bf.board.add_ticket(title, description="some text")
    stats: Counter[str] = Counter()
    try:
        async with running(a_store) as node:
            target = Target(node, board_id, key)
            shadow = Board.from_update(target.board.get_update())
            assert board_export(shadow) == board_export(target.board)

            silent = await dial(target)  # says nothing: dropped at the handshake timeout
            refused: dict[int, str] = {}
            await pre_handshake(target, rng, refused, stats)
            await raw_tcp(target, rng)
            await mutated_sync(target, rng, shadow, log, stats)
            await random_sealed(target, rng, log, stats)
            await floods(target, rng, log, stats)

            # Garbage changed nothing but what was a valid, authenticated update.
            assert board_export(target.board) == board_export(shadow)
            # Every fuzz link is gone, and the presence it brought with it.
            sync = node.boards[board_id]
            await async_wait_until(lambda: not sync.links, what="every fuzz link to close")
            await async_wait_until(lambda: not sync.presence.states, what="fuzz presence gone")

            assert await closed(silent, HANDSHAKE_TIMEOUT_SECONDS + ANSWER_S), (
                "a peer that never spoke was kept"
            )
            assert log.about(f"127.0.0.1:{silent.local_address[1]}: handshake timed out")
            try:
                await async_wait_until(lambda: not unexplained(refused, log), seconds=15)
            except AssertionError:
                silent_kinds = Counter(unexplained(refused, log).values())
                raise AssertionError(f"refused with no reason logged: {silent_kinds}") from None

            # An honest peer still links up and both sides converge, both ways.
            async with running(b_store, peers=[peer_of(node)]) as honest:
                mine = honest.boards[board_id].board
                await async_wait_until(
                    lambda: board_export(mine) == board_export(target.board),
                    seconds=10,
                    what="the honest peer to get the board",
                )
                mine.add_ticket("after the storm")
                await async_wait_until(
                    lambda: board_export(mine) == board_export(target.board),
                    what="the honest edit to reach the fuzzed node",
                )
        # And the board file the fuzzed node wrote still opens and syncs.
        async with running(a_store) as node, running(b_store, peers=[peer_of(node)]) as b:
            here, there = node.boards[board_id].board, b.boards[board_id].board
            await async_wait_until(
                lambda: board_export(here) == board_export(there),
                seconds=10,
                what="the restarted node to sync",
            )
            assert "after the storm" in [t.title for t in here.tickets()]
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nfuzz seed {seed}; {dict(stats)}") from None
    print(f"fuzz seed {seed}: {dict(stats)}")
    assert stats["frames"] > 2000


async def pre_handshake(
    target: Target, rng: random.Random, refused: dict[int, str], stats: Counter[str]
) -> None:
    """Garbage instead of a HELLO: every connection closed (``refused``: port -> kind)."""
    wrong_key = secrets.token_bytes(32)
    recorded: list[bytes] = []  # real HELLOs, replayed on other connections

    def case(i: int) -> Callable[[], Awaitable[None]]:
        kind = rng.choice(["random", "text", "hello-size", "flipped", "wrong-key", "replay", "big"])
        size = rng.randint(0, 120)
        noise = rng.randbytes(HELLO_BYTES)
        flips = [(rng.randrange(HELLO_BYTES), rng.randrange(8)) for _ in range(rng.randint(1, 3))]
        tail = rng.randbytes(rng.randint(0, 4))
        pick = rng.random()

        async def run() -> None:
            ws = await dial(target)
            port = ws.local_address[1]
            opening = await ws.recv()
            assert isinstance(opening, bytes)
            frame: bytes | str
            if kind == "random":
                frame = rng.randbytes(size)
            elif kind == "text":
                frame = "hello?"
            elif kind == "hello-size":
                frame = bytes([1, 2]) + noise[2:]
            elif kind == "big":
                frame = b"\x01\x02" + bytes(5000)  # over the pre-handshake frame limit
            elif kind == "replay" and recorded:
                frame = recorded[int(pick * len(recorded))]
            else:
                key = wrong_key if kind == "wrong-key" else target.key
                hello = Handshake.initiator(target.board_id, key, secrets.token_bytes(16))
                real = hello.receive(opening)
                assert real is not None
                recorded.append(real)
                frame = real
                if kind == "flipped":
                    flipped = bytearray(real)
                    for at, bit in flips:
                        flipped[at] ^= 1 << bit
                    frame = bytes(flipped) + tail
                elif kind == "replay":
                    frame = real[:2] + noise[2:34] + real[34:]  # another connection's key
            with contextlib.suppress(ConnectionClosed):
                await ws.send(frame)
            stats["frames"] += 1
            assert await closed(ws), f"pre-handshake {kind} frame left the link open"
            # Checked at the end: after an oversize frame the node notices the
            # connection is gone only at websockets' close timeout (10 s).
            refused[port] = kind
            stats[f"pre:{kind}"] += 1

        return run

    await in_batches([case(i) for i in range(PRE_HANDSHAKE_CASES)])


async def raw_tcp(target: Target, rng: random.Random) -> None:
    """Not even websocket: the node answers or hangs up, and goes on serving."""
    host, port = "127.0.0.1", target.node.address[1]
    requests = [
        rng.randbytes(200),
        b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n\r\n",
        b"GET /p2p HTTP/1.1\r\nHost: x\r\n\r\n",  # no upgrade
        b"GET /p2p HTTP/1.1\r\n" + b"X: " + b"a" * 70000 + b"\r\n\r\n",
        b"\r\n\r\n\r\n",
    ]
    for request in requests:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(request)
        with_eof = rng.random() < 0.5
        if with_eof:
            writer.write_eof()
        try:
            async with asyncio.timeout(timeout(ANSWER_S)):
                while await reader.read(65536):
                    pass
        except (ConnectionError, TimeoutError):
            pass
        writer.close()
    for path in ("/nothing", "/status"):
        with pytest.raises(InvalidStatus):
            await connect(f"ws://{host}:{port}{path}")
    with socket.create_connection((host, port)) as sock:  # and a plain hang-up
        sock.close()


async def mutated_sync(
    target: Target, rng: random.Random, shadow: Board, log: Log, stats: Counter[str]
) -> None:
    """After a real handshake: mutated y-protocols messages, one link at a time.

    One at a time so that the updates the node accepts apply in a known order (two
    mutated updates may claim the same ids, and then the first one wins).
    """
    for _ in range(MUTATED_SYNC_CASES):
        honest = valid_messages(rng, shadow)
        frame = rng.choice(honest)
        if rng.random() < 0.85:
            frame = mutate(rng, frame)
        node_id = secrets.token_bytes(16)
        ws, channel = await link_up(target, node_id)
        # Our (empty) step 2 makes the node apply live updates instead of holding
        # them; the garbage goes before it (held, then applied) or after it.
        frames = [frame, encode(SyncStep2(b"\x00\x00"))]
        if rng.random() < 0.5:
            frames.reverse()
        frames.append(encode(SyncStep1(EMPTY_STATE_VECTOR)))  # the probe
        for plaintext in frames:
            with contextlib.suppress(ConnectionClosed):
                await ws.send(channel.seal(plaintext))
        stats["frames"] += len(frames)
        if await answer(ws, channel):
            stats["sync:accepted"] += 1
            update = accepted_update(frame)
            if update is not None:
                shadow.apply_update(update)
                stats["sync:accepted-update"] += 1
            await ws.close()
        else:
            stats["sync:refused"] += 1
            down = f"{node_id.hex()[:8]}> down: protocol error"
            await async_wait_until(
                partial(log.about, down),
                what="a logged reason for closing a link that sent a bad message",
            )


async def random_sealed(target: Target, rng: random.Random, log: Log, stats: Counter[str]) -> None:
    """Sealed random bytes, unsealed bytes, replayed and text frames after a handshake."""

    def case() -> Callable[[], Awaitable[None]]:
        kind = rng.choice(["random", "random", "unsealed", "replayed", "text", "type-byte"])
        body = rng.randbytes(rng.randint(0, 300))
        first = rng.choice([0, 1, 2, 3, 4, 0x64, 0x7F, 0x80, 0xFF])
        node_id = secrets.token_bytes(16)

        async def run() -> None:
            ws, channel = await link_up(target, node_id)
            if kind == "random":
                frames: list[bytes | str] = [channel.seal(body)]
            elif kind == "type-byte":
                frames = [channel.seal(bytes([first]) + body)]
            elif kind == "unsealed":
                frames = [body]
            elif kind == "replayed":
                sealed = channel.seal(encode(QueryAwareness()))
                frames = [sealed, sealed]
            else:
                frames = ["text"]
            for frame in frames:
                with_closed = False
                try:
                    await ws.send(frame)
                except ConnectionClosed:
                    with_closed = True
                stats["frames"] += 1
                if with_closed:
                    break
            if await closed(ws):
                stats[f"sealed:{kind}:closed"] += 1
                await async_wait_until(
                    lambda: log.about(f"{node_id.hex()[:8]}> down: "),
                    what=f"a logged reason for closing a link that sent {kind}",
                )
            else:  # random bytes can spell a valid message
                stats[f"sealed:{kind}:accepted"] += 1
                assert kind in ("random", "type-byte"), f"a {kind} frame was accepted"
                await ws.close()

        return run

    before = board_export(target.board)
    await in_batches([case() for _ in range(RANDOM_SEALED_CASES)])
    # Random bytes that happen to decode are queries, awareness or empty updates,
    # never a change to the board (a random update is never valid).
    assert board_export(target.board) == before


async def floods(target: Target, rng: random.Random, log: Log, stats: Counter[str]) -> None:
    sync = target.node.boards[target.board_id]

    async def expect_closed(node_id: bytes, reason: str, ws: ClientConnection) -> None:
        assert await closed(ws), f"a link that sent {reason!r} stayed open"
        await async_wait_until(
            lambda: log.about(f"{node_id.hex()[:8]}> down: ") and log.about(reason),
            what=f"the node to log {reason!r}",
        )

    # Too many awareness entries in one message, and one state that is too big.
    too_many = tuple(AwarenessEntry(i, 1, {"n": i}) for i in range(257))
    too_big = (AwarenessEntry(1, 1, {"big": "x" * 20_000}),)
    for entries, reason in ((too_many, "awareness update with 257"), (too_big, "over the limit")):
        node_id = secrets.token_bytes(16)
        ws, channel = await link_up(target, node_id)
        await ws.send(channel.seal(encode(Awareness(entries))))
        stats["frames"] += 1
        await expect_closed(node_id, reason, ws)

    # More clients than presence keeps: capped, not an error; gone with the link.
    node_id = secrets.token_bytes(16)
    ws, channel = await link_up(target, node_id)
    for batch in range(MAX_CLIENTS // 256 + 2):
        crowd = tuple(AwarenessEntry(batch * 256 + i + 1, 1, {"n": i}) for i in range(256))
        await ws.send(channel.seal(encode(Awareness(crowd))))
        stats["frames"] += 1
    await ws.send(channel.seal(encode(SyncStep1(EMPTY_STATE_VECTOR))))
    assert await answer(ws, channel), "an awareness flood within the limits closed the link"
    # Capped; the table also holds clients of earlier fuzz links that left just now.
    assert MAX_CLIENTS // 2 <= len(sync.presence.states) <= MAX_CLIENTS
    await ws.close()
    await async_wait_until(lambda: not sync.presence.states, what="the flood's presence to go")

    # Far more messages than the rate limit allows in a burst.
    node_id = secrets.token_bytes(16)
    ws, channel = await link_up(target, node_id)
    await ws.send(channel.seal(encode(SyncStep2(b"\x00\x00"))))  # synced: updates apply now
    nothing = encode(SyncUpdate(b"\x00\x00"))  # valid, and as cheap as a message gets
    limit = RateLimit()
    with contextlib.suppress(ConnectionClosed):
        for sent in range(3 * int(limit.burst)):
            await ws.send(channel.seal(nothing))
            stats["frames"] += 1
            if sent % 256 == 0:
                await asyncio.sleep(0)  # the node runs on this loop: let it read
    await expect_closed(node_id, "sending too many messages", ws)

    # One frame over the size limit (the websocket layer drops it unread).
    node_id = secrets.token_bytes(16)
    ws, channel = await link_up(target, node_id)
    with contextlib.suppress(ConnectionClosed):
        await ws.send(bytes(MAX_FRAME_BYTES + 1))  # unsealed: it is never read anyway
    stats["frames"] += 1
    await expect_closed(node_id, "message too big", ws)


def test_presence_floods_do_not_lock_new_clients_out() -> None:
    # Clients that left were kept for good and counted against MAX_CLIENTS, and
    # "left" entries for clients never seen were stored too: after enough of them
    # (a flood, or a long-running node seeing apps restart) no one new was shown.
    now = [0]
    presence = Presence(1, clock=lambda: now[0])
    presence.apply([AwarenessEntry(i, 7, None) for i in range(2, 20_000)], via="flood")
    presence.apply([AwarenessEntry(50_000, 1, {"user": {"name": "Ada"}})], via="ada")
    assert 50_000 in presence.states, "removals of unknown clients filled the table"

    presence.apply(
        [AwarenessEntry(i, 1, {"n": i}) for i in range(100_000, 100_000 + MAX_CLIENTS)],
        via="crowd",
    )
    presence.link_closed("crowd")
    presence.link_closed("ada")
    assert not presence.states
    now[0] += OUTDATED_MS
    presence.tick()
    presence.apply([AwarenessEntry(7, 1, {"user": {"name": "Bob"}})], via="bob")
    assert 7 in presence.states, "clients that left long ago still fill the table"
