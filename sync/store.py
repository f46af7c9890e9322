"""Durable local storage: one SQLite file per board in a data directory.

Layout of a data directory::

    boards/<board id>.lanban   one board: its update log, snapshot and secrets
    left/                      boards the user left (kept, never deleted)
    identity.json              this installation's node id and user

Each board file holds the board's CRDT updates in append order. Every update
this process makes is written (and fsynced, ``synchronous=FULL``) before the
call that made it returns, so a SIGKILL at any moment loses nothing that was
acknowledged (written once pycrdt's transaction has committed, outside its
commit callback). Updates received from peers are written without waiting for
the fsync (``synchronous=NORMAL``): they survive a killed process, and a
power cut can only lose ones that peers still hold and resend on the next
sync. Several processes may share one data directory (the app and CLI
commands): each appends its own updates and :meth:`BoardFile.poll` applies
the others' (WAL mode, one writer at a time).

Compaction: when the log since the last snapshot outgrows the snapshot (and
at least ``COMPACT_MIN_BYTES``), or exceeds ``COMPACT_MAX_ROWS`` rows, the
whole state is written as one snapshot row and the rows it covers are deleted
in the same transaction, after applying every row other processes wrote. The
file therefore stays within about twice the snapshot size, and a reader that
missed the deleted rows reads the snapshot, which contains them. The log
itself (append, read back, replace by a snapshot, count) is
:class:`~lanban.sync.update_log.UpdateLog`, shared with the relay's rooms.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
from pycrdt import merge_updates

from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.model.limits import BOARD_ID_PATTERN, DEFAULT_COLUMNS
from lanban.model.schema import LOCAL_SOURCE, new_id

from .invite import Invite
from .secure import BOARD_KEY_BYTES
from .update_log import BOARD_LAYOUT, StoreError, UpdateLog, transaction

log = logging.getLogger("lanban.store")

APPLICATION_ID = 0x4C4E424E  # "LNBN": marks a file as a Lanban board
FILE_VERSION = 1
BOARD_SUFFIX = ".lanban"
KEY_BYTES = BOARD_KEY_BYTES
COMPACT_MIN_BYTES = 64 * 1024
COMPACT_MAX_ROWS = 2000
BUSY_TIMEOUT_S = 10.0  # wait this long for another process's write lock
# The write-ahead log is checkpointed from poll() once it passes this size, off
# the path of an edit; SQLite's own checkpoint (every 1000 pages) is a backstop.
WAL_CHECKPOINT_BYTES = 256 * 1024
WAL_LIMIT_BYTES = 256 * 1024  # the WAL is truncated back to this after a checkpoint

STORE_SOURCE = "lanban:store"  # updates read back from the file (another process wrote them)
_BOARD_ID = BOARD_ID_PATTERN


def default_data_dir() -> Path:
    env = os.environ.get("LANBAN_HOME")
    return Path(env) if env else Path(platformdirs.user_data_dir("lanban", appauthor=False))


def check_board_id(board_id: str) -> str:
    if not _BOARD_ID.fullmatch(board_id):
        raise StoreError(f"{board_id!r} is not a valid board id")
    return board_id


@dataclass(frozen=True)
class Identity:
    node_id: str  # hex, 16 bytes: names this installation to peers
    user_id: str  # random, stable: names this user in presence
    name: str  # display name ("" until the user picks one)
    color: str


@dataclass(frozen=True)
class BoardSummary:
    id: str
    title: str
    path: Path
    tickets: int
    error: str | None = None  # set when the file cannot be read


class Store:
    """A data directory of board files."""

    def __init__(self, data_dir: Path | str | None = None) -> None:
        self.root = Path(data_dir) if data_dir is not None else default_data_dir()
        self.boards_dir = self.root / "boards"
        try:
            self.boards_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot use data directory {self.root}: {exc.strerror}") from exc

    # ----------------------------------------------------------- identity

    def identity(self) -> Identity:
        path = self.root / "identity.json"
        data: dict[str, Any] = {}
        if path.exists():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                data = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError) as exc:
                raise StoreError(
                    f"{path} is damaged ({exc}); move it away to start afresh"
                ) from exc
        fresh = {"node_id": secrets.token_hex(16), "user_id": new_id()}
        missing = {k: v for k, v in fresh.items() if not isinstance(data.get(k), str)}
        if missing:
            data.update(missing)
            _write_json(path, data)
        return Identity(
            data["node_id"], data["user_id"], str(data.get("name", "")), str(data.get("color", ""))
        )

    def set_user(self, name: str, color: str) -> None:
        self._update_identity(name=name, color=color)

    def settings(self) -> dict[str, Any]:
        """App settings kept with the identity (relay URL and token)."""
        self.identity()
        data = json.loads((self.root / "identity.json").read_text(encoding="utf-8"))
        settings = data.get("settings")
        return settings if isinstance(settings, dict) else {}

    def set_settings(self, **values: Any) -> None:
        settings = self.settings() | values
        self._update_identity(settings={k: v for k, v in settings.items() if v is not None})

    def _update_identity(self, **values: Any) -> None:
        self.identity()
        path = self.root / "identity.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        data.update(values)
        _write_json(path, data)

    # -------------------------------------------------------------- boards

    def path_for(self, board_id: str) -> Path:
        return self.boards_dir / f"{check_board_id(board_id)}{BOARD_SUFFIX}"

    def board_ids(self) -> list[str]:
        return sorted(
            p.name.removesuffix(BOARD_SUFFIX)
            for p in self.boards_dir.glob(f"*{BOARD_SUFFIX}")
            if _BOARD_ID.fullmatch(p.name.removesuffix(BOARD_SUFFIX))
        )

    def create_board(
        self, title: str, columns: Iterable[str] = DEFAULT_COLUMNS, *, actor: str = ""
    ) -> BoardFile:
        board = Board.create(title, list(columns), actor=actor)
        return self.add_board(board)

    def add_board(
        self,
        board: Board,
        *,
        key: bytes | None = None,
        board_id: str | None = None,
        relay: str | None = None,
        relay_token: str | None = None,
    ) -> BoardFile:
        """Write a new board file holding ``board``'s state (atomically)."""
        board_id = check_board_id(board_id or board.id)
        path = self.path_for(board_id)
        if path.exists():
            raise StoreError(f"board {board_id} exists already ({path})")
        key = key if key is not None else secrets.token_bytes(KEY_BYTES)
        if len(key) != KEY_BYTES:
            raise StoreError(f"a board key is {KEY_BYTES} bytes, not {len(key)}")
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            conn = sqlite3.connect(tmp, isolation_level=None)
            try:
                conn.execute("PRAGMA auto_vacuum = FULL")
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {FILE_VERSION}")
                conn.executescript(_META_SCHEMA + BOARD_LAYOUT.schema)
                meta = {
                    "board_id": board_id,
                    "key": key,
                    "relay": relay,
                    "relay_token": relay_token,
                }
                conn.executemany(
                    "INSERT INTO meta(key, value) VALUES (?, ?)",
                    [(k, v) for k, v in meta.items() if v is not None],
                )
                update = board.get_update()
                if update != b"\x00\x00":
                    UpdateLog(conn, BOARD_LAYOUT).append(update, local=True, snapshot=True)
            finally:
                conn.close()
            os.replace(tmp, path)
        except (OSError, sqlite3.Error) as exc:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"cannot create {path}: {exc}") from exc
        return BoardFile(path, actor=board.actor)

    def join(self, invite: Invite, *, actor: str = "") -> BoardFile:
        """A board from an invite: empty until a peer or the relay fills it in."""
        bf = self.add_board(
            Board(actor=actor),
            key=invite.key,
            board_id=invite.board_id,
            relay=invite.relay,
            relay_token=invite.relay_token,
        )
        if invite.title:  # shown until the board's own title arrives
            bf.set_meta("title", invite.title)
        if invite.hints:  # addresses the node dials for this board
            bf.set_meta("hints", json.dumps(list(invite.hints)))
        return bf

    def open(self, board_id: str, *, actor: str = "") -> BoardFile:
        path = self.path_for(board_id)
        if not path.exists():
            raise StoreError(f"no board {board_id} in {self.root}")
        return BoardFile(path, actor=actor)

    def summaries(self) -> list[BoardSummary]:
        """Every board in the directory; unreadable ones carry an error."""
        result = []
        for board_id in self.board_ids():
            path = self.path_for(board_id)
            try:
                with BoardFile(path) as bf:
                    tickets = sum(len(bf.board.ticket_ids(c.id)) for c in bf.board.columns())
                    title = bf.board.title or str(bf.meta("title") or "")  # joined, not synced
                    result.append(BoardSummary(bf.board_id, title, path, tickets))
            except StoreError as exc:
                result.append(BoardSummary(board_id, "", path, 0, str(exc)))
        return result

    def find(self, ref: str, *, actor: str = "") -> BoardFile:
        """A board by id or by unique title (case-insensitive)."""
        ref = ref.strip()
        if _BOARD_ID.fullmatch(ref) and self.path_for(ref).exists():
            return self.open(ref, actor=actor)
        matches = [
            s for s in self.summaries() if s.error is None and s.title.casefold() == ref.casefold()
        ]
        if len(matches) == 1:
            return self.open(matches[0].id, actor=actor)
        if matches:
            ids = ", ".join(s.id for s in matches)
            raise StoreError(f"more than one board is called {ref!r} ({ids}); use its id")
        raise StoreError(f"no board {ref!r} in {self.root} (see: lanban board list)")

    def leave(self, board_id: str) -> Path:
        """Stop keeping a board here; its file is moved to ``left/``, not deleted."""
        path = self.path_for(board_id)
        if not path.exists():
            raise StoreError(f"no board {board_id} in {self.root}")
        left = self.root / "left"
        left.mkdir(exist_ok=True)
        target = left / f"{board_id}-{int(time.time())}{BOARD_SUFFIX}"
        os.replace(path, target)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                os.replace(side, target.with_name(target.name + suffix))
        return target


