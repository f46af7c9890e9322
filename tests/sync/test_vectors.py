"""Recorded wire vectors: the sync core must keep decoding them and answering the same.

``tests/vectors/node_session.json`` and ``relay_session.json`` were recorded from the
node session and relay before the sans-I/O core replaced them
(``tools/make_sync_vectors.py``); ``y_protocols.json`` was made by the stock JavaScript
encoders (``tests/interop/make_vectors.mjs``). A byte that changes here changed the wire.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import websockets
from pycrdt import Doc, Map

from lanban.model.board import Board
from lanban.model.exchange import export_board
from lanban.sync.messages import (
    Awareness,
    AwarenessEntry,
    SyncStep2,
    SyncUpdate,
    decode,
    encode,
)
from lanban.sync.presence import Presence
from lanban.sync.relay import Relay
from lanban.sync.session import LinkRefused, Session
from tests.support import within

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


NODE = load("node_session.json")
RELAY = load("relay_session.json")
YP = load("y_protocols.json")
YF = {name: bytes.fromhex(value) for name, value in YP["frames"].items()}


def recorded_board() -> dict[str, Any]:
    """The board as recorded, with the keys an export has gained since (issue 11's
    due, assignees, checklist) as a ticket from the recording's version reads."""
    board: dict[str, Any] = json.loads(json.dumps(NODE["board"]))
    for column in board["columns"]:
        for t in column["tickets"]:
            t.update(assignees=[t["assignee"]] if t["assignee"] else [], due="", checklist=[])
    return board


def fresh_b() -> tuple[Board, Presence]:
    board = Board(Doc(client_id=NODE["b_client_id"], skip_gc=True))
    presence = Presence(NODE["b_client_id"], clock=lambda: 0)
    presence.set_local(NODE["presence_b"])
    presence.take_outbox()
    return board, presence


# ------------------------------------------------------------ node session


def test_a_recorded_peer_session_replays_byte_for_byte() -> None:
    board, presence = fresh_b()
    sent: list[bytes] = []
    infos: list[dict[str, Any]] = []
    session = Session(board, presence, "link-a", sent.append, on_node_info=infos.append)
    session.start(NODE["node_info_b"])
    for frame in NODE["from_a"]:
        session.receive(bytes.fromhex(frame))
    assert [f.hex() for f in sent] == NODE["from_b"]
    assert export_board(board) == recorded_board()
    assert infos == [NODE["node_info_a"]]
    assert {str(k): v for k, v in presence.states.items()} == NODE["presence_b_states_after"]
    assert session.synced


def test_a_peer_session_holds_updates_sent_before_its_step_2() -> None:
    """The recorded frames, with A's edits moved ahead of its step 2: same board."""
    frames = [bytes.fromhex(f) for f in NODE["from_a"]]
    step2 = next(i for i, f in enumerate(frames) if f[:2] == b"\x00\x01")
    updates = [f for f in frames if f[:2] == b"\x00\x02"]
    assert updates, "the recording has live updates"
    reordered = [f for f in frames[:step2] if f[:2] != b"\x00\x02"] + updates
    reordered += [f for f in frames[step2:] if f[:2] != b"\x00\x02"]
    board, presence = fresh_b()
    session = Session(board, presence, "link-a", lambda _frame: None)
    session.start()
    for frame in reordered:
        session.receive(frame)
    assert export_board(board) == recorded_board()


# ------------------------------------------------------------ relay


async def exchange(ws: Any, sends: list[str], receives: list[str]) -> list[bytes]:
    got = [await within(ws.recv())]  # the relay speaks first
    for frame in sends:
        await ws.send(bytes.fromhex(frame))
    while len(got) < len(receives):
        got.append(await within(ws.recv()))
    assert all(isinstance(f, bytes) for f in got)
    return [f for f in got if isinstance(f, bytes)]


async def test_a_recorded_relay_session_replays_byte_for_byte(tmp_path: Path) -> None:
    async with Relay(tmp_path, host="127.0.0.1", port=0) as relay:
        url = f"{relay.url}/{RELAY['room']}"
        async with websockets.connect(url) as ws1:
            got1 = await exchange(ws1, RELAY["c1_sends"], RELAY["c1_receives"])
            assert [f.hex() for f in got1] == RELAY["c1_receives"]
            async with websockets.connect(url) as ws2:  # while C1 is still there
                got2 = await exchange(ws2, RELAY["c2_sends"], RELAY["c2_receives"])
                assert [f.hex() for f in got2] == RELAY["c2_receives"]
    doc: Doc[Any] = Doc()
    for frame in got2:
        message = decode(frame)
        if isinstance(message, SyncStep2 | SyncUpdate):
            doc.apply_update(message.update)
    assert doc.get("map", type=Map).to_py() == RELAY["map"]


