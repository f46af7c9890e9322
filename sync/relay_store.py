"""The relay's update log (:class:`~lanban.sync.update_log.RelayStore`) on a thread of its own.

SQLite blocks; the relay's event loop must not. Calls run on one worker thread in the
order they are made, and appends are gathered into batches.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from .admission import RateLimitedLog
from .update_log import RelayStore

log = logging.getLogger("lanban.relay")

STORE_BATCH_S = 0.05  # accepted updates reach the database within this long
RETRY_S = 2.0  # while the database cannot be written (a full disk), try again this often

P = ParamSpec("P")
T = TypeVar("T")


class StoreWorker:
    """The relay's RelayStore on one thread of its own: calls run in the order made.

    That order is what makes compaction safe: a snapshot taken on the event loop holds
    every update appended before it, and the ones after it land after it. Appends are
    gathered for ``batch_s`` and written in one go: one wake of the store
    thread (which then contends with the event loop for the GIL) per batch, not per
    update, and never right behind the broadcast of the update it writes.

    When the database cannot be written (a full disk), the updates are kept, in order,
    and written once it can be again (every ``RETRY_S`` and with each new batch): the
    rooms go on relaying meanwhile, and a restart after that loses nothing.
    """

    def __init__(self, batch_s: float = STORE_BATCH_S) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="lanban-relay-store")
        self._store: RelayStore | None = None
        self._batch_s = batch_s
        self._pending: list[tuple[str, bytes]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._unsaved: list[tuple[str, bytes]] = []  # the store thread's, and only its
        self._retry: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failures = RateLimitedLog(logger=log)

    async def open(self, data_dir: Path) -> None:
        self._loop = asyncio.get_running_loop()
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
        self._submit(self._replace, self._opened(), room, snapshot)

    async def flush(self) -> None:
        self._write_pending()
        await self._call(lambda: None)

    async def close(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
        if self._store is not None:
            self._write_pending()
            await self._call(self._close, self._store)
            self._store = None
        self._executor.shutdown(wait=True)

    def _write_pending(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            batch, self._pending = self._pending, []
            self._submit(self._append_all, self._opened(), batch)

    # On the store thread:

    def _append_all(self, store: RelayStore, batch: list[tuple[str, bytes]]) -> None:
        todo, held = self._unsaved + batch, len(self._unsaved)
        for done, (room, update) in enumerate(todo):
            try:
                store.append(room, update)
            except sqlite3.Error as exc:
                self._unsaved = todo[done:]
                self._failures.log(
                    logging.ERROR,
                    "cannot write",
                    f"the relay database cannot be written ({exc}): {len(self._unsaved)} "
                    f"update(s) kept in memory, trying again every {RETRY_S:.0f} s",
                )
                self._call_soon(self._retry_later)
                return
        self._unsaved = []
        if held:
            log.warning("the relay database is written again: %d held update(s) saved", held)

    def _replace(self, store: RelayStore, room: str, snapshot: bytes) -> None:
        try:
            store.replace(room, snapshot)
        except sqlite3.Error as exc:
            self._failures.log(logging.ERROR, "cannot compact", f"compacting {room!r}: {exc}")
            return
        # The snapshot holds the room's held updates too.
        self._unsaved = [(r, u) for r, u in self._unsaved if r != room]

    def _close(self, store: RelayStore) -> None:
        if self._unsaved:
            self._append_all(store, [])
        if self._unsaved:
            log.error(
                "%d update(s) could not be saved (their clients still hold them)",
                len(self._unsaved),
            )
        store.close()

    def _call_soon(self, fn: Callable[[], None]) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn)

    # On the event loop:

    def _retry_later(self) -> None:
        if self._retry is None and self._store is not None:
            self._retry = asyncio.get_running_loop().call_later(RETRY_S, self._retry_now)

    def _retry_now(self) -> None:
        self._retry = None
        if self._store is not None:
            self._submit(self._append_all, self._store, [])

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
