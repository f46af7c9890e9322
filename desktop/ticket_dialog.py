"""The ticket panel: title, assignees, labels, due date, checklist, the
collaborative Markdown description, comments.

Each richer part is a module of its own (issue 11): assignee_picker, due_field,
checklist_widget, markdown_view, comment_list and comment_box; label_chips.

What the others do shows in it (issue 10): their carets and selections in the
description (peer_carets), "Ada is typing…" under the field she types in
(typing_signal), a lock on the title, assignee or labels while a peer's caret is
in it (field_locks), and a note when a peer's concurrent change replaced mine
(override_note). A read-only panel (a viewer, or "Open read-only") shows the
ticket as text, says "View only", and tells the others nothing.

It is a little over 500 lines: it only wires these parts together (layout, tab
order, read-only and lock states, closing); what each part does lives in its module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from lanban.model.errors import BoardError
from lanban.model.events import BoardEvent, Kind, Origin

from .assignee_picker import AssigneePicker
from .checklist_widget import ChecklistWidget
from .comment_box import CommentBox
from .comment_list import CommentList, when
from .controller import BoardController
from .due_field import DueField
from .editing_claim import EditingClaim, confirm_edit
from .field_locks import FieldLocks
from .field_notes import field_note, restyle, show_note, with_note
from .label_chips import LabelChips
from .markdown_view import MarkdownDescription
from .override_note import OverrideNote
from .overrides import Override
from .peer_carets import PeerCarets
from .text_binding import DescriptionBinding
from .theme import safe_color
from .title_draft import TitleDrafts
from .typing_signal import TypingSignal, typing_text

__all__ = ["EditingClaim", "TicketDialog", "confirm_edit", "when"]


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
        self.resize(640, 760)

        self.view_only = QLabel("View only")
        self.view_only.setObjectName("viewOnly")
        self.view_only.setStyleSheet(
            "#viewOnly { background: #5b6270; color: white; border-radius: 8px;"
            " padding: 2px 10px; font-weight: bold; }"
        )
        self.view_only.setVisible(read_only)
        self.title = QLineEdit()
        self.title.setObjectName("ticketTitle")
        self.title.setAccessibleName("Title")
        self.title.editingFinished.connect(self._save_title)
        self.assignee = AssigneePicker(controller)
        self.assignee.edited.connect(self._save_assignees)
        self.due = DueField()
        self.due.edited.connect(lambda value: self._save("due", value))
        self.labels_row = LabelChips(
            self.board, ticket_id, self._edit, after=self.assignee.add_button
        )
        self.add_label_button = self.labels_row.add_button
        self.label_chips = self.labels_row.chips
        # Under each field: who holds it, who types in it
        self.title_note, self.assignee_note, self.labels_note, self.due_note = (
            field_note(f"{name}Note") for name in ("title", "assignee", "labels", "due")
        )
        self.description_note = field_note("descriptionNote")
        self.description = QPlainTextEdit()
        self.description.setObjectName("description")
        self.description.setAccessibleName("Description")
        self.description.setTabChangesFocus(True)  # Tab goes on to the comments
        self.description.setPlaceholderText(
            "Describe the ticket (Markdown works). Several people can type here at once."
        )
        self.markdown = MarkdownDescription(self.description)
        self.binding = DescriptionBinding(self.description, self.board, ticket_id)
        self.binding.on_error = self._show_error
        self.carets = PeerCarets(self.description, controller, ticket_id)
        self.title_drafts = TitleDrafts(self.title, controller, ticket_id)
        self.typing = {
            field: TypingSignal(controller, ticket_id, field, self)
            for field in ("comments", "description", "title")
        }
        self.binding.on_local_edit = self.typing["description"].typed
        self.title.textEdited.connect(lambda _text: self.typing["title"].typed())
        self.locks = FieldLocks(
            controller,
            ticket_id,
            {
                "title": self.title,
                "assignee": self.assignee,
                "labels": self.labels_row,
                "due": self.due,
            },
        )
        self.locks.changed.connect(self._on_locks)
        self.override_note = OverrideNote(self._put_back, self)
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
        self.checklist = ChecklistWidget(self.board, ticket_id, self._edit)
        self.comments = CommentList()
        self.comment_input = CommentBox(
            self.board, ticket_id, self._edit, self.comments, self.typing["comments"]
        )
        self.typing_note = QLabel()
        self.typing_note.setObjectName("typingNote")
        self.delete_button = QPushButton("Move to trash")
        self.delete_button.clicked.connect(self._delete_or_restore)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        # Enter in a field must never press a button (it would trash the ticket).
        for button in (self.delete_button, close):
            button.setAutoDefault(False)
            button.setDefault(False)

        form = QFormLayout()
        form.addRow("Title:", with_note(self.title, self.title_note))
        form.addRow("Assignees:", with_note(self.assignee, self.assignee_note))
        form.addRow("Labels:", with_note(self.labels_row, self.labels_note))
        form.addRow("Due:", with_note(self.due, self.due_note))
        form.addRow("Checklist:", self.checklist)
        page = QWidget()  # the fields scroll; the buttons stay
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 4, 0)
        top = QHBoxLayout()
        top.addWidget(self.editors_note, 1)
        top.addWidget(self.view_only, 0, Qt.AlignmentFlag.AlignRight)
        column.addLayout(top)
        column.addLayout(form)
        heading = QHBoxLayout()
        heading.addWidget(QLabel("Description:"))
        heading.addWidget(self.markdown.hint, 1)
        column.addLayout(heading)
        column.addWidget(self.markdown, 2)
        column.addWidget(self.description_note)
        column.addWidget(QLabel("Comments:"))
        column.addWidget(self.comments, 1)
        column.addWidget(self.typing_note)
        column.addWidget(self.comment_input)
        column.addWidget(self.info)
        self.markdown.setMinimumHeight(140)
        self.comments.setMinimumHeight(90)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(page)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QVBoxLayout(self)
        layout.addWidget(self.error_note)
        layout.addWidget(self.override_note)
        layout.addWidget(scroll, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.delete_button)
        self.history_button = QPushButton("History")  # its activity (history_ui.py)
        self.history_button.setAutoDefault(False)
        self.history_button.clicked.connect(lambda: controller.historyRequested.emit(ticket_id))
        buttons.addWidget(self.history_button)
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
        controller.overridden.connect(self._on_override)
        controller.closing.connect(self.close)
        self.finished.connect(self._finish)
        self._tells_others(not read_only)
        self._fill()
        # The caret starts in the description, which merges: opening a ticket must
        # not take its title's lock. An empty one opens to be written, another to be read.
        if self._number and not read_only and not self.board.description(ticket_id):
            self.markdown.start_editing()
        else:
            self.markdown.show_rendered(focus=True)
        self._on_presence()
        if not read_only and self._number:  # (no number: the ticket is gone)
            claim = self._claim = EditingClaim(controller, ticket_id)
            self.destroyed.connect(lambda *_: claim.release())

    def _tells_others(self, on: bool) -> None:
        """A read-only panel publishes no caret, lock or typing."""
        self.carets.publish = self.title_drafts.publish = on
        for typing in self.typing.values():
            typing.enabled = on
        if not on:
            self.locks.release()

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
        locked = self.read_only or self.locks.holder("title") is not None
        showing_draft = self.title_drafts.shown is not None  # the holder's, as they type
        if not showing_draft and (not self.title.hasFocus() or locked):
            self.title.setText(ticket.title)  # a locked field's typing cannot be saved
        self.title.setReadOnly(locked)
        self.assignee.setReadOnly(not self._may_write("assignee"))
        self.assignee.set_names(ticket.assignees)
        self.due.setReadOnly(not self._may_write("due"))
        focused = self.focusWidget()
        inside = focused is not None and self.due.isAncestorOf(focused)
        if not inside or not self.due.unsaved() or self.due.isReadOnly():
            self.due.set_value(ticket.due)
        self.checklist.read_only = self.read_only
        self.checklist.refresh()
        self.comment_input.setReadOnly(self.read_only)
        self.description.setReadOnly(self.read_only)
        self.markdown.show_text(self.binding.text)
        self.delete_button.setEnabled(not self.read_only)
        self.delete_button.setText("Restore from trash" if ticket.deleted else "Move to trash")
        self._look_read_only()
        self._fill_labels()
        self.comments.fill(ticket.comments, self.board.actor, self.read_only)
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
        self.labels_row.fill(
            editable=not self.read_only and self.locks.holder("labels") is None,
            read_only=self.read_only,
        )

    def _look_read_only(self) -> None:
        """A view reads as text: no frames, no prompts, nothing to press (defect 14)."""
        on = self.read_only
        self.view_only.setVisible(on)
        self.title.setFrame(not on)
        self.due.setFrame(not on)
        for field, widget, kind in (
            ("title", self.title, "QLineEdit"),
            ("assignee", self.assignee, "#assignees"),
            ("due", self.due, "#due"),
        ):
            holder = self.locks.holder(field)
            color = "" if holder is None else safe_color(holder.color, holder.user_id).name()
            restyle(
                widget,
                "QLineEdit { background: transparent; }"
                if on and field == "title"
                else (
                    ""
                    if holder is None or on  # a peer's lock: a frame in their colour
                    else f"{kind} {{ border: 2px solid {color}; border-radius: 3px;"
                    " padding: 1px 2px; }"
                ),
            )
        self.markdown.set_read_only(on)
        self.description.setFrameShape(QFrame.Shape.NoFrame if on else QFrame.Shape.StyledPanel)
        restyle(self.description, "QPlainTextEdit { background: transparent; }" if on else "")
        self.comment_input.setHidden(on)
        self.delete_button.setHidden(on)

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

    def _may_write(self, field: str) -> bool:
        return not self.read_only and self.locks.holder(field) is None

    def _save_title(self) -> None:
        """The title's text, when it was changed and may be written."""
        self.typing["title"].stop()
        with contextlib.suppress(BoardError):
            current = self.board.ticket(self.ticket_id).title
            if self._may_write("title") and self.title.text().strip() != current:
                self._save("title", self.title.text())

    def _save_assignees(self, names: list[str]) -> None:
        if self._may_write("assignee") and self._edit(
            lambda: self.board.set_assignees(self.ticket_id, names)
        ):
            saved = self.board.ticket(self.ticket_id).assignee
            self.controller.overrides.wrote(self.ticket_id, "assignee", saved)

    def _save(self, field: str, value: str) -> None:
        """Write a last-writer-wins field, remembering it in case a peer's wins."""
        if self._edit(lambda: self.board.edit_ticket(self.ticket_id, **{field: value})):
            saved = getattr(self.board.ticket(self.ticket_id), field)
            self.controller.overrides.wrote(self.ticket_id, field, saved)

    def _put_back(self, field: str, value: str) -> None:
        """The override note's "Put mine back": my value, as a new change."""
        self._save(field, value)
        self._fill()

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
            self._tells_others(False)
            if self._claim is not None:
                self._claim.release()
            self._fill()
            self._on_presence()

    # --------------------------------------------------------------- updates

    def _on_tickets(self, event: BoardEvent) -> None:
        mine = [c for c in event.changes if c.id == self.ticket_id]
        if not mine:
            return
        if any(c.kind == Kind.TICKET_REMOVED for c in mine) and self._close_if_gone(event.origin):
            return
        if any("description" in c.fields or "*" in c.fields for c in mine):
            self.binding.refresh()
            self.markdown.show_text(self.binding.text)
        self._fill()

    def _on_override(self, override: Override) -> None:
        if override.ticket == self.ticket_id:
            self.override_note.show_override(override)

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
        verb = " is" if len(editors) == 1 else " are"
        # A view edits nothing, so it never says "too" (defect 14).
        ending = " editing this ticket." if self.read_only else " editing this ticket too."
        self.editors_note.setText(", ".join(editors) + verb + ending if editors else "")
        self.editors_note.setVisible(bool(editors))

        def typists(field: str) -> str:
            return typing_text([p.name for p in self.controller.typists(self.ticket_id, field)])

        self.typing_note.setText(typists("comments"))
        show_note(self.description_note, typists("description"), None)
        for field, note in (
            ("title", self.title_note),
            ("assignee", self.assignee_note),
            ("due", self.due_note),
            ("labels", self.labels_note),
        ):
            holder = self.locks.holder(field)
            text = self.locks.note(field)
            if field == "title" and (typing := typists("title")):
                text = f"{text}, typing…" if text else typing
            show_note(note, text, holder)

    def _on_locks(self) -> None:
        """A peer took or left one of the locked fields: show it read-only, or not."""
        self._fill()
        self._on_presence()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.title.hasFocus():
            self._save_title()
        focused = self.focusWidget()
        if focused is not None and self.due.isAncestorOf(focused):
            self.due.commit()
        super().closeEvent(event)
        self._finish()

    def _finish(self) -> None:
        """The panel is done, however it closed (Esc and reject() skip closeEvent)."""
        if self._finished:
            return
        self._finished = True
        for typing in self.typing.values():
            typing.stop()
        self.locks.detach()
        self.carets.detach()
        self.title_drafts.detach()
        if self._claim is not None:
            self._claim.release()
        for signal, slot in (
            (self.controller.ticketsChanged, self._on_tickets),
            (self.controller.labelsChanged, self._fill_labels),
            (self.controller.presenceChanged, self._on_presence),
            (self.controller.overridden, self._on_override),
            (self.controller.closing, self.close),
        ):
            with contextlib.suppress(RuntimeError, TypeError):
                signal.disconnect(slot)