_META_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB);
"""


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


class BoardFile:
    """One open board file: the live :class:`Board` and its durable log."""

    def __init__(self, path: Path, *, actor: str = "") -> None:
        self.path = path
        self._conn = self._connect(path)
        self._log = UpdateLog(self._conn, BOARD_LAYOUT)
        try:
            meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
            self.board_id = str(meta.get("board_id", ""))
            key = meta.get("key")
            if not isinstance(key, bytes) or len(key) != KEY_BYTES or not self.board_id:
                raise StoreError(f"{path} is damaged: its board id or key is missing")
            self.key: bytes = key
            self._last_seq = 0
            self._own: set[int] = set()
            rows = self._log.rows()
        except sqlite3.Error as exc:
            self._conn.close()
            raise StoreError(f"{path} is damaged ({exc}); it was left untouched") from exc
        except StoreError:
            self._conn.close()
            raise
        self._log_bytes = 0
        self._log_rows = 0
        self._snapshot_bytes = 0
        for seq, data, snapshot in rows:
            self._count(data, snapshot)
            self._last_seq = seq
        try:
            datas = [r[1] for r in rows]
            update = datas[0] if len(datas) == 1 else merge_updates(*datas) if datas else None
            self.board = (
                Board.from_update(update, actor=actor, board_id=self.board_id)
                if update
                else Board(actor=actor, board_id=self.board_id)
            )
        except Exception as exc:
            self._conn.close()
            raise StoreError(f"{path} is damaged: its updates cannot be read ({exc})") from exc
        self._data_version = self._pragma("data_version")
        self._synchronous_full = True
        # After the commit: the write (and a local edit's fsync) runs outside
        # pycrdt's commit callback, still before the edit returns.
        self._unlisten = self.board.on_update(self._persist, after_commit=True)

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        try:
            with open(path, "rb") as f:
                header = f.read(16)
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror}") from exc
        if header != b"SQLite format 3\x00":
            raise StoreError(f"{path} is not a Lanban board file (not an SQLite database)")
        try:
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
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
            raise StoreError(f"{path} is damaged ({exc}); it was left untouched") from exc
        except StoreError:
            conn.close()
            raise
        return conn

    def _pragma(self, name: str) -> int:
        return int(self._conn.execute(f"PRAGMA {name}").fetchone()[0])

    def _count(self, data: bytes, snapshot: bool) -> None:
        if snapshot:
            self._snapshot_bytes = len(data)
            self._log_bytes = 0
            self._log_rows = 0
        else:
            self._log_bytes += len(data)
            self._log_rows += 1

    # ------------------------------------------------------------- writing

    def _persist(self, update: bytes, source: object) -> None:
        if source == STORE_SOURCE:
            return
        local = source == LOCAL_SOURCE
        try:
            if not local and self._synchronous_full:
                self._conn.execute("PRAGMA synchronous = NORMAL")
                self._synchronous_full = False
            elif local and not self._synchronous_full:
                self._conn.execute("PRAGMA synchronous = FULL")
                self._synchronous_full = True
            seq = self._log.append(update, local=local)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot save to {self.path}: {exc}") from exc
        if seq == self._last_seq + 1:
            self._last_seq = seq
        else:
            self._own.add(seq)
        self._count(update, False)

    @property
    def needs_compaction(self) -> bool:
        return self._log_rows >= COMPACT_MAX_ROWS or self._log_bytes > max(
            self._snapshot_bytes, COMPACT_MIN_BYTES
        )

    def maybe_compact(self) -> None:
        # Not from _persist: that runs on the edit's path (and inside the
        # write, when the document may be changing again).
        if self.needs_compaction:
            self.compact()

    def _maybe_checkpoint(self) -> None:
        wal = self.path.with_name(self.path.name + "-wal")
        try:
            size = wal.stat().st_size
        except FileNotFoundError:
            return
        if size > WAL_CHECKPOINT_BYTES:
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def compact(self) -> None:
        """Replace the log with one snapshot of everything in it."""
        try:
            with transaction(self._conn):
                self._apply_new_rows()
                snapshot = self.board.get_update()
                covered = self._last_seq
                unsynced = self._unsynced_rows(covered)
                seq = self._log.replace(snapshot, up_to=covered)
                self._set_meta("pending_compacted", self._meta_int("pending_compacted") + unsynced)
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            log.warning("compaction of %s failed: %s", self.path, exc)
            return
        self._last_seq = seq
        self._own = {s for s in self._own if s > covered}
        self._count(snapshot, True)

    # ------------------------------------------------------------- reading

    def poll(self) -> int:
        """Apply updates other processes wrote since the last call; return how many.

        Also compacts the log when it has grown; call it every few tens of ms.
        """
        try:
            self.maybe_compact()
            self._maybe_checkpoint()
            version = self._pragma("data_version")
            if version == self._data_version:
                return 0
            self._data_version = version
            return self._apply_new_rows()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read {self.path}: {exc}") from exc

    def _apply_new_rows(self) -> int:
        rows = self._log.rows(after=self._last_seq)
        fresh = [r for r in rows if r[0] not in self._own]
        for seq, data, snapshot in rows:
            self._own.discard(seq)
            self._count(data, snapshot)
            self._last_seq = max(self._last_seq, seq)
        if fresh:
            datas = [r[1] for r in fresh]
            update = datas[0] if len(datas) == 1 else merge_updates(*datas)
            try:
                self.board.apply_update(update, STORE_SOURCE)
            except ValueError as exc:
                raise StoreError(f"{self.path} holds an update that cannot be read: {exc}") from exc
        return len(fresh)

    # ----------------------------------------------------- sync bookkeeping

    def pending_local_changes(self) -> int:
        """Changes made here that no peer has seen yet."""
        synced = self._meta_int("synced_seq")
        return self._log.count(local=True, after=synced) + self._meta_int("pending_compacted")

    def mark_synced(self) -> None:
        """A peer now has everything in this file."""
        top = self._log.last_seq()
        with transaction(self._conn):
            self._set_meta("synced_seq", top)
            self._set_meta("pending_compacted", 0)

    def _unsynced_rows(self, up_to: int) -> int:
        return self._log.count(local=True, after=self._meta_int("synced_seq"), up_to=up_to)

    def meta(self, key: str) -> Any:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: Any) -> None:
        self._set_meta(key, value)

    def _set_meta(self, key: str, value: Any) -> None:
        if value is None:
            self._conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self._conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def _meta_int(self, key: str) -> int:
        value = self.meta(key)
        return int(value) if isinstance(value, int) else 0

    @property
    def relay(self) -> str | None:
        value = self.meta("relay")
        return value if isinstance(value, str) else None

    @property
    def relay_token(self) -> str | None:
        value = self.meta("relay_token")
        return value if isinstance(value, str) else None

    def size_on_disk(self) -> tuple[int, int]:
        """Bytes of the board file and of its write-ahead log."""
        wal = self.path.with_name(self.path.name + "-wal")
        return self.path.stat().st_size, wal.stat().st_size if wal.exists() else 0

    def close(self) -> None:
        self._unlisten()
        try:
            self.maybe_compact()
        finally:
            self._conn.close()

    def __enter__(self) -> BoardFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "BoardError",
    "BoardFile",
    "BoardSummary",
    "Identity",
    "Store",
    "StoreError",
    "default_data_dir",
]
