"""Sync over real sockets, real processes and real data directories, against references.

    python -m tests.benchmarks.run sync          (or: python -m tests.benchmarks.bench_sync)

Every node here is a :class:`~lanban.sync.node.Node` on its own data directory (SQLite board
files, fsynced as the product does it), in a process of its own (``sync_peer.py``), on
loopback. The board has 100 tickets in a backlog column besides the two that move.
Percentiles are over all samples after warm-ups; p99 of 1,000 samples is about their
10th largest, so it moves with whatever else the machine is doing (the reference shares
that noise: samples of ours and of the reference alternate).

- **move to peer, direct link** (1,000 round trips of each, after 100 warm-ups):
  process A moves ticket "ping"; process B, on the remote move event
  (``Board.subscribe``, origin REMOTE), moves ticket "pong" right in the listener; A
  stops the clock on the remote event for "pong". That is two move-to-peer hops (A's
  move, seal, send; B's receive, open, decode, check, apply with observers, event;
  and back; the store writes are queued for the writer threads, off the path),
  halved for the "per hop" rows. Reference: a bare ``websockets``
  echo between the same two processes (server in B's process, client in A's,
  ``compression=None`` like the node's sockets, frames the size of the sealed move
  update): also two hops. Samples alternate move / echo, and which goes first, with
  5 ms between round trips. The "one way" rows time A's move (or the echo's send) to
  B's event (or the echo server's receipt) on CLOCK_MONOTONIC, one clock for every
  process on the machine. Both moves are made with ``Node.edit``, the node's way to
  edit: the change is applied and sent at once, its fsync runs on the board file's
  writer thread, and the returned future resolves once it is on disk. A awaits it
  (after the round trip's clock has stopped, before the next sample), so every
  move is durable when its action completes, but A's event loop is free during the
  fsync and handles B's answer meanwhile. Targets: round trip p99 at most 2x the
  echo's, and p99 per hop under 10 ms (the budget row takes the larger p99 of the
  two methods). The "A's own move" row (no target) is the time from A's move until
  it is on disk (the edit's future resolved), fsync included, against the echo's
  round trip p99: the durability the round trip no longer waits for. Where each
  round trip ends: the echo's when ``recv()`` returns in the ping task, as a bare
  websockets program reads (one task wake-up after the frame is parsed); ours at the
  board event, which a node's link raises from ``data_received`` itself
  (sync/frame_tap.py), saving that wake-up on each receive (p50 per hop 0.42 ->
  0.37 ms when it came in, one run). What remains of a hop is Python on its path,
  cold after each pause (p50 ~0.30-0.34 ms per hop against the echo's
  ~0.09-0.11): of B's ~180 us from
  a frame's first byte to its answer's send (p50, traced in these processes),
  websockets parsing the frame ~21 (the echo's too), opening it ~10, the update
  guard ~48 with the calls that lead to it, pycrdt applying and committing with the
  model's observers and the after-commit listeners ~58, the model's event ~12, the
  answer's move until its send ~35. On a quiet
  machine the echo's p99 per hop (~0.17 ms) is under half our p50, so the 2x
  target holds only while load stretches both tails.
- **move to peer through a relay** (600 round trips of each): the same processes and
  method, with no direct link: each board names its relay (as an invite does) and
  both nodes connect to it. One board goes through our relay (``python -m
  sync.relay``, what ``lanban relay`` runs: SQLite persistence on its store thread, as
  shipped), the other through the stock ``@y/websocket-server`` 0.1.1 ``server.js``
  (Node 20, in memory, its default); round trips alternate between the two boards, so
  both relays see the same node processes and the same machine noise. Target: <= 1.0x.
- **fan-out** (150 moves for each N, after 20 warm-ups): hub A and N peers, each peer
  a process of its own that dialled A, as N machines on a LAN would be (several nodes
  per process would serialize them in one loop, which no deployment does). Time from
  A's move to the last of the N peers' remote move events (the peers' timestamps, on
  the shared clock, come back over UDP). Reference: a bare ``websockets.broadcast``
  from A's process of a frame of the same size to a bare client in each peer process,
  timed to the last receipt; moves and broadcasts alternate. Peers are added as N
  grows (2, 5, 10, 20). This machine has 2 cores: past two peers the N processes
  queue for the CPU, and the growth includes that, for ours and the reference alike.
  Growth target: time(20)/time(2) no worse than linear (<= 20/2).
- **resync bytes**: A and B synced, B stops; A makes 1,000 edits (3 moves, 1 title
  edit and 1 one-character description insert in every 5, each its own transaction,
  as a user makes them); B starts again and dials A through a counting TCP proxy.
  Ours: every byte A sent on that connection until B holds A's state (HTTP upgrade,
  link handshake, node info, sync step 1 and step 2, awareness; websocket framing and
  AEAD tags included). References: the sum of the 1,000 updates as ``on_update``
  handed them over (a replay of the edits; target <= 1.1x) and their merged update
  (``pycrdt.merge_updates``, about the least a Yjs peer can send). Bytes do not depend
  on scheduling, so these two nodes share this process.
- **discovery**: see ``bench_discovery`` (runner suite "discovery").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pycrdt import merge_updates

from lanban.model.board import Board
from lanban.sync.node import Node, NodeOptions
from lanban.sync.store import Store
from tests.benchmarks.common import Row
from tests.interop.harness import NodeUnavailable, RelayProcess, StockRelay, ensure_node_modules

ROOT = Path(__file__).resolve().parents[2]

LATENCY_SAMPLES = 1000
RELAY_SAMPLES = 600
WARMUP = 100
PAUSE_S = 0.005  # between round trips: moves come from people, not a tight loop
PIN_ENV = "LANBAN_BENCH_CPU"  # sync_peer runs on this core only
FAN_OUT = (2, 5, 10, 20)
FAN_SAMPLES = 150
FAN_WARMUP = 20
OFFLINE_EDITS = 1000
FILLER_TICKETS = 100
LATENCY_BUDGET_MS = 10.0
CHILD_TIMEOUT_S = 120.0


# ------------------------------------------------------------- processes


class Child:
    """A subprocess that answers with ``tag {json}`` lines on stdout."""

    def __init__(self, *argv: str, env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ | {"PYTHONUNBUFFERED": "1"} | (env or {}),
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.errors: list[str] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for stream, sink in ((self.proc.stdout, self.lines.put), (self.proc.stderr, None)):
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True).start()

    def _pump(self, stream: Any, sink: Any) -> None:
        for line in stream:
            if sink is None:
                self.errors.append(line)
            else:
                sink(line)

    def expect(self, tag: str, seconds: float = CHILD_TIMEOUT_S) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(self._why(f"no {tag!r} line in {seconds:.0f} s")) from None
            if line.startswith(tag + " "):
                return json.loads(line[len(tag) + 1 :])  # type: ignore[no-any-return]

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            self.proc.terminate()  # a peer stops on either
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _why(self, what: str) -> str:
        tail = "".join(self.errors[-20:])
        return f"{' '.join(self.argv[2:5])}: {what}; exit {self.proc.poll()}\n{tail}"


def peer(role: str, *args: str, cpu: int | None = None) -> Child:
    """A sync_peer process; ``cpu``: the one core it runs on (Linux)."""
    env = {} if cpu is None else {PIN_ENV: str(cpu)}
    return Child(sys.executable, "-m", "tests.benchmarks.sync_peer", role, *args, env=env)


def two_cores() -> tuple[int, int] | None:
    """Two cores this process may use, one per peer (None where affinity is not settable)."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    return (cores[0], cores[1]) if len(cores) >= 2 else None


