"""Peer link handshake and encrypted frames, driven byte by byte (no sockets)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lanban.sync.secure import (
    AEAD_TAG_BYTES,
    HELLO_BYTES,
    MAX_FRAMES_PER_DIRECTION,
    OPEN_BYTES,
    WELCOME_BYTES,
    Handshake,
    SecureChannel,
    SecureError,
)

BOARD = "board-A"
OTHER_BOARD = "board-B"
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
ALICE = b"A" * 16
BOB = b"B" * 16


@dataclass
class Recording:
    open: bytes
    hello: bytes
    welcome: bytes
    initiator: SecureChannel
    responder: SecureChannel


def connect(
    key: bytes = KEY,
    responder_keys: dict[str, bytes] | None = None,
    initiator_node: bytes = ALICE,
    responder_node: bytes = BOB,
) -> Recording:
    """Run a full handshake, as the I/O layer would, and keep every frame."""
    keys = {BOARD: KEY, OTHER_BOARD: OTHER_KEY} if responder_keys is None else responder_keys
    initiator = Handshake.initiator(BOARD, key, initiator_node)
    responder = Handshake.responder(keys, responder_node)
    assert initiator.start() is None
    opening = responder.start()
    assert opening is not None
    hello = initiator.receive(opening)
    assert hello is not None and not initiator.done
    welcome = responder.receive(hello)
    assert welcome is not None and responder.done
    assert initiator.receive(welcome) is None
    assert initiator.done
    return Recording(opening, hello, welcome, initiator.channel, responder.channel)


def test_handshake_gives_both_sides_a_link_for_the_same_board() -> None:
    link = connect()
    assert link.initiator.board_id == BOARD
    assert link.responder.board_id == BOARD
    assert link.initiator.peer_node_id == BOB
    assert link.responder.peer_node_id == ALICE


def test_responder_finds_the_board_among_many() -> None:
    keys = {f"board-{n}": secrets.token_bytes(32) for n in range(50)}
    initiator = Handshake.initiator("board-37", keys["board-37"], ALICE)
    responder = Handshake.responder(lambda: keys, BOB)
    opening = responder.start()
    assert opening is not None
    hello = initiator.receive(opening)
    assert hello is not None
    welcome = responder.receive(hello)
    assert welcome is not None
    initiator.receive(welcome)
    assert responder.channel.board_id == "board-37"
    assert initiator.done


def test_data_flows_both_ways_in_order() -> None:
    link = connect()
    messages = [b"", b"step 1", secrets.token_bytes(5000), b"update"]
    for message in messages:
        assert link.responder.open(link.initiator.seal(message)) == message
        assert link.initiator.open(link.responder.seal(message)) == message


def test_frames_show_nothing_an_eavesdropper_could_use() -> None:
    first = connect()
    second = connect()
    wire = first.open + first.hello + first.welcome + first.initiator.seal(b"secret ticket")
    for visible in (BOARD.encode(), KEY, ALICE, BOB, b"secret ticket"):
        assert visible not in wire
    # Two connections to the same board share no bytes beyond the frame headers.
    assert first.hello[2:18] != second.hello[2:18]
    assert first.hello[34:50] != second.hello[34:50]  # the board tag is blinded


def test_initiator_with_wrong_key_gets_unknown_board_and_no_answer() -> None:
    initiator = Handshake.initiator(BOARD, secrets.token_bytes(32), ALICE)
    responder = Handshake.responder({BOARD: KEY}, BOB)
    opening = responder.start()
    assert opening is not None
    hello = initiator.receive(opening)
    assert hello is not None
    with pytest.raises(SecureError, match="unknown board"):
        responder.receive(hello)
    assert not responder.done


def test_responder_without_the_board_refuses() -> None:
    with pytest.raises(SecureError, match="unknown board"):
        connect(responder_keys={OTHER_BOARD: OTHER_KEY})


def test_responder_with_wrong_key_for_the_board_refuses() -> None:
    with pytest.raises(SecureError, match="unknown board"):
        connect(responder_keys={BOARD: OTHER_KEY})


def test_initiator_refuses_a_welcome_made_with_another_key() -> None:
    # A man in the middle shows the victim a real responder's OPEN, then passes
    # back the WELCOME that responder gave to a HELLO made with a different key.
    responder = Handshake.responder({BOARD: OTHER_KEY}, BOB)
    opening = responder.start()
    assert opening is not None
    victim = Handshake.initiator(BOARD, KEY, ALICE)
    accomplice = Handshake.initiator(BOARD, OTHER_KEY, b"M" * 16)
    victim.receive(opening)
    hello = accomplice.receive(opening)
    assert hello is not None
    welcome = responder.receive(hello)
    assert welcome is not None
    with pytest.raises(SecureError, match="bad proof"):
        victim.receive(welcome)
    assert not victim.done
    with pytest.raises(RuntimeError):
        _ = victim.channel


def test_recorded_hello_replayed_to_a_responder_fails() -> None:
    recorded = connect()
    responder = Handshake.responder({BOARD: KEY}, BOB)
    responder.start()  # a fresh ephemeral key the recording does not cover
    # Not even recognised: a replayed HELLO cannot probe which nodes hold a board.
    with pytest.raises(SecureError, match="unknown board"):
        responder.receive(recorded.hello)
    assert not responder.done


def test_recorded_welcome_replayed_to_a_new_initiator_fails() -> None:
    recorded = connect()
    initiator = Handshake.initiator(BOARD, KEY, ALICE)
    initiator.receive(recorded.open)  # the attacker replays the whole responder side
    with pytest.raises(SecureError, match="bad proof"):
        initiator.receive(recorded.welcome)
    assert not initiator.done


def test_connecting_to_ourselves_is_refused_before_any_answer() -> None:
    initiator = Handshake.initiator(BOARD, KEY, BOB)
    responder = Handshake.responder({BOARD: KEY}, BOB)
    opening = responder.start()
    assert opening is not None
    hello = initiator.receive(opening)
    assert hello is not None
    with pytest.raises(SecureError, match="connected to ourselves"):
        responder.receive(hello)
    assert not responder.done


def test_a_failed_handshake_stays_failed() -> None:
    initiator = Handshake.initiator(BOARD, KEY, ALICE)
    with pytest.raises(SecureError, match="malformed open"):
        initiator.receive(b"\x01\x01short")
    good_open = Handshake.responder({BOARD: KEY}, BOB).start()
    assert good_open is not None
    with pytest.raises(SecureError, match="already failed"):
        initiator.receive(good_open)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"", "malformed open"),
        (b"\x02" + bytes(OPEN_BYTES - 1), "unsupported link version 2"),
        (b"\x01\x02" + bytes(OPEN_BYTES - 2), "malformed open"),  # a HELLO kind
        (b"\x01\x01" + bytes(OPEN_BYTES - 2), "malformed open"),  # a low-order key
        (b"\x01\x01" + bytes(OPEN_BYTES), "malformed open"),  # too long
        ("text frame", "malformed open"),
    ],
)
def test_bad_open_frames_are_refused(frame: bytes, message: str) -> None:
    with pytest.raises(SecureError, match=message):
        Handshake.initiator(BOARD, KEY, ALICE).receive(frame)


def test_frames_after_the_handshake_are_refused() -> None:
    initiator = Handshake.initiator(BOARD, KEY, ALICE)
    responder = Handshake.responder({BOARD: KEY}, BOB)
    opening = responder.start()
    assert opening is not None
    hello = initiator.receive(opening)
    assert hello is not None
    responder.receive(hello)
    with pytest.raises(SecureError, match="unexpected handshake frame"):
        responder.receive(hello)


def test_bad_local_arguments_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Handshake.initiator(BOARD, b"short", ALICE)
    with pytest.raises(ValueError, match="16 bytes"):
        Handshake.responder({}, b"short")
    with pytest.raises(RuntimeError, match="start"):
        Handshake.responder({}, BOB).receive(b"\x01\x02")


def test_tampered_frame_fails_and_closes_the_link() -> None:
    link = connect()
    frame = bytearray(link.initiator.seal(b"move ticket 7 to Done"))
    frame[3] ^= 0x01
    with pytest.raises(SecureError, match="frame failed authentication"):
        link.responder.open(bytes(frame))
    with pytest.raises(SecureError, match="closed"):
        link.responder.open(link.initiator.seal(b"next"))


def test_replayed_frame_fails() -> None:
    link = connect()
    frame = link.initiator.seal(b"add ticket")
    assert link.responder.open(frame) == b"add ticket"
    with pytest.raises(SecureError, match="frame failed authentication"):
        link.responder.open(frame)


def test_reordered_frames_fail() -> None:
    link = connect()
    link.initiator.seal(b"first")  # delayed on the way
    second = link.initiator.seal(b"second")
    with pytest.raises(SecureError, match="frame failed authentication"):
        link.responder.open(second)


@pytest.mark.parametrize("keep", [0, 1, AEAD_TAG_BYTES - 1, AEAD_TAG_BYTES, -1])
def test_truncated_frame_fails(keep: int) -> None:
    link = connect()
    frame = link.initiator.seal(b"a ticket description")
    with pytest.raises(SecureError, match="frame failed authentication"):
        link.responder.open(frame[:keep])


def test_counter_overflow_is_refused_not_wrapped() -> None:
    link = connect()
    # 2**64 frames cannot be sent in a test; start the counters at the end.
    link.initiator._sent = MAX_FRAMES_PER_DIRECTION - 1
    link.responder._received = MAX_FRAMES_PER_DIRECTION - 1
    assert link.responder.open(link.initiator.seal(b"last")) == b"last"
    with pytest.raises(SecureError, match="counter exhausted"):
        link.initiator.seal(b"one too many")
    with pytest.raises(SecureError, match="counter exhausted"):
        link.responder.open(b"x" * 32)


def test_frame_reflected_back_to_its_sender_fails() -> None:
    link = connect()
    with pytest.raises(SecureError, match="frame failed authentication"):
        link.initiator.open(link.initiator.seal(b"echo"))


def test_frame_from_another_connection_fails() -> None:
    first = connect()
    second = connect()
    with pytest.raises(SecureError, match="frame failed authentication"):
        second.responder.open(first.initiator.seal(b"hello"))


# --- fuzzing: whatever a peer sends, only SecureError comes out ---------------

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def mutated(frame: bytes) -> st.SearchStrategy[bytes]:
    flips = st.lists(
        st.tuples(st.integers(0, len(frame) - 1), st.integers(1, 255)), min_size=1, max_size=4
    )

    def flip(changes: list[tuple[int, int]]) -> bytes:
        data = bytearray(frame)
        for at, mask in changes:
            data[at] ^= mask
        return bytes(data)

    return st.one_of(
        flips.map(flip),
        st.integers(0, len(frame) - 1).map(lambda cut: frame[:cut]),
        st.binary(min_size=1, max_size=40).map(lambda extra: frame + extra),
    )


def peer_bytes(frame: bytes) -> st.SearchStrategy[bytes]:
    """Random bytes, random bytes behind a valid header, and damaged real frames."""
    body = st.binary(min_size=len(frame) - 2, max_size=len(frame) - 2)
    return st.one_of(st.binary(max_size=200), body.map(lambda b: frame[:2] + b), mutated(frame))


RECORDED = connect()


def only_secure_errors(handshake: Handshake, frame: bytes) -> None:
    try:
        handshake.receive(frame)
    except SecureError:
        assert not handshake.done


@FUZZ
@given(data=peer_bytes(RECORDED.open))
def test_fuzz_initiator_waiting_for_open(data: bytes) -> None:
    only_secure_errors(Handshake.initiator(BOARD, KEY, ALICE), data)


@FUZZ
@given(data=peer_bytes(RECORDED.welcome))
def test_fuzz_initiator_waiting_for_welcome(data: bytes) -> None:
    initiator = Handshake.initiator(BOARD, KEY, ALICE)
    initiator.receive(RECORDED.open)
    only_secure_errors(initiator, data)
    assert not initiator.done  # no recorded or altered WELCOME is accepted


@FUZZ
@given(data=peer_bytes(RECORDED.hello))
def test_fuzz_responder_waiting_for_hello(data: bytes) -> None:
    responder = Handshake.responder({BOARD: KEY, OTHER_BOARD: OTHER_KEY}, BOB)
    responder.start()
    only_secure_errors(responder, data)
    assert not responder.done


@FUZZ
@given(data=st.data())
def test_fuzz_open_accepts_only_the_next_sealed_frame(data: st.DataObject) -> None:
    link = connect()
    frame = link.initiator.seal(b"a real update")
    attempt = data.draw(st.one_of(st.binary(max_size=100), mutated(frame)))
    try:
        plaintext = link.responder.open(attempt)
    except SecureError:
        return
    assert attempt == frame and plaintext == b"a real update"


def test_handshake_frame_sizes_are_fixed() -> None:
    assert (len(RECORDED.open), len(RECORDED.hello), len(RECORDED.welcome)) == (
        OPEN_BYTES,
        HELLO_BYTES,
        WELCOME_BYTES,
    )
