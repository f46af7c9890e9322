"""The relay's update log (:class:`~lanban.sync.update_log.RelayStore`) on a thread of its own.

SQLite blocks; the relay's event loop must not. Calls run on one worker thread in the
order they are made, and appends are gathered into batches.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from .update_log import RelayStore

log = logging.getLogger("lanban.relay")

STORE_BATCH_S = 0.05  # accepted updates reach the database within this long

P = ParamSpec("P")
T = TypeVar("T")


class StoreWorker:
    """The relay's RelayStore on one thread of its own: calls run in the order made.

    That order is what makes compaction safe: a snapshot taken on the event loop holds
    every update appended before it, and the ones after it land after it. Appends are
    gathered for ``batch_s`` and written in one go: one wake of the store
    thread (which then contends with the event loop for the GIL) per batch, not per
    update, and never right behind the broadcast of the update it writes.
    """

    def __init__(self, batch_s: float = STORE_BATCH_S) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="lanban-relay-store")
        self._store: RelayStore | None = None
        self._batch_s = batch_s
        self._pending: list[tuple[str, bytes]] = []
        self._timer: asyncio.TimerHandle | None = None

    async def open(self, data_dir: Path) -> None:
        self._store = await self._call(RelayStore.open, data_dir)

    async def load(self, room: str) -> list[bytes]:
        self._write_pending()
        return await self._call(self._opened().load, room)

    def append(self, room: str, update: bytes) -> None:
        self._pending.append((room, update))
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._batch_s, self._write_pending)

    def replace(self, room: str, snapshot: bytes) -> None:
        self._write_pending()
        self._submit(self._opened().replace, room, snapshot)

    async def flush(self) -> None:
        self._write_pending()
        await self._call(lambda: None)

    async def close(self) -> None:
        if self._store is not None:
            self._write_pending()
            await self._call(self._store.close)
            self._store = None
        self._executor.shutdown(wait=True)

    def _write_pending(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            batch, self._pending = self._pending, []
            self._submit(self._append_all, self._opened(), batch)

    @staticmethod
    def _append_all(store: RelayStore, batch: list[tuple[str, bytes]]) -> None:
        for room, update in batch:
            store.append(room, update)

    def _opened(self) -> RelayStore:
        if self._store is None:
            raise RuntimeError("the relay store is not open")
        return self._store

    async def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.wrap_future(self._executor.submit(fn, *args, **kwargs))

    def _submit(self, fn: Callable[..., object], *args: object) -> None:
        self._executor.submit(fn, *args).add_done_callback(_log_store_failure)


def _log_store_failure(future: Future[Any]) -> None:
    exc = future.exception()
    if exc is not None:
        log.error("writing to the relay database failed", exc_info=exc)
