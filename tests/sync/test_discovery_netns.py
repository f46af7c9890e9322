"""Discovery between two hosts in network namespaces: real interfaces, real addresses.

Each host runs tests/sync/discovery_peer.py in its own process, browsing all of its
(namespace's) interfaces as the app does by default.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.netns import Host, Lan, lan
from tests.support import timeout

ROOT = Path(__file__).resolve().parents[2]
Event = dict[str, Any]
# Start-up (~0.3 s) plus registration (~1.2 s, DESIGN.md 5), for a slow machine.
FIND_S = 10.0
# Address poll (0.2 s in the peer) plus re-announcement; losing an address also waits
# for a second announcement and the cache flush (1.25 s each, sync/discovery.py).
FOLLOW_S = 8.0
STOP_S = 5.0


class Peer:
    def __init__(self, process: asyncio.subprocess.Process, node_id: str) -> None:
        self.process = process
        self.node_id = node_id
        self.events: list[Event] = []

    async def expect(self, what: str, match: Callable[[Event], bool], seconds: float) -> Event:
        """The first event from now on that matches; fail after the deadline."""
        assert self.process.stdout is not None
        try:
            async with asyncio.timeout(timeout(seconds)):
                while line := await self.process.stdout.readline():
                    self.events.append(json.loads(line))
                    if match(self.events[-1]):
                        return self.events[-1]
        except TimeoutError:
            pass
        raise AssertionError(f"no event {what} in {timeout(seconds):.1f}s; saw {self.events}")

    async def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()


@asynccontextmanager
async def peer(host: Host, tags: str = "") -> AsyncIterator[Peer]:
    node_id = secrets.token_hex(16)
    args = ["--node-id", node_id, "--port", "7000", "--interface", host.interface]
    process = await asyncio.create_subprocess_exec(
        *host.python("-m", "tests.sync.discovery_peer", *args, "--tags", tags),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        yield Peer(process, node_id)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


def change(node_id: str, **fields: Any) -> Callable[[Event], bool]:
    def match(event: Event) -> bool:
        wanted = {"event": "change", "node_id": node_id, **fields}
        return all(event.get(key) == value for key, value in wanted.items())

    return match


@pytest.fixture
def net() -> Iterator[Lan]:
    with lan(2) as made:
        yield made


async def test_peers_find_each_other_and_follow_an_address_move(net: Lan) -> None:
    host_a, host_b = net.hosts
    async with peer(host_a, tags="red,blue") as a, peer(host_b) as b:
        await asyncio.gather(
            b.expect("b finds a", change(a.node_id, addresses=[host_a.address]), FIND_S),
            a.expect("a finds b", change(b.node_id, addresses=[host_b.address]), FIND_S),
        )
        assert b.events[-1] | {"addresses": None} == {
            "event": "change",
            "node_id": a.node_id,
            "addresses": None,
            "port": 7000,
            "tags": ["blue", "red"],
            "version": 1,
        }

        # a moves: a second address first, then the old one goes.
        new_address = net.free_address()
        host_a.add_address(new_address)
        both = sorted([host_a.address, new_address])
        await b.expect("b sees a's second address", change(a.node_id, addresses=both), FOLLOW_S)
        host_a.del_address(host_a.address)
        assert host_a.addresses() == [new_address]
        await b.expect(
            "b drops a's old address", change(a.node_id, addresses=[new_address]), FOLLOW_S
        )
        # a's goodbyes from its lost address cannot leave, so b never saw it go.
        assert [e for e in b.events if e["event"] == "gone"] == []

        await a.send("tags green")
        await b.expect("b sees a's new tags", change(a.node_id, tags=["green"]), FOLLOW_S)

        assert a.process.stdin is not None
        a.process.stdin.close()
        await a.expect("a to stop", lambda e: e["event"] == "stopped", STOP_S)
        await b.expect(
            "b sees a leave", lambda e: e == {"event": "gone", "node_id": a.node_id}, STOP_S
        )
    assert [e for e in b.events if e["event"] == "change" and e["node_id"] != a.node_id] == []


async def test_a_peer_that_crashed_is_dropped_when_we_move(net: Lan) -> None:
    # mDNS never says a crashed node left (DESIGN.md 5), but after a move we start
    # afresh and look every known peer up again.
    host_a, host_b = net.hosts
    async with peer(host_a) as a, peer(host_b) as b:
        await a.expect("a finds b", change(b.node_id), FIND_S)
        b.process.kill()
        await b.process.wait()

        new_address = net.free_address()
        host_a.add_address(new_address)
        host_a.del_address(host_a.address)
        gone = {"event": "gone", "node_id": b.node_id}
        await a.expect("a drops b", lambda e: e == gone, FOLLOW_S)
