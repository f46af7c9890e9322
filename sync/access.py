"""Read-only links: a board in ``members`` mode takes writes only from editors (PROTOCOL.md 7.5).

A link's writes are its sync step 2 and updates. On a link whose peer may not
write (a viewer, a removed member, someone not on the list, an older node that
proved no identity, any relay link), a step 2 is taken as empty, so the link
still counts as synced and reading goes on, and every update is dropped:
never applied, stored or passed on. Whether the peer may write is decided per
message, so a removal or a change of role applies at once to open links.
Roles and the access mode are the *verified* ones (PROTOCOL.md 7.5): the board's
hub installs :class:`~.member_signing.MemberTrust` as the board's verifier, so an
editor's unsigned or replayed writes to ``members`` or ``board.access`` change
nothing here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pycrdt import Map

from lanban.model import members
from lanban.model.board import Board
from lanban.model.members import Access, access, role_of

from .key_epochs import KEYS_MESSAGE
from .messages import MessageType, ProtocolError, SyncStep2, SyncType, encode, read_var_uint
from .protocol import EMPTY_UPDATE
from .session import Session

log = logging.getLogger("lanban.node")

EMPTY_STEP2 = encode(SyncStep2(EMPTY_UPDATE))


def may_write(board: Board, member: str) -> bool:
    """Whether a peer that proved ``member`` ("" for none) may change the board."""
    if access(board) is not Access.MEMBERS:
        # An open board: every key holder writes (PROTOCOL.md 6), but for one removed
        # (the board key rotates with the removal, and this keeps the moment between
        # the removal and the link's close from taking her writes).
        gone = members.member(board, member) if member else None
        return gone is None or not gone.removed
    role = role_of(board, member) if member else None
    return role is not None and role.writes


class WriteAccess:
    """:func:`may_write` per member, kept until the member list or the board's access
    mode changes (a lookup is tens of microseconds, and it is asked per frame)."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self._verdicts: dict[str, bool] = {}
        self._settings: Map[Any] = board.doc.get("board", type=Map)  # held: its observer
        settings_watch = self._settings.observe(lambda _event: self._verdicts.clear())
        self._stops: list[Callable[[], None]] = [
            members.watch_members(board, self._verdicts.clear),
            lambda: self._settings.unobserve(settings_watch),
        ]

    def allowed(self, member: str) -> bool:
        verdict = self._verdicts.get(member)
        if verdict is None:
            verdict = self._verdicts[member] = may_write(self.board, member)
        return verdict

    def close(self) -> None:
        for stop in self._stops:
            stop()
        self._stops = []


def write_kind(frame: bytes) -> SyncType | None:
    """STEP2 or UPDATE if ``frame`` is a sync message that writes, else None.

    The numbers are varUints, which may be spelt in more than one byte: read
    them, never compare the bytes.
    """
    kind, pos = read_var_uint(frame, 0)
    if kind != MessageType.SYNC:
        return None
    sync_type, _ = read_var_uint(frame, pos)
    return SyncType(sync_type) if sync_type in (SyncType.STEP2, SyncType.UPDATE) else None


class GatedSession(Session):
    """A session that refuses the peer's writes while ``writer_allowed()`` is False.

    A KEYS message (PROTOCOL.md 7.6; at most one per link) goes to ``on_keys``.
    """

    def __init__(
        self,
        *args: Any,
        writer_allowed: Callable[[], bool],
        on_keys: Callable[[bytes], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.writer_allowed = writer_allowed
        self.refused = 0  # writes dropped on this link
        self._on_keys = on_keys

    def receive(self, frame: bytes) -> None:
        if frame[:1] == bytes([KEYS_MESSAGE]) and self._on_keys is not None:
            on_keys, self._on_keys = self._on_keys, None  # once per link
            on_keys(frame[1:])
            return
        try:
            kind = write_kind(frame)
        except ProtocolError:
            kind = None  # the session says what is wrong with it
        if kind is not None and not self.writer_allowed():
            if self.refused == 0:
                log.warning(
                    "link %s may not write board %s: its changes are refused",
                    self.link,
                    self.board.id,
                )
            self.refused += 1
            if kind is not SyncType.STEP2:
                return
            frame = EMPTY_STEP2
        super().receive(frame)
