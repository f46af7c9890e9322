"""A crowd in one relay room: ``lanban relay`` against the stock ``@y/websocket-server``.

    python -m tests.benchmarks.run relay_crowd
    (or: python -m tests.benchmarks.bench_relay_crowd)

Both relays run at once on loopback: ours as ``lanban relay`` ships (``python -m
sync.relay``, SQLite persistence on its store thread), the stock ``server.js`` 0.1.1 from
tests/interop/node_modules (Node 20, in memory, its default). 200 clients join one room
of each, in two kinds of load generator:

- **raw** (targets): two Python processes, 100 clients per relay in each, on raw
  websocket frames (a few microseconds a frame, so the relay is what is measured). A
  client speaks y-websocket's bytes as a provider does: sync step 1 on connect, step 2
  for the relay's step 1, an awareness state on connect, renewed as y-protocols does
  (checked every 3 s, renewed at 15 s old: clients that joined together renew
  together); it offers permessage-deflate as ``ws`` and browsers do; it keeps no
  document, it only notes when an update frame arrives.
- **stock** (figures, no targets): four Node processes of stock clients (yjs +
  y-websocket's WebsocketProvider over ``ws``, relay_crowd_clients.mjs), 50 per relay in
  each; each applies every update and awareness change, so the generator's share is
  larger: when all 400 renew their awareness together, the four Node processes want
  both cores, and a round through either relay may take 0.1-1.5 s (ours' event loop
  lagged up to ~250 ms in one such run; the raw rows show what the relays do alone).
  Before this issue's relay changes: p50 2.19x, worst 2.3 s.

A round is one write (a Y.Map set) until all 200 have received the update (raw: the
frame, the writer's echo included; stock: the doc's update event, the writer a 201st
client since a doc's own update comes back as no change); receipt times are on
CLOCK_MONOTONIC, one clock for every process on the machine. Rounds alternate between
the two relays (and which goes first), with a pause between rounds, so both see the
same machine noise. Targets: p50 at most 1.0x the stock server's, and no round of ours
over 100 ms (the raw "worst round" row).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import json
import random
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from pycrdt import Doc, Map

from lanban.sync.messages import Awareness, AwarenessEntry, SyncUpdate, encode

CLIENTS = 200
RAW_PROCESSES = 2
STOCK_PROCESSES = 4  # stock clients apply every update: heavier
SAMPLES = 300
WARMUP = 30
PAUSE_S = 0.02
WORST_BUDGET_MS = 100.0
AWARENESS_RENEW_S = 15.0
AWARENESS_CHECK_S = 3.0
ROOM = "crowd"
LABELS = ("ours", "stock")


# ------------------------------------------------------------ load generator

UPDATE, STEP1, STEP2 = bytes([0, 2]), bytes([0, 0]), bytes([0, 1])
EMPTY_STEP1 = bytes([0, 0, 1, 0])  # sync step 1 of an empty document
EMPTY_STEP2 = bytes([0, 1, 2, 0, 0])  # an empty update: no structs, no deletes


class Tally:
    """When each round's update reached this process's clients of one relay."""

    def __init__(self, label: str, count: int) -> None:
        self.label = label
        self.count = count
        self.seen: list[int] = []
        self.last: list[float] = []
        self.synced = 0

    def update(self, round_: int, now: float) -> None:
        if round_ == len(self.seen):
            self.seen.append(0)
            self.last.append(0.0)
        self.seen[round_] += 1
        self.last[round_] = max(self.last[round_], now)
        if self.seen[round_] == self.count:
            say("got", {"label": self.label, "round": round_, "t": self.last[round_]})


class CrowdClient(asyncio.Protocol):
    """A y-websocket client cut to what the bench needs, on raw websocket frames.

    websockets' client costs tens of microseconds a frame; this costs a few, so that 200
    of them in two processes measure the relay, not themselves. It offers
    permessage-deflate as stock clients (``ws``, browsers) do, and inflates if accepted.
    """

    def __init__(self, tally: Tally, host: str, index: int) -> None:
        self.tally = tally
        self.host = host
        self.client_id = random.getrandbits(31)
        self.state = {"user": {"name": f"{tally.label}-{index}"}}
        self.clock = 0
        self.renewed = 0.0
        self.received = 0
        self.buffer = bytearray()
        self.upgraded = False
        self.inflate: Any = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(random.randbytes(16)).decode()
        transport.write(
            f"GET /{ROOM} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n".encode()
        )

    def send(self, payload: bytes, opcode: int = 2) -> None:
        # Masked with the key 0 (allowed; the payload goes as it is).
        n = len(payload)
        if n < 126:
            head = bytes([0x80 | opcode, 0x80 | n])
        else:
            head = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
        assert self.transport is not None
        self.transport.write(head + bytes(4) + payload)

    def check_awareness(self) -> None:
        # y-protocols: every 3 s, renew the local state if it is 15 s old.
        if time.monotonic() - self.renewed >= AWARENESS_RENEW_S:
            self.clock += 1
            self.renewed = time.monotonic()
            self.send(encode(Awareness((AwarenessEntry(self.client_id, self.clock, self.state),))))
        asyncio.get_running_loop().call_later(AWARENESS_CHECK_S, self.check_awareness)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buffer[:end]).decode("latin-1").lower()
            del buffer[: end + 4]
            if not head.startswith("http/1.1 101"):
                raise RuntimeError(f"upgrade refused: {head}")
            if "permessage-deflate" in head:
                self.inflate = zlib.decompressobj(-15)
            self.upgraded = True
            self.send(EMPTY_STEP1)
            self.clock = 1
            self.renewed = time.monotonic()
            self.send(encode(Awareness((AwarenessEntry(self.client_id, 1, self.state),))))
            asyncio.get_running_loop().call_later(AWARENESS_CHECK_S, self.check_awareness)
        while len(buffer) >= 2:
            first, n = buffer[0], buffer[1] & 0x7F
            start = 2
            if n == 126:
                start, n = 4, int.from_bytes(buffer[2:4], "big")
            elif n == 127:
                start, n = 10, int.from_bytes(buffer[2:10], "big")
            if len(buffer) < start + n:
                return
            payload = bytes(buffer[start : start + n])
            del buffer[: start + n]
            if first & 0x40:
                payload = self.inflate.decompress(payload + b"\x00\x00\xff\xff")
            opcode = first & 0x0F
            if opcode == 9:
                self.send(payload, opcode=10)  # pong
            elif opcode == 2:
                self.message(payload[:2], now)

    def message(self, head: bytes, now: float) -> None:
        if head == UPDATE:
            self.tally.update(self.received, now)
            self.received += 1
        elif head == STEP1:
            self.send(EMPTY_STEP2)
        elif head == STEP2:
            self.tally.synced += 1


def say(tag: str, data: object) -> None:
    sys.stdout.write(f"{tag} {json.dumps(data)}\n")
    sys.stdout.flush()


async def crowd(urls: dict[str, str], count: int, writer: bool) -> None:
    """One load-generator process: ``count`` clients on each relay; commands on stdin."""
    loop = asyncio.get_running_loop()
    tallies = {label: Tally(label, count) for label in urls}
    first: dict[str, CrowdClient] = {}
    for label, url in urls.items():
        host = url.removeprefix("ws://")
        address, _, port = host.rpartition(":")
        for index in range(count):
            _, client = await loop.create_connection(
                functools.partial(CrowdClient, tallies[label], host, index), address, int(port)
            )
            first.setdefault(label, client)
    deadline = time.monotonic() + 120
    while any(t.synced < count for t in tallies.values()):
        if time.monotonic() > deadline:
            raise RuntimeError("the clients did not sync in 120 s")
        await asyncio.sleep(0.05)
    docs: dict[str, Doc[Any]] = {label: Doc() for label in urls}
    say("ready", {"clients": count * len(urls)})
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().strip():
        op, label, number = line.split()
        if op != "write" or not writer:
            continue
        doc = docs[label]
        before = doc.get_state()
        doc.get("map", type=Map)["k"] = int(number)
        frame = encode(SyncUpdate(doc.get_update(before)))
        start = time.monotonic()
        first[label].send(frame)
        say("wrote", {"t": start})


# ----------------------------------------------------------------- the bench


def generator_argv(kind: str, urls: dict[str, str], count: int, writer: bool) -> list[str]:
    """How to start one load-generator process of ``kind`` ("raw" or "stock")."""
    args = [json.dumps(urls), str(count), *(["--writer"] if writer else [])]
    if kind == "raw":
        return [sys.executable, "-m", "tests.benchmarks.bench_relay_crowd", "clients", *args]
    from tests.interop.harness import INTEROP_DIR

    # Evaluated in tests/interop, so that its imports find the pinned packages there.
    source = Path(__file__).with_name("relay_crowd_clients.mjs").read_text()
    node = 'cd "$1" && shift && exec node --input-type=module "$@"'
    return ["/bin/sh", "-c", node, "sh", str(INTEROP_DIR), "-e", source, *args]


def measure(kind: str, processes: int) -> dict[str, list[float]]:
    """Round times in seconds, per relay, with ``processes`` load generators of ``kind``."""
    from tests.benchmarks.bench_sync import Child, children
    from tests.interop.harness import RelayProcess, StockRelay

    samples: dict[str, list[float]] = {label: [] for label in LABELS}
    with tempfile.TemporaryDirectory() as tmp:
        ours = RelayProcess(Path(tmp) / "relay")
        try:
            stock = StockRelay()
            try:
                urls = {"ours": ours.url, "stock": stock.url}
                with children() as procs:
                    for i in range(processes):
                        argv = generator_argv(kind, urls, CLIENTS // processes, i == 0)
                        procs.append(Child(*argv))
                    for proc in procs:
                        proc.expect("ready")
                    for r in range(WARMUP + SAMPLES):
                        order = LABELS if r % 2 else LABELS[::-1]
                        for label in order:
                            procs[0].send(f"write {label} {r}")
                            start = procs[0].expect("wrote")["t"]
                            ends = [proc.expect("got") for proc in procs]
                            if any(e["label"] != label or e["round"] != r for e in ends):
                                raise RuntimeError(f"round {r} of {label}: {ends}")
                            if r >= WARMUP:
                                samples[label].append(max(e["t"] for e in ends) - start)
                            time.sleep(PAUSE_S)
            finally:
                stock.stop()
        finally:
            ours.stop()
    return samples


def rows(kind: str, samples: dict[str, list[float]], target: float | None) -> list[Any]:
    from tests.benchmarks.bench_sync import stats
    from tests.benchmarks.common import Row

    ours50, ours99 = (x * 1e3 for x in stats(samples["ours"]))
    stock50, stock99 = (x * 1e3 for x in stats(samples["stock"]))
    worst, stock_worst = max(samples["ours"]) * 1e3, max(samples["stock"]) * 1e3
    name = f"crowd of {CLIENTS} {kind} clients, write to all"
    note = f"ref: @y/websocket-server; {SAMPLES} rounds each"
    mean = f"mean {statistics.mean(samples['ours']) * 1e3:.1f}"
    mean += f" vs {statistics.mean(samples['stock']) * 1e3:.1f} ms"
    return [
        Row(f"{name}, p50", ours50, stock50, "ms", target, note),
        Row(f"{name}, p99", ours99, stock99, "ms", note=mean),
        Row(
            f"{name}, worst round",
            worst,
            WORST_BUDGET_MS,
            "ms",
            target,
            f"vs a 100 ms budget; stock's worst: {stock_worst:.1f} ms",
        ),
    ]


def run() -> list[Any]:
    from tests.interop.harness import NodeUnavailable, ensure_node_modules

    try:
        ensure_node_modules()
    except NodeUnavailable as exc:
        print(f"relay crowd benchmark skipped: {exc}", file=sys.stderr)
        return []
    raw = rows("raw", measure("raw", RAW_PROCESSES), 1.0)
    stock = rows("stock", measure("stock", STOCK_PROCESSES), None)
    return raw + stock


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="role")
    clients = sub.add_parser("clients")
    clients.add_argument("urls")
    clients.add_argument("count", type=int)
    clients.add_argument("--writer", action="store_true")
    args = parser.parse_args(argv)
    if args.role == "clients":
        asyncio.run(crowd(json.loads(args.urls), args.count, args.writer))
        return 0
    from tests.benchmarks.common import HEADER

    print(HEADER)
    for row in run():
        print(row.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
