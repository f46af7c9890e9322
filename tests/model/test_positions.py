"""Relative positions in a description: they stay put, and a peer's junk never
reaches pycrdt (which panics on it)."""

from __future__ import annotations

from typing import Any

import pytest

from lanban.model.board import Board
from lanban.model.positions import description_index, description_position, known_clocks


def two_replicas(text: str) -> tuple[Board, Board, str]:
    ada = Board.create("B", actor="Ada")
    tid = ada.add_ticket("T", description=text)
    grace = Board.from_update(ada.get_update(), actor="Grace")
    return ada, grace, tid


def sync(source: Board, target: Board) -> None:
    target.apply_update(source.get_update(target.doc.get_state()))


def test_positions_stay_put_while_a_peer_types_before_them() -> None:
    ada, grace, tid = two_replicas("hello world")
    at_w = description_position(ada, tid, 6)  # before "world"
    at_end = description_position(ada, tid, 11)
    at_start = description_position(ada, tid, 0)
    assert at_w is not None and set(at_w) == {"type", "item", "assoc"} and at_w["assoc"] == 0
    assert at_end is not None and set(at_end) == {"type", "assoc"}
    grace.splice_description(tid, 0, 0, "😀 ")  # a surrogate pair: 2 UTF-16 units
    grace.splice_description(tid, grace.description(tid).index("world"), 0, "big ")
    sync(grace, ada)
    assert ada.description(tid) == "😀 hello big world"
    # positions travel as JSON in awareness: Grace reads Ada's
    assert description_index(grace, tid, at_w) == len("😀 hello big ") + 1  # still at "w"
    assert description_index(ada, tid, at_end) == len("😀 hello big world") + 1
    assert description_index(ada, tid, at_start) == 3  # it stuck to the "h"


def test_an_empty_description_has_one_place() -> None:
    ada, _grace, tid = two_replicas("")
    place = description_position(ada, tid, 0)
    assert place is not None
    assert description_index(ada, tid, place) == 0
    ada.splice_description(tid, 0, 0, "abc")
    assert description_index(ada, tid, place) == 3  # the end of the text


def test_a_position_from_elsewhere_or_not_yet_known_is_none() -> None:
    ada, grace, tid = two_replicas("hello")
    other = ada.add_ticket("Other", description="elsewhere")
    sync(ada, grace)
    end_of_other = description_position(ada, other, 9)
    assert description_index(ada, tid, end_of_other) is None  # another text's end
    grace.splice_description(tid, 5, 0, " there")
    fresh = description_position(grace, tid, 8)  # in text Ada has not got yet
    assert description_index(ada, tid, fresh) is None
    sync(grace, ada)
    assert description_index(ada, tid, fresh) == 8


@pytest.mark.parametrize(
    "junk",
    [
        None,
        "x",
        7,
        [],
        {},
        {"assoc": 0},
        {"tname": "tickets", "assoc": 0},
        {"item": {"client": 1, "clock": 0}},
        {"item": {"client": -1, "clock": 0}, "assoc": 0},
        {"item": {"client": 2**64, "clock": 0}, "assoc": 0},
        {"item": {"client": True, "clock": 0}, "assoc": 0},
        {"item": {"client": 1, "clock": 2**40}, "assoc": 0},
        {"item": {"client": "1", "clock": 0}, "assoc": 0},
        {"item": "abc", "assoc": 0},
        {"type": {"client": 1, "clock": 0}, "assoc": 0},
        {"type": 5, "assoc": 0},
    ],
)
def test_junk_is_none(junk: Any) -> None:
    ada, _grace, tid = two_replicas("hello")
    assert description_index(ada, tid, junk) is None


def test_every_known_item_and_odd_assoc_resolve_without_a_panic() -> None:
    ada, _grace, tid = two_replicas("hello")
    ada.splice_description(tid, 1, 2, "")
    ada.edit_ticket(tid, title="changed")
    for client, top in known_clocks(ada).items():
        for clock in range(top):
            for assoc in (0, -1, 5, -7, 0.5, "x"):
                for key in ("item", "type"):
                    place = {key: {"client": client, "clock": clock}, "assoc": assoc}
                    index = description_index(ada, tid, place)
                    assert index is None or 0 <= index <= len("hlo")
    assert description_index(ada, "no such ticket", {"assoc": 0}) is None
