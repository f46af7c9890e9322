"""Opening a ticket someone else edits, and this panel's "I am editing" claim."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from .controller import BoardController
from .prompts import open_dialog
from .question import Question


def confirm_edit(
    parent: QWidget, controller: BoardController, ticket_id: str, then: Callable[[str], object]
) -> Question | None:
    """Warn when someone else is editing, then ``then("edit" | "read-only")``; nothing
    on Cancel. Without other editors, ``then("edit")`` at once (and no box)."""
    editors = controller.editors(ticket_id)
    if not editors:
        then("edit")
        return None
    names = ", ".join(p.name for p in editors)
    box = Question(
        parent,
        "Someone is editing this ticket",
        f"{names} {'is' if len(editors) == 1 else 'are'} editing this ticket.",
        "You can look at it read-only, or edit anyway: the description "
        "merges either way, other fields keep the last change.",
        verb="Edit anyway",
        alternative="Open read-only",
        destructive=False,
        default="Open read-only",
    )

    def clicked(answer: str) -> None:
        if answer == "Edit anyway":
            then("edit")
        elif answer == "Open read-only":
            then("read-only")

    box.answered.connect(clicked)
    return open_dialog(box)


class EditingClaim:
    """This panel's "I am editing" in the board's presence; released once, by
    whichever comes first: the panel finishing (Esc, Close, the window's close
    button), turning read-only, or the widget being deleted (its ``destroyed``
    cannot call the half-gone panel, so this is an object of its own). Releasing
    also ends my caret, field lock and typing in that ticket (stop_editing)."""

    def __init__(self, controller: BoardController, ticket_id: str) -> None:
        self.controller = controller
        self.ticket_id = ticket_id
        self.held = True
        controller.start_editing(ticket_id)

    def release(self) -> None:
        if self.held:
            self.held = False
            self.controller.stop_editing(self.ticket_id)
