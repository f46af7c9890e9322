"""Editing a shared description by the smallest change.

pycrdt's Text counts UTF-8 bytes (Yjs counts UTF-16 units); callers speak
Python string indices, converted here.
"""

from __future__ import annotations

from pycrdt import Text


def text_diff(old: str, new: str) -> tuple[int, int, str]:
    """``(start, removed, inserted)`` turning ``old`` into ``new``."""
    limit = min(len(old), len(new))
    start = 0
    while start < limit and old[start] == new[start]:
        start += 1
    end = 0
    while end < limit - start and old[-1 - end] == new[-1 - end]:
        end += 1
    return start, len(old) - start - end, new[start : len(new) - end]


def splice_bytes(text: Text, current: str, start: int, removed: int, inserted: str) -> None:
    """Apply a string-index splice to ``text`` whose content is ``current``."""
    byte_start = len(current[:start].encode())
    if removed:
        byte_stop = byte_start + len(current[start : start + removed].encode())
        del text[byte_start:byte_stop]
    if inserted:
        text.insert(byte_start, inserted)
