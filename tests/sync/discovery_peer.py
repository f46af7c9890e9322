"""A Discovery in a process of its own, for tests that run it in a network namespace.

Prints one JSON object per line: ``{"event": "started"}``, then ``change`` (a PeerAd)
and ``gone`` events, and ``stopped`` at the end. Reads commands from stdin:
``tags a,b`` re-advertises with those tags; end of input stops it.

It browses all interfaces, so it refuses to run unless the host has no interfaces
but loopback and the one named by ``--interface``: it must never send mDNS on a real
network (DESIGN.md 6).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from typing import Any

import ifaddr

from lanban.sync.discovery import Discovery, PeerAd


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def on_change(ad: PeerAd) -> None:
    fields = asdict(ad)
    fields["addresses"] = list(ad.addresses)
    fields["tags"] = sorted(ad.tags)
    emit("change", **fields)


async def main(args: argparse.Namespace) -> None:
    names = {adapter.nice_name for adapter in ifaddr.get_adapters()}
    if names - {"lo", args.interface}:
        sys.exit(f"refusing to run with interfaces {sorted(names)}: not a test namespace")
    discovery = Discovery(
        node_id=args.node_id,
        port=args.port,
        tags=args.tags.split(",") if args.tags else [],
        on_change=on_change,
        on_gone=lambda node_id: emit("gone", node_id=node_id),
        address_poll_interval=args.poll,
    )
    await discovery.start()
    emit("started")
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while line := (await stdin.readline()).decode():
        command, _, arg = line.strip().partition(" ")
        if command == "tags":
            await discovery.update_tags(arg.split(",") if arg else [])
    await discovery.stop()
    emit("stopped")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--node-id", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tags", default="")
    parser.add_argument("--interface", required=True)
    parser.add_argument("--poll", type=float, default=0.2, help="address poll interval, s")
    asyncio.run(main(parser.parse_args()))
