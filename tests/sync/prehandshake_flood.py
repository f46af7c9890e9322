"""A keyless attacker for tests: connections to a node that never finish the handshake.

    python -m tests.sync.prehandshake_flood PORT CONNECTIONS ADDRESSES READY [raw]

Opens CONNECTIONS connections to 127.0.0.1:PORT, spread over ADDRESSES source
addresses 127.0.1.1, 127.0.1.2, ... (all of 127.0.0.0/8 is loopback on Linux; the
honest peer keeps 127.0.0.1 to itself). Every other connection completes the
websocket upgrade to ``/p2p`` and then says nothing; the rest say nothing at all
(with ``raw``, none upgrade). A connection the node drops is reopened at once, for
as long as the process runs (until SIGTERM). Prints ``ready`` once READY
connections have opened, reopened ones included.
"""

from __future__ import annotations

import asyncio
import base64
import os
import resource
import sys

UPGRADE = (
    "GET /p2p HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
REFUSED_PAUSE_S = 0.01  # when the node refuses the TCP connection itself


def source_address(i: int) -> str:
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


class Counts:
    def __init__(self, target: int) -> None:
        self.target = target
        self.opened = 0
        self.ready = asyncio.Event()


async def hold(port: int, source: str, upgrade: bool, counts: Counts) -> None:
    while True:
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=(source, 0)
            )
        except OSError:
            await asyncio.sleep(REFUSED_PAUSE_S)
            continue
        counts.opened += 1
        if counts.opened >= counts.target:
            counts.ready.set()
        try:
            if upgrade:
                key = base64.b64encode(os.urandom(16)).decode()
                writer.write(UPGRADE.format(key=key).encode())
            while await reader.read(65536):
                pass  # the node's OPEN, and nothing else ever
        except OSError:
            pass
        finally:
            writer.transport.abort()


async def main(port: int, connections: int, addresses: int, ready: int, upgrades: bool) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    counts = Counts(ready)
    tasks = [
        asyncio.create_task(
            hold(port, source_address(i % addresses), upgrades and i % 2 == 0, counts)
        )
        for i in range(connections)
    ]
    await counts.ready.wait()
    print("ready", flush=True)
    await asyncio.gather(*tasks)  # until SIGTERM


if __name__ == "__main__":
    port, connections, addresses, ready = (int(arg) for arg in sys.argv[1:5])
    asyncio.run(main(port, connections, addresses, ready, sys.argv[5:6] != ["raw"]))
