"""Order keys: strings compared by code point, with room between any two.

Lanban writes keys in the format of rocicorp's fractional-indexing (digits
``0-9A-Za-z``): an integer part whose head letter gives its length, then a
fraction without trailing zeros. Appending or prepending only changes the
integer part, so keys stay a few characters long however often the user adds
at the front or back of a column.

Other Yjs clients may write any string. :func:`rank_between` accepts any pair
of strings and falls back to a plain code-point midpoint when either key is
not in that format. It returns ``None`` only when no string lies strictly
between the two (equal keys, or ``"x"`` and ``"x\\x00"``); callers then
re-rank a neighbour (see :mod:`lanban.model.ordering`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE = len(DIGITS)
_INDEX = {c: i for i, c in enumerate(DIGITS)}
_SMALLEST_INTEGER = "A" + "0" * 26
_ZERO = "a0"


def _integer_length(head: str) -> int | None:
    if "a" <= head <= "z":
        return ord(head) - ord("a") + 2
    if "A" <= head <= "Z":
        return ord("Z") - ord(head) + 2
    return None


_WELLFORMED = re.compile("[A-Za-z][0-9A-Za-z]*")


@lru_cache(maxsize=4096)  # neighbours' keys come up again and again
def _split(key: str) -> tuple[str, str] | None:
    """Split a well-formed key into (integer part, fraction), else None."""
    if not _WELLFORMED.fullmatch(key) or key == _SMALLEST_INTEGER:
        return None
    length = _integer_length(key[0])
    if length is None or len(key) < length:
        return None
    integer, fraction = key[:length], key[length:]
    if fraction.endswith("0"):
        return None
    return integer, fraction


def is_wellformed(key: str) -> bool:
    """True if ``key`` is in the fractional-indexing format Lanban writes."""
    return _split(key) is not None


def _increment_integer(integer: str) -> str | None:
    head, digits = integer[0], list(integer[1:])
    for i in range(len(digits) - 1, -1, -1):
        d = _INDEX[digits[i]] + 1
        if d < _BASE:
            digits[i] = DIGITS[d]
            return head + "".join(digits)
        digits[i] = "0"
    if head == "Z":
        return "a0"
    if head == "z":
        return None
    new_head = chr(ord(head) + 1)
    if new_head > "a":
        digits.append("0")
    else:
        digits.pop()
    return new_head + "".join(digits)


def _decrement_integer(integer: str) -> str | None:
    head, digits = integer[0], list(integer[1:])
    for i in range(len(digits) - 1, -1, -1):
        d = _INDEX[digits[i]] - 1
        if d >= 0:
            digits[i] = DIGITS[d]
            return head + "".join(digits)
        digits[i] = DIGITS[-1]
    if head == "a":
        return "Z" + DIGITS[-1]
    if head == "A":
        return None
    new_head = chr(ord(head) - 1)
    if new_head < "Z":
        digits.append(DIGITS[-1])
    else:
        digits.pop()
    return new_head + "".join(digits)


def _fraction_midpoint(low: str, high: str | None) -> str:
    """A fraction strictly between two fractions (``high`` None = no bound)."""
    if high is not None:
        n = 0
        while n < len(high) and (low[n] if n < len(low) else "0") == high[n]:
            n += 1
        if n > 0:
            return high[:n] + _fraction_midpoint(low[n:], high[n:])
    d_low = _INDEX[low[0]] if low else 0
    d_high = _INDEX[high[0]] if high else _BASE
    if d_high - d_low > 1:
        return DIGITS[(d_low + d_high + 1) // 2]
    if high is not None and len(high) > 1:
        return high[0]
    return DIGITS[d_low] + _fraction_midpoint(low[1:], None)


def _wellformed_between(
    low: tuple[str, str] | None, high: tuple[str, str] | None, high_key: str | None
) -> str | None:
    """Rocicorp's generateKeyBetween, on keys already split by :func:`_split`."""
    if low is None and high is None:
        return _ZERO
    if low is None:
        assert high is not None
        integer, fraction = high
        if integer == _SMALLEST_INTEGER:
            return integer + _fraction_midpoint("", fraction)
        if fraction:
            return integer
        return _decrement_integer(integer)
    int_low, frac_low = low
    if high is None:
        bigger = _increment_integer(int_low)
        return bigger if bigger is not None else int_low + _fraction_midpoint(frac_low, None)
    int_high, frac_high = high
    if int_low == int_high:
        return int_low + _fraction_midpoint(frac_low, frac_high)
    bigger = _increment_integer(int_low)
    if bigger is not None and high_key is not None and bigger < high_key:
        return bigger
    return int_low + _fraction_midpoint(frac_low, None)


