"""A minimal y-websocket client in Python (websockets + pycrdt + sync.messages).

It behaves like y-websocket's WebsocketProvider: sends step 1 on connect, answers
step 1 with step 2, applies step 2 and updates, sends its own edits as updates, and
keeps the awareness states it hears. Tests use it to drive a relay byte for byte.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import quote

import websockets
from pycrdt import Doc, Map
from websockets.asyncio.client import ClientConnection

from lanban.sync.messages import (
    Awareness,
    AwarenessEntry,
    Message,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode,
    encode,
)


class YClient:
    def __init__(
        self, url: str, room: str, *, token: str | None = None, client_id: int | None = None
    ) -> None:
        self.url = f"{url.rstrip('/')}/{room}"
        if token is not None:
            self.url += f"?token={quote(token, safe='')}"
        self.doc: Doc[Any] = Doc(client_id=client_id) if client_id is not None else Doc()
        self.synced = asyncio.Event()
        self.closed = asyncio.Event()
        self.awareness: dict[int, dict[str, Any]] = {}
        self.received: list[Message] = []
        self.close_code: int | None = None
        self.awareness_clock = 0
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def client_id(self) -> int:
        return int(self.doc.client_id)

    def map(self, name: str = "map") -> dict[str, Any]:
        return dict(self.doc.get(name, type=Map).to_py() or {})

    async def connect(self, *, sync: bool = True) -> YClient:
        self._ws = await websockets.connect(self.url, max_size=None)
        self._reader = asyncio.create_task(self._read())
        if sync:
            await self.send(SyncStep1(self.doc.get_state()))
        return self

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def __aenter__(self) -> YClient:
        return await self.connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def set(self, key: str, value: Any, map_name: str = "map") -> None:
        """Edit the document and send the edit, as a provider does on a local change."""
        before = self.doc.get_state()
        self.doc.get(map_name, type=Map)[key] = value
        await self.send(SyncUpdate(self.doc.get_update(before)))

    async def set_awareness(self, state: dict[str, Any] | None) -> None:
        self.awareness_clock += 1
        await self.send(Awareness((AwarenessEntry(self.client_id, self.awareness_clock, state),)))

    async def query_awareness(self) -> None:
        await self.send(QueryAwareness())

    async def send(self, message: Message) -> None:
        await self.send_raw(encode(message))

    async def send_raw(self, frame: bytes | str) -> None:
        assert self._ws is not None, "not connected"
        await self._ws.send(frame)

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for frame in self._ws:
                assert isinstance(frame, bytes), f"relay sent a text frame: {frame!r}"
                reply = self._handle(decode(frame))
                if reply is not None:
                    await self._ws.send(encode(reply))
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self._ws.close_code
            self.closed.set()

    def _handle(self, message: Message) -> Message | None:
        self.received.append(message)
        match message:
            case SyncStep1(state_vector):
                return SyncStep2(self.doc.get_update(state_vector))
            case SyncStep2(update):
                self.doc.apply_update(update)
                self.synced.set()
            case SyncUpdate(update):
                self.doc.apply_update(update)
            case Awareness(entries):
                for entry in entries:
                    if entry.state is None:
                        self.awareness.pop(entry.client_id, None)
                    else:
                        self.awareness[entry.client_id] = entry.state
        return None
