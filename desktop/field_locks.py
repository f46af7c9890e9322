"""Locks on a ticket's last-writer-wins fields (title, assignee, labels, due date).

Two people typing in one title would each lose to the other's last write, so one
edits at a time: while my caret (the keyboard focus) is in such a field, my
awareness "focus" claims it; while a peer holds it, it is read-only here and says
who. A claim ends the moment the focus leaves, the panel goes, or the peer's link
drops (their awareness state goes with it). If two claim at once, every copy picks
the same holder (BoardController.field_holder: the earliest claim). The
description merges, so it is never locked.
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QWidget

from .controller import LOCKED_FIELDS, BoardController, Peer

FIELD_WORDS = {
    "title": "the title",
    "assignee": "the assignee",
    "labels": "the labels",
    "due": "the due date",
}


def within(area: QWidget, widget: QWidget) -> bool:
    """``widget`` is ``area`` or inside it, even in a popup of its own (a date
    edit's calendar): QWidget.isAncestorOf stops at a window's edge."""
    found: QWidget | None = widget
    while found is not None:
        if found is area:
            return True
        found = found.parentWidget()
    return False


class FieldLocks(QObject):
    """The locks of one panel's fields: each field is the area holding its widgets."""

    changed = Signal()  # who holds which field changed: the panel shows it

    def __init__(
        self, controller: BoardController, ticket_id: str, areas: dict[str, QWidget]
    ) -> None:
        super().__init__(next(iter(areas.values())))
        assert set(areas) <= set(LOCKED_FIELDS)
        self.controller = controller
        self.ticket_id = ticket_id
        self.areas = areas
        self.enabled = True  # False for a read-only panel: it claims nothing
        self.holders: dict[str, Peer | None] = dict.fromkeys(areas)
        self._inside: str | None = None
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.focusChanged.connect(self._focus_changed)
        controller.presenceChanged.connect(self.refresh)
        self.refresh()

    def holder(self, field: str) -> Peer | None:
        """The peer editing this field now (then it is read-only here), or None."""
        return self.holders.get(field)

    def note(self, field: str) -> str:
        peer = self.holders.get(field)
        return "" if peer is None else f"{peer.name} is editing {FIELD_WORDS[field]}"

    def refresh(self) -> None:
        holders = {f: self.controller.field_holder(self.ticket_id, f) for f in self.areas}
        if holders != self.holders:
            self.holders = holders
            self.changed.emit()

    def release(self) -> None:
        """The panel is going (or only views now): claim nothing more."""
        self.enabled = False
        if self._inside is not None:
            self.controller.release_field(self.ticket_id, self._inside)
            self._inside = None

    def detach(self) -> None:
        self.release()
        app = QApplication.instance()
        for signal, slot in (
            (self.controller.presenceChanged, self.refresh),
            (app.focusChanged if isinstance(app, QApplication) else None, self._focus_changed),
        ):
            if signal is not None:
                with contextlib.suppress(RuntimeError, TypeError):
                    signal.disconnect(slot)

    def _focus_changed(self, _old: QWidget | None, now: QWidget | None) -> None:
        field = None
        if now is not None:
            for name, area in self.areas.items():
                if within(area, now):
                    field = name
                    break
        if field == self._inside:
            return
        if self._inside is not None:
            self.controller.release_field(self.ticket_id, self._inside)
        self._inside = field if self.enabled else None
        if self._inside is not None:
            self.controller.claim_field(self.ticket_id, self._inside)
        self.refresh()
