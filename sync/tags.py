"""Discovery tags: how a node advertises boards on mDNS without naming them.

An advertisement carries, per board, a short tag derived from the board key and
the current time epoch, never a board id or title. Only a key holder recognises
a board; tags change every epoch, so a passive observer cannot follow a board
from one epoch to the next by its tag. See PROTOCOL.md section 5.
"""

from __future__ import annotations

import base64
import hmac
import math
from collections.abc import Iterable, Mapping

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

EPOCH_SECONDS = 3600
# A browser accepts the epochs either side of its own, for clocks that differ
# by up to one epoch and for records cached across a rotation.
ACCEPTED_EPOCH_OFFSETS = (-1, 0, 1)
# 40 bits: a chance match between unrelated boards costs one failed handshake,
# and short tags let about 130 boards fit a 1300-byte TXT record (RFC 6763 6.2).
TAG_BYTES = 5
TAG_CHARS = 8  # base32 of 5 bytes, no padding
LABEL_DISCOVERY_KEY = b"lanban/1 discovery key"
LABEL_DISCOVERY_TAG = b"lanban/1 discovery tag"


def epoch(now: float) -> int:
    """The epoch that ``now`` (seconds since the Unix epoch) falls in."""
    return math.floor(now / EPOCH_SECONDS)


def next_rotation(now: float) -> float:
    """When the advertised tags next change: re-advertise at that time."""
    return float((epoch(now) + 1) * EPOCH_SECONDS)


def discovery_tag(key: bytes, epoch_number: int) -> str:
    discovery_key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=LABEL_DISCOVERY_KEY
    ).derive(key)
    message = LABEL_DISCOVERY_TAG + epoch_number.to_bytes(8, "big", signed=True)
    digest = hmac.digest(discovery_key, message, "sha256")[:TAG_BYTES]
    return base64.b32encode(digest).decode("ascii").rstrip("=").lower()


def advertised_tags(keys: Iterable[bytes], now: float) -> list[str]:
    """Tags to advertise now, sorted so their order says nothing about the boards."""
    current = epoch(now)
    return sorted({discovery_tag(key, current) for key in keys})


def match_tags(tags: Iterable[str], keys: Mapping[str, bytes], now: float) -> set[str]:
    """The ids of our boards that a peer's advertised ``tags`` stand for."""
    seen = set(tags)
    current = epoch(now)
    return {
        board_id
        for board_id, key in keys.items()
        if any(discovery_tag(key, current + offset) in seen for offset in ACCEPTED_EPOCH_OFFSETS)
    }
