"""One benchmark peer in a process of its own, driven by ``bench_sync``.

Each role runs a real :class:`~lanban.sync.node.Node` on a real data directory (SQLite board
files), prints ``ready {json}`` once listening, and then does its part:

- ``pong DATA_DIR [--echo]``: whenever a peer moves the ticket titled "ping" (a board
  event with origin REMOTE), move the ticket titled "pong" at once, from the listener,
  through ``Node.edit`` (its fsync runs on the board file's writer thread).
  With ``--echo`` it also serves a bare ``websockets`` echo (the reference round trip).
- ``ping DATA_DIR PLAN``: after every link is synced, alternate round trips of each
  kind in PLAN (a ping move answered by a pong move, per board; and the echo) and print
  ``result {json}`` with every round-trip time in seconds. The ping move is an awaited
  ``Node.edit``: the node's way to make an edit that is durable when the await
  returns, without holding the event loop during its fsync.
- ``hub DATA_DIR``: the node every fan-out peer dials, plus a bare ``websockets``
  server that broadcasts a frame of the same size (the reference). For each
  ``measure N SAMPLES WARMUP`` line on stdin it alternates one move of "ping" and one
  bare broadcast, waits for the N peers' acknowledgements (UDP) and prints, per
  sample, the time from the move (or the broadcast) to the last peer's receipt.
- ``fan DATA_DIR HUB_PORT BARE_PORT ACK_PORT``: a fan-out peer: dials the hub's node,
  connects a bare client to the hub's broadcast server, and on each remote move of
  "ping" (and each bare frame) sends the hub a UDP datagram with the time it saw it.

Times come from ``time.perf_counter``, which on Linux is CLOCK_MONOTONIC, one clock
for every process on the machine, so a peer's receipt time can be compared with the
hub's send time. Every role stops on SIGTERM or when stdin closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import websockets
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from lanban.model.board import Board
from lanban.model.events import BoardEvent, Kind, Origin
from lanban.sync.messages import SyncUpdate, encode
from lanban.sync.node import Node, NodeOptions
from lanban.sync.secure import AEAD_TAG_BYTES
from lanban.sync.store import Store

LINK_TIMEOUT_S = 30.0  # links up and synced, generous for 20 peers starting on 2 cores
SAMPLE_TIMEOUT_S = 5.0  # one round trip or fan-out; far above any real one
ACK = struct.Struct("!Bd")  # kind (0 node, 1 bare), perf_counter seconds
KIND_NODE, KIND_BARE = 0, 1


def emit(tag: str, data: object) -> None:
    print(f"{tag} {json.dumps(data)}", flush=True)


def ticket_named(board: Board, title: str) -> str:
    return next(t.id for t in board.tickets() if t.title == title)


def columns_named(board: Board, *titles: str) -> list[str]:
    by_title = {c.title: c.id for c in board.columns()}
    return [by_title[t] for t in titles]


def other(columns: list[str], current: str | None) -> str:
    return columns[1] if current == columns[0] else columns[0]


def moved(event: BoardEvent, ticket: str) -> bool:
    return event.origin == Origin.REMOTE and ticket in event.ticket_ids(Kind.TICKET_MOVED)


async def start_node(data_dir: str, peers: list[str] | None = None) -> Node:
    options = NodeOptions(host="127.0.0.1", port=0, discovery=False, peers=peers or [])
    node = Node(Store(data_dir), options)
    await node.start()
    return node


async def until_stopped(command: Callable[[str], None] | None = None) -> None:
    """Until SIGTERM, SIGINT or end of stdin; hand each stdin line to ``command``."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reader = await stdin_reader()

    async def eof() -> None:
        while line := await reader.readline():
            if command is not None:
                command(line.decode().strip())
        stop.set()

    watcher = asyncio.create_task(eof())
    await stop.wait()
    watcher.cancel()


async def stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def wait_synced(node: Node, links_per_board: int) -> None:
    """Until every board has this many links, all synced."""
    deadline = time.monotonic() + LINK_TIMEOUT_S
    while True:
        if all(
            sum(1 for lk in b.links.values() if lk.synced) >= links_per_board
            for b in node.boards.values()
        ):
            return
        if time.monotonic() > deadline:
            raise TimeoutError("links did not come up")
        await asyncio.sleep(0.01)


# ------------------------------------------------------------------ pong


def answer_pings(node: Node, board_id: str, stamps: list[float]) -> None:
    """On each remote move of "ping", note the time and move "pong" at once."""
    board = node.boards[board_id].board
    ping, pong = ticket_named(board, "ping"), ticket_named(board, "pong")
    cols = columns_named(board, "Q1", "Q2")
    writes: set[asyncio.Future[None]] = set()  # held until written (a failure is logged)

    def answer(event: BoardEvent) -> None:
        if moved(event, ping):
            stamps.append(time.perf_counter())
            written = node.edit(
                board_id, lambda: board.move_ticket(pong, other(cols, board.column_of(pong)))
            )
            writes.add(written)
            written.add_done_callback(writes.discard)

    board.subscribe(answer)


