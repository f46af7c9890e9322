"""The lean path of the update check (sync/update_lean.py) against the full walk.

The full walk (update_check.walk_update) is the reference: wherever the lean path
gives a summary, the full walk must give the same one (every struct's start, parent
reference and level included); the lean path never refuses, so every refusal, with
its reason, stays the full walk's. Checked on a real board's edits, against a
document with its depth index and without, under the default caps and under caps
small enough to trip on these updates, and on those edits forged: bytes flipped,
cut, inserted, and fields rewritten.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Map

from lanban.sync.messages import var_uint
from lanban.sync.type_depths import TypeDepths
from lanban.sync.update_check import (
    UpdateLimits,
    UpdateRefused,
    UpdateSummary,
    check_update,
    state_vector_clocks,
    walk_update,
)
from lanban.sync.update_lean import check_small
from lanban.sync.update_nesting import IS_TYPE
from tests.sync.test_update_check import board_updates, item, section, update

# Caps that updates of the lean shape reach (each one of them trips somewhere below).
SMALL_CAPS = {
    "clock_jump=3": UpdateLimits(clock_jump=3),
    "clock_jump=0": UpdateLimits(clock_jump=0),
    "key_bytes=4": UpdateLimits(key_bytes=4),
    "content_bytes=3": UpdateLimits(content_bytes=3),
    "keys=0": UpdateLimits(keys=0),
    "structs=1": UpdateLimits(structs=1),
    "clients=0": UpdateLimits(clients=0),
    "clock=1000": UpdateLimits(clock=1000),
    "merge_units=-1": UpdateLimits(merge_units_per_byte=0, merge_units=-1),
}


def _edits() -> list[tuple[bytes, bytes]]:
    """(update, the state before it as one update) for a real board's edits."""
    return [(u, before.get_update()) for what, u, before in board_updates() if what != "full state"]


EDITS = _edits()


def _against(before: bytes) -> tuple[Doc[Any], dict[int, int]]:
    doc: Doc[Any] = Doc()
    doc.apply_update(before)
    return doc, state_vector_clocks(doc.get_state())


def clocks_of(clocks: dict[int, int]) -> Callable[[int], int]:
    return lambda client: clocks.get(client, 0)


def _depths(doc: Doc[Any]) -> TypeDepths:
    depths = TypeDepths()
    depths.catch_up(doc)
    return depths


def agree(data: bytes, before: bytes, limits: UpdateLimits, *, indexed: bool) -> bool:
    """Whether the lean path took ``data`` (it then agrees with the full walk)."""
    doc, clocks = _against(before)

    def known(client: int) -> int:
        return clocks.get(client, 0)

    lean = check_small(data, limits, known, _depths(doc) if indexed else None)
    if lean is None:
        return False
    try:
        full = walk_update(data, limits, known, _depths(doc) if indexed else None)
    except UpdateRefused as exc:
        pytest.fail(f"the lean path took what the full walk refuses: {exc.reason}")
    assert lean == full
    assert _structs(lean) == _structs(full)
    assert check_update(data, limits, known_clock=known) == full  # it dispatches
    return True


def _structs(summary: UpdateSummary) -> dict[int, tuple[Any, ...]]:
    return {
        client: (
            list(s.starts),
            bytes(s.kinds),
            list(s.ref_client),
            list(s.ref_clock),
            s.end,
            bytes(s.levels),
            None if s.right_at is None else list(s.right_at),
            list(s.right_client),
            list(s.right_clock),
        )
        for client, s in summary.sections.items()
    }


def test_the_lean_path_takes_a_boards_small_edits_as_the_full_walk_does() -> None:
    """Moves, fields written over, typing, deletes: every edit that creates no type
    (adding a ticket or a comment does: those take the full walk)."""
    typeless = 0
    for data, before in EDITS:
        doc, clocks = _against(before)
        full = walk_update(data, UpdateLimits(), clocks_of(clocks), _depths(doc))
        creates_types = any(kind & IS_TYPE for s in full.sections.values() for kind in s.kinds)
        typeless += not creates_types
        for indexed in (True, False):
            assert agree(data, before, UpdateLimits(), indexed=indexed) or creates_types
    assert typeless >= 20


@pytest.mark.parametrize("cap", list(SMALL_CAPS))
def test_under_small_caps_the_lean_path_leaves_every_refusal_to_the_full_walk(cap: str) -> None:
    limits = SMALL_CAPS[cap]
    refused = 0
    for data, before in EDITS:
        took = agree(data, before, limits, indexed=True)
        if not took:
            doc, clocks = _against(before)
            try:
                walk_update(data, limits, clocks_of(clocks), _depths(doc))
            except UpdateRefused:
                refused += 1
    assert refused, "these caps refuse none of the edits: they test nothing"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_forged_edits_get_the_same_verdict_either_way(data: st.DataObject) -> None:
    edit, before = data.draw(st.sampled_from(EDITS))
    forged = bytearray(edit)
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    for _ in range(data.draw(st.integers(1, 3))):
        how = rng.randrange(4)
        at = rng.randrange(len(forged) + 1)
        if how == 0 and at < len(forged):
            forged[at] = rng.randrange(256)
        elif how == 1:
            del forged[at:]
        elif how == 2:
            forged[at:at] = bytes([rng.randrange(256)])
        elif at < len(forged):
            forged[at] ^= 1 << rng.randrange(8)
    limits = data.draw(st.sampled_from([UpdateLimits(), *SMALL_CAPS.values()]))
    agree(bytes(forged), before, limits, indexed=data.draw(st.booleans()))


