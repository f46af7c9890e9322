"""Each person's colour by name, for assignees' avatars: the board's member list,
the peers online (their presence says their colour), and me; anyone else gets a
stable colour from their name (model.people.person_color, as the CLI says)."""

from __future__ import annotations

import time

from PySide6.QtGui import QColor

from lanban.model.members import members
from lanban.model.people import person_color

from .controller import BoardController
from .theme import color_for, safe_color

MEMBERS_FRESH_SECONDS = 1.0  # the member list has no event of its own: read it this often


class PeopleColors:
    def __init__(self, controller: BoardController) -> None:
        self.controller = controller
        self._members: dict[str, QColor] = {}
        self._read_at = -MEMBERS_FRESH_SECONDS
        self._cache: dict[str, QColor] = {}
        self._stale = True  # peers or my identity changed since the cache was made
        controller.presenceChanged.connect(self._mark_stale)
        controller.settings.identityChanged.connect(self._mark_stale)

    def _mark_stale(self) -> None:
        self._stale = True

    def color(self, name: str) -> QColor:
        now = time.monotonic()
        if now - self._read_at >= MEMBERS_FRESH_SECONDS:
            self._read_at = now
            members_now = {
                m.name.casefold(): QColor(person_color(m.color, m.name))
                for m in members(self.controller.board)
                if m.name
            }
            if members_now != self._members:
                self._members = members_now
                self._stale = True
        if self._stale:
            self._stale = False
            self._cache = dict(self._members)
            for peer in self.controller.peers():
                self._cache[peer.name.casefold()] = safe_color(peer.color, peer.user_id)
            me = self.controller.settings
            self._cache[me.name.casefold()] = safe_color(me.color, me.user_id)
        folded = name.casefold()
        found = self._cache.get(folded)
        if found is None:
            found = self._cache[folded] = QColor(color_for(name))
        return found
