"""The ticket panel: title, collaborative description, assignee, labels, comments."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from lanban.model.errors import BoardError
from lanban.model.events import BoardEvent, Kind, Origin

from .controller import BoardController
from .prompts import ask_text, open_dialog
from .text_binding import DescriptionBinding
from .theme import USER_COLORS

TYPING_IDLE_MS = 3000  # "Ada is typing" ends this long after the last key


def when(ms: int) -> str:
    if not ms:
        return "?"
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


def confirm_edit(
    parent: QWidget, controller: BoardController, ticket_id: str, then: Callable[[str], object]
) -> QMessageBox | None:
    """Warn when someone else is editing, then ``then("edit" | "read-only")``; nothing
    on Cancel. Without other editors, ``then("edit")`` at once (and no box)."""
    editors = controller.editors(ticket_id)
    if not editors:
        then("edit")
        return None
    names = ", ".join(p.name for p in editors)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Someone is editing this ticket")
    box.setText(f"{names} {'is' if len(editors) == 1 else 'are'} editing this ticket.")
    box.setInformativeText(
        "You can look at it read-only, or edit anyway: the description "
        "merges either way, other fields keep the last change."
    )
    read_only = box.addButton("Open read-only", QMessageBox.ButtonRole.AcceptRole)
    edit = box.addButton("Edit anyway", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(read_only)

    def clicked(button: object) -> None:
        if button is edit:
            then("edit")
        elif button is read_only:
            then("read-only")

    box.buttonClicked.connect(clicked)
    return open_dialog(box)


class EditingClaim:
    """This panel's "I am editing" in the board's presence; released once, by
    whichever comes first: the panel finishing (Esc, Close, the window's close
    button), turning read-only, or the widget being deleted (its ``destroyed``
    cannot call the half-gone panel, so this is an object of its own)."""

    def __init__(self, controller: BoardController, ticket_id: str) -> None:
        self.controller = controller
        self.ticket_id = ticket_id
        self.held = True
        controller.start_editing(ticket_id)

    def release(self) -> None:
        if self.held:
            self.held = False
            self.controller.stop_editing(self.ticket_id)


class TicketDialog(QDialog):
    def __init__(
        self,
        controller: BoardController,
        ticket_id: str,
        *,
        read_only: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.board = controller.board
        self.ticket_id = ticket_id
        self.read_only = read_only
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(620, 640)

        self.title = QLineEdit()
        self.title.setObjectName("ticketTitle")
        self.title.editingFinished.connect(self._save_title)
        self.assignee = QLineEdit()
        self.assignee.setPlaceholderText("Nobody")
        self.assignee.editingFinished.connect(self._save_assignee)
        self.labels = QHBoxLayout()
        self.labels.setSpacing(4)
        self.labels.setContentsMargins(0, 0, 0, 0)  # in line with the fields above
        labels_row = QWidget()
        labels_row.setLayout(self.labels)
        self.description = QPlainTextEdit()
        self.description.setObjectName("description")
        self.description.setPlaceholderText(
            "Describe the ticket. Several people can type here at once."
        )
        self.binding = DescriptionBinding(self.description, self.board, ticket_id)
        self.binding.on_error = self._show_error
        # This panel is a window of its own: its errors show here, not in the main window.
        self.error_note = QLabel()
        self.error_note.setObjectName("errorNote")
        self.error_note.setWordWrap(True)
        self.error_note.setStyleSheet("color: #e5484d")
        self.error_note.hide()
        self.editors_note = QLabel()
        self.editors_note.setObjectName("editorsNote")
        self.info = QLabel()
        self.info.setObjectName("ticketInfo")
        self.info.setWordWrap(True)  # long names and dates must not widen the panel
        self.comments = QListWidget()
        self.comments.setWordWrap(True)
        self.comments.setAlternatingRowColors(True)  # where one comment ends
        self.comments.setSpacing(2)
        self.comment_input = QLineEdit()
        self.comment_input.setPlaceholderText("Write a comment and press Enter")
        self.comment_input.returnPressed.connect(self._add_comment)
        self.comment_input.textEdited.connect(self._typing)
        self.typing_note = QLabel()
        self.typing_note.setObjectName("typingNote")
        self._typing_timer = QTimer(self)
        self._typing_timer.setSingleShot(True)
        self._typing_timer.setInterval(TYPING_IDLE_MS)
        self._typing_timer.timeout.connect(lambda: controller.set_typing(None))
        self.delete_button = QPushButton("Move to trash")
        self.delete_button.clicked.connect(self._delete_or_restore)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        # Enter in a field must never press a button (it would trash the ticket).
        for button in (self.delete_button, close):
            button.setAutoDefault(False)
            button.setDefault(False)

        form = QFormLayout()
        form.addRow("Title:", self.title)
        form.addRow("Assignee:", self.assignee)
        form.addRow("Labels:", labels_row)
        layout = QVBoxLayout(self)
        layout.addWidget(self.error_note)
        layout.addWidget(self.editors_note)
        layout.addLayout(form)
        layout.addWidget(QLabel("Description:"))
        layout.addWidget(self.description, 2)
        layout.addWidget(QLabel("Comments:"))
        layout.addWidget(self.comments, 1)
        layout.addWidget(self.typing_note)
        layout.addWidget(self.comment_input)
        layout.addWidget(self.info)
        buttons = QHBoxLayout()
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)

        undo = QShortcut(QKeySequence(QKeySequence.StandardKey.Undo), self)
        undo.activated.connect(self._undo)
        redo = QShortcut(QKeySequence(QKeySequence.StandardKey.Redo), self)
        redo.activated.connect(self._redo)
        # The fields would take Ctrl+Z for their own undo; the board's is the one
        # that counts (only this user's changes, and the description is shared).
        self.title.installEventFilter(self)
        self.description.installEventFilter(self)

        self._number = ""  # for the notice when a peer removes the ticket
        self._claim: EditingClaim | None = None
        self._finished = False
        controller.ticketsChanged.connect(self._on_tickets)
        controller.labelsChanged.connect(self._fill_labels)
        controller.presenceChanged.connect(self._on_presence)
        controller.closing.connect(self.close)
        self.finished.connect(self._finish)
        self._fill()
        self._on_presence()
        if not read_only and self._number:  # (no number: the ticket is gone)
            claim = self._claim = EditingClaim(controller, ticket_id)
            self.destroyed.connect(lambda *_: claim.release())

    # --------------------------------------------------------------- filling

    def _fill(self) -> None:
        try:
            ticket = self.board.ticket(self.ticket_id)
        except BoardError:
            self.close()
            return
        self._number = f"#{ticket.number}"
        self.setWindowTitle(
            f"#{ticket.number} {ticket.title}" + (" (read-only)" if self.read_only else "")
        )
        if not self.title.hasFocus():
            self.title.setText(ticket.title)
        if not self.assignee.hasFocus():
            self.assignee.setText(ticket.assignee)
        for widget in (self.title, self.assignee, self.comment_input):
            widget.setReadOnly(self.read_only)
        self.description.setReadOnly(self.read_only)
        self.delete_button.setEnabled(not self.read_only)
        self.delete_button.setText("Restore from trash" if ticket.deleted else "Move to trash")
        self._fill_labels()
        self.comments.clear()
        for comment in ticket.comments:
            item = QListWidgetItem(
                f"{comment.author or 'someone'} · {when(comment.at)}\n{comment.text}"
            )
            item.setData(Qt.ItemDataRole.UserRole, comment.id)
            self.comments.addItem(item)
        column = (
            "in the trash"
            if ticket.deleted
            else (
                f"in {self.board.column(ticket.column, include_deleted=True).title}"
                if ticket.column
                else ""
            )
        )
        self.info.setText(
            f"#{ticket.number} {column}. Created by {ticket.created_by or '?'} on "
            f"{when(ticket.created_at)}; last changed by {ticket.updated_by or '?'} on "
            f"{when(ticket.updated_at)}."
        )

    def _fill_labels(self) -> None:
        while self.labels.count():
            item = self.labels.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        try:
            mine = set(self.board.ticket(self.ticket_id).labels)
        except BoardError:
            return
        for label in self.board.labels():
            chip = QToolButton()
            chip.setText(label.name)
            chip.setCheckable(True)
            chip.setChecked(label.id in mine)
            chip.setEnabled(not self.read_only)
            chip.setStyleSheet(
                f"QToolButton {{ border: 1px solid {label.color}; border-radius: 9px;"
                " padding: 1px 8px; }"
                f" QToolButton:checked {{ background: {label.color}; color: white; }}"
            )
            chip.toggled.connect(lambda on, lid=label.id: self._toggle_label(lid, on))
            self.labels.addWidget(chip)
        add = QToolButton()
        add.setText("+ Label")
        add.setEnabled(not self.read_only)
        add.clicked.connect(self._new_label)
        self.labels.addWidget(add)
        self.labels.addStretch(1)

    # ---------------------------------------------------------------- saving

    def _edit(self, action: Callable[[], object]) -> bool:
        """An edit from this panel; if it fails, the panel shows the board again."""
        ok = self.controller.edit(action, shown_in=self._show_error)
        if ok:
            self.error_note.hide()
        else:
            self._fill()
        return ok

    def _show_error(self, message: str) -> None:
        self.error_note.setText(message)
        self.error_note.show()

    def _save_title(self) -> None:
        if (
            not self.read_only
            and self.title.text().strip() != self.board.ticket(self.ticket_id).title
        ):
            self._edit(lambda: self.board.edit_ticket(self.ticket_id, title=self.title.text()))

    def _save_assignee(self) -> None:
        if not self.read_only:
            self._edit(
                lambda: self.board.edit_ticket(self.ticket_id, assignee=self.assignee.text())
            )

    def _toggle_label(self, label_id: str, on: bool) -> None:
        current = set(self.board.ticket(self.ticket_id).labels)
        wanted = current | {label_id} if on else current - {label_id}
        if wanted != current:
            self._edit(lambda: self.board.edit_ticket(self.ticket_id, labels=sorted(wanted)))

    def _new_label(self) -> None:
        def add(name: str) -> None:
            if not name.strip():
                return
            color = USER_COLORS[len(self.board.labels()) % len(USER_COLORS)]

            def add_label() -> None:
                label = self.board.ensure_label(name.strip(), color)
                labels = set(self.board.ticket(self.ticket_id).labels) | {label}
                self.board.edit_ticket(self.ticket_id, labels=sorted(labels))

            self._edit(add_label)

        ask_text(self, "New label", "Label name:", add)

    def _add_comment(self) -> None:
        text = self.comment_input.text().strip()
        if text and self._edit(lambda: self.board.add_comment(self.ticket_id, text)):
            self.comment_input.clear()
            self._typing_timer.stop()
            self.controller.set_typing(None)

    def _typing(self) -> None:
        self.controller.set_typing(self.ticket_id if self.comment_input.text() else None)
        self._typing_timer.start()

    def _delete_or_restore(self) -> None:
        ticket = self.board.ticket(self.ticket_id)
        if ticket.deleted:
            self._edit(lambda: self.board.restore_ticket(self.ticket_id))
        else:
            self._edit(lambda: self.board.delete_ticket(self.ticket_id))

    def _undo(self) -> None:
        self._step(self.board.undo)

    def _redo(self) -> None:
        self._step(self.board.redo)

    def _step(self, undo_or_redo: Callable[[], bool]) -> None:
        """The board's undo or redo of this user's changes, shown in the fields."""
        if self.read_only:
            return
        self._save_title()  # typing in the title becomes a step of its own first
        if self._edit(undo_or_redo):
            with contextlib.suppress(BoardError):
                self.title.setText(self.board.ticket(self.ticket_id).title)
            self.binding.refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QKeyEvent) and event.type() in (
            QEvent.Type.ShortcutOverride,
            QEvent.Type.KeyPress,
        ):
            if event.matches(QKeySequence.StandardKey.Undo):
                step = self._undo
            elif event.matches(QKeySequence.StandardKey.Redo):
                step = self._redo
            else:
                return super().eventFilter(watched, event)
            event.accept()  # an override: the key comes to the field, and stops here
            if event.type() == QEvent.Type.KeyPress:
                step()
            return True
        return super().eventFilter(watched, event)

    def make_read_only(self) -> None:
        """Stop editing: this node may only view the board now."""
        if not self.read_only:
            self.read_only = True
            if self._claim is not None:
                self._claim.release()
            self._fill()

    # --------------------------------------------------------------- updates

    def _on_tickets(self, event: BoardEvent) -> None:
        mine = [c for c in event.changes if c.id == self.ticket_id]
        if not mine:
            return
        if any(c.kind == Kind.TICKET_REMOVED for c in mine) and self._close_if_gone(event.origin):
            return
        if any("description" in c.fields or "*" in c.fields for c in mine):
            self.binding.refresh()
        self._fill()

    def _close_if_gone(self, origin: Origin) -> bool:
        """Close if the ticket was purged, or a peer moved it to the trash (saying so)."""
        try:
            ticket = self.board.ticket(self.ticket_id)
        except BoardError:
            how = "deleted for good"
        else:
            if origin != Origin.REMOTE or not ticket.deleted:
                return False  # trashed from here: the panel stays and offers Restore
            how = f"moved to the trash by {ticket.updated_by or 'someone else'}"
        if origin == Origin.REMOTE:
            self.controller.messages.notify(f"{self._number} was {how}: its panel closed", 8000)
        self.close()
        return True

    def _on_presence(self) -> None:
        editors = [p.name for p in self.controller.editors(self.ticket_id)]
        typists = [p.name for p in self.controller.typists(self.ticket_id)]
        self.editors_note.setText(
            (
                ", ".join(editors) + (" is" if len(editors) == 1 else " are") + " editing this "
                "ticket too."
            )
            if editors
            else ""
        )
        self.editors_note.setVisible(bool(editors))
        self.typing_note.setText(
            (", ".join(typists) + (" is" if len(typists) == 1 else " are") + " typing…")
            if typists
            else ""
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.title.hasFocus():
            self._save_title()
        if self.assignee.hasFocus():
            self._save_assignee()
        super().closeEvent(event)
        self._finish()

    def _finish(self) -> None:
        """The panel is done, however it closed (Esc and reject() skip closeEvent)."""
        if self._finished:
            return
        self._finished = True
        self._typing_timer.stop()
        self.controller.set_typing(None)
        if self._claim is not None:
            self._claim.release()
        for signal, slot in (
            (self.controller.ticketsChanged, self._on_tickets),
            (self.controller.labelsChanged, self._fill_labels),
            (self.controller.presenceChanged, self._on_presence),
            (self.controller.closing, self.close),
        ):
            with contextlib.suppress(RuntimeError, TypeError):
                signal.disconnect(slot)
