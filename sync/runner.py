"""Run a server in the foreground until SIGINT or SIGTERM, and parse its port: ``lanban serve`` and
``lanban relay``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Callable
from typing import Protocol


class Service(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def run_until_signal[S: Service](
    command: str,
    make: Callable[[], S],
    ready: Callable[[S], None],
    errors: tuple[type[Exception], ...],
) -> int:
    """Start ``make()``, call ``ready`` with it, stop it on SIGINT or SIGTERM; the exit code.

    One of ``errors`` (a busy port, an unreadable data directory) is printed as
    ``lanban COMMAND: error: ...`` and exits with 1.
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    async def until_signal() -> None:
        service = make()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C still works
                loop.add_signal_handler(sig, stop.set)
        await service.start()
        try:
            # What is alive now (modules, the server) stays: the collector need not
            # walk it again in every full collection while serving.
            gc.freeze()
            ready(service)
            await stop.wait()
        finally:
            await service.stop()

    try:
        asyncio.run(until_signal())
    except KeyboardInterrupt:
        pass
    except errors as exc:
        print(f"lanban {command}: error: {exc}", file=sys.stderr)
        return 1
    return 0


def whole_number(low: int, high: int | None, out_of_range: str) -> Callable[[str], int]:
    """An argparse type: an int from ``low`` to ``high`` (None: no upper bound);
    ``out_of_range`` says what is wrong with one outside, ``{value}`` standing for it."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(out_of_range.format(value=value))
        return value

    return parse


# argparse type for a TCP port (0 picks a free one); the node's and the relay's.
port_number = whole_number(0, 65535, "{value} is not a port number (0-65535)")
