"""Due dates (issue 11): a ticket's ``due`` key, an ISO 8601 string.

Two forms: a date, ``"2026-12-01"`` (due by the end of that day, where the
reader is), or a date and time, ``"2026-12-01T17:00+01:00"``. Lanban writes
the time with its UTC offset; it reads one without (a moment in the reader's
time zone), with seconds or a fraction (JavaScript's ``toISOString()``), or
with ``Z``. Anything else a peer wrote reads as no due date and is counted
as ignored (model.reading).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from .errors import BoardError
from .limits import DUE_SOON_MS, MAX_DUE_LENGTH
from .reading import NOT_COUNTED, WRONG_TYPE, Ignored
from .schema import Ticket

NOT_A_DATE = "not an ISO 8601 date"

_FORM = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?"
)
NONE_WORDS = frozenset({"", "none", "no", "clear"})


class DueStatus(StrEnum):
    NONE = "none"  # no due date
    LATER = "later"
    SOON = "soon"  # due within DUE_SOON_MS
    OVERDUE = "overdue"


def _parse(value: str) -> datetime | date | None:
    if len(value) > MAX_DUE_LENGTH or not _FORM.fullmatch(value):
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value)
    except ValueError:  # 2026-02-30, 25:00
        return None


def read_due(value: object, field: str = "ticket.due", ignored: Ignored = NOT_COUNTED) -> str:
    """A due date as a peer wrote it, if it is one; else "" (counted)."""
    if value is None or value == "":
        return ""
    if type(value) is not str:
        ignored.add(field, WRONG_TYPE)
        return ""
    if _parse(value) is None:
        ignored.add(field, NOT_A_DATE)
        return ""
    return value


def parse_due(text: str, tz: tzinfo | None = None) -> str:
    """What a user typed, as Lanban writes it: "" for none (``none`` or empty),
    a date, or a date and time with its offset (a time without one is in
    ``tz``, by default this machine's time zone). Raises BoardError."""
    value = text.strip()
    if value.casefold() in NONE_WORDS:
        return ""
    parsed = _parse(value)
    if parsed is None:
        raise BoardError(
            f"{value[:60]!r} is not a due date: give a date as 2026-12-01, or a date "
            "and time as 2026-12-01T17:00 (optionally with an offset, +01:00), or none"
        )
    if not isinstance(parsed, datetime):
        return parsed.isoformat()
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz) if tz is not None else parsed.astimezone()
    spec = "seconds" if parsed.second or parsed.microsecond else "minutes"
    return parsed.isoformat(timespec=spec)


def due_moment(due: str, tz: tzinfo | None = None) -> int | None:
    """When a due date passes, in ms since the epoch: a date at the end of
    that day in ``tz`` (default: this machine's zone); None for no due date."""
    parsed = _parse(due) if due else None
    if parsed is None:
        return None
    if not isinstance(parsed, datetime):
        parsed = datetime.combine(parsed + timedelta(days=1), time())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz) if tz is not None else parsed.astimezone()
    return int(parsed.timestamp() * 1000)


def due_status(
    due: str, now_ms: int, *, soon_ms: int = DUE_SOON_MS, tz: tzinfo | None = None
) -> DueStatus:
    moment = due_moment(due, tz)
    if moment is None:
        return DueStatus.NONE
    if moment <= now_ms:
        return DueStatus.OVERDUE
    return DueStatus.SOON if moment - now_ms <= soon_ms else DueStatus.LATER


def by_due(tickets: Iterable[Ticket], tz: tzinfo | None = None) -> list[Ticket]:
    """Soonest due first; tickets without a due date last, by number."""
    big = 2**63

    def key(t: Ticket) -> tuple[int, int]:
        moment = due_moment(t.due, tz)
        return (big if moment is None else moment, t.number)

    return sorted(tickets, key=key)
