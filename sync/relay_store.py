"""The relay's rooms on disk: one SQLite file, an append-only log of updates per room.

Every update the relay accepts is appended as one row. When a room's log grows long
it is compacted: all its rows are replaced, in one transaction, by a single update
holding the room's whole state. Loading a room replays its rows in order.

This class does blocking I/O and is not thread-safe: the relay owns one instance and
calls it from a single worker thread (see ``relay.StoreWorker``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

DB_FILE_NAME = "relay.sqlite3"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS updates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    room TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS updates_by_room ON updates (room, seq);
"""


class StoreError(RuntimeError):
    """The relay's database cannot be used (wrong schema, not a database, ...)."""


class RelayStore:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    @classmethod
    def open(cls, data_dir: Path) -> RelayStore:
        data_dir.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(data_dir / DB_FILE_NAME, isolation_level=None)
        try:
            # WAL + NORMAL: a commit survives a crash of the relay; only a power loss can
            # take the last few commits back (never leaves the file corrupt).
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise StoreError(
                    f"{data_dir / DB_FILE_NAME} has schema version {version}; "
                    f"this relay understands {SCHEMA_VERSION}"
                )
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            db.close()
            raise StoreError(f"cannot open {data_dir / DB_FILE_NAME}: {exc}") from exc
        except StoreError:
            db.close()
            raise
        return cls(db)

    def close(self) -> None:
        self._db.close()

    def load(self, room: str) -> list[bytes]:
        """The room's updates in the order they were accepted (empty for a new room)."""
        rows = self._db.execute("SELECT data FROM updates WHERE room = ? ORDER BY seq", (room,))
        return [bytes(data) for (data,) in rows]

    def append(self, room: str, update: bytes) -> None:
        self._db.execute("INSERT INTO updates (room, data) VALUES (?, ?)", (room, update))

    def replace(self, room: str, snapshot: bytes) -> None:
        """Replace the room's whole log by one update that holds all of it."""
        with self._transaction():
            self._db.execute("DELETE FROM updates WHERE room = ?", (room,))
            self._db.execute("INSERT INTO updates (room, data) VALUES (?, ?)", (room, snapshot))

    def rooms(self) -> list[str]:
        return [room for (room,) in self._db.execute("SELECT DISTINCT room FROM updates")]

    def log_length(self, room: str) -> int:
        (count,) = self._db.execute(
            "SELECT COUNT(*) FROM updates WHERE room = ?", (room,)
        ).fetchone()
        return int(count)

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error (the connection is in autocommit)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")
