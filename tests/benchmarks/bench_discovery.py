"""Time from a peer starting up to another node having resolved it, on loopback.

Compares sync.discovery.Discovery with bare python-zeroconf doing the same work
(start an AsyncZeroconf, register; browse, resolve on Added). Most of either is
mDNS probing (~1.2 s, DESIGN.md 5), so the ratio shows what Discovery adds.

    python tests/benchmarks/bench_discovery.py [repeats]

``run()`` returns the medians as one row for tests/benchmarks/run.py; ``figures()``
returns everything, each run's times included.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from zeroconf import ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from lanban.sync.discovery import RESOLVE_TIMEOUT_MS, SERVICE_TYPE, Discovery, PeerAd, pack_txt

LOOPBACK = ["127.0.0.1"]  # never mDNS on the real network (DESIGN.md 6)
REPEATS = 9
TARGET_RATIO = 1.05
# Far beyond the ~1.3 s a discovery takes; only stops a broken run.
TRIAL_TIMEOUT_S = 15.0


class Arrivals:
    """When each node id was first resolved by an observer."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self._waiting: dict[str, asyncio.Future[float]] = {}

    def seen(self, node_id: str) -> None:
        if node_id not in self.at:
            self.at[node_id] = time.perf_counter()
            future = self._waiting.pop(node_id, None)
            if future is not None and not future.done():
                future.set_result(self.at[node_id])

    async def wait(self, node_id: str) -> float:
        if node_id in self.at:
            return self.at[node_id]
        future = self._waiting.setdefault(node_id, asyncio.get_running_loop().create_future())
        return await asyncio.wait_for(future, TRIAL_TIMEOUT_S)


class BareObserver:
    """Browse and resolve with python-zeroconf alone."""

    def __init__(self, arrivals: Arrivals) -> None:
        self.arrivals = arrivals
        self.zc = AsyncZeroconf(interfaces=LOOPBACK)
        self.tasks: set[asyncio.Task[None]] = set()
        self.browser = AsyncServiceBrowser(self.zc.zeroconf, SERVICE_TYPE, handlers=[self.on_state])

    def on_state(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is ServiceStateChange.Added:
            task = asyncio.ensure_future(self.resolve(name))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def resolve(self, name: str) -> None:
        info = AsyncServiceInfo(SERVICE_TYPE, name)
        if await info.async_request(self.zc.zeroconf, RESOLVE_TIMEOUT_MS):
            node_id = info.properties.get(b"id")
            if node_id:
                self.arrivals.seen(node_id.decode())

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await self.browser.async_cancel()
        await self.zc.async_close()


async def ours_trial(arrivals: Arrivals) -> float:
    node_id = secrets.token_hex(16)
    started = time.perf_counter()
    peer = Discovery(
        node_id=node_id,
        port=9,
        tags=["bench"],
        interfaces=LOOPBACK,
        on_change=lambda ad: None,
        on_gone=lambda node_id: None,
    )
    await peer.start()
    try:
        return await arrivals.wait(node_id) - started
    finally:
        await peer.stop()


async def bare_trial(arrivals: Arrivals) -> float:
    node_id = secrets.token_hex(16)
    started = time.perf_counter()
    zc = AsyncZeroconf(interfaces=LOOPBACK)
    label = secrets.token_hex(8)
    info = AsyncServiceInfo(
        SERVICE_TYPE,
        f"{label}.{SERVICE_TYPE}",
        port=9,
        properties=pack_txt(node_id, ["bench"]),
        server=f"{label}.local.",
        parsed_addresses=LOOPBACK,
    )
    try:
        announcing = await zc.async_register_service(info)
        found = await arrivals.wait(node_id) - started
        await announcing
        return found
    finally:
        await zc.async_close()


async def measure(repeats: int) -> dict[str, Any]:
    ours_seen, bare_seen = Arrivals(), Arrivals()

    def on_change(ad: PeerAd) -> None:
        ours_seen.seen(ad.node_id)

    observer = Discovery(
        node_id=secrets.token_hex(16),
        port=9,
        tags=[],
        interfaces=LOOPBACK,
        on_change=on_change,
        on_gone=lambda node_id: None,
    )
    await observer.start()
    bare = BareObserver(bare_seen)
    trials: dict[str, list[float]] = {"ours": [], "bare": []}
    kinds: list[tuple[str, Callable[[], Awaitable[float]]]] = [
        ("ours", lambda: ours_trial(ours_seen)),
        ("bare", lambda: bare_trial(bare_seen)),
    ]
    try:
        for repeat in range(repeats):
            # Alternate which goes first, so drift affects both alike.
            for kind, trial in kinds if repeat % 2 == 0 else kinds[::-1]:
                trials[kind].append(await trial())
    finally:
        await bare.close()
        await observer.stop()
    ours, base = statistics.median(trials["ours"]), statistics.median(trials["bare"])
    return {
        "repeats": repeats,
        "ours_median_s": ours,
        "bare_median_s": base,
        "ratio": ours / base,
        "target_ratio": TARGET_RATIO,
        "ours_s": trials["ours"],
        "bare_s": trials["bare"],
    }


def figures(repeats: int = REPEATS) -> dict[str, Any]:
    """Every figure measured, each run's times included."""
    return asyncio.run(measure(repeats))


def run(repeats: int = REPEATS) -> dict[str, Any]:
    """The medians as one row for tests/benchmarks/run.py (fields of common.Row)."""
    measured = figures(repeats)
    return {
        "name": "discovery: peer start to resolved (loopback)",
        "ours": measured["ours_median_s"],
        "reference": measured["bare_median_s"],
        "unit": "s",
        "target": TARGET_RATIO,
        "note": f"median of {repeats}; reference: bare python-zeroconf",
    }


def main() -> None:
    measured = figures(int(sys.argv[1]) if len(sys.argv) > 1 else REPEATS)
    print(f"discovery on loopback, {measured['repeats']} runs each, start to resolved:")
    for kind in ("ours", "bare"):
        times = ", ".join(f"{t:.3f}" for t in measured[f"{kind}_s"])
        print(f"  {kind}: median {measured[f'{kind}_median_s']:.3f} s  ({times})")
    verdict = "ok" if measured["ratio"] <= TARGET_RATIO else "OVER TARGET"
    print(f"  ratio ours/bare: {measured['ratio']:.3f} (target <= {TARGET_RATIO}) {verdict}")


if __name__ == "__main__":
    main()
