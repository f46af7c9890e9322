"""The ticket panel's due date: a date picker with a calendar, an optional time,
"+ Set due date" when there is none, and how it stands ("overdue", "due tomorrow") beside it.

The field is one of the locked ones (field_locks): the panel hands this whole
widget to FieldLocks, so the caret in any of its parts holds the lock. It emits
``edited`` with the value to write (model.due.parse_due's form, "" for none)
only for the user's own changes, never for :meth:`set_value`.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QTimeEdit,
    QToolButton,
    QWidget,
)

from lanban.model.due import DueStatus, due_moment, due_status, parse_due
from lanban.model.schema import now_ms

from .theme import Palette

DATE_FORMAT = "ddd d MMM yyyy"


def short_due(due: str, now: int | None = None) -> str:
    """A due date as a card shows it: "2 Dec", with the year when it is not this
    year's (the panel's long form is DATE_FORMAT)."""
    day = QDate.fromString(due[:10], "yyyy-MM-dd")
    if not day.isValid():
        return due[:10]
    now = now_ms() if now is None else now
    this_year = datetime.fromtimestamp(now / 1000).year
    return day.toString("d MMM" if day.year() == this_year else "d MMM yyyy")


def due_words(due: str, now: int | None = None) -> tuple[str, DueStatus]:
    """How a due date stands, as the panel says it: "overdue", "due today",
    "due tomorrow", "due in 3 days" ("" for none or later than a week)."""
    now = now_ms() if now is None else now
    status = due_status(due, now)
    moment = due_moment(due)
    if status is DueStatus.NONE or moment is None:
        return "", status
    if status is DueStatus.OVERDUE:
        return "overdue", status
    today = datetime.fromtimestamp(now / 1000).date()
    day = datetime.fromtimestamp((moment - (0 if "T" in due else 1)) / 1000).date()
    days = (day - today).days
    if days <= 0:
        return "due today", status
    if days == 1:
        return "due tomorrow", status
    return (f"due in {days} days" if days <= 7 else ""), status


class DueField(QWidget):
    edited = Signal(str)  # the user set (or cleared) the due date: the value to write

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("due")
        self.setAccessibleName("Due date")
        self._value = ""
        self._pending = False  # "+ Set due date" pressed: a day being picked, not written yet
        self._read_only = False
        self.none_button = QToolButton()
        # A button that looks like one, as "+ Assign" and "+ Label" beside it.
        self.none_button.setText("+ Set due date")
        self.none_button.setAccessibleName("Set a due date")
        self.none_button.setToolTip("No due date yet: pick a day")
        self.none_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.none_button.clicked.connect(self._start)
        self.none_label = QLabel("None")  # a view's (and a locked field's) "no due date"
        self.none_label.setAccessibleName("Due date: none")
        self.none_label.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.none_label.setStyleSheet("color: palette(placeholder-text);")
        self.date = QDateEdit()
        self.date.setObjectName("dueDate")
        self.date.setAccessibleName("Due date")
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat(DATE_FORMAT)
        self.date.editingFinished.connect(self.commit)
        self.date.calendarWidget().clicked.connect(self._day_clicked)
        self.timed = QCheckBox("at")
        self.timed.setAccessibleName("Due at a time")
        self.timed.toggled.connect(self._timed)
        self.time = QTimeEdit()
        self.time.setAccessibleName("Due time")
        self.time.setDisplayFormat("HH:mm")
        self.time.editingFinished.connect(self.commit)
        self.clear_button = QToolButton()
        self.clear_button.setText("×")
        self.clear_button.setAccessibleName("No due date")
        self.clear_button.setToolTip("No due date")
        self.clear_button.setAutoRaise(True)
        self.clear_button.clicked.connect(self._clear)
        self.status = QLabel()
        self.status.setObjectName("dueStatus")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        for widget in (
            self.none_button,
            self.none_label,
            self.date,
            self.timed,
            self.time,
            self.clear_button,
            self.status,
        ):
            row.addWidget(widget)
        row.addStretch(1)
        self._show()

    # --------------------------------------------------------------- reading

    def value(self) -> str:
        return self._value

    def set_value(self, due: str) -> None:
        """Show the ticket's due date (not a user's edit: nothing is emitted)."""
        self._value = due
        self._pending = False
        moment = due_moment(due)
        if moment is not None:
            local = QDateTime.fromMSecsSinceEpoch(moment)
            if "T" in due:
                self.date.setDate(local.date())
                self.time.setTime(local.time())
            else:
                self.date.setDate(QDate.fromString(due[:10], "yyyy-MM-dd"))
            self.timed.blockSignals(True)
            self.timed.setChecked("T" in due)
            self.timed.blockSignals(False)
        self._show()

    def unsaved(self) -> bool:
        """Whether the picker shows something not written yet (a day being picked)."""
        if self._pending:
            return True
        # the same moment, however written (another zone's offset), is not a change
        return bool(self._value) and due_moment(self._typed()) != due_moment(self._value)

    def isReadOnly(self) -> bool:
        return self._read_only

    def setReadOnly(self, on: bool) -> None:
        """Locked by a peer, or a view: shown, not changed."""
        if on != self._read_only:
            self._read_only = on
            self._pending = False
            self._show()

    def hasFrame(self) -> bool:
        return self.date.hasFrame()

    def setFrame(self, on: bool) -> None:
        for edit in (self.date, self.time):
            edit.setFrame(on)
            edit.setStyleSheet("" if on else "background: transparent;")  # a view: text
            edit.setButtonSymbols(
                QAbstractSpinBox.ButtonSymbols.UpDownArrows
                if on
                else QAbstractSpinBox.ButtonSymbols.NoButtons
            )

    def _show(self) -> None:
        has = bool(self._value) or self._pending
        ro = self._read_only
        self.none_button.setVisible(not has and not ro)
        self.none_label.setVisible(not has and ro)
        for edit in (self.date, self.time):
            edit.setReadOnly(ro)
        self.date.setCalendarPopup(not ro)
        self.date.setVisible(has)
        self.timed.setVisible(has and not ro)
        self.timed.setEnabled(not ro)
        self.time.setVisible(has and self.timed.isChecked())
        self.clear_button.setVisible(has and not ro)
        words, status = due_words(self._value)
        late = status is DueStatus.OVERDUE
        color = Palette().warning.name() if late else "palette(placeholder-text)"
        self.status.setStyleSheet(f"color: {color}; font-weight: {'bold' if late else 'normal'};")
        self.status.setText(words)
        self.status.setVisible(bool(words))

    # ---------------------------------------------------------------- writing

    def _typed(self) -> str:
        day = self.date.date().toString("yyyy-MM-dd")
        if not self.timed.isChecked():
            return day
        return parse_due(f"{day}T{self.time.time().toString('HH:mm')}")

    def _emit(self, value: str) -> None:
        if not self._read_only and value != self._value:
            self._value = value
            self._show()
            self.edited.emit(value)

    def _start(self) -> None:
        """ "+ Set due date" pressed: the picker, on today; nothing is written until a
        day is picked (the calendar, or Enter or leaving the date)."""
        if self._read_only:
            return
        self.date.setDate(QDate.currentDate())
        self.time.setTime(QTime(17, 0))
        self.timed.blockSignals(True)
        self.timed.setChecked(False)
        self.timed.blockSignals(False)
        self._pending = True
        self._show()
        self.date.setFocus()

    def commit(self) -> None:
        """Write what the picker shows, if it shows a due date."""
        if self._value or self._pending:
            self._pending = False
            self._emit(self._typed())

    def _day_clicked(self, day: QDate) -> None:
        """A day chosen in the calendar (this may run before the date edit takes it)."""
        self.date.setDate(day)
        self.commit()

    def _timed(self, _on: bool) -> None:
        self.time.setVisible(self.timed.isChecked() and bool(self._value))
        self.commit()

    def _clear(self) -> None:
        self._pending = False
        self._show()
        self._emit("")
        self.none_button.setFocus()
