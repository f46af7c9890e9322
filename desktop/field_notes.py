"""The small line under a panel's field: who holds it, who types in it."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .controller import Peer
from .theme import safe_color

NOTE_STYLE = "font-size: 11px; color: {color};"


def field_note(name: str) -> QLabel:
    note = QLabel()
    note.setObjectName(name)
    note.setWordWrap(True)
    note.hide()
    return note


def with_note(field: QWidget, note: QLabel) -> QWidget:
    """The field with its note under it, as one form row."""
    box = QWidget()
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(1)
    column.addWidget(field)
    column.addWidget(note)
    return box


def restyle(widget: QWidget, sheet: str) -> None:
    """Set a style sheet only if it changes: each set re-polishes the widget, and
    presence changes come many times a second."""
    if widget.styleSheet() != sheet:
        widget.setStyleSheet(sheet)


def show_note(note: QLabel, text: str, holder: Peer | None = None) -> None:
    """``text`` under the field ("" hides it); in the holder's colour if someone holds it."""
    color = (
        safe_color(holder.color, holder.user_id).name()
        if holder is not None
        else "palette(placeholder-text)"
    )
    restyle(note, NOTE_STYLE.format(color=color))
    if note.text() != text:
        note.setText(text)
    note.setVisible(bool(text))
