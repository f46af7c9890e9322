"""The app's shared state: who the user is (Settings) and what to tell them (Messages).

Settings is the only desktop code that reads or writes the Store's identity and
settings; widgets that show the user's name or colour listen to its signals.
Messages is the one channel for errors and notices: widgets report there and
the main window shows them (error bar, status bar). ``Messages.attempt`` is the
one wrapper that turns an expected failure into a plain message.
"""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import Callable, Mapping

from PySide6.QtCore import QObject, Signal

from lanban.model.errors import BoardError
from lanban.model.reading import printable
from lanban.sync.invite import InviteError
from lanban.sync.node import NodeError
from lanban.sync.store import Store, StoreError

from .theme import color_for

MAX_NAME = 60
THEMES = ("light", "dark")
# What a user action may raise that is the user's news, not a bug.
EXPECTED_ERRORS = (BoardError, NodeError, StoreError, InviteError)


class Settings(QObject):
    """Name, colour, relay and theme of this user, and where they left the app
    (last board, window geometry), saved in the data directory."""

    identityChanged = Signal()  # name or colour
    relayChanged = Signal()
    themeChanged = Signal()
    pointersChanged = Signal()

    def __init__(
        self,
        store: Store,
        user_id: str,
        name: str,
        color: str,
    ) -> None:
        super().__init__()
        self._store = store
        self._user_id = user_id
        self._name = printable(name).strip()[:MAX_NAME]
        self._color = color
        saved = store.settings()
        self._relay = str(saved.get("relay") or "") or None
        self._relay_token = str(saved.get("relay_token") or "") or None
        # LANBAN_THEME wins for this run; None follows the system.
        theme = os.environ.get("LANBAN_THEME") or saved.get("theme")
        self._theme: str | None = theme if theme in THEMES else None
        self._last_board = str(saved.get("last_board") or "")
        widths = saved.get("column_widths")
        self._column_widths: dict[str, dict[str, int]] = {
            str(board): {str(c): w for c, w in columns.items() if isinstance(w, int)}
            for board, columns in (widths.items() if isinstance(widths, dict) else ())
            if isinstance(columns, dict)
        }
        self._window = str(saved.get("window") or "")
        self._pointers = saved.get("pointers") is not False  # on unless turned off

    @classmethod
    def load(cls, store: Store, name: str | None = None) -> Settings:
        """From the store; ``name`` (--name, LANBAN_USER_NAME) overrides the saved one
        for this run. ``needs_name`` says whether to ask (first start)."""
        identity = store.identity()
        chosen = name or os.environ.get("LANBAN_USER_NAME") or identity.name
        # No colour chosen: the one everyone else gives this name (model.people), so my
        # avatar matches my member entry and writer rows, nameless as a CLI join left them.
        color = identity.color or color_for(chosen or identity.user_id)
        return cls(store, identity.user_id, chosen, color)

    @classmethod
    def of(cls, store: Store, me: Mapping[str, str]) -> Settings:
        """For a given user (tests, tools): {"id", "name", "color"}; not saved."""
        return cls(store, me["id"], me["name"], me["color"])

    @property
    def user_id(self) -> str:
        return self._user_id

    @property
    def name(self) -> str:
        return self._name

    @property
    def color(self) -> str:
        return self._color

    @property
    def relay(self) -> str | None:
        return self._relay

    @property
    def relay_token(self) -> str | None:
        return self._relay_token

    @property
    def theme(self) -> str | None:
        """ "light", "dark", or None: as the system is."""
        return self._theme

    @property
    def last_board(self) -> str:
        """The board the user looked at last ("" if none yet)."""
        return self._last_board

    @property
    def window_geometry(self) -> bytes:
        """The main window's geometry as QWidget.saveGeometry() gave it (b"" if none)."""
        try:
            return base64.b64decode(self._window, validate=True)
        except ValueError:
            return b""

    @property
    def show_pointers(self) -> bool:
        """Teammates' mouse pointers over the board (View menu); mine goes out only then."""
        return self._pointers

    def set_show_pointers(self, on: bool) -> None:
        if on != self._pointers:
            self._pointers = on
            self._remember(pointers=on)
            self.pointersChanged.emit()

    @property
    def needs_name(self) -> bool:
        return not self._name

    def user(self) -> dict[str, str]:
        """How others see me in presence ("user" of the awareness state)."""
        return {"id": self._user_id, "name": self._name, "color": self._color}

    def set_identity(self, name: str, color: str) -> None:
        name = printable(name).strip()[:MAX_NAME]
        self._store.set_user(name, color)
        if (name, color) != (self._name, self._color):
            self._name, self._color = name, color
            self.identityChanged.emit()

    def set_relay(self, url: str | None, token: str | None) -> None:
        url, token = url or None, token or None
        self._store.set_settings(relay=url, relay_token=token)
        if (url, token) != (self._relay, self._relay_token):
            self._relay, self._relay_token = url, token
            self.relayChanged.emit()

    def set_last_board(self, board_id: str) -> None:
        if board_id != self._last_board:
            self._last_board = board_id
            self._remember(last_board=board_id or None)

    def column_widths(self, board_id: str) -> dict[str, int]:
        """Columns of a board the user resized: column id -> width in px."""
        return dict(self._column_widths.get(board_id, {}))

    def set_column_width(self, board_id: str, column_id: str, width: int) -> None:
        """Remember a column's width (0: forget it, the column takes its natural width)."""
        widths = self._column_widths.setdefault(board_id, {})
        if width:
            widths[column_id] = width
        else:
            widths.pop(column_id, None)
        if not widths:
            del self._column_widths[board_id]
        with contextlib.suppress(OSError, StoreError):
            self._store.set_settings(column_widths=self._column_widths or None)

    def set_window_geometry(self, geometry: bytes) -> None:
        self._window = base64.b64encode(geometry).decode("ascii")
        self._remember(window=self._window or None)

    def _remember(self, **values: str | bool | None) -> None:
        """Where the user left the app: not worth an error if the disk refuses it."""
        with contextlib.suppress(OSError, StoreError):
            self._store.set_settings(**values)

    def set_theme(self, theme: str | None) -> None:
        theme = theme if theme in THEMES else None
        self._store.set_settings(theme=theme)
        if theme != self._theme:
            self._theme = theme
            self.themeChanged.emit()


class Messages(QObject):
    """Errors and notices for the user, from anywhere in the app."""

    error = Signal(str)  # something failed: a plain sentence, never a traceback
    info = Signal(str, int)  # a passing notice, and how long to show it (ms)

    def attempt(
        self, action: Callable[[], object], shown_in: Callable[[str], object] | None = None
    ) -> bool:
        """Run ``action``; an expected failure becomes an error message, for the main
        window or for ``shown_in`` (a dialog that shows it in place). True if it worked."""
        try:
            action()
        except EXPECTED_ERRORS as exc:
            (shown_in or self.error.emit)(str(exc))
            return False
        return True

    def notify(self, text: str, ms: int = 4000) -> None:
        self.info.emit(text, ms)
