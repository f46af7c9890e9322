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

import logging
import sqlite3
import time
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
        """Open (or make) the relay's database. A damaged one is kept aside and replaced
        by one holding every row that could still be read: the relay is a meeting point,
        and its clients fill a room again with their own copies when they reconnect."""
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / cls.DB_FILE_NAME
        damage = _damage(path) if path.exists() else None
        if damage is not None:
            _set_aside(path, damage)
        return cls._open(path)

    @classmethod
    def _open(cls, path: Path) -> RelayStore:
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


def _damage(path: Path) -> str | None:
    """What SQLite's quick_check finds wrong with the file (None: intact)."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        found = [str(row[0]) for row in db.execute("PRAGMA quick_check(3)")]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        db.close()
    return None if found == ["ok"] else "; ".join(" ".join(f.split()) for f in found)


def _readable_rows(path: Path) -> tuple[list[tuple[str, bytes]], bool]:
    """The rows that can still be read, in order; and whether every row could."""
    rows: list[tuple[str, bytes]] = []
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return rows, False
    try:
        # NOT INDEXED: a damaged index must not hide intact rows.
        for room, data in db.execute("SELECT room, data FROM updates NOT INDEXED ORDER BY seq"):
            if isinstance(room, str) and isinstance(data, bytes):
                rows.append((room, data))
    except sqlite3.DatabaseError:
        return rows, False
    finally:
        db.close()
    return rows, True


def _set_aside(path: Path, damage: str) -> None:
    rows, whole = _readable_rows(path)
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            part.replace(Path(f"{aside}{suffix}"))
    fresh = RelayStore._open(path)
    try:
        with transaction(fresh._db):
            for room, data in rows:
                fresh.append(room, data)
    finally:
        fresh.close()
    _log.warning(
        "%s was damaged (%s): kept it as %s and started a new one with the %d stored "
        "update(s) %s; clients fill their rooms again with their own copies as they reconnect",
        path.name,
        damage,
        aside.name,
        len(rows),
        "it held" if whole else "that could still be read",
    )


_log = logging.getLogger("lanban.relay")
