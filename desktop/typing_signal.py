"""'Ada is typing…': one field's typing, told to the others and shown from theirs.

The comments, the description and the title all use this one logic: a key in the
field says "typing" (awareness "typing" and "typing_field"), and it ends
``TYPING_IDLE_MS`` after the last key, when the text is sent, or when the panel goes.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from .controller import BoardController

TYPING_IDLE_MS = 2000  # "Ada is typing" ends this long after her last key


def typing_text(names: list[str]) -> str:
    """What shows under a field while these people type in it ("" for nobody)."""
    if not names:
        return ""
    return ", ".join(names) + (" is" if len(names) == 1 else " are") + " typing…"


class TypingSignal(QObject):
    """My typing in one field of a ticket, as the others see it."""

    def __init__(
        self, controller: BoardController, ticket_id: str, field: str, parent: QObject
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.ticket_id = ticket_id
        self.field = field
        self.enabled = True  # False for a read-only panel: it tells nothing
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(TYPING_IDLE_MS)
        self._timer.timeout.connect(self.stop)

    def typed(self, still_typing: bool = True) -> None:
        """A key in the field; ``still_typing`` False: it was emptied (nothing to send)."""
        if not self.enabled or not still_typing:
            self.stop()
            return
        self.controller.set_typing(self.ticket_id, self.field)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self.controller.stop_typing(self.ticket_id, self.field)
