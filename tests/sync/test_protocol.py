"""The sans-I/O sync core, driven with bytes alone."""

from __future__ import annotations

from typing import Any

import pytest
from pycrdt import Doc, Map

from lanban.model.board import Board
from lanban.sync.messages import (
    Awareness,
    AwarenessEntry,
    Limits,
    ProtocolError,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode,
    encode,
    var_uint,
)
from lanban.sync.presence import Presence
from lanban.sync.protocol import (
    MAX_HELD_BYTES,
    MAX_HELD_UPDATES,
    NODE_INFO,
    PEER_RULES,
    RELAY_RULES,
    AwarenessQueried,
    AwarenessReceived,
    NodeInfoReceived,
    RateLimit,
    Refused,
    Synced,
    SyncProtocol,
    SyncRules,
)
from lanban.sync.session import Session
from lanban.sync.update_check import UpdateLimits, UpdateRefused, check_update, state_vector_clocks
from lanban.sync.update_guard import BoardFull, GuardLimits, UpdateGuard, growth_estimate


class MapDoc:
    """A pycrdt Doc as the core's document."""

    def __init__(self, client_id: int) -> None:
        self.doc: Doc[Any] = Doc(client_id=client_id)

    def get_state(self) -> bytes:
        return self.doc.get_state()

    def get_update(self, state_vector: bytes) -> bytes:
        return self.doc.get_update(state_vector)

    def apply_update(self, update: bytes) -> None:
        try:
            self.doc.apply_update(update)
        except Exception as exc:
            raise ValueError(str(exc)) from exc

    def map(self) -> dict[str, Any]:
        return dict(self.doc.get("m", type=Map).to_py() or {})


def edits(n: int) -> tuple[bytes, list[bytes]]:
    """A first state and ``n`` updates that each set a key building on it."""
    source: Doc[Any] = Doc(client_id=7)
    m = source.get("m", type=Map)
    m["base"] = 0
    first = source.get_update()
    updates = []
    for i in range(n):
        before = source.get_state()
        m[f"k{i}"] = i
        updates.append(source.get_update(before))
    return first, updates


def protocol(rules: SyncRules = PEER_RULES, **kw: Any) -> tuple[MapDoc, SyncProtocol]:
    doc = MapDoc(1)
    return doc, SyncProtocol(doc, rules=rules, **kw)


def test_start_sends_node_info_step_1_then_awareness() -> None:
    doc, p = protocol()
    entry = AwarenessEntry(1, 1, {"user": {"name": "Zoë"}})
    p.start([entry], {"name": "a", "port": 1, "version": 1})
    out = p.data_to_send()
    assert out[0][0] == NODE_INFO
    assert decode(out[1]) == SyncStep1(doc.get_state())
    assert decode(out[2]) == Awareness((entry,))
    assert p.data_to_send() == []


def test_no_update_leaves_before_the_peers_step_1_is_answered() -> None:
    _, p = protocol()
    p.send_update(b"\x01")
    assert p.data_to_send() == []
    p.receive_data(encode(SyncStep1(b"\x00")))
    assert [type(decode(f)) for f in p.data_to_send()] == [SyncStep2]
    p.send_update(b"\x01")
    assert p.data_to_send() == [encode(SyncUpdate(b"\x01"))]


def test_updates_before_the_peers_step_2_are_held_then_applied_in_order() -> None:
    doc, p = protocol()
    first, updates = edits(3)
    for update in updates:
        p.receive_data(encode(SyncUpdate(update)))
    assert doc.map() == {}
    p.receive_data(encode(SyncStep1(b"\x00")))
    assert p.events_received() == []
    p.receive_data(encode(SyncStep2(first)))
    assert doc.map() == {"base": 0, "k0": 0, "k1": 1, "k2": 2}
    assert p.events_received() == [Synced()]
    assert p.synced


def test_too_many_held_updates_is_an_error() -> None:
    _, p = protocol()
    frame = encode(SyncUpdate(b"\x00\x00"))
    for _ in range(MAX_HELD_UPDATES):
        p.receive_data(frame)
    with pytest.raises(ProtocolError, match="too many updates"):
        p.receive_data(frame)


