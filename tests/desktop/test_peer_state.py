"""A peer's awareness state is untrusted: its caret, lock claim and typing field are
read defensively (desktop/controller.parse_peer)."""

from __future__ import annotations

from typing import Any

import pytest

from lanban.desktop.controller import Cursor, Focus, parse_peer

USER = {"id": "grace", "name": "Grace", "color": "#03a9f4"}


def test_the_new_fields_read_as_written() -> None:
    place = {"type": {"client": 1, "clock": 2}, "item": {"client": 1, "clock": 5}, "assoc": 0}
    peer = parse_peer(
        7,
        {
            "user": USER,
            "typing": "t1",
            "typing_field": "description",
            "cursor": {"ticket": "t1", "field": "description", "anchor": place, "head": place},
            "focus": {"ticket": "t1", "field": "title", "since": 1_800_000_000_000},
        },
    )
    assert peer.typing == "t1" and peer.typing_field == "description"
    assert peer.cursor == Cursor("t1", "description", place, place)
    assert peer.focus == Focus("t1", "title", 1_800_000_000_000)


def test_an_older_release_typing_is_in_the_comments() -> None:
    peer = parse_peer(7, {"user": USER, "typing": "t1"})
    assert (peer.typing, peer.typing_field, peer.cursor, peer.focus) == (
        "t1",
        "comments",
        None,
        None,
    )


@pytest.mark.parametrize(
    "junk",
    [
        {"typing_field": ["x"], "cursor": "x", "focus": 3},
        {"typing_field": "elsewhere", "cursor": {"ticket": "t1"}, "focus": {"ticket": "t1"}},
        {"cursor": {"ticket": 5, "field": "description"}, "focus": {"field": "title"}},
        {"cursor": {"ticket": "t1", "field": "title"}, "focus": {"ticket": "t1", "field": "x"}},
        {"focus": {"ticket": "t1", "field": "title", "since": True}},
        {"focus": {"ticket": "t1", "field": "title", "since": -1}},
        {"focus": {"ticket": "t1", "field": "title", "since": 2**60}},
        {"focus": {"ticket": "t1", "field": "title", "since": 1.5}},
    ],
)
def test_junk_reads_as_nothing(junk: dict[str, Any]) -> None:
    peer = parse_peer(7, {"user": USER, **junk})
    assert peer.typing_field == "comments" and peer.cursor is None and peer.focus is None


@pytest.mark.parametrize(
    "draft",
    [
        "x",
        {"ticket": "t1", "text": 5, "anchor": 0, "head": 0},
        {"ticket": "t1", "text": "ab", "anchor": 3, "head": 0},  # past its end
        {"ticket": "t1", "text": "ab", "anchor": True, "head": 0},
        {"ticket": "t1", "text": "ab", "anchor": 0, "head": -1},
        {"ticket": "t1", "text": "x" * 501, "anchor": 0, "head": 0},  # longer than a title
        {"text": "ab", "anchor": 0, "head": 0},
    ],
)
def test_a_junk_title_draft_reads_as_none(draft: object) -> None:
    assert parse_peer(7, {"user": USER, "title_draft": draft}).title_draft is None
    good = {"ticket": "t1", "text": "ab", "anchor": 0, "head": 2}
    assert parse_peer(7, {"user": USER, "title_draft": good}).title_draft is not None