# ------------------------------------------------------------ y-protocols


def test_every_y_protocols_message_decodes_and_reencodes() -> None:
    for name, frame in YF.items():
        message = decode(frame)
        if isinstance(message, Awareness):
            # We write JSON with ASCII escapes where JavaScript writes UTF-8: both are
            # the same JSON; the rest of the frame is byte for byte the same.
            again = decode(encode(message))
            assert again == message, name
        else:
            assert encode(message) == frame, name
    a = decode(YF["awareness_a"])
    assert isinstance(a, Awareness)
    spec = YP["awareness"]["a"]
    assert a.entries == (AwarenessEntry(spec["client_id"], spec["clock"], spec["state"]),)
    left = decode(YF["awareness_a_left"])
    assert isinstance(left, Awareness)
    assert left.entries == (
        AwarenessEntry(spec["client_id"], YP["awareness"]["a_left_clock"], None),
    )
    ascii_only = decode(YF["awareness_b"])
    assert encode(ascii_only) == YF["awareness_b"]


def y_peer_b() -> tuple[Board, Presence, list[bytes], Session]:
    """A Lanban session in the place of the stock peer B of the vectors."""
    doc: Doc[Any] = Doc(client_id=YP["docs"]["b"]["client_id"], skip_gc=True)
    doc.apply_update(bytes.fromhex(YP["docs"]["b"]["update"]))
    board = Board(doc)
    presence = Presence(doc.client_id, clock=lambda: 0)
    state_b = decode(YF["awareness_b"])
    assert isinstance(state_b, Awareness)
    presence.set_local(state_b.entries[0].state)
    presence.take_outbox()
    sent: list[bytes] = []
    return board, presence, sent, Session(board, presence, "a", sent.append)


def test_a_session_answers_y_protocols_messages_as_y_protocols_does() -> None:
    board, presence, sent, session = y_peer_b()
    session.start()
    assert sent[0] == YF["step1_b"]  # our step 1 is y-protocols' for the same document
    sent.clear()
    session.receive(YF["step1_a"])
    assert sent == [YF["step2_b_to_a"]]
    session.receive(YF["step2_a_to_b"])
    session.receive(YF["update_a"])
    assert board.doc.get("map", type=Map).to_py() == YP["docs"]["b_after_sync"]["map"]
    sent.clear()
    session.receive(YF["awareness_a"])
    session.receive(YF["query_awareness"])
    answer = decode(sent[-1])
    assert answer == decode(YF["query_answer_b"])
    session.receive(YF["awareness_a_left"])
    expected = {int(k): v for k, v in YP["awareness"]["b_states_after_leave"].items()}
    assert presence.states == expected
    with pytest.raises(LinkRefused, match="wrong token"):
        session.receive(YF["auth_denied"])


async def test_the_relay_answers_y_protocols_messages_as_y_protocols_does(tmp_path: Path) -> None:
    relay = Relay(tmp_path, host="127.0.0.1", port=0)
    async with relay, websockets.connect(f"{relay.url}/y") as a:
        assert await within(a.recv()) == YF["step1_empty"]  # an empty room's step 1
        await a.send(YF["step1_a"])
        assert decode(await within(a.recv())) == SyncStep2(b"\x00\x00")
        # A answers the relay's step 1 with its whole state, as y-protocols does
        await a.send(encode(SyncStep2(bytes.fromhex(YP["docs"]["a"]["update"]))))
        assert isinstance(decode(await within(a.recv())), SyncUpdate)  # the echo
        await a.send(YF["awareness_a"])
        assert decode(await within(a.recv())) == decode(YF["awareness_a"])
        async with websockets.connect(f"{relay.url}/y") as b:
            assert await within(b.recv()) == YF["step1_a"]  # the room holds what A had
            assert decode(await within(b.recv())) == decode(YF["awareness_a"])
            await b.send(YF["step1_b"])
            # What the stock peer A answered to B's step 1
            assert await within(b.recv()) == YF["step2_a_to_b"]
            await b.send(YF["query_awareness"])
            assert decode(await within(b.recv())) == decode(YF["awareness_a"])
        await a.send(YF["awareness_a_left"])
        assert decode(await within(a.recv())) == decode(YF["awareness_a_left"])