def test_relay_rules_apply_at_once_and_refuse_node_info() -> None:
    doc, p = protocol(RELAY_RULES)
    first, updates = edits(1)
    p.receive_data(encode(SyncUpdate(first)))
    assert doc.map() == {"base": 0}
    p.send_update(updates[0])  # a relay passes changes on before any step 1
    assert p.data_to_send() == [encode(SyncUpdate(updates[0]))]
    with pytest.raises(ProtocolError, match="unknown message type 100"):
        p.receive_data(bytes([NODE_INFO]) + b"{}")


def test_events_for_the_caller() -> None:
    _, p = protocol()
    entry = AwarenessEntry(5, 2, None)
    p.receive_data(encode(Awareness((entry,))))
    p.receive_data(encode(QueryAwareness()))
    p.receive_data(bytes([NODE_INFO]) + b'{"name": "b"}')
    p.receive_data(bytes.fromhex("02000b77726f6e6720746f6b656e"))  # y-protocols' auth denied
    assert p.events_received() == [
        AwarenessReceived((entry,)),
        AwarenessQueried(),
        NodeInfoReceived({"name": "b"}),
        Refused("wrong token"),
    ]


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        (b"\x00\x00\x05\x01", "field of 5 bytes"),
        (bytes([NODE_INFO]) + b"[1]", "not an object"),
        (bytes([NODE_INFO]) + b"x" * 5000, "too large"),
        (encode(SyncStep1(b"\xff\xff")), "bad state vector"),
        (encode(SyncStep2(b"\x05garbage")), None),
        (encode(SyncUpdate(b"\x00\x00")) + b"\x00", "unexpected bytes"),
    ],
)
def test_bad_bytes_are_protocol_errors_and_leave_the_document_alone(
    frame: bytes, error: str | None
) -> None:
    doc, p = protocol()
    p.receive_data(encode(SyncStep2(edits(0)[0])))
    with pytest.raises(ProtocolError, match=error):
        p.receive_data(frame)
    assert doc.map() == {"base": 0}


def test_an_update_frame_reads_as_decode_reads_it_however_its_header_is_spelt() -> None:
    first, updates = edits(1)
    short = encode(SyncUpdate(updates[0]))
    long = b"\x80\x00\x82\x00" + short[2:]  # the same varUints, in two bytes each
    assert decode(long) == decode(short) == SyncUpdate(updates[0])
    for frame in (short, long):
        doc, p = protocol()
        p.receive_data(encode(SyncStep2(first)))
        p.receive_data(frame)
        assert doc.map() == {"base": 0, "k0": 0}


@pytest.mark.parametrize(
    ("limits", "error"),
    [
        (Limits(update_bytes=8), "field of 9 bytes is over the limit of 8"),
        (Limits(frame_bytes=10), "frame of 12 bytes"),
    ],
)
def test_an_update_frame_keeps_the_limits(limits: Limits, error: str) -> None:
    frame = encode(SyncUpdate(bytes(9)))
    with pytest.raises(ProtocolError, match=error):
        decode(frame, limits)
    _, p = protocol(limits=limits)
    with pytest.raises(ProtocolError, match=error):
        p.receive_data(frame)


def test_rate_limit() -> None:
    _, p = protocol(rate=RateLimit(per_second=0.0, burst=3))
    frame = encode(QueryAwareness())
    for _ in range(3):
        p.receive_data(frame)
    with pytest.raises(ProtocolError, match="too many messages"):
        p.receive_data(frame)


def test_a_closed_protocol_ignores_input_and_sends_nothing() -> None:
    _, p = protocol(RELAY_RULES)
    p.close()
    p.receive_data(b"garbage")
    p.send_update(b"\x01")
    p.send_awareness([AwarenessEntry(1, 1, None)])
    assert p.data_to_send() == [] and p.events_received() == []


# ------------------------------------------------------------------ the update guard


def forged_clients(first: int, n: int) -> bytes:
    """``n`` new clients with one GC struct each."""
    sections = b"".join(
        var_uint(1) + var_uint(c) + b"\x00\x00\x01" for c in range(first, first + n)
    )
    return var_uint(n) + sections + b"\x00"


