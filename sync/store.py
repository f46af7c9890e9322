"""Durable local storage: one SQLite file per board in a data directory.

Layout of a data directory::

    boards/<board id>.lanban   one board: its update log, snapshot and secrets
    left/                      boards the user left (kept, never deleted)
    identity.json              this installation's node id and user
    identity.key               its Ed25519 signing key (raw, mode 0600): its member id

:class:`Store` is the directory (identity and settings, the list of boards,
creating, finding and leaving them); one open board file is
:class:`~lanban.sync.board_file.BoardFile` (durability, several processes,
compaction, storage failures), its format :mod:`~lanban.sync.board_format`,
quarantined rows :mod:`~lanban.sync.board_rows`, ``lanban board repair``
:mod:`~lanban.sync.board_repair`; the log itself (append, read back, replace by a
snapshot, count) is :class:`~lanban.sync.update_log.UpdateLog`, shared with the
relay's rooms. A damaged or full board file affects only that board: it is
named in :meth:`Store.summaries` and the others stay usable.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.model.limits import BOARD_ID_PATTERN, DEFAULT_COLUMNS
from lanban.model.members import (
    MAX_COLOR_LENGTH,
    MAX_MEMBER_NAME_LENGTH,
    Role,
    add_member,
    members,
)
from lanban.model.schema import new_id

from .board_file import COMPACT_MIN_BYTES, STORE_SOURCE, BoardFile
from .board_format import BOARD_SUFFIX, KEY_BYTES, WAL_LIMIT_BYTES, StoredRow, write_board_file
from .identity import NodeKey
from .invite import Invite
from .member_authority import protect, sign_as_creator
from .member_invites import INVITE_CLAIM_META, stored_claim
from .update_log import StoreError

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
    member_id: str = ""  # the signing key's public half (PROTOCOL.md 7.2)


@dataclass(frozen=True)
class BoardSummary:
    id: str
    title: str
    path: Path
    tickets: int
    error: str | None = None  # set when the file cannot be read
    notice: str | None = None  # e.g. "1 update quarantined: ..." (the board is usable)


class Store:
    """A data directory of board files."""

    def __init__(self, data_dir: Path | str | None = None) -> None:
        self.root = Path(data_dir) if data_dir is not None else default_data_dir()
        self.boards_dir = self.root / "boards"
        try:
            self.boards_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot use data directory {self.root}: {exc.strerror}") from exc
        # Set when identity() found identity.json damaged and set it aside.
        self.identity_notice: str | None = None

    # ----------------------------------------------------------- identity

    def identity(self) -> Identity:
        """This installation's identity; a damaged identity.json is set aside
        (renamed, never deleted) for a fresh one, and :attr:`identity_notice` says so.
        identity.key, and so the member id, is kept either way."""
        path = self.root / "identity.json"
        data: dict[str, Any] = {}
        if path.exists():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except OSError as exc:
                raise StoreError(f"cannot read {path}: {exc.strerror}") from exc
            except ValueError:  # not JSON, or not UTF-8
                loaded = None
            if isinstance(loaded, dict):
                data = loaded
            else:
                self._set_identity_aside(path)
        fresh = {"node_id": secrets.token_hex(16), "user_id": new_id()}
        missing = {k: v for k, v in fresh.items() if not isinstance(data.get(k), str)}
        if missing:
            data.update(missing)
            _write_json(path, data)
        return Identity(
            data["node_id"],
            data["user_id"],
            str(data.get("name", "")),
            str(data.get("color", "")),
            self.signing_key().member_id,
        )

    def _set_identity_aside(self, path: Path) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = path.with_name(f"{path.name}.damaged-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
        try:
            os.rename(path, target)
        except OSError as exc:
            raise StoreError(
                f"{path} is damaged and cannot be moved aside: {exc.strerror}"
            ) from exc
        self.identity_notice = (
            f"Your name and settings could not be read ({path.name} was damaged): "
            f"the file is kept as {target} and a fresh one was started."
        )

    def checked_identity(self) -> str | None:
        """Read an existing identity.json now: the notice if it was damaged, else None."""
        if (self.root / "identity.json").exists():
            self.identity()
        return self.identity_notice

    def signing_key(self) -> NodeKey:
        """This installation's Ed25519 key, made on first use."""
        path = self.root / "identity.key"
        try:
            return NodeKey.load_or_create(path)
        except (OSError, ValueError) as exc:
            raise StoreError(f"{path}: {exc}; move it away to start afresh") from exc

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
        me = self.signing_key()
        board.set_member(me.member_id)  # its writes are mine (model.people, the history)
        sign_as_creator(board, me)  # the owner's entry is signed (PROTOCOL.md 7.5)
        self._add_self(board, Role.OWNER)
        return protect(self.add_board(board), me, owner=me.member_id)

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
        meta = {"board_id": board_id, "key": key, "relay": relay, "relay_token": relay_token}
        update = board.get_update()
        rows = [] if update == b"\x00\x00" else [StoredRow(1, update, True, True)]
        write_board_file(path, meta, rows)
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
        bf.board.set_member(self.signing_key().member_id)  # as create_board
        protect(bf, self.signing_key(), owner=invite.owner)  # a v2 invite names the owner
        if invite.role:  # a member admits us when we link (PROTOCOL.md 7.7)
            bf.set_meta(INVITE_CLAIM_META, stored_claim(invite))
        else:  # a version 1 invite makes a full member (PROTOCOL.md 7.4): an editor
            self._add_self(bf.board, Role.EDITOR)
        if invite.title:  # shown until the board's own title arrives
            bf.set_meta("title", invite.title)
        if invite.hints:  # addresses the node dials for this board
            bf.set_meta("hints", json.dumps(list(invite.hints)))
        return bf

    def _add_self(self, board: Board, role: Role) -> None:
        me = self.identity()
        name = me.name[:MAX_MEMBER_NAME_LENGTH]
        color = me.color if len(me.color) <= MAX_COLOR_LENGTH else ""
        add_member(board, me.member_id, name=name, color=color, role=role)

    def open(self, board_id: str, *, actor: str = "") -> BoardFile:
        path = self.path_for(board_id)
        if not path.exists():
            raise StoreError(f"no board {board_id} in {self.root}")
        key = self.signing_key()
        file = BoardFile(path, actor=actor)
        try:
            return protect(file, key)  # signed member entries (PROTOCOL.md 7.5)
        except BaseException:
            file.close()
            raise

    def summaries(self) -> list[BoardSummary]:
        """Every board in the directory; unreadable ones carry an error."""
        result = []
        for board_id in self.board_ids():
            path = self.path_for(board_id)
            try:
                with BoardFile(path) as bf:
                    bf.check()
                    tickets = sum(len(bf.board.ticket_ids(c.id)) for c in bf.board.columns())
                    title = bf.board.title or str(bf.meta("title") or "")  # joined, not synced
                    notice = bf.quarantine_notice
                    result.append(BoardSummary(bf.board_id, title, path, tickets, None, notice))
            except StoreError as exc:
                result.append(BoardSummary(board_id, "", path, 0, str(exc)))
        return result

    def find(self, ref: str, *, actor: str = "") -> BoardFile:
        """A board by id or by unique title (case-insensitive)."""
        ref = ref.strip()
        if _BOARD_ID.fullmatch(ref) and self.path_for(ref).exists():
            return self.open(ref, actor=actor)
        matches = self.titled(ref)
        if len(matches) == 1:
            return self.open(matches[0].id, actor=actor)
        if matches:
            lines = [f"more than one board is called {ref!r}:"]
            lines += [f"  {s.id}  {s.title}  ({self._told_apart(s)})" for s in matches]
            lines.append("use a board's id instead of its title (lanban board list shows them)")
            raise StoreError("\n".join(lines))
        raise StoreError(f"no board {ref!r} in {self.root} (see: lanban board list)")

    def titled(self, title: str) -> list[BoardSummary]:
        """The boards (that open) called ``title``, ignoring case: the one copy of the
        rule that finds a board by its title."""
        key = title.strip().casefold()
        return [s for s in self.summaries() if s.error is None and s.title.casefold() == key]

    def _told_apart(self, summary: BoardSummary) -> str:
        """ "3 tickets, made by Ada": what tells boards with one title apart."""
        text = f"{summary.tickets} ticket{'' if summary.tickets == 1 else 's'}"
        with BoardFile(summary.path) as bf:
            owners = [m.name for m in members(bf.board) if m.role is Role.OWNER and m.name]
        return f"{text}, made by {owners[0]}" if owners else text

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


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


__all__ = [
    "COMPACT_MIN_BYTES",
    "STORE_SOURCE",
    "WAL_LIMIT_BYTES",
    "BoardError",
    "BoardFile",
    "BoardSummary",
    "Identity",
    "Store",
    "StoreError",
    "default_data_dir",
]
