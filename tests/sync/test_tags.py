"""Discovery tags: only key holders recognise a board, and tags rotate."""

from __future__ import annotations

import secrets

from lanban.sync.discovery import pack_txt, parse_txt
from lanban.sync.tags import (
    EPOCH_SECONDS,
    TAG_CHARS,
    advertised_tags,
    match_tags,
    next_rotation,
)

KEYS = {"roadmap": bytes(range(32)), "chores": bytes(range(1, 33)), "ops": bytes(range(2, 34))}
# 2024-05-01 10:30 UTC: half way through an epoch.
NOON_ISH = 1_714_559_400.0


def test_a_key_holder_recognises_exactly_the_advertised_boards() -> None:
    tags = advertised_tags([KEYS["roadmap"], KEYS["ops"]], NOON_ISH)
    assert match_tags(tags, KEYS, NOON_ISH) == {"roadmap", "ops"}


def test_someone_without_the_key_recognises_nothing() -> None:
    tags = advertised_tags(KEYS.values(), NOON_ISH)
    strangers = {"roadmap": secrets.token_bytes(32)}
    assert match_tags(tags, strangers, NOON_ISH) == set()


def test_tags_carry_no_board_id_title_or_key() -> None:
    tags = advertised_tags(KEYS.values(), NOON_ISH)
    text = "".join(tags)
    for board_id, key in KEYS.items():
        assert board_id not in text
        assert key.hex() not in text
    assert all(len(tag) == TAG_CHARS and tag.isalnum() for tag in tags)


def test_tags_rotate_every_epoch() -> None:
    now = advertised_tags([KEYS["roadmap"]], NOON_ISH)
    later_this_epoch = advertised_tags([KEYS["roadmap"]], NOON_ISH + EPOCH_SECONDS / 4)
    next_epoch = advertised_tags([KEYS["roadmap"]], NOON_ISH + EPOCH_SECONDS)
    assert now == later_this_epoch
    assert now != next_epoch


def test_a_tag_is_recognised_one_epoch_either_side_but_not_two() -> None:
    tags = advertised_tags([KEYS["roadmap"]], NOON_ISH)
    assert match_tags(tags, KEYS, NOON_ISH + EPOCH_SECONDS) == {"roadmap"}
    assert match_tags(tags, KEYS, NOON_ISH - EPOCH_SECONDS) == {"roadmap"}
    assert match_tags(tags, KEYS, NOON_ISH + 2 * EPOCH_SECONDS) == set()
    assert match_tags(tags, KEYS, NOON_ISH - 2 * EPOCH_SECONDS) == set()


def test_across_the_epoch_boundary() -> None:
    boundary = next_rotation(NOON_ISH)
    assert NOON_ISH < boundary <= NOON_ISH + EPOCH_SECONDS
    just_before = advertised_tags([KEYS["chores"]], boundary - 0.001)
    just_after = advertised_tags([KEYS["chores"]], boundary)
    assert just_before != just_after
    # The advertiser's clock is a little ahead of, or behind, the browser's.
    assert match_tags(just_after, KEYS, boundary - 1) == {"chores"}
    assert match_tags(just_before, KEYS, boundary + 1) == {"chores"}


def test_advertised_order_does_not_follow_board_order() -> None:
    keys = [secrets.token_bytes(32) for _ in range(20)]
    assert advertised_tags(keys, NOON_ISH) == sorted(advertised_tags(reversed(keys), NOON_ISH))


def test_100_boards_tags_fit_the_advertisement_and_read_back() -> None:
    tags = advertised_tags((secrets.token_bytes(32) for _ in range(100)), NOON_ISH)
    properties = pack_txt("ab" * 16, tags)
    for name, value in properties.items():
        assert len(f"{name}={value}".encode()) <= 255  # one DNS TXT string
    # RFC 6763 6.2: a TXT record up to 1300 bytes fits one Ethernet frame.
    assert sum(1 + len(f"{name}={value}") for name, value in properties.items()) <= 1300
    raw = {k.encode(): v.encode() for k, v in properties.items()}
    _node, _version, read = parse_txt(raw)
    assert sorted(read) == tags
    assert match_tags(read, KEYS | {"x": b"\x00" * 32}, NOON_ISH) == set()