# Forged fields the lean shape reads: clients, clocks, origins, parents, keys, values.
A, B = 7, 9
KEYED = 0x08  # Any content


def _one(value: bytes = b"\x77\x01x") -> bytes:
    return b"\x01" + value


FORGED = {
    "an origin in the future": update(section(A, 5, [item(KEYED, _one(), origin=(A, 5))])),
    "an origin past the clock cap": update(section(A, 5, [item(KEYED, _one(), origin=(B, 2**31))])),
    "two sections of one client": update(
        section(A, 0, [item(KEYED, _one(), root="r", sub="k")]),
        section(A, 1, [item(KEYED, _one(), root="r", sub="k")]),
    ),
    "a run pycrdt merges": update(
        section(
            A,
            0,
            [item(KEYED, _one(), root="r")]
            + [item(KEYED, _one(), origin=(A, i)) for i in range(40)],
        )
    ),
    "a clock jump": update(section(A, 5_000_000, [item(KEYED, _one(), root="r", sub="k")])),
    "a key not UTF-8": update(section(A, 0, [b"\x28\x01\x01r\x01\xff" + _one()])),
    "a string value not UTF-8": update(
        section(A, 0, [item(KEYED, _one(b"\x77\x01\xff"), root="r", sub="k")])
    ),
    "an empty Deleted": update(section(A, 0, [item(0x01, b"\x00", root="r")])),
    "a parent in the update": update(
        section(A, 0, [item(KEYED, _one(), root="r"), item(KEYED, _one(), parent=(A, 0))])
    ),
    "two values in one Any": update(section(A, 0, [item(KEYED, b"\x02\x7e\x7e", root="r")])),
    "a delete past a small clock cap": update(
        section(A, 0, [item(KEYED, _one(), root="r")]),
        deletes=b"\x01" + bytes([A]) + b"\x01" + var_uint(1000) + var_uint(500),
    ),
    "one client's deletes listed twice": update(
        section(A, 0, [item(KEYED, _one(), root="r"), item(KEYED, _one(), root="r")]),
        deletes=b"\x02" + (bytes([A]) + b"\x01\x00\x01") * 2,
    ),
    "deletes of another client": update(
        section(A, 0, [item(KEYED, _one(), root="r")]),
        deletes=b"\x01" + bytes([B]) + b"\x01\x00\x01",
    ),
    "a delete past the clock cap": update(
        section(A, 0, [item(KEYED, _one(), root="r")]),
        deletes=b"\x01" + bytes([A]) + b"\x01\x00" + b"\xff\xff\xff\xff\x0f",
    ),
    "bytes after the update": update(section(A, 0, [item(KEYED, _one(), root="r")])) + b"\x00",
    "right and left origins": update(
        section(B, 0, [item(KEYED, _one(), root="r"), item(KEYED, _one(), root="r")]),
        section(A, 0, [item(0x04, b"\x02ab", origin=(B, 0), right=(B, 1))]),
    ),
}


@pytest.mark.parametrize("name", list(FORGED))
def test_forged_fields_get_the_same_verdict_either_way(name: str) -> None:
    data = FORGED[name]
    empty = Doc[Any]().get_update()
    # the merge cap low enough for the run above; one client for the deletes twice
    merge_cap = UpdateLimits(merge_units_per_byte=0, merge_units=10)
    for limits in (UpdateLimits(), *SMALL_CAPS.values(), merge_cap, UpdateLimits(clients=1)):
        for indexed in (True, False):
            agree(data, empty, limits, indexed=indexed)


def test_items_next_to_items_of_their_update_sit_at_their_level() -> None:
    """A value in a ticket-like Map (level 1) and text put after it in the same
    update: the lean path copies the level it found for the first."""
    doc: Doc[Any] = Doc(client_id=B)
    doc["r"] = Map()
    doc.get("r", type=Map)["t"] = Map()  # the Map is B:0, its values at level 1
    data = update(
        section(
            A,
            0,
            [
                item(KEYED, _one(), parent=(B, 0), sub="k"),
                item(0x04, b"\x01x", origin=(A, 0)),
                item(0x01, b"\x01", origin=(A, 1)),
            ],
        )
    )
    assert agree(data, doc.get_update(), UpdateLimits(), indexed=True)
    doc_, clocks = _against(doc.get_update())
    lean = check_small(data, UpdateLimits(), lambda c: clocks.get(c, 0), _depths(doc_))
    assert lean is not None and bytes(lean.sections[A].levels) == b"\x01\x01\x01"
