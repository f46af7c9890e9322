"""Reading a board document that any key holder may have written.

Whoever holds a board's key can write any value of any type under any key, or
nest Maps thousands deep (issue 9). Every value is read here by its type and
within the limits of model.limits; anything else is ignored (read as missing)
and, when the caller passes an :class:`Ignored`, counted by field and reason.

Never convert a value read from the document recursively: ``str()``,
``to_py()``, ``dict()`` or JSON of a Map or Array recurses in pycrdt's Rust
code, and a Map nested 17,500 deep overflows the stack (SIGSEGV). ``str()``
of a Text is safe: it joins the characters and skips embedded values.
"""

from __future__ import annotations

import gc
import re
import time
from collections import Counter
from typing import Any, Protocol

from pycrdt import Array, Map, Text
from pycrdt._base import BaseType

from .limits import MAX_ARRAY_READ_SECONDS, MAX_ID_LENGTH

WRONG_TYPE = "of the wrong type"
OUT_OF_RANGE = "out of range"
CUT = "too long (cut)"
TOO_LONG = "too long"
NOT_READ = "beyond what is read"
UNPRINTABLE = "with control characters"

# Values that hold other values (what a shared document can nest): Map, Array,
# Text, XmlElement, XmlFragment and XmlText, as their one base class. Each is an
# ABC: isinstance() of a plain value against the six took six ABC cache lookups
# (0.6 us, twice for every ticket field read; tests/model/test_read_value.py).
SHARED_TYPES = (BaseType,)