@contextlib.contextmanager
def children() -> Iterator[list[Child]]:
    started: list[Child] = []
    try:
        yield started
    finally:
        for child in reversed(started):
            child.stop()


# ----------------------------------------------------------------- boards


def bench_board(title: str) -> Board:
    board = Board.create(title, ["Backlog", "P1", "P2", "Q1", "Q2"], actor="bench")
    cols = {c.title: c.id for c in board.columns()}
    for i in range(FILLER_TICKETS):
        board.add_ticket(f"Ticket {i}", cols["Backlog"])
    board.add_ticket("ping", cols["P1"])
    board.add_ticket("pong", cols["Q1"])
    return board


def share(board: Board, stores: list[Store], relay: str | None = None) -> str:
    """Give every store the board, synced already (same state, same key)."""
    first = stores[0].add_board(board, relay=relay)
    key = first.key
    first.close()
    update = board.get_update()
    for store in stores[1:]:
        copy = Board.from_update(update, actor="bench")
        store.add_board(copy, key=key, board_id=board.id, relay=relay).close()
    return board.id


def stats(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) of samples."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


# ---------------------------------------------------------------- latency


def round_trips(
    tmp: Path,
    boards: dict[str, Board],
    relays: dict[str, str | None],
    cores: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Run a pong and a ping process over these boards; their round-trip samples.
    ``cores``: pong's and ping's core (else the scheduler places them)."""
    a, b = Store(tmp / "a"), Store(tmp / "b")
    ids = {label: share(board, [a, b], relays.get(label)) for label, board in boards.items()}
    direct = not any(relays.values())
    with children() as procs:
        pong_cpu, ping_cpu = cores if cores is not None else (None, None)
        echo = ["--echo"] if direct else []
        procs.append(peer("pong", str(b.root), *echo, cpu=pong_cpu))
        ready = procs[-1].expect("ready")
        plan = {
            "peer": f"127.0.0.1:{ready['port']}" if direct else None,
            "boards": ids,
            "echo": ready["echo"],
            "samples": LATENCY_SAMPLES if direct else RELAY_SAMPLES,
            "warmup": WARMUP,
            "pause_s": PAUSE_S,
        }
        procs.append(peer("ping", str(a.root), json.dumps(plan), cpu=ping_cpu))
        result = procs[-1].expect("result", 600)
        procs[0].send("stamps")
        seen = procs[0].expect("stamps")
    # One way: from A's move (or echo send) to B's event (or echo receipt), on the
    # machine-wide monotonic clock; warm-ups dropped.
    result["one_way"] = {}
    for label, starts in result["starts"].items():
        arrived = seen[ids.get(label, label)]
        if len(arrived) != len(starts):
            raise RuntimeError(f"{label}: {len(starts)} sent, {len(arrived)} seen")
        result["one_way"][label] = [t - s for s, t in zip(starts, arrived, strict=True)][WARMUP:]
    return result


def ms(samples: list[float], scale: float = 1.0) -> tuple[float, float]:
    """(p50, p99) in milliseconds, times ``scale``."""
    p50, p99 = stats(samples)
    return p50 * 1e3 * scale, p99 * 1e3 * scale


def bench_direct() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        result = round_trips(Path(tmp), {"node": bench_board("Direct")}, {})
    pinned = pinned_rows()
    ours50, ours99 = ms(result["samples"]["node"], 0.5)
    echo50, echo99 = ms(result["samples"]["echo"], 0.5)
    one50, one99 = ms(result["one_way"]["node"])
    echo_one50, echo_one99 = ms(result["one_way"]["echo"])
    size = result["update_bytes"]["node"]
    n = len(result["samples"]["node"])
    own50, own99 = ms(result["own"]["node"][WARMUP:])
    echo_rt99 = echo99 * 2
    worst = max(ours99, one99)
    return [
        Row(
            "move to peer, direct link, p50 per hop",
            ours50,
            echo50,
            "ms",
            note=f"round trip / 2; ref: ws echo; {n} each, update {size} B",
        ),
        Row("move to peer, direct link, p99 per hop", ours99, echo99, "ms", target=2.0),
        Row(
            "move to peer, direct link, p50 one way",
            one50,
            echo_one50,
            "ms",
            note="A's move to B's event; ref: echo send to receipt",
        ),
        Row("move to peer, direct link, p99 one way", one99, echo_one99, "ms"),
        Row(
            "move to peer, direct link, p99 vs 10 ms budget",
            worst,
            LATENCY_BUDGET_MS,
            "ms",
            target=1.0,
            note="the larger p99 of the two above",
        ),
        Row(
            "move to peer, direct link, p99 of A's own move",
            own99,
            echo_rt99,
            "ms",
            note=f"until on disk, fsync included (p50 {own50:.3f}); ref: echo round trip p99",
        ),
        *pinned,
    ]


def pinned_rows() -> list[Row]:
    """The same round trips with each peer process on a core of its own, as two machines
    would be: no target (the rows above keep it)."""
    cores = two_cores()
    if cores is None:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        result = round_trips(Path(tmp), {"node": bench_board("Pinned")}, {}, cores)
    ours50, ours99 = ms(result["samples"]["node"], 0.5)
    echo50, echo99 = ms(result["samples"]["echo"], 0.5)
    return [
        Row(
            "  same, a core per peer, p50 per hop",
            ours50,
            echo50,
            "ms",
            note=f"cores {cores[1]} (A) and {cores[0]} (B), echo too",
        ),
        Row("  same, a core per peer, p99 per hop", ours99, echo99, "ms"),
    ]


def bench_relay() -> list[Row]:
    try:
        ensure_node_modules()
    except NodeUnavailable as exc:
        print(f"relay benchmark skipped: {exc}", file=sys.stderr)
        return []
    with tempfile.TemporaryDirectory() as tmp:
        ours = RelayProcess(Path(tmp) / "relay")
        try:
            stock = StockRelay()
            try:
                boards = {"ours": bench_board("Via ours"), "stock": bench_board("Via stock")}
                urls: dict[str, str | None] = {"ours": ours.url, "stock": stock.url}
                result = round_trips(Path(tmp), boards, urls)
            finally:
                stock.stop()
        finally:
            ours.stop()
    ours50, ours99 = ms(result["samples"]["ours"], 0.5)
    stock50, stock99 = ms(result["samples"]["stock"], 0.5)
    one50, one99 = ms(result["one_way"]["ours"])
    stock_one50, stock_one99 = ms(result["one_way"]["stock"])
    n = len(result["samples"]["ours"])
    return [
        Row(
            "move to peer via relay, p50 per hop",
            ours50,
            stock50,
            "ms",
            target=1.0,
            note=f"round trip / 2; ref: @y/websocket-server; {n} each",
        ),
        Row("move to peer via relay, p99 per hop", ours99, stock99, "ms", target=1.0),
        Row("move to peer via relay, p50 one way", one50, stock_one50, "ms"),
        Row("move to peer via relay, p99 one way", one99, stock_one99, "ms"),
    ]


# ----------------------------------------------------------------- fan-out


def bench_fan_out() -> list[Row]:
    board = bench_board("Fan-out")
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp, children() as procs:
        stores = [Store(Path(tmp) / f"n{i}") for i in range(max(FAN_OUT) + 1)]
        share(board, stores)
        procs.append(peer("hub", str(stores[0].root)))
        hub = procs[0]
        ready = hub.expect("ready")
        ports = [str(ready[k]) for k in ("port", "bare", "ack")]
        started = 0
        for n in FAN_OUT:
            while started < n:  # add peers; the hub waits until all are linked and synced
                started += 1
                procs.append(peer("fan", str(stores[started].root), *ports))
                procs[-1].expect("ready")
            hub.send(f"measure {n} {FAN_SAMPLES} {FAN_WARMUP}")
            results[n] = hub.expect("result", 600)
    rows = []
    medians: dict[int, float] = {}
    for n in FAN_OUT:
        ours, bare = ms(results[n]["samples"]["node"]), ms(results[n]["samples"]["bare"])
        medians[n] = ours[0]
        rows.append(
            Row(
                f"fan-out of one move to {n} peers, p50 (p99 {ours[1]:.2f}/{bare[1]:.2f})",
                ours[0],
                bare[0],
                "ms",
                note="to the last peer's event; ref: ws broadcast" if n == FAN_OUT[0] else "",
            )
        )
    low, high = FAN_OUT[0], FAN_OUT[-1]
    rows.append(
        Row(
            f"fan-out growth, time({high})/time({low}) vs linear",
            medians[high] / medians[low],
            high / low,
            "x",
            target=1.0,
            note=f"ref: {high}/{low}, linear growth",
        )
    )
    return rows


# ------------------------------------------------------------------ resync


class CountingProxy:
    """A TCP proxy to ``port`` that counts the bytes of each connection, both ways."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections: list[dict[str, int]] = []
        self.server: asyncio.Server | None = None
        self.address = ""

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.address = f"127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        counts = {"to_target": 0, "from_target": 0}
        self.connections.append(counts)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, key: str) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    counts[key] += len(data)
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(
            pipe(reader, up_writer, "to_target"), pipe(up_reader, writer, "from_target")
        )


