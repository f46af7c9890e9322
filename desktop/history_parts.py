"""Parts of the History view (history_view.py): the badge that says it is
read-only, the slider's two ends, the line that says what a moment did (one
line, so the slider holds still while stepping), and what an empty moment shows."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from .theme import Palette

NO_HISTORY = "This board has no history yet: it starts with the board's first change."
NO_COLUMNS = "No columns yet at this moment."


def moment_time(at: int, now: datetime | None = None) -> str:
    """ "Fri 27 Nov, 09:12" (with the year when it is another); "" if unknown."""
    if at <= 0:
        return ""
    when = datetime.fromtimestamp(at / 1000)
    year = "" if when.year == (now or datetime.now()).year else f" {when.year}"
    return f"{when:%a} {when.day} {when:%b}{year}, {when:%H:%M}"


class ReadOnlyBadge(QLabel):
    """ "Read-only · the board as it was", a pill in the highlight colour."""

    def __init__(self) -> None:
        super().__init__("Read-only · the board as it was")
        self.setObjectName("historyReadOnly")
        self.setAccessibleName("Read-only: the board as it was")
        pal = Palette()
        self.setStyleSheet(
            f"QLabel#historyReadOnly {{ color: {pal.highlight.name()};"
            f" border: 1px solid {pal.highlight.name()}; border-radius: 10px;"
            " padding: 2px 10px; font-weight: bold; }"
        )


class SliderEnds(QWidget):
    """Under the slider: when the first moment was, and the latest."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("historyEnds")
        self.first = QLabel()
        self.last = QLabel()
        muted = f"color: {Palette().muted.name()};"
        for label in (self.first, self.last):
            label.setStyleSheet(muted)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.first)
        layout.addStretch(1)
        layout.addWidget(self.last)

    def show_ends(self, first: int, last: int) -> None:
        self.first.setText(moment_time(first) or "the first change")
        self.last.setText(f"{moment_time(last) or 'the last change'} · latest")
        self.first.setAccessibleName(f"First moment: {self.first.text()}")
        self.last.setAccessibleName(f"Latest moment: {self.last.text()}")


class OneLine(QLabel):
    """A label of one line: what does not fit ends in "…", and all of it is
    its tooltip (and what :meth:`text` says)."""

    def __init__(self) -> None:
        super().__init__()
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(40)

    def setText(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self.setAccessibleName(text)
        self._elide()

    def text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(
            self._full, Qt.TextElideMode.ElideRight, max(0, self.width())
        )
        super().setText(shown)


class EmptyNote(QLabel):
    """What a moment with nothing to show says, in the middle of the board."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("historyEmpty")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setStyleSheet(f"color: {Palette().muted.name()};")
        self.hide()
