"""What a board file keeps besides its log: the meta table (sync bookkeeping, the
board's relay) and the checks of the file itself.

:class:`BoardMeta` is the part of :class:`~.board_file.BoardFile` that reads and
writes them; the board file is one (this module keeps that one under 500 lines).
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from lanban.model.board import Board

from .board_format import failure
from .board_rows import quarantined_count
from .board_writer import Appender, BoardWriter
from .update_log import StoreError, UpdateLog, transaction

log = logging.getLogger("lanban.store")

# The board's history as walked so far (model.history_blob): a cache, so that
# reading the history after an open walks only the items that came since.
HISTORY_META = "history_kept"
# The last row whose type depths are known to be counted across rows (sync.board_rows):
# an open checks only the rows after it for nesting built one level per row.
DEPTHS_CHECKED_META = "depths_checked_seq"


class BoardMeta:
    """The meta table and file checks of an open board file (see BoardFile)."""

    path: Path
    board: Board
    board_id: str
    keys: dict[int, bytes]
    _conn: sqlite3.Connection
    _log: UpdateLog
    _appender: Appender
    _writer: BoardWriter | None

    def pending_local_changes(self) -> int:
        """Changes made here that no peer has seen yet."""
        try:
            synced = self._meta_int("synced_seq")
            count = self._log.count(local=True, after=synced)
            return count + self._meta_int("pending_compacted")
        except sqlite3.Error as exc:
            raise StoreError(failure(self.path, exc)) from exc

    def mark_synced(self) -> None:
        """A peer now has everything in this file (with the writer thread: written there)."""
        if self._writer is not None:
            self._writer.put(self._mark_synced_there)
            return
        try:
            self._mark_synced(self._appender)
        except sqlite3.Error as exc:
            raise StoreError(failure(self.path, exc)) from exc

    def _mark_synced_there(self, appender: Appender) -> None:
        try:
            self._mark_synced(appender)
        except sqlite3.Error as exc:  # sqlite busy: the next sync marks it
            log.debug("mark_synced: %s", exc)

    def _mark_synced(self, appender: Appender) -> None:
        top = appender.log.last_seq()
        with transaction(appender.conn):
            self._set_meta("synced_seq", top, appender.conn)
            self._set_meta("pending_compacted", 0, appender.conn)

    def _unsynced_rows(self, up_to: int) -> int:
        return self._log.count(local=True, after=self._meta_int("synced_seq"), up_to=up_to)

    def _load_kept_history(self) -> None:
        blob = self.meta(HISTORY_META)
        if isinstance(blob, bytes):
            self.board.keep_history(blob)  # checked when the history is next read

    def _keep_history(self) -> None:
        """Keep the history read so far, if it grew (on close)."""
        blob = self.board.kept_history()
        if blob is not None:
            self._set_meta(HISTORY_META, blob)

    def _mark_depths_checked(self, seq: int) -> None:
        """Rows up to ``seq`` need no depth count across rows at the next open."""
        if seq > self._meta_int(DEPTHS_CHECKED_META):
            with transaction(self._conn):
                self._set_meta(DEPTHS_CHECKED_META, seq)

    def meta(self, key: str) -> Any:
        try:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            raise StoreError(failure(self.path, exc)) from exc
        return None if row is None else row[0]

    def set_meta(self, key: str, value: Any) -> None:
        try:
            self._set_meta(key, value)
        except sqlite3.Error as exc:
            raise StoreError(failure(self.path, exc)) from exc

    def _set_meta(self, key: str, value: Any, conn: sqlite3.Connection | None = None) -> None:
        conn = conn or self._conn
        if value is None:
            conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def _meta_int(self, key: str) -> int:
        value = self.meta(key)
        return int(value) if isinstance(value, int) else 0

    @property
    def key(self) -> bytes:
        """The newest board key: for handshakes, discovery tags and invites."""
        return self.keys[max(self.keys)]

    @property
    def relay(self) -> str | None:
        value = self.meta("relay")
        return value if isinstance(value, str) else None

    @property
    def relay_token(self) -> str | None:
        value = self.meta("relay_token")
        return value if isinstance(value, str) else None

    def check(self) -> None:
        """StoreError naming the damage SQLite's quick_check finds (it reads the whole file)."""
        try:
            found = [
                " ".join(str(r[0]).split()) for r in self._conn.execute("PRAGMA quick_check(3)")
            ]
        except sqlite3.Error as exc:
            raise StoreError(failure(self.path, exc)) from exc
        if found != ["ok"]:
            raise StoreError(
                f"{self.path} is damaged ({'; '.join(found)}); "
                f"lanban board repair {self.board_id} rebuilds what it can"
            )

    def quarantine_size(self) -> int:
        """How many rows the file's quarantine table holds (all opens, not just this one)."""
        try:
            return quarantined_count(self._conn)
        except sqlite3.Error as exc:
            raise StoreError(failure(self.path, exc)) from exc

    def size_on_disk(self) -> tuple[int, int]:
        """Bytes of the board file and of its write-ahead log."""
        wal = self.path.with_name(self.path.name + "-wal")
        return self.path.stat().st_size, wal.stat().st_size if wal.exists() else 0
