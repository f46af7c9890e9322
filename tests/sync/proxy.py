"""A TCP forwarder on loopback that a test can cut and restore, like a network cable.

The proxies run on one asyncio loop in a background thread, so a plain (sync) test
that drives ``lanban`` subprocesses can use them as well as an async one::

    with proxies() as hub:
        p = hub.proxy(target_port)       # listens on 127.0.0.1:p.port
        ... dial 127.0.0.1:p.port ...
        p.cut()                          # every open connection drops, new ones are refused
        p.restore()
        p.retarget(new_port)             # the node behind it restarted on another port

With ``hub.proxy(port, record=True)`` it also keeps, per connection, every byte the
dialler sent (``p.recorded``), for replaying a real session later.

While cut, or while it has no target (or the target refuses), a proxy accepts a
connection and closes it at once: the dialler sees the connection fail, as when a
peer is unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

from tests.support import timeout

HOST = "127.0.0.1"
CHUNK_BYTES = 64 * 1024
CALL_TIMEOUT_S = 10.0  # a call from the test thread into the proxy loop
T = TypeVar("T")


class ProxyLoop:
    """One asyncio loop in a daemon thread, serving any number of proxies."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="proxy-loop", daemon=True)
        self._thread.start()
        self._proxies: list[Proxy] = []

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the proxy loop and wait for its result."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout(CALL_TIMEOUT_S))

    def proxy(self, target_port: int | None = None, *, record: bool = False) -> Proxy:
        proxy = Proxy(self, target_port, record=record)
        self.call(proxy._start())
        self._proxies.append(proxy)
        return proxy

    def close(self) -> None:
        for proxy in self._proxies:
            with contextlib.suppress(Exception):
                self.call(proxy._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout(CALL_TIMEOUT_S))
        if not self.loop.is_running():
            self.loop.close()


class Proxy:
    def __init__(self, hub: ProxyLoop, target_port: int | None, *, record: bool = False) -> None:
        self._hub = hub
        self._record = record
        self.recorded: list[bytearray] = []  # per connection: what the dialler sent
        self.target_port = target_port
        self.port = 0
        self.up = True
        self.accepted = 0  # connections forwarded to the target, ever
        self._server: asyncio.Server | None = None
        self._pipes: set[_Pipe] = set()

    def __repr__(self) -> str:
        state = "up" if self.up else "cut"
        return f"<Proxy :{self.port} -> :{self.target_port} {state}, {len(self._pipes)} open>"

    # ------------------------------------------------- called from any thread

    def cut(self) -> None:
        """Drop every open connection and refuse new ones until :meth:`restore`."""
        self._hub.call(self._set(up=False, drop=True))

    def restore(self) -> None:
        self._hub.call(self._set(up=True, drop=False))

    def retarget(self, port: int | None) -> None:
        """Forward new connections to ``port`` (open ones are dropped)."""
        self._hub.call(self._retarget(port))

    @property
    def open_connections(self) -> int:
        return len(self._pipes)

    # ------------------------------------------------------ on the proxy loop

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._accept, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        await self._set(up=False, drop=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _set(self, *, up: bool, drop: bool) -> None:
        self.up = up
        if drop:
            for pipe in list(self._pipes):
                pipe.drop()
            self._pipes.clear()

    async def _retarget(self, port: int | None) -> None:
        self.target_port = port
        await self._set(up=self.up, drop=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target = self.target_port
        if not self.up or target is None:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(HOST, target)
        except OSError:
            writer.transport.abort()
            return
        if not self.up or self.target_port != target:  # cut while we connected
            writer.transport.abort()
            up_writer.transport.abort()
            return
        self.accepted += 1
        recording = None
        if self._record:
            recording = bytearray()
            self.recorded.append(recording)
        pipe = _Pipe(writer, up_writer, recording)
        self._pipes.add(pipe)
        try:
            await pipe.run(reader, up_reader)
        finally:
            self._pipes.discard(pipe)


class _Pipe:
    """Both directions of one forwarded connection; either end closing drops both."""

    def __init__(
        self, down: asyncio.StreamWriter, up: asyncio.StreamWriter, recording: bytearray | None
    ) -> None:
        self._writers = (down, up)
        self._recording = recording
        self._tasks: list[asyncio.Task[None]] = []

    async def run(self, down_reader: asyncio.StreamReader, up_reader: asyncio.StreamReader) -> None:
        down, up = self._writers
        self._tasks = [
            asyncio.create_task(self._copy(down_reader, up, self._recording)),
            asyncio.create_task(self._copy(up_reader, down, None)),
        ]
        await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
        self.drop()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @staticmethod
    async def _copy(
        src: asyncio.StreamReader, dst: asyncio.StreamWriter, recording: bytearray | None
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await src.read(CHUNK_BYTES):
                if recording is not None:
                    recording += data
                dst.write(data)
                await dst.drain()

    def drop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for writer in self._writers:
            writer.transport.abort()


@contextlib.contextmanager
def proxies() -> Iterator[ProxyLoop]:
    hub = ProxyLoop()
    try:
        yield hub
    finally:
        hub.close()
