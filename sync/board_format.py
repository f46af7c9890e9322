"""A board file's format: what makes an SQLite file a Lanban board, opening one, writing a new one.

:class:`~lanban.sync.board_file.BoardFile` is the open board that lives in it.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from pathlib import Path
from typing import Any, NamedTuple

from .secure import BOARD_KEY_BYTES
from .update_log import BOARD_LAYOUT, StoreError, transaction

APPLICATION_ID = 0x4C4E424E  # "LNBN": marks a file as a Lanban board
FILE_VERSION = 1
BOARD_SUFFIX = ".lanban"
KEY_BYTES = BOARD_KEY_BYTES
BUSY_TIMEOUT_S = 10.0  # wait this long for another process's write lock
# The write-ahead log is checkpointed from poll() once about this much was written
# to it, off the path of an edit; SQLite's own checkpoint (every 1000 pages) is a backstop.
WAL_CHECKPOINT_BYTES = 256 * 1024
# The WAL file is truncated back to this after a checkpoint. Above what one
# checkpoint round writes, so that commits overwrite the file in place: an fsync
# of a file that grew waits for a journal commit holding every other writer's data
# (with 256 KiB, 28% of a busy board's commits grew it; p90 of a local edit 1.8 ms
# then, 0.25-0.36 ms with the file kept, on the same busy disk).
WAL_LIMIT_BYTES = 1024 * 1024

META_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB);
"""


def failure(path: Path, exc: sqlite3.Error) -> str:
    """Why SQLite failed on ``path``, as a sentence naming the file: damage or no room."""
    if getattr(exc, "sqlite_errorname", "") in ("SQLITE_CORRUPT", "SQLITE_NOTADB"):
        board = path.name.removesuffix(BOARD_SUFFIX)
        return f"{path} is damaged ({exc}); lanban board repair {board} rebuilds what it can"
    try:
        full = os.statvfs(path.parent).f_bavail == 0
    except (OSError, AttributeError):  # AttributeError: no statvfs on Windows
        full = False
    return f"cannot use {path}: {exc}" + ("; the disk is full" if full else "")


def check_sqlite_header(path: Path, refusal: str) -> None:
    """StoreError (``path`` + ``refusal``) unless the file starts as an SQLite database.

    Only for a file no SQLite connection of this process holds (``lanban board
    repair``): closing a descriptor drops every POSIX lock the process holds on the
    file, its SQLite connections' included. :func:`connect` lets SQLite tell instead.
    """
    try:
        with open(path, "rb") as f:
            header = f.read(16)
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from exc
    if header != b"SQLite format 3\x00":
        raise StoreError(f"{path} {refusal}")


def connect(path: Path, *, any_thread: bool = False) -> sqlite3.Connection:
    """An open connection to a Lanban board file (checked header, WAL mode).

    ``any_thread``: it may be used from another thread than this one (one at a time).
    """
    not_sqlite = f"{path} is not a Lanban board file (not an SQLite database)"
    try:
        if path.stat().st_size == 0:
            raise StoreError(not_sqlite)
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=not any_thread
        )
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from exc
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if app_id != APPLICATION_ID:
            raise StoreError(f"{path} is not a Lanban board file (another program's database)")
        if version > FILE_VERSION:
            raise StoreError(
                f"{path} was written by a newer Lanban (file version {version}); update Lanban"
            )
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT_BYTES}")
    except sqlite3.Error as exc:
        conn.close()
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB":
            raise StoreError(not_sqlite) from exc
        raise StoreError(failure(path, exc)) from exc
    except StoreError:
        conn.close()
        raise
    return conn


class StoredRow(NamedTuple):
    seq: int
    data: bytes
    local: bool
    snapshot: bool


def write_board_file(path: Path, meta: dict[str, Any], rows: list[StoredRow]) -> None:
    """Write a new board file at ``path`` atomically (a temporary file beside it, renamed).

    ``meta`` values that are None are left out. StoreError if ``path`` cannot be written.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA auto_vacuum = FULL")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {FILE_VERSION}")
            conn.executescript(META_SCHEMA + BOARD_LAYOUT.schema)
            with transaction(conn):
                conn.executemany(
                    "INSERT INTO meta(key, value) VALUES (?, ?)",
                    [(k, v) for k, v in meta.items() if v is not None],
                )
                conn.executemany(
                    "INSERT INTO updates(seq, data, local, snapshot) VALUES (?, ?, ?, ?)",
                    [(r.seq, r.data, int(r.local), int(r.snapshot)) for r in rows],
                )
        finally:
            conn.close()
        os.replace(tmp, path)
    except (OSError, sqlite3.Error) as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot create {path}: {exc}") from exc
