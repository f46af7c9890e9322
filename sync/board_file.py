"""One board file: the live :class:`Board` and its durable update log.

The file holds the board's CRDT updates in append order. Every update this
process makes is written (and fsynced, ``synchronous=FULL``) before the call
that made it returns (through :meth:`BoardFile.edit`: before its future
resolves), so a SIGKILL at any moment loses nothing that was
acknowledged (written once pycrdt's transaction has committed, outside its
commit callback). Updates received from peers are written without waiting for
the fsync (``synchronous=NORMAL``), and, once the node asks for it
(:meth:`BoardFile.defer_remote_writes`), off their path: after the event loop
has handed them on (the board's listeners, an answer sent), in the next loop
iteration, or with this process's next own edit, in the same transaction and
before it (a local update may build on them). A killed process or a power cut
can therefore only lose ones that peers still hold and resend on the next sync.

The node writes off its event loop (:meth:`BoardFile.write_in_background`, set
by its hub; :mod:`.board_writer`): every write goes, in order, to a thread of
the file's own, so a local edit's fsync no longer holds the loop. A local edit
made through :meth:`BoardFile.edit` (``await node.edit(board_id, change)``) is
durable once its future resolves; one made by calling the board directly still
returns only once it is fsynced, as without the thread: written here when the
thread has nothing queued, else after what it has (the call waits for it).
Several processes may share one data directory (the app and CLI commands):
each appends its own updates and :meth:`BoardFile.poll` applies the others'
(WAL mode, one writer at a time). ``PRAGMA synchronous`` is only switched
outside a transaction (SQLite refuses it inside one).

Compaction: when the log since the last snapshot outgrows the snapshot (and at
least ``COMPACT_MIN_BYTES``), or exceeds ``COMPACT_MAX_ROWS`` rows, the whole
state is written as one snapshot row and the rows it covers are deleted in the
same transaction, after applying every row other processes wrote. The file
therefore stays within about twice the snapshot size, and a reader that missed
the deleted rows reads the snapshot, which contains them.

Storage failures stay with this board (issue 9): every SQLite error becomes a
:class:`StoreError` naming the file, and :attr:`BoardFile.problem` says what is
wrong for ``lanban status``. An update that cannot be written (a full disk) is
kept in memory and written by a later :meth:`poll` once there is room; one from
a peer never raises (the peer did nothing wrong: it is not refused), a local
edit raises after it is applied (the caller reports it; through :meth:`BoardFile.edit`
its future does). Stored updates the
document refuses are quarantined (:mod:`.board_rows`). The meta table and the
file's checks are :class:`~.board_meta.BoardMeta`. (Over 500 lines: the writes,
poll and compaction share one bookkeeping of which rows are this process's own.)
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TypeVar

from lanban.model.board import Board
from lanban.model.schema import LOCAL_SOURCE

from .board_format import KEY_BYTES, WAL_CHECKPOINT_BYTES, connect, failure
from .board_meta import DEPTHS_CHECKED_META, BoardMeta
from .board_rows import (
    Refused,
    applicable,
    checked,
    describe,
    merged,
    quarantine,
)
from .board_writer import Appender, Barrier, BoardWriter, Durable, Pending
from .key_epochs import KEY_EPOCHS_META, read_epoch_keys
from .update_check import state_vector_clocks
from .update_log import BOARD_LAYOUT, Row, StoreError, UpdateLog, transaction

T = TypeVar("T")

# Runs a callback soon, after what is running now (the node: loop.call_soon).
Scheduler = Callable[[Callable[[], None]], None]

log = logging.getLogger("lanban.store")

COMPACT_MIN_BYTES = 64 * 1024
COMPACT_MAX_ROWS = 2000
COMPACT_RETRY_S = 10.0  # after a failed compaction (e.g. a full disk)
SAVE_RETRY_S = 0.5  # between tries to write what a full disk refused
WAL_FRAME_BYTES = 4096 + 24  # a page (SQLite's default size) and its frame header

STORE_SOURCE = "lanban:store"  # updates read back from the file (another process wrote them)


class BoardFile(BoardMeta):
    """One open board file: the live :class:`Board` and its durable log."""

    def __init__(self, path: Path, *, actor: str = "") -> None:
        self.path = path
        self._conn = connect(path)
        self._log = UpdateLog(self._conn, BOARD_LAYOUT)
        self._appender = Appender(self._conn)
        self._writer: BoardWriter | None = None  # write_in_background
        self._durable: Durable | None = None  # what the running edit() wrote
        # Guards what the writer thread changes too: _own, _unsaved and the counts.
        self._state = threading.Lock()
        self._retry_queued = False
        self._unsaved: list[tuple[bytes, bool]] = []  # (update, local) the file did not take
        self._deferred: list[bytes] = []  # others' updates applied, to be written soon
        self._wal_bytes = 0  # about what this process wrote to the WAL since its checkpoint
        self._defer: Scheduler | None = None
        self._write_error = ""
        self._read_error: str | None = None
        self._failures = 0  # writes that failed, ever
        self._compact_not_before = 0.0
        self._save_not_before = 0.0
        self._last_seq = 0
        self._own: set[int] = set()
        self._log_bytes = 0
        self._log_rows = 0
        self._snapshot_bytes = 0
        try:
            meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
            self.board_id = str(meta.get("board_id", ""))
            key = meta.get("key")
            if not isinstance(key, bytes) or len(key) != KEY_BYTES or not self.board_id:
                raise StoreError(f"{path} is damaged: its board id or key is missing")
            # Every board key the board has had, by epoch (PROTOCOL.md 7.6).
            self.keys: dict[int, bytes] = read_epoch_keys(key, meta.get(KEY_EPOCHS_META))
            rows = self._log.rows()
            self.board, refused = self._load(rows, actor)
            self._load_kept_history()
            self.quarantined: tuple[Refused, ...] = tuple(refused)  # rows moved aside
            if refused:
                self._quarantine(refused)
            self._data_version = self._pragma("data_version")
        except sqlite3.Error as exc:
            self._conn.close()
            raise StoreError(failure(path, exc)) from exc
        except StoreError:
            self._conn.close()
            raise
        # After the commit: the write (and a local edit's fsync) runs outside
        # pycrdt's commit callback, still before the edit returns.
        self._unlisten = self.board.on_update(self._persist, after_commit=True)

    def _load(self, rows: list[Row], actor: str) -> tuple[Board, list[Refused]]:
        good, refused = checked(rows, {}, self._meta_int(DEPTHS_CHECKED_META))
        try:
            board = self._board(merged(good), actor)
        except Exception:
            good, more = applicable(good)
            refused += more
            try:
                board = self._board(merged(good), actor)
            except Exception as exc:
                raise StoreError(
                    f"{self.path} is damaged: its updates cannot be read ({exc})"
                ) from exc
        if refused and not good:
            raise StoreError(
                f"{self.path} is damaged: none of its {len(rows)} stored updates can be read "
                f"({refused[0].reason}); it was left untouched "
                f"(lanban board repair {self.board_id} rebuilds what it can)"
            )
        for _seq, data, snapshot in good:
            self._count(data, snapshot)
        self._last_seq = max((r.seq for r in rows), default=0)
        try:
            self._mark_depths_checked(self._last_seq)
        except (sqlite3.Error, StoreError) as exc:  # read-only or full: counted again next time
            log.debug("%s: %s", self.path, exc)
        return board, refused

    def _board(self, update: bytes | None, actor: str) -> Board:
        if update is None:
            return Board(actor=actor, board_id=self.board_id)
        return Board.from_update(update, actor=actor, board_id=self.board_id)

    def _quarantine(self, refused: list[Refused]) -> None:
        text = describe(refused)
        try:
            quarantine(self._conn, refused)
        except sqlite3.Error as exc:  # read-only or full: they stay skipped in memory
            text += f" (not moved aside in the file: {exc})"
        log.warning("%s: %s", self.path, text)

    @property
    def quarantine_notice(self) -> str | None:
        """``N update(s) quarantined: ...`` when this open moved rows aside."""
        return describe(list(self.quarantined)) if self.quarantined else None

    @property
    def problem(self) -> str | None:
        """What is wrong with this board's storage now, as a sentence (None: nothing)."""
        if self._unsaved:
            n = len(self._unsaved)
            return (
                f"not saved: {n} change{'s' if n != 1 else ''} only in memory, "
                f"{self.path.name} cannot be written ({self._write_error}); "
                "saved once there is room"
            )
        return self._read_error

    def _pragma(self, name: str) -> int:
        return int(self._conn.execute(f"PRAGMA {name}").fetchone()[0])

    def _count(self, data: bytes, snapshot: bool) -> None:
        with self._state:
            if snapshot:
                self._snapshot_bytes = len(data)
                self._log_bytes = 0
                self._log_rows = 0
            else:
                self._log_bytes += len(data)
                self._log_rows += 1

    # ------------------------------------------------------------- writing

    def defer_remote_writes(self, schedule: Scheduler | None) -> None:
        """Write updates from elsewhere via ``schedule`` (None: at once, as by default).

        Their write (~50 us, at times ~0.5 ms) then no longer delays the board's
        listeners, nor an answer a listener sends.
        """
        self._defer = schedule
        if schedule is None:
            self.write_deferred()

    def write_in_background(self, on: bool) -> None:
        """Write on a thread of this file's own (the node), or here again (False: once
        what is queued is written). Stays here if the thread's connection cannot open."""
        if on and self._writer is None:
            try:
                conn = connect(self.path, any_thread=True)
            except StoreError as exc:
                log.error("%s: writing on the event loop: %s", self.path, exc)
                return
            name = f"lanban writer {self.board_id[:8]}"
            self._writer = BoardWriter(conn, self._write_batch, name)
        elif not on and self._writer is not None:
            self.write_deferred()
            writer, self._writer = self._writer, None
            writer.close()

    def edit(self, change: Callable[[], T]) -> asyncio.Future[T]:
        """Run ``change`` (synchronous board calls) now; the future resolves with its
        result once what it wrote is on disk (StoreError: it could not be saved).

        The event loop stays free meanwhile (:meth:`write_in_background`); without the
        writer thread ``change`` returns fsynced and the future is resolved already.
        """
        loop = asyncio.get_running_loop()
        outer = self._durable  # an edit inside an edit: the writes count for both
        durable = self._durable = outer or Durable()
        try:
            result = change()
        finally:
            self._durable = outer
        # Made after the change: what it sends to peers goes first.
        done: asyncio.Future[T] = loop.create_future()
        if not durable.writes or self._writer is None:  # (without the thread: written)
            done.set_result(result)
            return done
        barrier = Barrier(durable, Future())
        self._writer.put(barrier)

        def resolve(written: asyncio.Future[None]) -> None:
            if done.cancelled():
                return
            error = written.exception()
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(result)

        asyncio.wrap_future(barrier.future, loop=loop).add_done_callback(resolve)
        return done

    def flushed(self) -> asyncio.Future[None]:
        """Resolves once everything written so far is on disk (or failed: :attr:`problem`)."""
        loop = asyncio.get_running_loop()
        self.write_deferred()
        if self._writer is None:
            done: asyncio.Future[None] = loop.create_future()
            done.set_result(None)
            return done
        return asyncio.wrap_future(self._writer.flushed(), loop=loop)

    def _persist(self, update: bytes, source: object) -> None:
        if source == STORE_SOURCE:
            return
        local = source == LOCAL_SOURCE
        if not local and self._defer is not None:
            self._deferred.append(update)
            if len(self._deferred) == 1:
                self._defer(self.write_deferred)
            return
        # Deferred updates first, in the same transaction: a local one may build on them.
        updates = [(u, False) for u in self._take_deferred()] + [(update, local)]
        writer = self._writer
        durable = self._durable if local else None
        wait = local and durable is None  # a direct call: it returns once fsynced
        # Here, as without the writer thread, when that has nothing queued (no
        # handoff to it), or while compacting (in the compaction's transaction).
        if writer is None or self._conn.in_transaction or (wait and writer.idle):
            self._save(updates)
            return
        if wait:
            durable = Durable()
        if durable is not None:
            durable.writes += 1
        writer.put(*(Pending(u, loc, durable if loc else None) for u, loc in updates))
        if durable is not None and wait:  # after what is queued, in order
            barrier = Barrier(durable, Future())
            writer.put(barrier)
            barrier.future.result()

    def _take_deferred(self) -> list[bytes]:
        deferred, self._deferred = self._deferred, []
        return deferred

    def write_deferred(self) -> None:
        """Write the updates from elsewhere that wait (one transaction)."""
        if not self._deferred:
            return
        updates = [(u, False) for u in self._take_deferred()]
        if self._writer is not None and not self._conn.in_transaction:
            self._writer.put(*(Pending(u, False, None) for u, _ in updates))
        else:
            self._save(updates)

    def _save(self, updates: list[tuple[bytes, bool]]) -> None:
        """Write (update, local) pairs; what the file refuses is kept in memory."""
        try:
            self._write(updates)
        except sqlite3.Error as exc:
            error = self._failed(updates, exc)
            if any(local for _, local in updates):  # a peer's is never refused for our disk
                raise error from exc

    def _failed(self, updates: list[tuple[bytes, bool]], exc: sqlite3.Error) -> StoreError:
        with self._state:
            self._failures += 1
            self._unsaved += updates
            self._write_error = str(exc)
        log.error("cannot save to %s: %s", self.path, exc)
        return StoreError(f"cannot save to {self.path}: {exc}; this change is not saved")

    def _write(self, updates: list[tuple[bytes, bool]], appender: Appender | None = None) -> None:
        """Append the updates in one commit, fsynced if any is local (``appender``: the
        writer thread's, else this thread's)."""
        if appender is None:
            seqs = self._appender.append(updates)
            with self._state:
                for seq in seqs:
                    if seq == self._last_seq + 1:
                        self._last_seq = seq
                    else:
                        self._own.add(seq)
        else:
            appender.append_claimed(updates, self._claim, self._release)
        for update, _ in updates:
            self._count(update, False)
        self._wal_bytes += sum(WAL_FRAME_BYTES + len(u) for u, _ in updates)

    def _claim(self, seqs: list[int]) -> None:
        with self._state:
            self._own.update(seqs)

    def _release(self, seqs: list[int]) -> None:
        with self._state:
            self._own.difference_update(seqs)

    def _write_batch(self, appender: Appender, batch: list[Pending]) -> StoreError | None:
        """The writer thread's write of a batch (see :mod:`.board_writer`)."""
        updates = [(p.update, p.local) for p in batch]
        try:
            self._write(updates, appender)
        except sqlite3.Error as exc:
            return self._failed(updates, exc)
        if self._wal_bytes > WAL_CHECKPOINT_BYTES:
            try:
                appender.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                self._wal_bytes = 0
            except sqlite3.Error as exc:
                log.warning("%s: checkpoint failed: %s", self.path, exc)
        return None

    def _save_unsaved(self, *, now: bool = False, appender: Appender | None = None) -> None:
        """Write what a full disk refused earlier (merged: one local and one remote row).

        At most every ``SAVE_RETRY_S`` unless ``now``: each try merges all of it.
        With the writer thread, it does this (``appender``: its connection).
        """
        if not now and time.monotonic() < self._save_not_before:
            return
        if self._writer is not None and appender is None:
            if self._unsaved and not self._retry_queued:
                self._retry_queued = True
                self._writer.put(lambda writers: self._save_unsaved(now=True, appender=writers))
            return
        self._retry_queued = False
        while self._unsaved:
            with self._state:
                local = self._unsaved[0][1]
                taken = [(u, loc) for u, loc in self._unsaved if loc == local]
            batch = [u for u, _ in taken]
            update = batch[0] if len(batch) == 1 else merged(Row(0, u, False) for u in batch)
            assert update is not None
            try:
                self._write([(update, local)], appender)
            except sqlite3.Error as exc:
                self._write_error = str(exc)
                self._save_not_before = time.monotonic() + SAVE_RETRY_S
                return
            with self._state:
                self._unsaved = [item for item in self._unsaved if item not in taken]
            if not self._unsaved:
                log.info("%s: the changes kept in memory are saved now", self.path)

    @property
    def needs_compaction(self) -> bool:
        return self._log_rows >= COMPACT_MAX_ROWS or self._log_bytes > max(
            self._snapshot_bytes, COMPACT_MIN_BYTES
        )

    def maybe_compact(self) -> None:
        # Not from _persist: that runs on the edit's path (and inside the
        # write, when the document may be changing again).
        if self.needs_compaction and time.monotonic() >= self._compact_not_before:
            self.compact()

    def _maybe_checkpoint(self) -> None:
        # Counted, not the file's size: the file keeps its size (WAL_LIMIT_BYTES).
        if self._wal_bytes > WAL_CHECKPOINT_BYTES:
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._wal_bytes = 0

    def compact(self) -> None:
        """Replace the log with one snapshot of everything in it."""
        conn = self._conn
        failures = self._failures
        try:
            with transaction(conn):
                self._apply_new_rows()  # may write merge fixes (number repair)
                if self._failures != failures or not conn.in_transaction:
                    raise StoreError("a write failed while compacting")
                snapshot = self.board.get_update()
                covered = self._last_seq
                unsynced = self._unsynced_rows(covered)
                seq = self._log.replace(snapshot, up_to=covered)
                self._set_meta("pending_compacted", self._meta_int("pending_compacted") + unsynced)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._wal_bytes = 0
        except (sqlite3.Error, StoreError) as exc:
            log.warning("compaction of %s failed: %s", self.path, exc)
            self._compact_not_before = time.monotonic() + COMPACT_RETRY_S
            return
        self._last_seq = seq
        with self._state:
            self._own = {s for s in self._own if s > covered}
            self._unsaved.clear()  # the snapshot holds them
        self._deferred.clear()
        self._count(snapshot, True)

    # ------------------------------------------------------------- reading

    def poll(self) -> int:
        """Apply updates other processes wrote since the last call; return how many.

        Also writes what a full disk refused earlier and compacts the log when
        it has grown; call it every few tens of ms. StoreError when the file
        cannot be read (also kept in :attr:`problem`).
        """
        try:
            self.write_deferred()
            self._save_unsaved()
            self.maybe_compact()
            if self._writer is None:  # else the writer thread checkpoints
                self._maybe_checkpoint()
            version = self._pragma("data_version")
            fresh = 0
            if version != self._data_version:
                self._data_version = version
                fresh = self._apply_new_rows()
        except sqlite3.Error as exc:
            self._read_error = failure(self.path, exc)
            raise StoreError(self._read_error) from exc
        self._read_error = None
        return fresh

    def _apply_new_rows(self) -> int:
        if self._only_own_rows():
            return 0
        rows = self._log.rows(after=self._last_seq)
        with self._state:  # the writer thread claims its rows before they commit
            fresh = [r for r in rows if r.seq not in self._own]
            self._own.difference_update(r.seq for r in rows)
        if rows:
            self._last_seq = max(self._last_seq, rows[-1].seq)
        if not fresh:
            return 0
        good, refused = checked(fresh, state_vector_clocks(self.board.get_state()))
        try:
            update = merged(good)
            if update is not None:
                self.board.apply_update(update, STORE_SOURCE)
        except Exception:  # one is bad (pycrdt's merge raises bare exceptions): one by one
            applied = []
            for row in good:
                try:
                    self.board.apply_update(row.data, STORE_SOURCE)
                except ValueError as exc:
                    refused.append(Refused(row, str(exc)))
                else:
                    applied.append(row)
            good = applied
        for _seq, data, snapshot in good:
            self._count(data, snapshot)
        if refused:
            self.quarantined += tuple(refused)
            self._quarantine(refused)
        return len(good)

    def _only_own_rows(self) -> bool:
        """Whether every row after the last one read is one the writer thread wrote for
        this process: ``_last_seq`` then moves past them unread (a node polls every
        50 ms; its own writes are most of what changes the file, and reading them back
        was the poll's cost)."""
        top = self._log.last_seq()
        with self._state:
            span = range(self._last_seq + 1, top + 1)
            own = self._own
            if len(span) > len(own) or not all(seq in own for seq in span):
                return False
            own.difference_update(span)
        self._last_seq = max(self._last_seq, top)
        return True

    def close(self) -> None:
        self._unlisten()
        self.write_in_background(False)  # writes what is queued first
        try:
            self.write_deferred()
            self._save_unsaved(now=True)
            self.maybe_compact()
            self._keep_history()
            self._mark_depths_checked(self._last_seq)  # what came since: checked or mine
        except sqlite3.Error as exc:
            log.error("%s: %s", self.path, exc)
        finally:
            if self._unsaved:
                log.error("%s: closed with %s", self.path, self.problem)
            self._conn.close()

    def __enter__(self) -> BoardFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
