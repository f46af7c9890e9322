"""An append-only log of CRDT updates in SQLite, compacted into snapshots.

One implementation for both places Lanban keeps a document as updates:

- a node's board file (:class:`~lanban.sync.store.BoardFile`): one log per file, each
  row marked ``local`` (made on this machine) or not, and ``snapshot`` when it holds
  the whole state that the rows it replaced held (:data:`BOARD_LAYOUT`);
- the relay's database (:class:`RelayStore`): one file, one log per room in a shared
  table (:data:`RELAY_LAYOUT`).

The operations are the same: append an update, read the log back in order (or the
rows after a sequence number), replace rows by one snapshot in a transaction, count.
The connection is in autocommit mode; :func:`transaction` groups statements. Blocking
I/O, not thread-safe: one owner thread per connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple


class StoreError(Exception):
    """A problem with a data directory, board file or relay database, naming the file."""


@dataclass(frozen=True, slots=True)
class LogLayout:
    rooms: bool  # a ``room`` column: many logs in one table, one shared sequence (relay)
    marks: bool  # ``local`` and ``snapshot`` columns (board file)
    schema: str


BOARD_LAYOUT = LogLayout(
    rooms=False,
    marks=True,
    schema="""
CREATE TABLE updates (
    seq INTEGER PRIMARY KEY,    -- never reused: a compaction's snapshot takes the next one
    data BLOB NOT NULL,
    local INTEGER NOT NULL,     -- made on this machine (not received from a peer)
    snapshot INTEGER NOT NULL DEFAULT 0
);
""",
)
RELAY_LAYOUT = LogLayout(
    rooms=True,
    marks=False,
    schema="""
CREATE TABLE IF NOT EXISTS updates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    room TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS updates_by_room ON updates (room, seq);
""",
)


class Row(NamedTuple):
    seq: int
    data: bytes
    snapshot: bool


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error (the connection is in autocommit)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.in_transaction:  # SQLite may have rolled back already (a full disk)
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class UpdateLog:
    """One document's log: a board file's, or one relay room's."""

    def __init__(self, db: sqlite3.Connection, layout: LogLayout, room: str | None = None) -> None:
        if layout.rooms != (room is not None):
            raise ValueError("a room is needed exactly when the layout has rooms")
        self._db = db
        self._layout = layout
        self._room = room
        self._where = "room = ?" if layout.rooms else "1"
        self._args: tuple[str, ...] = (room,) if room is not None else ()

    def rows(self, after: int = 0) -> list[Row]:
        """The rows after ``after``, in the order they were written."""
        snapshot = "snapshot" if self._layout.marks else "0"
        found = self._db.execute(
            f"SELECT seq, data, {snapshot} FROM updates WHERE {self._where} AND seq > ? "
            "ORDER BY seq",
            (*self._args, after),
        )
        return [Row(seq, bytes(data), bool(snap)) for seq, data, snap in found]

    def load(self) -> list[bytes]:
        """Every update in order (empty for a new document)."""
        return [row.data for row in self.rows()]

    def append(self, update: bytes, *, local: bool = False, snapshot: bool = False) -> int:
        """Append one update; its sequence number."""
        if self._layout.marks:
            cur = self._db.execute(
                "INSERT INTO updates(data, local, snapshot) VALUES (?, ?, ?)",
                (update, int(local), int(snapshot)),
            )
        else:
            cur = self._db.execute(
                "INSERT INTO updates(room, data) VALUES (?, ?)", (self._room, update)
            )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def replace(self, snapshot: bytes, up_to: int | None = None) -> int:
        """Replace the rows up to ``up_to`` (all: None) by one snapshot; its sequence number.

        Run it in a :func:`transaction`. A board file's snapshot takes the number right
        above the rows it covers (so no row may be above ``up_to``), so that a reader
        that missed the deleted rows finds it (rowids would otherwise restart at 1);
        the relay's rooms share one AUTOINCREMENT sequence, so there it takes a fresh
        number.
        """
        covered = self.last_seq() if up_to is None else up_to
        self._db.execute(
            f"DELETE FROM updates WHERE {self._where} AND seq <= ?", (*self._args, covered)
        )
        if not self._layout.marks:
            return self.append(snapshot)
        seq = covered + 1
        self._db.execute(
            "INSERT INTO updates(seq, data, local, snapshot) VALUES (?, ?, 0, 1)", (seq, snapshot)
        )
        return seq

    def count(self, *, local: bool = False, after: int = 0, up_to: int | None = None) -> int:
        """How many rows (``local``: made here) there are after ``after`` up to ``up_to``."""
        sql = f"SELECT count(*) FROM updates WHERE {self._where} AND seq > ?"
        args: tuple[object, ...] = (*self._args, after)
        if local:
            sql += " AND local = 1"
        if up_to is not None:
            sql += " AND seq <= ?"
            args += (up_to,)
        (n,) = self._db.execute(sql, args).fetchone()
        return int(n)

    def last_seq(self) -> int:
        (top,) = self._db.execute(
            f"SELECT coalesce(max(seq), 0) FROM updates WHERE {self._where}", self._args
        ).fetchone()
        return int(top)


class RelayStore:
    """The relay's rooms on disk: one SQLite file, one :class:`UpdateLog` per room.

    Every update the relay accepts is appended as one row; a long log is replaced, in
    one transaction, by a single update holding the room's whole state. The relay
    calls this from one worker thread of its own (``relay.StoreWorker``).
    """

    DB_FILE_NAME = "relay.sqlite3"
    SCHEMA_VERSION = 1

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    @classmethod
    def open(cls, data_dir: Path) -> RelayStore:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / cls.DB_FILE_NAME
        db = sqlite3.connect(path, isolation_level=None)
        try:
            # WAL + NORMAL: a commit survives a crash of the relay; only a power loss can
            # take the last few commits back (never leaves the file corrupt).
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, cls.SCHEMA_VERSION):
                raise StoreError(
                    f"{path} has schema version {version}; "
                    f"this relay understands {cls.SCHEMA_VERSION}"
                )
            db.executescript(RELAY_LAYOUT.schema)
            db.execute(f"PRAGMA user_version = {cls.SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            db.close()
            raise StoreError(f"cannot open {path}: {exc}") from exc
        except StoreError:
            db.close()
            raise
        return cls(db)

    def close(self) -> None:
        self._db.close()

    def log(self, room: str) -> UpdateLog:
        return UpdateLog(self._db, RELAY_LAYOUT, room)

    def load(self, room: str) -> list[bytes]:
        """The room's updates in the order they were accepted (empty for a new room)."""
        return self.log(room).load()

    def append(self, room: str, update: bytes) -> None:
        self.log(room).append(update)

    def replace(self, room: str, snapshot: bytes) -> None:
        """Replace the room's whole log by one update that holds all of it."""
        with transaction(self._db):
            self.log(room).replace(snapshot)

    def rooms(self) -> list[str]:
        return [room for (room,) in self._db.execute("SELECT DISTINCT room FROM updates")]

    def log_length(self, room: str) -> int:
        return self.log(room).count()