async def _until(condition: Any, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.01)


def _offline_edits(board: Board, updates: list[bytes], count: int) -> None:
    """Until ``count`` updates: 3 moves, 1 title edit, 1 description insert in 5.

    (A move to where the ticket already is makes no update; it is not counted.)
    """
    rng = random.Random(7)
    tickets = [t.id for t in board.tickets()]
    columns = [c.id for c in board.columns()]
    i = 0
    while len(updates) < count:
        i += 1
        tid = rng.choice(tickets)
        kind = i % 5
        if kind < 3:
            board.move_ticket(tid, rng.choice(columns), rng.randrange(20))
        elif kind == 3:
            board.edit_ticket(tid, title=f"Ticket {tid} edited {i}")
        else:
            board.splice_description(tid, len(board.description(tid)), 0, "x")


async def _resync() -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Store(Path(tmp) / "a"), Store(Path(tmp) / "b")
        board_id = share(bench_board("Resync"), [a, b])
        options = NodeOptions(host="127.0.0.1", discovery=False)
        node_a = Node(a, options)
        await node_a.start()
        proxy = CountingProxy(node_a.address[1])
        await proxy.start()
        try:
            board_a = node_a.boards[board_id].board

            def link_synced(node: Node) -> bool:
                links = node.boards[board_id].links.values()
                return any(lk.synced for lk in links)

            b_options = NodeOptions(host="127.0.0.1", discovery=False, peers=[proxy.address])
            node_b = Node(b, b_options)
            await node_b.start()
            await _until(lambda: link_synced(node_a) and link_synced(node_b))
            await node_b.stop()
            await _until(lambda: not node_a.boards[board_id].links)
            updates: list[bytes] = []
            unlisten = board_a.on_update(lambda update, source: updates.append(update))
            _offline_edits(board_a, updates, OFFLINE_EDITS)
            unlisten()
            before = len(proxy.connections)
            node_b = Node(b, b_options)
            await node_b.start()
            board_b = node_b.boards[board_id].board
            try:
                # A diff against a complete state still carries the delete set.
                nothing = board_a.get_update(board_a.get_state())
                await _until(lambda: board_a.get_update(board_b.get_state()) == nothing)
                await _until(lambda: link_synced(node_a) and link_synced(node_b))
                await asyncio.sleep(0.5)  # anything else the link sends at start
                assert len(proxy.connections) == before + 1, "B dialled more than once"
                counts = proxy.connections[-1]
            finally:
                await node_b.stop()
        finally:
            await proxy.stop()
            await node_a.stop()
    return {
        "wire": counts["from_target"],
        "wire_b": counts["to_target"],
        "sum": sum(len(u) for u in updates),
        "merged": len(merge_updates(*updates)),
        "count": len(updates),
    }


def bench_resync() -> list[Row]:
    figures = asyncio.run(_resync())
    kib = 1 / 1024
    return [
        Row(
            f"resync after {figures['count']:,} offline edits, A's wire bytes",
            figures["wire"] * kib,
            figures["sum"] * kib,
            "KiB",
            target=1.1,
            note="ref: sum of the edits' updates",
        ),
        Row(
            "  same, vs the merged update",
            figures["wire"] * kib,
            figures["merged"] * kib,
            "KiB",
            note=f"ref: merge_updates(all); B sent {figures['wire_b']:,} B",
        ),
    ]


def run() -> list[Row]:
    return bench_direct() + bench_relay() + bench_fan_out() + bench_resync()


if __name__ == "__main__":
    from tests.benchmarks.common import HEADER

    print(HEADER)
    for row in run():
        print(row.line(), flush=True)