async def pong(data_dir: str, with_echo: bool) -> None:
    node = await start_node(data_dir)
    seen: dict[str, list[float]] = {"echo": []}  # when each ping arrived, per board
    for sync in node.boards.values():
        answer_pings(node, sync.id, seen.setdefault(sync.id, []))

    async def echo(ws: ServerConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for message in ws:
                seen["echo"].append(time.perf_counter())
                await ws.send(message)

    echo_port = None
    server = None
    if with_echo:  # same settings as the node's own sockets
        server = await serve(echo, "127.0.0.1", 0, compression=None, ping_interval=None)
        echo_port = next(iter(server.sockets)).getsockname()[1]
    emit("ready", {"port": node.address[1], "echo": echo_port})
    try:
        await until_stopped(lambda line: emit("stamps", seen) if line == "stamps" else None)
    finally:
        if server is not None:
            server.close()
        await node.stop()


# ------------------------------------------------------------------ ping


class RoundTrip:
    """Move "ping" on one board; done when that board's "pong" moves (REMOTE)."""

    def __init__(self, node: Node, board_id: str) -> None:
        self.node = node
        self.board_id = board_id
        board = self.board = node.boards[board_id].board
        self.ping = ticket_named(board, "ping")
        self.pong = ticket_named(board, "pong")
        self.p_cols = columns_named(board, "P1", "P2")
        self.waiter: asyncio.Future[float] | None = None
        self.update_bytes = 0
        self.starts: list[float] = []
        self.own: list[float] = []  # from A's move until it is on disk (fsynced)
        board.subscribe(self._on_event)
        board.on_update(self._on_update)

    def _on_event(self, event: BoardEvent) -> None:
        if self.waiter is not None and not self.waiter.done() and moved(event, self.pong):
            self.waiter.set_result(time.perf_counter())

    def _on_update(self, update: bytes, source: object) -> None:
        self.update_bytes = len(update)

    async def __call__(self) -> float:
        self.waiter = asyncio.get_running_loop().create_future()
        target = other(self.p_cols, self.board.column_of(self.ping))
        start = time.perf_counter()
        self.starts.append(start)
        durable = self.node.edit(self.board_id, lambda: self.board.move_ticket(self.ping, target))
        durable.add_done_callback(lambda _: self.own.append(time.perf_counter() - start))
        end = await asyncio.wait_for(self.waiter, SAMPLE_TIMEOUT_S)
        await asyncio.wait_for(durable, SAMPLE_TIMEOUT_S)  # the action is done once durable
        return end - start


class EchoTrip:
    """A bare websockets round trip of ``size`` bytes."""

    def __init__(self, ws: Any, size: Callable[[], int]) -> None:
        self.ws = ws
        self.size = size
        self.starts: list[float] = []

    async def __call__(self) -> float:
        payload = bytes(self.size())
        start = time.perf_counter()
        self.starts.append(start)
        await self.ws.send(payload)
        await asyncio.wait_for(self.ws.recv(), SAMPLE_TIMEOUT_S)
        return time.perf_counter() - start


async def ping(data_dir: str, plan: dict[str, Any]) -> None:
    peers = [plan["peer"]] if plan.get("peer") else []
    node = await start_node(data_dir, peers)
    try:
        await wait_synced(node, 1)
        trips: dict[str, RoundTrip | EchoTrip] = {}
        for label, board_id in plan["boards"].items():
            trips[label] = RoundTrip(node, board_id)
        ws = None
        if plan.get("echo"):
            first = next(iter(trips.values()))
            assert isinstance(first, RoundTrip)

            def frame_size() -> int:  # what the link sends for one move: sealed update
                return len(encode(SyncUpdate(bytes(first.update_bytes)))) + AEAD_TAG_BYTES

            ws = await connect(
                f"ws://127.0.0.1:{plan['echo']}", compression=None, ping_interval=None
            )
            trips["echo"] = EchoTrip(ws, frame_size)
        samples: dict[str, list[float]] = {label: [] for label in trips}
        kinds = list(trips)
        pause = plan["pause_s"]
        for i in range(plan["warmup"] + plan["samples"]):
            # Alternate the order as well, so neither kind always runs first after a pause.
            for label in kinds if i % 2 == 0 else kinds[::-1]:
                took = await trips[label]()
                if i >= plan["warmup"]:
                    samples[label].append(took)
                await asyncio.sleep(pause)
        sizes = {
            label: trip.update_bytes for label, trip in trips.items() if isinstance(trip, RoundTrip)
        }
        if ws is not None:
            await ws.close()
        starts = {label: trip.starts for label, trip in trips.items()}
        own = {label: trip.own for label, trip in trips.items() if isinstance(trip, RoundTrip)}
        emit("result", {"samples": samples, "starts": starts, "update_bytes": sizes, "own": own})
    finally:
        await node.stop()


# ------------------------------------------------------------------ fan-out


class Acks(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.seen: list[tuple[int, float]] = []
        self.expected = 0
        self.kind = KIND_NODE
        self.done: asyncio.Future[None] | None = None

    def datagram_received(self, data: bytes, addr: Any) -> None:
        kind, at = ACK.unpack(data)
        if kind != self.kind or self.done is None:
            return
        self.seen.append((kind, at))
        if len(self.seen) >= self.expected and not self.done.done():
            self.done.set_result(None)

    def expect(self, kind: int, count: int) -> asyncio.Future[None]:
        self.seen = []
        self.kind = kind
        self.expected = count
        self.done = asyncio.get_running_loop().create_future()
        return self.done


async def hub(data_dir: str) -> None:
    loop = asyncio.get_running_loop()
    node = await start_node(data_dir)
    (sync,) = node.boards.values()
    board = sync.board
    ping_id = ticket_named(board, "ping")
    p_cols = columns_named(board, "P1", "P2")
    frame = {"bytes": 64}

    def on_update(update: bytes, source: object) -> None:
        frame["bytes"] = len(encode(SyncUpdate(update))) + AEAD_TAG_BYTES

    board.on_update(on_update)
    clients: set[ServerConnection] = set()

    async def hold(ws: ServerConnection) -> None:
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    server = await serve(hold, "127.0.0.1", 0, compression=None, ping_interval=None)
    acks = Acks()
    transport, _ = await loop.create_datagram_endpoint(lambda: acks, local_addr=("127.0.0.1", 0))
    emit(
        "ready",
        {
            "port": node.address[1],
            "bare": next(iter(server.sockets)).getsockname()[1],
            "ack": transport.get_extra_info("sockname")[1],
        },
    )

    async def node_trip(n: int) -> float:
        done = acks.expect(KIND_NODE, n)
        start = time.perf_counter()
        board.move_ticket(ping_id, other(p_cols, board.column_of(ping_id)))
        await asyncio.wait_for(done, SAMPLE_TIMEOUT_S)
        return max(at for _, at in acks.seen) - start

    async def bare_trip(n: int) -> float:
        done = acks.expect(KIND_BARE, n)
        payload = bytes(frame["bytes"])
        start = time.perf_counter()
        websockets.broadcast(clients, payload)
        await asyncio.wait_for(done, SAMPLE_TIMEOUT_S)
        return max(at for _, at in acks.seen) - start

    reader = await stdin_reader()
    try:
        while line := (await reader.readline()).decode().split():
            n, count, warmup = (int(word) for word in line[1:4])  # measure N SAMPLES WARMUP
            await wait_synced(node, n)
            deadline = time.monotonic() + LINK_TIMEOUT_S
            while len(clients) < n:
                if time.monotonic() > deadline:
                    raise TimeoutError("bare clients did not connect")
                await asyncio.sleep(0.01)
            samples: dict[str, list[float]] = {"node": [], "bare": []}
            kinds = [("node", node_trip), ("bare", bare_trip)]
            for i in range(warmup + count):
                for label, trip in kinds if i % 2 == 0 else kinds[::-1]:
                    took = await trip(n)
                    if i >= warmup:
                        samples[label].append(took)
                    await asyncio.sleep(0.02)  # let every peer finish its fsync
            emit("result", {"n": n, "samples": samples, "frame_bytes": frame["bytes"]})
    finally:
        transport.close()
        server.close()
        await node.stop()


async def fan(data_dir: str, hub_port: int, bare_port: int, ack_port: int) -> None:
    node = await start_node(data_dir, [f"127.0.0.1:{hub_port}"])
    (sync,) = node.boards.values()
    board = sync.board
    ping_id = ticket_named(board, "ping")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    hub_addr = ("127.0.0.1", ack_port)

    def on_event(event: BoardEvent) -> None:
        if moved(event, ping_id):
            sock.sendto(ACK.pack(KIND_NODE, time.perf_counter()), hub_addr)

    board.subscribe(on_event)
    ws = await connect(f"ws://127.0.0.1:{bare_port}", compression=None, ping_interval=None)

    async def bare() -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for _ in ws:
                sock.sendto(ACK.pack(KIND_BARE, time.perf_counter()), hub_addr)

    reading = asyncio.create_task(bare())
    emit("ready", {"port": node.address[1]})
    try:
        await until_stopped()
    finally:
        reading.cancel()
        await ws.close()
        sock.close()
        await node.stop()


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    cpu = os.environ.get("LANBAN_BENCH_CPU")  # bench_sync.PIN_ENV: threads made later inherit it
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(cpu)})
    role, data_dir, *rest = argv
    if role == "pong":
        asyncio.run(pong(data_dir, "--echo" in rest))
    elif role == "ping":
        asyncio.run(ping(data_dir, json.loads(rest[0])))
    elif role == "hub":
        asyncio.run(hub(data_dir))
    elif role == "fan":
        asyncio.run(fan(data_dir, int(rest[0]), int(rest[1]), int(rest[2])))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
