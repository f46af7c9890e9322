"""Each person's colour by name, for assignees' avatars: the board's member list,
the peers online (their presence says their colour), and me; anyone else gets a
stable colour from their name."""

from __future__ import annotations

import time

from PySide6.QtGui import QColor

from lanban.model.members import members

from .controller import BoardController
from .theme import color_for, safe_color

MEMBERS_FRESH_SECONDS = 1.0  # the member list has no event of its own: read it this often


class PeopleColors:
    def __init__(self, controller: BoardController) -> None:
        self.controller = controller
        self._members: dict[str, QColor] = {}
        self._read_at = -MEMBERS_FRESH_SECONDS
        self._cache: dict[str, QColor] = {}
        self._key: tuple[object, ...] = ()

    def color(self, name: str) -> QColor:
        self._check()
        folded = name.casefold()
        found = self._cache.get(folded)
        if found is None:
            found = self._cache[folded] = QColor(color_for(name))
        return found

    def _check(self) -> None:
        now = time.monotonic()
        if now - self._read_at >= MEMBERS_FRESH_SECONDS:
            self._read_at = now
            members_now = {
                m.name.casefold(): safe_color(m.color, m.id)
                for m in members(self.controller.board)
                if m.name and m.color
            }
            if members_now != self._members:
                self._members = members_now
                self._key = ()
        me = self.controller.settings
        peers = tuple((p.name, p.color, p.user_id) for p in self.controller.peers())
        key = (me.name, me.color, peers)
        if key != self._key:
            self._key = key
            cache = dict(self._members)
            for name, color, user_id in peers:
                cache[name.casefold()] = safe_color(color, user_id)
            cache[me.name.casefold()] = safe_color(me.color, me.user_id)
            self._cache = cache