class Ignored:
    """A tally of the values a read ignored: (field, reason) -> how many."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def add(self, field: str, reason: str, count: int = 1) -> None:
        self.counts[field, reason] += count

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """One line for a user ("" when nothing was ignored)."""
        if not self.counts:
            return ""
        total = self.total
        parts = ", ".join(
            f"{field} {reason} ({count:,})"
            for (field, reason), count in sorted(self.counts.items())
        )
        return f"ignored {total:,} malformed value{'s' if total != 1 else ''}: {parts}"


class _NotCounted(Ignored):
    """For the reads that only want the values (every query but the report)."""

    def add(self, field: str, reason: str, count: int = 1) -> None:
        pass


NOT_COUNTED: Ignored = _NotCounted()


def read_value(m: Map[Any], key: str) -> Any:
    """``m.get(key)`` at a third of the cost: pycrdt's ``get`` and ``m[key]`` each
    look the key up twice, each time in a transaction of their own, and test every
    value against each shared type. This reads it once from the Rust Map, in the
    running transaction if there is one, and wraps only a shared value (as ``m[key]``
    does; tests/model/test_read_value.py checks both read the same)."""
    doc = m.doc
    txn = doc._txn
    if txn is None:
        with doc.transaction():
            return read_value(m, key)
    try:
        value = m.integrated.get(txn._txn, key)
    except (KeyError, ValueError):  # pycrdt 0.14: ValueError("Key error")
        return None
    if value is None or type(value) in PLAIN_VALUES:
        return value
    return m._maybe_as_type_or_doc(value)


# What pycrdt hands back as it is (the rest it wraps as a shared type or a Doc).
PLAIN_VALUES = frozenset({str, int, float, bool, bytes, bytearray, list, dict})


_PRIMITIVES = (bool, int, float)

# Terminal escape sequences (7- and 8-bit CSI, OSC and the like, two-character
# ESC sequences), and any C0/C1 control character or DEL left over.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def printable(value: str, *, lines: bool = False) -> str:
    """``value`` without terminal escape sequences and control characters, for
    text a user typed or a peer wrote: on every write and on every read, so that
    no one's raw escapes reach a terminal or a label. ``lines`` keeps line
    breaks (as \\n) and tabs, for a description or a comment; otherwise they
    become spaces."""
    if value.isprintable():  # the usual case, checked fast (no Cc, Zl or Zp in it)
        return value
    value = _LINE_BREAKS.sub("\n", value)
    value = _ESCAPES.sub("", value)
    if not lines:
        value = value.replace("\n", " ").replace("\t", " ")
        return _CONTROL.sub("", value)
    return _CONTROL.sub(lambda m: m[0] if m[0] in "\n\t" else "", value)


def string(
    value: Any,
    field: str,
    limit: int,
    ignored: Ignored = NOT_COUNTED,
    *,
    lines: bool = False,
    verbatim: bool = False,
) -> str:
    """A string field: longer than ``limit`` is cut, a number or boolean is
    written out, any other type is ""; escapes and control characters are
    left out (see :func:`printable`) unless ``verbatim`` (a rank: compared,
    never shown)."""
    if type(value) is str:
        result: str = value
    elif value is None:
        return ""
    elif type(value) in _PRIMITIVES:
        result = str(value)
    else:
        ignored.add(field, WRONG_TYPE)
        return ""
    if len(result) > limit:
        ignored.add(field, CUT)
        result = result[:limit]
    return result if verbatim else printable(result, lines=lines)


def reference(value: Any, field: str, ignored: Ignored = NOT_COUNTED) -> str:
    """An id (or a reference to one): longer than any id, or with control
    characters (it would be printed), is ""."""
    if type(value) is str:
        problem = id_problem(value)
        if problem is None:
            return value
        ignored.add(field, problem)
    elif value is not None:
        ignored.add(field, WRONG_TYPE)
    return ""


def id_problem(key: str) -> str | None:
    """Why ``key`` cannot be an id (too long, or unprintable: ids are printed), or None."""
    if len(key) > MAX_ID_LENGTH:
        return TOO_LONG
    return UNPRINTABLE if _CONTROL.search(key) else None


def text(value: Any, field: str, limit: int, ignored: Ignored = NOT_COUNTED) -> str:
    """A Text field (a plain string from another client will do)."""
    return string(
        str(value) if isinstance(value, Text) else value, field, limit, ignored, lines=True
    )


def whole(
    value: Any, field: str, low: int, high: int, ignored: Ignored = NOT_COUNTED
) -> int | None:
    """A whole number in ``low..high``; None if missing or anything else
    (pycrdt returns numbers as floats; NaN, infinities and fractions are no
    whole numbers)."""
    kind = type(value)
    if kind is float:
        if value.is_integer() and low <= value <= high:
            return int(value)
    elif kind is int:
        if low <= value <= high:
            return int(value)
    elif value is None:
        return None
    else:
        ignored.add(field, WRONG_TYPE)
        return None
    ignored.add(field, OUT_OF_RANGE)
    return None


def flag(value: Any, field: str, ignored: Ignored = NOT_COUNTED) -> bool:
    """A boolean: a number or string counts by its truth, anything else is False."""
    if value is True or value is False:
        return value
    if type(value) in _PRIMITIVES or type(value) is str:
        return bool(value)
    if value is not None:
        ignored.add(field, WRONG_TYPE)
    return False


def key_set(value: Any, field: str, limit: int, ignored: Ignored = NOT_COUNTED) -> tuple[str, ...]:
    """The keys of a Map used as a set (a ticket's labels), sorted, at most ``limit``."""
    if not isinstance(value, Map):
        if value is not None:
            ignored.add(field, WRONG_TYPE)
        return ()
    keys = list(value.keys())
    good = []
    for k in keys:
        problem = id_problem(k)
        if problem is None:
            good.append(k)
        else:
            ignored.add(field, problem)
    good.sort()
    if len(good) > limit:
        ignored.add(field, NOT_READ, len(good) - limit)
        del good[limit:]
    return tuple(good)


def items(value: Any, field: str, limit: int, ignored: Ignored = NOT_COUNTED) -> list[Any]:
    """The first items of an Array, at most ``limit`` (see :func:`array_head`);
    the rest are counted as ignored."""
    if not isinstance(value, Array):
        if value is not None:
            ignored.add(field, WRONG_TYPE)
        return []
    with value.doc.transaction():
        size = len(value)
        result = array_head(value, limit)
    if size > len(result):
        ignored.add(field, NOT_READ, size - len(result))
    return result


class Indexed(Protocol):
    """An Array, or the children of an XML node."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


def array_head(array: Indexed, limit: int) -> list[Any]:
    """Up to ``limit`` items from the start of ``array``, read for at most
    MAX_ARRAY_READ_SECONDS.

    pycrdt has no linear way to read an Array that does not also recurse
    into its items: ``array[i]`` walks from the start past i items and every
    deleted one, so reading a long Array is quadratic. Reading the first
    ``limit`` items of an honest Array takes milliseconds; one that a peer
    filled with 200,000 deleted items first would take a second per read, so
    the time is bounded too (the only read whose result can depend on the
    machine's speed, and only for such an Array).
    """
    result = []
    # A garbage collection in the middle would count as reading time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        deadline = time.perf_counter() + MAX_ARRAY_READ_SECONDS
        for i in range(min(len(array), limit)):
            result.append(array[i])
            if i % 32 == 31 and time.perf_counter() > deadline:
                break
    finally:
        if collecting:
            gc.enable()
    return result


def entries(root: Map[Any], field: str, ignored: Ignored = NOT_COUNTED) -> list[tuple[str, Any]]:
    """The ``(id, Map)`` entries of one of the board's roots (tickets,
    columns, labels); entries that are no Map or whose id is too long are
    ignored."""
    result = []
    with root.doc.transaction():
        for key, value in root.items():
            if not isinstance(value, Map):
                ignored.add(field, WRONG_TYPE)
            elif (problem := id_problem(key)) is not None:
                ignored.add(field, problem)
            else:
                result.append((key, value))
    return result
