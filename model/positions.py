"""Places in a ticket's description that stay put while the text changes.

A position is a Yjs *relative position* in the JSON form of Yjs's
``relativePositionToJSON`` (what y-codemirror and y-prosemirror put in awareness):
``{"item": {"client", "clock"}, "assoc": 0 | -1}`` names the character the place
sticks to (before it for 0, after it for -1), ``{"type": {"client", "clock"},
"assoc"}`` the start (-1) or end (0 and up) of the text itself. Callers speak
UTF-16 code units, as Yjs and Qt's text documents do.

pycrdt 0.14 (yrs with UTF-8 offsets) has two flaws worked around here:

- It walks a text's runs by their UTF-8 size but counts inside a run in Yjs clock
  units (UTF-16), both when it makes a position and when it resolves one. So this
  module hands it UTF-8 offsets: between Lanban nodes a place is exact while the
  text before it in its run is ASCII, and otherwise off by that text's extra UTF-8
  bytes (an accent: one); a stock Yjs client's place the same. A fix belongs in yrs.
- It panics (a BaseException) on an item id the document lacks, on an assoc other
  than 0 or -1, on a ``type`` id that is not a text, and when asked for a place after
  the end. A position comes from a peer, so it is checked before pycrdt sees it, and
  type positions are resolved here.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Assoc, StickyIndex, Text

from .board import Board
from .reading import read_value

MAX_CLIENT = 2**53 - 1  # lib0's varUint limit, and JavaScript's safe integers
MAX_CLOCK = 2**32 - 1  # yrs keeps clocks in 32 bits

Position = dict[str, Any]


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _utf16_to_utf8(text: str, index: int) -> int:
    """The UTF-8 offset of UTF-16 ``index`` in ``text`` (inside a pair: before it)."""
    units = text.encode("utf-16-le")[: 2 * index].decode("utf-16-le", errors="ignore")
    return len(units.encode())


def _utf8_to_utf16(text: str, offset: int) -> int:
    """The UTF-16 index of UTF-8 ``offset`` in ``text`` (inside a character: before it)."""
    chars = text.encode()[:offset].decode(errors="ignore")
    return _utf16_length(chars)


def _description(board: Board, ticket_id: str) -> Text | None:
    """The ticket's shared text, or None (no such ticket, or not a Text)."""
    try:
        shared = read_value(board._cache.ticket_map(ticket_id), "description")
    except (KeyError, LookupError, TypeError, ValueError):
        return None
    return shared if isinstance(shared, Text) else None


def _type_id(text: Text) -> Any:
    """The text's own id, as a type position names it."""
    return text.sticky_index(0, Assoc.BEFORE).to_json().get("type")


def description_position(board: Board, ticket_id: str, index: int) -> Position | None:
    """The place at UTF-16 ``index`` of the ticket's description (clamped to it)."""
    text = _description(board, ticket_id)
    if text is None:
        return None
    current = str(text)
    index = max(0, min(index, _utf16_length(current)))
    offset = _utf16_to_utf8(current, index)
    if offset == len(current.encode()):  # pycrdt cannot make "after the end"
        return {"type": _type_id(text), "assoc": 0}
    result: Position = text.sticky_index(offset, Assoc.AFTER).to_json()
    return result


def _id(value: object, top: int) -> tuple[int, int] | None:
    if not isinstance(value, dict):
        return None
    client, clock = value.get("client"), value.get("clock")
    if (
        isinstance(client, int)
        and isinstance(clock, int)
        and not isinstance(client, bool)
        and not isinstance(clock, bool)
        and 0 <= client <= MAX_CLIENT
        and 0 <= clock <= top
    ):
        return client, clock
    return None


def description_index(
    board: Board, ticket_id: str, position: object, known: dict[int, int] | None = None
) -> int | None:
    """Where ``position`` (from anyone) is now in the ticket's description, as a
    UTF-16 index; None if it is not a position in it. ``known``: the document's
    state vector as client -> clock (:func:`known_clocks`), if the caller has it."""
    if not isinstance(position, dict):
        return None
    text = _description(board, ticket_id)
    if text is None:
        return None
    assoc = position.get("assoc", 0)
    after = not isinstance(assoc, int | float) or assoc >= 0
    current = str(text)
    length = _utf16_length(current)
    if "item" in position and position["item"] is not None:
        item = _id(position["item"], MAX_CLOCK)
        if item is None:
            return None
        clocks = known if known is not None else known_clocks(board)
        client, clock = item
        if clock >= clocks.get(client, 0):
            return None  # not here yet (or never): pycrdt would panic
        sticky = StickyIndex.from_json(
            {"item": {"client": client, "clock": clock}, "assoc": 0 if after else -1}, text
        )
        return _utf8_to_utf16(current, max(0, sticky.get_index()))
    if "type" in position and position["type"] is not None:
        if _id(position["type"], MAX_CLOCK) is None or position["type"] != _type_id(text):
            return None
        return length if after else 0
    return None


def known_clocks(board: Board) -> dict[int, int]:
    """The document's state vector: for each client, the clock of its next change."""
    data = board.doc.get_state()
    pos = 0

    def var_uint() -> int:
        nonlocal pos
        value = shift = 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7

    return {var_uint(): var_uint() for _ in range(var_uint())}
