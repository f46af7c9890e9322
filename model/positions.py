"""Places in a ticket's description that stay put while the text changes.

A position is a Yjs *relative position* in the JSON form of Yjs's
``relativePositionToJSON`` (what y-codemirror and y-prosemirror put in awareness):
``{"type": {"client", "clock"}, "item": {"client", "clock"}, "assoc": 0 | -1}``;
``item`` names the character the place sticks to (before it for 0, after it for
-1), ``type`` the text; without ``item`` the place is the start (-1) or end (0 and
up) of the text. Callers speak
UTF-16 code units, as Yjs and Qt's text documents do.

pycrdt 0.14 (yrs with UTF-8 offsets) has two flaws worked around here:

- It walks a text's runs (items) by their UTF-8 size but counts inside a run as if
  each byte were one Yjs clock (a UTF-16 unit), both when it makes a position and
  when it resolves one, so past a non-ASCII character in the same run it names the
  wrong character. Here pycrdt is asked in UTF-8 offsets, and where the text is not
  ASCII the run is found by probing (inside one run, pycrdt's clock minus the offset
  is constant) and the clock worked out from the run's real text: positions are
  exact, as Yjs makes and reads them (tests/interop/test_positions_interop.py).
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


def _item_at(text: Text, offset: int) -> tuple[int, int]:
    """What pycrdt names at UTF-8 ``offset`` (< the text's size): (client, clock)."""
    item = text.sticky_index(offset, Assoc.AFTER).to_json()["item"]
    return int(item["client"]), int(item["clock"])


def _run_start(text: Text, offset: int) -> tuple[int, int, int]:
    """The run holding UTF-8 ``offset``: (client, the clock pycrdt gives its first
    byte, that byte's offset). Inside a run pycrdt's clock minus the offset is
    constant; the run is the stretch before ``offset`` where it stays so."""
    client, clock = _item_at(text, offset)
    key = (client, clock - offset)

    def same(x: int) -> bool:
        c, k = _item_at(text, x)
        return (c, k - x) == key

    hi, step = offset, 1  # same(hi); gallop back, then halve
    lo = hi - step
    while lo >= 0 and same(lo):
        hi, step = lo, step * 2
        lo = hi - step
    lo = max(lo, -1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if same(mid):
            hi = mid
        else:
            lo = mid
    return client, clock - (offset - hi), hi


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
    data = current.encode()
    offset = _utf16_to_utf8(current, index)
    # As Yjs's createRelativePositionFromTypeIndex writes it: the text's id, and the
    # character the place sticks to (none at the end).
    place: Position = {"type": _type_id(text)}
    if offset < len(data):  # (pycrdt cannot make "after the end")
        if len(data) == len(current):  # ASCII: pycrdt's clocks are right
            place["item"] = text.sticky_index(offset, Assoc.AFTER).to_json()["item"]
        else:
            client, first_clock, start = _run_start(text, offset)
            clock = first_clock + _utf16_length(data[start:offset].decode())
            place["item"] = {"client": client, "clock": clock}
    place["assoc"] = 0
    return place


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
    mine = _type_id(text)
    if position.get("type") is not None and position["type"] != mine:
        return None  # a place in another text
    if "item" in position and position["item"] is not None:
        item = _id(position["item"], MAX_CLOCK)
        if item is None:
            return None
        clocks = known if known is not None else known_clocks(board)
        client, clock = item
        if clock >= clocks.get(client, 0):
            return None  # not here yet (or never): pycrdt would panic
        return _item_index(text, current, client, clock, after)
    if position.get("type") is not None:
        return length if after else 0
    return None


def _item_index(text: Text, current: str, client: int, clock: int, after: bool) -> int:
    """The UTF-16 index of the place before (``after``) or after a known item."""
    sticky = StickyIndex.from_json({"item": {"client": client, "clock": clock}, "assoc": 0}, text)
    offset = max(0, sticky.get_index())  # UTF-8 bytes to its run, then clocks
    data = current.encode()
    length = _utf16_length(current)
    if offset >= len(data) or _item_at(text, offset) != (client, clock):
        # a deleted character: the place where it was, whatever the assoc (as Yjs)
        return min(_utf8_to_utf16(current, offset), length)
    if len(data) == len(current):  # ASCII: pycrdt's offset is right
        index = offset
    else:
        _client, first_clock, start = _run_start(text, offset)
        index = _utf16_length(data[:start].decode(errors="ignore")) + clock - first_clock
    return min(index + (0 if after else 1), length)


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
