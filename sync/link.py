"""A websocket carrying one board's session: a secure peer link or a relay link.

The link owns the I/O around a :class:`~lanban.sync.session.Session`: the
reader loop, and sends written straight to the socket. A silent peer is
dropped by websockets' keepalive (:mod:`.connect`), which ends the reader.
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

from websockets.asyncio.connection import Connection, broadcast
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

from .connect import CLOSE_REFUSED, PING_INTERVAL_S
from .frame_tap import frames_as_parsed, recv_frame
from .messages import ProtocolError
from .secure import SecureChannel, SecureError
from .session import LinkRefused, Session
from .status import LinkStatus

log = logging.getLogger("lanban.link")

MAX_BUFFERED_BYTES = 64 * 1024 * 1024  # a peer this far behind resyncs after a reconnect
KEEPALIVE_TIMEOUT = 1011  # the close code websockets' keepalive fails a link with

_ids = itertools.count(1)


class LinkKind(StrEnum):
    LAN = "lan"  # a secure peer-to-peer link
    RELAY = "relay"  # a plain y-websocket link through a relay


@dataclass
class LinkInfo:
    """Who is at the other end, for the status."""

    kind: LinkKind
    address: str  # host:port of the other end, or the relay URL
    initiator: bool  # we dialled
    peer_node: str = ""  # hex node id (LAN links)
    peer_name: str = ""
    connected_at: float = field(default_factory=time.time)
    last_frame_at: float = field(default_factory=time.time)


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
        self._stop = asyncio.Event()
        self.close_reason = ""
        self.closed = asyncio.Event()

    def __repr__(self) -> str:
        peer = self.info.peer_name or self.info.peer_node[:8] or self.info.address
        return f"<Link {self.id} {self.info.kind} {peer}>"

    @property
    def synced(self) -> bool:
        return self.session is not None and self.session.synced

    def send(self, frame: bytes) -> None:
        """Write a frame to the socket now, in order; never blocks.

        A local edit thus leaves for peers before its own fsync. Frames sent
        while the socket is backed up wait in the transport's buffer, in
        order; a peer that lets that grow too far is dropped and resyncs after
        reconnecting.
        """
        if self.close_reason:
            return
        if self.channel is not None:
            frame = self.channel.seal(frame)
        transport = self.ws.transport
        if transport is not None and transport.get_write_buffer_size() > MAX_BUFFERED_BYTES:
            self.close("peer too slow: send buffer full")
            return
        # websockets' synchronous write path: it skips a socket that is closing (the
        # reader then ends the link) and does not wait for the buffer to drain.
        broadcast((self.ws,), frame)

    def close(self, reason: str) -> None:
        if not self.close_reason:
            self.close_reason = reason
        self._stop.set()

    def status(self) -> LinkStatus:
        i = self.info
        # While the link is open, websockets' keepalive has heard the peer
        # answer a ping within about one interval.
        heard = i.last_frame_at
        if not self.closed.is_set():
            heard = max(heard, time.time() - PING_INTERVAL_S)
        return LinkStatus(
            kind=str(i.kind),
            address=i.address,
            node_id=i.peer_node,
            name=i.peer_name,
            connected_since=i.connected_at,
            last_heard=heard,
            initiator=i.initiator,
            synced=self.synced,
        )

    async def run(self, session: Session, on_frame: Callable[[Link], None] | None = None) -> str:
        """Run until the link closes; returns why."""
        self.session = session
        stop = asyncio.create_task(self._stop.wait(), name=f"{self!r} stop")
        reader = asyncio.create_task(self._read(session, on_frame), name=f"{self!r} reader")
        try:
            done, _ = await asyncio.wait({stop, reader}, return_when="FIRST_COMPLETED")
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    exc = task.exception()
                    self.close_reason = self.close_reason or f"{type(exc).__name__}: {exc}"
        finally:
            for task in (stop, reader):
                task.cancel()
            await asyncio.gather(stop, reader, return_exceptions=True)
            self.closed.set()
            session.close()
            code = CLOSE_REFUSED if self.close_reason.startswith("protocol") else 1000
            with contextlib.suppress(TimeoutError, ConnectionClosed, OSError):
                await asyncio.wait_for(self.ws.close(code, self.close_reason[:120]), 2.0)
        return self.close_reason or "closed"

    async def _read(self, session: Session, on_frame: Callable[[Link], None] | None) -> None:
        def take(raw: bytes) -> bool:  # a frame handed over as it was parsed
            if self.close_reason:
                return False  # queued: the task sees the link is closing
            self._take(raw, session, on_frame)
            return True

        try:
            # recv() in a loop, as ``async for raw in ws`` does, without its async generator
            with frames_as_parsed(self.ws, take):
                while True:
                    raw = await recv_frame(self.ws)
                    if self.close_reason:
                        break  # closing (removed, too slow, stopping): nothing more is taken
                    if isinstance(raw, str):
                        raise ProtocolError("text frame on a binary protocol")
                    self._take(raw, session, on_frame)
        except (ProtocolError, SecureError) as exc:
            self.close_reason = f"protocol error: {exc}"
            log.warning("%r closed: %s", self, self.close_reason)
        except LinkRefused as exc:
            self.close_reason = f"refused: {exc}"
            log.warning("%r refused: %s", self, exc)
        except ConnectionClosedOK:
            pass  # closed normally: ``async for`` ends there too
        except ConnectionClosed as exc:
            if exc.sent is not None and exc.sent.code == KEEPALIVE_TIMEOUT:
                reason = "peer stopped answering (keepalive)"
            else:
                reason = f"connection closed ({exc.rcvd or 'no close frame'})"
            self.close_reason = self.close_reason or reason
        self._stop.set()

    def _take(self, raw: bytes, session: Session, on_frame: Callable[[Link], None] | None) -> None:
        self.info.last_frame_at = time.time()
        frame = self.channel.open(raw) if self.channel is not None else raw
        session.receive(frame)
        if on_frame is not None:
            on_frame(self)
