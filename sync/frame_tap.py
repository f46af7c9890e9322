"""Websocket connections that hand a received frame to its reader as soon as it is parsed.

websockets hands a received frame to the task that reads the connection through a
queue: the frame is parsed in ``data_received``, the task's ``recv()`` is woken, and the
task runs in a later pass of the event loop (~20 us a frame on loopback, of a hop's
~0.5 ms). A :class:`FrameTap` connection gives a single-frame binary message straight
to ``on_frame`` instead, from ``data_received``, when that cannot change the order in
which the reader sees the messages: the task is idle in ``recv()`` with nothing queued
(every earlier message was handled), and ``on_frame`` takes it (returns True; a relay
room takes sync updates only, a node's link every frame; anything not taken goes
through the queue as before). What ``on_frame`` raises is kept in
:attr:`FrameTap.frame_error` and the frame is queued, so the task wakes and raises it,
as if it had handled the frame itself.

``on_frame`` runs outside any task: it must not await, and what it sends it writes
synchronously (``websockets.broadcast``, as a link's sends are).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.connection import Connection
from websockets.asyncio.server import ServerConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import Event
from websockets.typing import Data

FrameHandler = Callable[[bytes], bool]  # True: the frame was handled


class FrameTap(Connection):
    on_frame: FrameHandler | None = None  # set while the reader task reads frames
    frame_error: Exception | None = None  # what on_frame raised, for the task to raise

    def process_event(self, event: Event) -> None:
        on_frame = self.on_frame
        if (
            on_frame is not None
            and isinstance(event, Frame)
            and event.opcode is Opcode.BINARY
            and event.fin
            and self._reader_idle()
        ):
            try:
                if on_frame(bytes(event.data)):
                    return
            except Exception as exc:
                self.frame_error = exc
                self.on_frame = None  # the task raises it: nothing more goes this way
        super().process_event(event)

    def _reader_idle(self) -> bool:
        """The reader task waits in ``recv()`` for a message, none is queued.

        Read from websockets' Assembler (17.x): should a later version keep its queue
        otherwise, every frame goes through the queue, as without this class."""
        frames = getattr(self.recv_messages, "frames", None)
        waiter = getattr(frames, "get_waiter", None)
        queue = getattr(frames, "queue", None)
        return queue is not None and not queue and waiter is not None and not waiter.done()


class TappedServerConnection(FrameTap, ServerConnection):
    """An accepted connection (a relay's client, a node's peer) with the tap."""


class TappedClientConnection(FrameTap, ClientConnection):
    """A dialled connection (to a peer or a relay) with the tap."""


@contextlib.contextmanager
def frames_as_parsed(ws: Connection, on_frame: FrameHandler) -> Iterator[None]:
    """While inside, ``ws`` (if it is a :class:`FrameTap`) hands frames to ``on_frame``
    as they are parsed; read the rest with :func:`recv_frame`."""
    tap = ws if isinstance(ws, FrameTap) else None
    if tap is not None:
        tap.on_frame = on_frame
    try:
        yield
    finally:
        if tap is not None:
            tap.on_frame = None


async def recv_frame(ws: Connection) -> Data:
    """``ws.recv()``; raises what ``on_frame`` raised on this frame, if it did."""
    frame = await ws.recv()
    if isinstance(ws, FrameTap) and ws.frame_error is not None:
        raise ws.frame_error
    return frame
