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
import re
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

TXT_STRING_MAX_BYTES = 255  # one DNS TXT character-string (RFC 1035 3.3)
TAG_PROPERTY_PREFIX = "tags"  # properties tags0, tags1, ...
# 512 tags make a TXT record of about 4.5 KB, inside one 9000-byte mDNS packet.
MAX_ADVERTISED_TAGS = 512

_TAG = re.compile(rf"[a-z2-7]{{{TAG_CHARS}}}")
_TAG_PROPERTY = re.compile(re.escape(TAG_PROPERTY_PREFIX) + r"(0|[1-9][0-9]{0,3})")


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


def pack_tags(tags: Iterable[str]) -> dict[str, str]:
    """TXT record properties holding ``tags``; each ``key=value`` fits one TXT string."""
    tag_list = list(tags)
    if len(tag_list) > MAX_ADVERTISED_TAGS:
        raise ValueError(f"{len(tag_list)} tags exceed the limit of {MAX_ADVERTISED_TAGS}")
    for tag in tag_list:
        if not _TAG.fullmatch(tag):
            raise ValueError(f"not a discovery tag: {tag!r}")
    # Room for the longest property name, "tagsNNN=".
    per_string = (TXT_STRING_MAX_BYTES - len(TAG_PROPERTY_PREFIX) - 4) // TAG_CHARS
    return {
        f"{TAG_PROPERTY_PREFIX}{n}": "".join(tag_list[start : start + per_string])
        for n, start in enumerate(range(0, len(tag_list), per_string))
    }


def unpack_tags(properties: Mapping[str | bytes, str | bytes | None]) -> list[str]:
    """The tags in a peer's TXT properties; anything malformed is ignored.

    Accepts both ``str`` and ``bytes`` keys and values, as python-zeroconf's
    ``ServiceInfo.properties`` gives them.
    """
    found: list[str] = []
    for raw_name, raw_value in properties.items():
        name = _text(raw_name)
        value = _text(raw_value)
        if name is None or value is None or not _TAG_PROPERTY.fullmatch(name):
            continue
        if len(value) % TAG_CHARS:
            continue
        for start in range(0, len(value), TAG_CHARS):
            tag = value[start : start + TAG_CHARS]
            if _TAG.fullmatch(tag) and len(found) < MAX_ADVERTISED_TAGS:
                found.append(tag)
    return found


def _text(raw: str | bytes | None) -> str | None:
    if isinstance(raw, bytes):
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            return None
    return raw
