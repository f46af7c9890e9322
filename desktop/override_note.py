"""'Grace's title replaced yours': when a peer's concurrent change beat mine.

A ticket's title and assignee are last-writer-wins: of two changes made at once,
every copy keeps the same one and the other is gone. The rule for "at once" (the
peer had not seen mine when they wrote): their change reaches me less than
``CONCURRENT_WINDOW_S`` after I made mine, or less than that after a link came up
that was not there when I made mine (edits made apart, meeting on reconnection).
A peer who changes my value later, having seen it, is not an override: the panel
just shows the new value. The note offers to put mine back, as a new change.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

CONCURRENT_WINDOW_S = 3.0
FIELD_WORDS = {"title": "title", "assignee": "assignee"}


@dataclass(frozen=True)
class MyWrite:
    value: str
    at: float  # time.time()


def concurrent(mine_at: float, now: float, links_since: Iterable[float], window: float) -> bool:
    """Whether a change arriving ``now`` was made without knowing mine (see above)."""
    if now - mine_at < window:
        return True
    return any(since > mine_at and now - since < window for since in links_since)


class OverrideNote(QWidget):
    """A bar at the top of the panel; hidden until an override happens."""

    def __init__(self, put_back: Callable[[str, str], object], parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("overrideNote")
        self.window_s = CONCURRENT_WINDOW_S
        self._put_back = put_back
        self._mine: dict[str, MyWrite] = {}
        self._shown: tuple[str, str] | None = None  # (field, my value)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.put_back = QPushButton("Put mine back")
        self.put_back.setAutoDefault(False)
        self.put_back.clicked.connect(self._restore)
        dismiss = QToolButton()
        dismiss.setText("✕")
        dismiss.setToolTip("Dismiss")
        dismiss.setAutoRaise(True)
        dismiss.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 4, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.put_back)
        row.addWidget(dismiss)
        self.setStyleSheet(
            "#overrideNote { background: rgba(255, 152, 0, 40); border: 1px solid #ff9800;"
            " border-radius: 4px; }"
        )
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def wrote(self, field: str, value: str) -> None:
        """I changed this field to ``value`` (from the panel)."""
        self._mine[field] = MyWrite(value, time.time())

    def check(self, field: str, now_value: str, by: str, links_since: Iterable[float]) -> None:
        """A peer's change arrived; ``now_value`` is what the field holds now."""
        mine = self._mine.get(field)
        if mine is None or now_value == mine.value:
            return
        del self._mine[field]  # told once; a later change of theirs is theirs
        if not concurrent(mine.at, time.time(), links_since, self.window_s):
            return
        who = f"{by}'s" if by else "A peer's"
        self.label.setText(
            f"{who} {FIELD_WORDS[field]} replaced yours: '{mine.value}' → '{now_value}'"
        )
        self._shown = (field, mine.value)
        self.show()

    def _restore(self) -> None:
        if self._shown is not None:
            field, value = self._shown
            self._shown = None
            self._put_back(field, value)
        self.hide()
