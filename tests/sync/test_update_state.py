"""KnownState (sync/update_state.py): the state vector it holds is the document's,
exactly, whichever clients it is told moved - right, wrong or none."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Map

from lanban.sync.update_check import state_vector_clocks
from lanban.sync.update_state import ALL, KnownState

# clients whose ids and clocks cross varUint lengths (1, 2, 3 and 5 bytes)
CLIENTS = [5, 127, 128, 300, 20_000, 3_000_000_000]


def _writer(client: int, receiver: Doc[Any]) -> Doc[Any]:
    doc: Doc[Any] = Doc(client_id=client)
    doc.apply_update(receiver.get_update())
    return doc


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(CLIENTS),
            st.integers(1, 140),  # values written: clocks cross 128 and 16,384
            st.sampled_from(["right", "none", "wrong", "all"]),
            st.booleans(),  # held back (applied after the next one)
        ),
        min_size=1,
        max_size=25,
    )
)
def test_the_clocks_are_the_documents_whatever_it_is_told(
    steps: list[tuple[int, int, str, bool]],
) -> None:
    receiver: Doc[Any] = Doc()
    receiver["m"] = Map()
    known = KnownState()
    known.read(receiver.get_state())
    writers = {c: _writer(c, receiver) for c in CLIENTS}
    held: list[bytes] = []
    for client, values, told, hold in steps:
        writer = writers[client]
        before = writer.get_state()
        m = writer.get("m", type=Map)
        with writer.transaction():
            for i in range(values):
                m[f"{client}-{i}"] = i
        update = writer.get_update(before)
        if hold:
            held.append(update)  # pycrdt keeps what builds on it waiting
            continue
        receiver.apply_update(update)
        for late in held:
            receiver.apply_update(late)
        held.clear()
        moved = {
            "right": [client],
            "none": [],
            "wrong": [c for c in CLIENTS if c != client][:1],
            "all": CLIENTS,
        }[told]
        state = receiver.get_state()
        before_clocks = dict(known.clocks)
        changed = known.read(state, moved)
        assert known.clocks == state_vector_clocks(state)
        if changed is not ALL:
            assert changed == {c: k for c, k in known.clocks.items() if before_clocks.get(c) != k}


def _written_by_each() -> tuple[Doc[Any], dict[int, Doc[Any]]]:
    """A document each of CLIENTS wrote once to, and those clients' documents."""
    receiver: Doc[Any] = Doc()
    receiver["m"] = Map()
    writers = {c: _writer(c, receiver) for c in CLIENTS}
    for client, writer in writers.items():
        writer.get("m", type=Map)["k"] = client
        receiver.apply_update(writer.get_update(receiver.get_state()))
    return receiver, writers


def test_a_known_client_that_moved_is_read_without_parsing_the_rest() -> None:
    receiver, writers = _written_by_each()
    known = KnownState()
    known.read(receiver.get_state())
    writer = writers[300]
    writer.get("m", type=Map)["again"] = 1
    receiver.apply_update(writer.get_update(receiver.get_state()))
    assert known.read(receiver.get_state(), [300]) == {300: 2}
    assert known.clocks == state_vector_clocks(receiver.get_state())
    assert known.read(receiver.get_state(), [300]) == {}  # nothing moved since


def test_a_client_it_was_not_told_of_is_seen_before_and_after_the_one_it_was() -> None:
    receiver, writers = _written_by_each()
    known = KnownState()
    known.read(receiver.get_state())
    for actual in CLIENTS:
        for told in CLIENTS:
            if told == actual:
                continue
            writer = writers[actual]
            writer.get("m", type=Map)["k"] = told  # one clock: no varUint grows
            receiver.apply_update(writer.get_update(receiver.get_state()))
            known.read(receiver.get_state(), [told])
            assert known.clocks == state_vector_clocks(receiver.get_state())
