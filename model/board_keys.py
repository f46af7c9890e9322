"""The board's ``keys`` root Map: new board keys sealed to each member (PROTOCOL.md 7.6).

``keys`` maps ``"<epoch>.<random id>"`` (e.g. ``"1.Zx8..."``) to a Map
``{by, at, sealed, sig, check}``. The random part keeps an entry someone else
writes for the same epoch (a forgery, or a concurrent rotation) from overwriting
it: both stay, and the reader takes the one whose signature it trusts. Each entry
holds the member who rotated the key, when (ms since the epoch), a Map member id
-> the new board key sealed to that member's key-agreement key (base64url), a
check value of the new key (so a holder of the key who got no box, such as
someone who joined with a later invite, can tell that it is a rotated key) and
``by``'s signature over all of it. The model reads and writes the entries;
sealing, opening and checking signatures is sync's business (lanban.sync.rekey).
Every read is defensive: an entry of the wrong shape is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pycrdt import Map

from .board import Board
from .errors import BoardError
from .limits import MAX_TIME_MS
from .members import MAX_KEX_LENGTH, MEMBER_ID_PATTERN
from .reading import read_value, whole
from .schema import new_id

ROOT = "keys"
MAX_EPOCH = 2**31
MAX_SEALED_LENGTH = 200  # base64url of an 80-byte box is 107 characters
MAX_SEALED_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class KeyEntry:
    epoch: int
    by: str  # member id
    at: int  # ms since the epoch
    sealed: dict[str, str]  # member id -> box
    sig: str  # base64url
    check: str = ""  # base64url: lets a holder of the key tell which epoch it is


def key_entries(board: Board) -> list[KeyEntry]:
    """Every well-formed entry, by epoch."""
    root: Map[Any] = board.doc.get(ROOT, type=Map)
    found = []
    with board.doc.transaction():
        for name, value in root.items():
            entry = _read(name, value)
            if entry is not None:
                found.append(entry)
    return sorted(found, key=lambda e: e.epoch)


def add_key_entry(board: Board, entry: KeyEntry) -> None:
    """Record a rotation (under a name of its own, see the module's docstring)."""
    if not 0 < entry.epoch <= MAX_EPOCH:
        raise BoardError(f"epoch {entry.epoch} is out of range")
    with board._writes.local():
        root: Map[Any] = board.doc.get(ROOT, type=Map)
        root[f"{entry.epoch}.{new_id()}"] = Map(
            {
                "by": entry.by,
                "at": entry.at,
                "sealed": Map(dict(entry.sealed)),
                "sig": entry.sig,
                "check": entry.check,
            }
        )


def _read(name: str, value: Any) -> KeyEntry | None:
    number, _, _ = name.partition(".")
    if not isinstance(value, Map) or not number.isdigit() or len(number) > 10:
        return None
    epoch = int(number)
    if not 0 < epoch <= MAX_EPOCH or str(epoch) != number:
        return None
    by, sig, sealed = (read_value(value, k) for k in ("by", "sig", "sealed"))
    if type(by) is not str or not MEMBER_ID_PATTERN.fullmatch(by):
        return None
    if type(sig) is not str or len(sig) > MAX_KEX_LENGTH or not isinstance(sealed, Map):
        return None
    if len(sealed) > MAX_SEALED_ENTRIES:
        return None
    boxes = {
        member: box
        for member, box in sealed.items()
        if MEMBER_ID_PATTERN.fullmatch(member)
        and type(box) is str
        and len(box) <= MAX_SEALED_LENGTH
    }
    at = whole(read_value(value, "at"), "key epoch at", 0, MAX_TIME_MS) or 0
    check = read_value(value, "check")
    check = check if type(check) is str and len(check) <= MAX_KEX_LENGTH else ""
    return KeyEntry(epoch, by, at, boxes, sig, check)