def test_a_refused_update_is_not_applied_and_names_its_reason() -> None:
    doc, p = protocol(RELAY_RULES)
    first, _ = edits(0)
    p.receive_data(encode(SyncUpdate(first)))
    state = doc.get_state()
    seven = state_vector_clocks(state)[7]
    clock_attack = var_uint(1) + var_uint(1) + var_uint(7) + var_uint(seven)
    clock_attack += b"\x00" + var_uint(2**32 - 1 - seven) + b"\x00"
    for attack, reason in [(var_uint(2**28), "client sections"), (clock_attack, "past")]:
        with pytest.raises(UpdateRefused, match=reason):
            p.receive_data(encode(SyncUpdate(attack)))
        assert doc.get_state() == state and doc.map() == {"base": 0}


def test_the_clock_check_uses_the_documents_current_state_vector() -> None:
    doc, p = protocol(RELAY_RULES, guard=None)
    # Client 9 jumps 2,000 clocks; allowed from what the doc knows (1,000), not from 0.
    limits = GuardLimits(update=UpdateLimits(clock_jump=1_500))
    p.guard = UpdateGuard(doc, limits)
    gc_run = var_uint(1) + var_uint(1) + var_uint(9) + var_uint(0) + b"\x00" + var_uint(1_000)
    p.receive_data(encode(SyncUpdate(gc_run + b"\x00")))
    further = var_uint(1) + var_uint(1) + var_uint(9) + var_uint(1_000) + b"\x00" + var_uint(1_000)
    p.receive_data(encode(SyncUpdate(further + b"\x00")))
    assert state_vector_clocks(doc.get_state()) == {9: 2_000}
    jump = var_uint(1) + var_uint(1) + var_uint(9) + var_uint(2_000) + b"\x00" + var_uint(1_600)
    with pytest.raises(UpdateRefused, match="jumps"):
        p.receive_data(encode(SyncUpdate(jump + b"\x00")))


def test_clients_are_capped_per_board_over_many_updates() -> None:
    doc, p = protocol(RELAY_RULES)
    p.guard = UpdateGuard(doc, GuardLimits(board_clients=250))
    p.receive_data(encode(SyncUpdate(forged_clients(1_000, 200))))
    with pytest.raises(BoardFull, match="board full: 200 clients, 100 more is over 250"):
        p.receive_data(encode(SyncUpdate(forged_clients(2_000, 100))))
    assert p.guard.problem == "board full: 200 clients, 100 more is over 250"
    assert len(state_vector_clocks(doc.get_state())) == 200
    # Clients the board already has do not count again.
    p.receive_data(encode(SyncUpdate(forged_clients(1_000, 200))))
    assert p.guard.problem is None


def test_a_board_has_a_total_size() -> None:
    doc, p = protocol(RELAY_RULES)
    p.guard = guard = UpdateGuard(doc, GuardLimits(board_bytes=20_000))
    source: Doc[Any] = Doc(client_id=3)
    m = source.get("m", type=Map)
    for i in range(3):
        before = source.get_state()
        m[f"k{i}"] = "x" * 6_000
        p.receive_data(encode(SyncUpdate(source.get_update(before))))
    before = source.get_state()
    m["k3"] = "x" * 6_000
    with pytest.raises(BoardFull, match="over the 0 MiB a board may hold"):
        p.receive_data(encode(SyncUpdate(source.get_update(before))))
    assert sorted(doc.map()) == ["k0", "k1", "k2"]
    # Another link of the same document shares its guard, and its total.
    other = SyncProtocol(doc, rules=RELAY_RULES, guard=guard)
    with pytest.raises(BoardFull):
        other.receive_data(encode(SyncUpdate(source.get_update(before))))
    small = source.get_state()
    m["k4"] = "y"
    other.receive_data(encode(SyncUpdate(source.get_update(small))))
    assert "k4" in doc.map()