# The generic fallback only writes characters below the surrogate range, where
# code-point order and JavaScript's UTF-16 order agree; digits when it can, so a
# foreign key pulls ours back into the usual alphabet.
_PICK_LIMIT = 0xD800
_MAX_CP = 0x10FFFF


def _pick(low_cp: int, high_cp: int) -> str | None:
    """A character strictly between two code points, a digit when possible."""
    inside = [c for c in DIGITS if low_cp < ord(c) < high_cp]
    if inside:
        return inside[len(inside) // 2]
    high_cp = min(high_cp, _PICK_LIMIT)
    if high_cp - low_cp > 1:
        return chr((low_cp + high_cp) // 2)
    return None


def _generic_between(low: str, high: str | None) -> str | None:
    """Shortest-ish string s with low < s < high (high None = unbounded)."""
    prefix = []
    i = 0
    while True:
        low_cp = ord(low[i]) if i < len(low) else -1
        if high is None:
            high_cp = _MAX_CP + 1
        elif i < len(high):
            high_cp = ord(high[i])
        else:
            return None  # high is a prefix of low: low >= high
        if low_cp == high_cp:
            prefix.append(low[i])
            i += 1
            continue
        if low_cp > high_cp:
            return None
        c = _pick(low_cp, high_cp)
        if c is not None:
            return "".join(prefix) + c
        # No character fits between: keep low's character and go above low's
        # tail with no upper bound or, when low is exhausted, keep high's
        # character and go below high's tail.
        if low_cp >= 0:
            tail = _generic_between(low[i + 1 :], None)
            return None if tail is None else "".join(prefix) + low[i] + tail
        # low is exhausted here, so low == high[:i], and high[:i + 1] is
        # above low and, when high goes on, below high.
        assert high is not None
        return high[: i + 1] if i + 1 < len(high) else None


def rank_between(low: str | None, high: str | None) -> str | None:
    """A rank strictly between ``low`` and ``high`` (None = open end).

    Returns None when no string lies strictly between them.
    """
    if low is not None and high is not None and low >= high:
        return None
    low_parts = None if low is None else _split(low)
    high_parts = None if high is None else _split(high)
    if (low is None or low_parts is not None) and (high is None or high_parts is not None):
        key = _wellformed_between(low_parts, high_parts, high)
        if key is not None:
            return key
    return _generic_between(low or "", high)


def _steps(
    start: str | None, step: Callable[[str | None], str | None], count: int
) -> list[str] | None:
    """``count`` keys, each one ``step`` from the one before (from ``start``); None if one fails."""
    keys: list[str] = []
    current = start
    for _ in range(count):
        current = step(current)
        if current is None:
            return None
        keys.append(current)
    return keys


def ranks_between(low: str | None, high: str | None, count: int) -> list[str] | None:
    """``count`` ascending ranks strictly between ``low`` and ``high``, evenly split."""
    if count <= 0:
        return []
    if count == 1:
        key = rank_between(low, high)
        return None if key is None else [key]
    if high is None:
        return _steps(low, lambda key: rank_between(key, None), count)
    if low is None:
        keys = _steps(high, lambda key: rank_between(None, key), count)
        return None if keys is None else keys[::-1]
    mid = count // 2
    middle = rank_between(low, high)
    if middle is None:
        return None
    left = ranks_between(low, middle, mid)
    right = ranks_between(middle, high, count - mid - 1)
    if left is None or right is None:
        return None
    return [*left, middle, *right]
