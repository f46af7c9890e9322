"""A websocket carrying one board's session: a secure peer link or a relay link.

The link owns the I/O around a :class:`~lanban.sync.session.Session`: an ordered
send queue drained by one writer task, the reader loop, and a heartbeat
(websocket ping/pong) that closes a link whose peer went silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from websockets.asyncio.connection import Connection
from websockets.exceptions import ConnectionClosed

from .messages import ProtocolError
from .secure import SecureChannel, SecureError
from .session import LinkRefused, Session

log = logging.getLogger("lanban.link")

HEARTBEAT_INTERVAL_S = 5.0  # ping this often...
HEARTBEAT_TIMEOUT_S = 7.0  # ...and give up on a peer whose pong is this late: dead in < 15 s
MAX_BUFFERED_BYTES = 64 * 1024 * 1024  # a peer this far behind resyncs after a reconnect
CLOSE_POLICY = 1008  # websocket close code: policy violation

_ids = itertools.count(1)


class LinkKind(StrEnum):
    LAN = "lan"  # a secure peer-to-peer link
    RELAY = "relay"  # a plain y-websocket link through a relay


@dataclass
class LinkInfo:
    """What the status API tells about a link."""

    kind: LinkKind
    address: str  # host:port of the other end, or the relay URL
    initiator: bool  # we dialled
    peer_node: str = ""  # hex node id (LAN links)
    peer_name: str = ""
    connected_at: float = field(default_factory=time.time)
    last_heard: float = field(default_factory=time.time)


class Link:
    def __init__(
        self,
        ws: Connection,
        info: LinkInfo,
        channel: SecureChannel | None = None,
    ) -> None:
        self.id = next(_ids)
        self.ws = ws
        self.info = info
        self.channel = channel
        self.session: Session | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self.close_reason = ""
        self.closed = asyncio.Event()
        self.sync_announced = False  # the node has told its listeners this link synced

    def __repr__(self) -> str:
        peer = self.info.peer_name or self.info.peer_node[:8] or self.info.address
        return f"<Link {self.id} {self.info.kind} {peer}>"

    def send(self, frame: bytes) -> None:
        """Send a frame, in order; never blocks.

        The frame is written to the socket before this returns (an eagerly
        started task runs up to its first real wait, and websockets writes to
        the transport before it waits to drain), so a local edit leaves for
        peers before its own fsync. Frames sent while the socket is backed up
        wait in the transport's buffer, in order; a peer that lets that grow
        too far is dropped and resyncs after reconnecting.
        """
        if self.closed.is_set() or self.close_reason:
            return
        if self.channel is not None:
            frame = self.channel.seal(frame)
        transport = self.ws.transport
        if transport is not None and transport.get_write_buffer_size() > MAX_BUFFERED_BYTES:
            self.close("peer too slow: send buffer full")
            return
        task = asyncio.Task(self._send(frame), loop=asyncio.get_running_loop(), eager_start=True)
        if not task.done():
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, frame: bytes) -> None:
        try:
            await self.ws.send(frame)
        except ConnectionClosed:
            self.close("connection lost")

    def close(self, reason: str) -> None:
        if not self.close_reason:
            self.close_reason = reason
        self._stop.set()

    async def run(self, session: Session, on_frame: Callable[[Link], None] | None = None) -> str:
        """Run until the link closes; returns why."""
        self.session = session
        stop = asyncio.create_task(self._stop.wait(), name=f"{self!r} stop")
        heart = asyncio.create_task(self._heartbeat(), name=f"{self!r} heartbeat")
        reader = asyncio.create_task(self._read(session, on_frame), name=f"{self!r} reader")
        try:
            done, _ = await asyncio.wait({stop, heart, reader}, return_when="FIRST_COMPLETED")
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    exc = task.exception()
                    self.close_reason = self.close_reason or f"{type(exc).__name__}: {exc}"
        finally:
            for task in (stop, heart, reader, *self._sending):
                task.cancel()
            await asyncio.gather(stop, heart, reader, *self._sending, return_exceptions=True)
            self.closed.set()
            session.close()
            code = CLOSE_POLICY if self.close_reason.startswith("protocol") else 1000
            with contextlib.suppress(TimeoutError, ConnectionClosed, OSError):
                await asyncio.wait_for(self.ws.close(code, self.close_reason[:120]), 2.0)
        return self.close_reason or "closed"

    async def _read(self, session: Session, on_frame: Callable[[Link], None] | None) -> None:
        try:
            async for raw in self.ws:
                self.info.last_heard = time.time()
                if isinstance(raw, str):
                    raise ProtocolError("text frame on a binary protocol")
                frame = self.channel.open(raw) if self.channel is not None else raw
                session.receive(frame)
                if on_frame is not None:
                    on_frame(self)
        except (ProtocolError, SecureError) as exc:
            self.close_reason = f"protocol error: {exc}"
            log.warning("%r closed: %s", self, self.close_reason)
        except LinkRefused as exc:
            self.close_reason = f"refused: {exc}"
            log.warning("%r refused: %s", self, exc)
        except ConnectionClosed as exc:
            self.close_reason = (
                self.close_reason or f"connection closed ({exc.rcvd or 'no close frame'})"
            )
        self._stop.set()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_INTERVAL_S)
            try:
                pong = await self.ws.ping()
                await asyncio.wait_for(pong, HEARTBEAT_TIMEOUT_S)
            except TimeoutError:
                self.close_reason = "peer stopped answering (heartbeat)"
                self._stop.set()
                return
            except ConnectionClosed:
                return
            self.info.last_heard = time.time()


def describe(link: Link) -> dict[str, Any]:
    i = link.info
    return {
        "kind": str(i.kind),
        "address": i.address,
        "node_id": i.peer_node,
        "name": i.peer_name,
        "connected_since": i.connected_at,
        "last_heard": i.last_heard,
        "initiator": i.initiator,
    }