def test_growth_is_bounded_by_the_update_size() -> None:
    doc, p = protocol(RELAY_RULES)
    # 300,000 one-byte Deleted items after each other in 1.2 MB (a Map's worth of
    # memory each at worst): over 64 x 1.2 MB + 1 MiB, so such a dense update is refused.
    n = 300_000
    items = b"".join(b"\x81\x05" + var_uint(i) + b"\x01" for i in range(n - 1))
    dense = var_uint(1) + var_uint(n) + var_uint(5) + var_uint(0)
    dense += b"\x01\x01\x01r\x01" + items + b"\x00"
    summary = check_update(dense)
    assert growth_estimate(summary) > 64 * len(dense) + 2**20
    with pytest.raises(UpdateRefused, match="could take over"):
        p.receive_data(encode(SyncUpdate(dense)))
    # As many GC structs are cheap to hold, and pass.
    gcs = var_uint(1) + var_uint(n) + var_uint(5) + var_uint(0) + b"\x00\x01" * n + b"\x00"
    p.receive_data(encode(SyncUpdate(gcs)))
    assert state_vector_clocks(doc.get_state()) == {5: n}


def test_held_updates_are_bounded_in_bytes() -> None:
    _, p = protocol()
    big = encode(SyncUpdate(b"\x00" * (MAX_HELD_BYTES // 2 + 1)))
    p.receive_data(big)
    with pytest.raises(ProtocolError, match="update bytes before sync step 2"):
        p.receive_data(big)


def waiting_values(client: int, n: int, missing: int = 2**31 + 7) -> bytes:
    """``n`` values of a new client, each placed after a struct of ``missing`` that no
    document has: pycrdt keeps them aside (pending) in memory, out of the state vector."""
    structs = b"".join(
        b"\x88" + var_uint(missing) + var_uint(1_000 + i) + b"\x01\x78" for i in range(n)
    )
    return var_uint(1) + var_uint(n) + var_uint(client) + var_uint(0) + structs + b"\x00"


def test_updates_waiting_for_missing_changes_are_bounded() -> None:
    doc, p = protocol(RELAY_RULES)
    p.guard = guard = UpdateGuard(doc, GuardLimits(pending_bytes=150_000))
    p.receive_data(encode(SyncUpdate(waiting_values(100, 10_000))))
    assert state_vector_clocks(doc.get_state()) == {}  # applied, but waiting
    assert 0 < guard.pending_bytes <= 150_000
    with pytest.raises(UpdateRefused, match="wait for changes the board lacks"):
        p.receive_data(encode(SyncUpdate(waiting_values(101, 10_000))))
    # Stalled: nothing more is applied, from any link, until a restart drops them.
    other = SyncProtocol(doc, rules=RELAY_RULES, guard=guard)
    with pytest.raises(BoardFull, match="board stalled"):
        other.receive_data(encode(SyncUpdate(forged_clients(5_000, 1))))
    assert (guard.problem or "").startswith("board stalled")


def test_waiting_updates_stop_counting_once_what_they_need_arrives() -> None:
    doc, p = protocol(RELAY_RULES)
    source: Doc[Any] = Doc(client_id=7)
    m = source.get("m", type=Map)
    m["a"] = 1
    first = source.get_update()
    before = source.get_state()
    m["b"] = 2
    second = source.get_update(before)
    p.receive_data(encode(SyncUpdate(second)))  # it builds on the first: it waits
    assert p.guard.pending_bytes == len(second)
    p.receive_data(encode(SyncUpdate(first)))
    assert p.guard.pending_bytes == 0 and doc.map() == {"a": 1, "b": 2}


def test_a_held_update_is_checked_when_the_peers_step_2_releases_it() -> None:
    doc, p = protocol()
    first, updates = edits(1)
    p.receive_data(encode(SyncUpdate(updates[0])))
    p.receive_data(encode(SyncUpdate(var_uint(2**28))))  # held, not yet looked at
    with pytest.raises(UpdateRefused, match="client sections"):
        p.receive_data(encode(SyncStep2(first)))
    assert doc.map() == {"base": 0, "k0": 0}  # what came before it was applied


def test_sessions_given_one_guard_share_it() -> None:
    """A hub hands every link of its board the board's guard (tests/sync/test_node.py)."""
    board = Board.create("Shared", ["A"], actor="ann")
    presence = Presence(board.doc.client_id)
    guard = UpdateGuard(board)
    one, two = (Session(board, presence, n, lambda frame: None, guard=guard) for n in (1, 2))
    assert one.protocol.guard is two.protocol.guard is guard
    alone = Session(board, presence, 3, lambda frame: None)
    assert alone.protocol.guard is not guard  # no hub: the session checks with its own
