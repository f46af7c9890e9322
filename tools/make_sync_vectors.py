"""Record the frames today's node session and relay put on the wire, as test vectors.

    python -m tools.make_sync_vectors

Writes ``tests/vectors/node_session.json`` and ``tests/vectors/relay_session.json``;
``tests/sync/test_vectors.py`` replays them into a fresh session and a fresh relay and
checks that the answers and the resulting board are the same, so a refactoring that
changes a byte on the wire fails there. Recorded once (commit 'test vectors' on issue 8)
from the code before the sans-I/O sync core; do not regenerate them to make a test pass.

The y-protocols vectors (``tests/vectors/y_protocols.json``) come from the stock
JavaScript encoders: ``tests/interop/make_vectors.mjs``.

Node session: board A (made by the model, random ids, recorded as they came out) talks to
an empty board B whose client id is fixed (``B_CLIENT_ID``), over two in-memory Sessions.
Everything B sends is a function of what A sent, so a replay into a fresh B must
send the same bytes.

Relay session: a raw websocket client C1 (pycrdt, fixed client id) syncs a map into an
empty room of a real relay on loopback, edits it, publishes and queries awareness; then
C2 (empty) joins and syncs. Each client's frames are recorded with the relay's answers.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

import websockets
from pycrdt import Doc, Map

from lanban.model.board import Board
from lanban.model.exchange import export_board
from lanban.sync.messages import (
    Awareness,
    AwarenessEntry,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    encode,
)
from lanban.sync.presence import Presence
from lanban.sync.relay import Relay
from lanban.sync.session import Session

VECTORS = Path(__file__).resolve().parents[1] / "tests" / "vectors"
B_CLIENT_ID = 2002
C1_CLIENT_ID = 3003
C2_CLIENT_ID = 4004
NODE_INFO_A = {"name": "Zoë A", "port": 7000, "version": 1}
NODE_INFO_B = {"name": "B", "port": 7001, "version": 1}
PRESENCE_A = {
    "user": {"id": "u-a", "name": "Zoë", "color": "#ff8800"},
    "editing": None,
    "dragging": None,
    "typing": None,
}
PRESENCE_B = {
    "user": {"id": "u-b", "name": "Bob", "color": "#0088ff"},
    "editing": None,
    "dragging": None,
    "typing": None,
}


def fixed_clock() -> int:
    return 0


def board_b() -> tuple[Board, Presence]:
    """The replaying side: an empty board and B's presence, as on the recording."""
    board = Board(Doc(client_id=B_CLIENT_ID, skip_gc=True))  # as model.schema.new_doc
    presence = Presence(B_CLIENT_ID, clock=fixed_clock)
    presence.set_local(PRESENCE_B)
    presence.take_outbox()
    return board, presence


def record_node_session() -> dict[str, Any]:
    a = Board.create("Vectors", ["To do", "Doing", "Done"], actor="a")
    todo = a.columns()[0].id
    a.add_ticket("First ticket", todo, description="Zoë’s text")
    presence_a = Presence(a.doc.client_id, clock=fixed_clock)
    presence_a.set_local(PRESENCE_A)
    presence_a.take_outbox()
    b, presence_b = board_b()

    from_a: list[bytes] = []
    from_b: list[bytes] = []
    to_b: list[bytes] = []  # A's frames not yet delivered
    to_a: list[bytes] = []

    def a_send(frame: bytes) -> None:
        from_a.append(frame)
        to_b.append(frame)

    def b_send(frame: bytes) -> None:
        from_b.append(frame)
        to_a.append(frame)

    session_a = Session(a, presence_a, "link-b", a_send)
    session_b = Session(b, presence_b, "link-a", b_send)
    session_b.start(NODE_INFO_B)
    session_a.start(NODE_INFO_A)

    def pump() -> None:
        while to_a or to_b:
            while to_b:
                session_b.receive(to_b.pop(0))
            while to_a:
                session_a.receive(to_a.pop(0))

    pump()
    assert session_a.synced and session_b.synced
    unlisten = a.on_update(lambda update, source: session_a.send_update(update))
    a.add_ticket("Second ticket", todo)
    a.move_ticket(a.ticket_ids(todo)[0], a.columns()[1].id)
    unlisten()
    presence_a.set_local_field("editing", a.ticket_ids(todo)[0])
    for entries, _skip in presence_a.take_outbox():
        session_a.send_awareness(entries)
    a_send(encode(QueryAwareness()))
    pump()
    presence_a.set_local(None)
    for entries, _skip in presence_a.take_outbox():
        session_a.send_awareness(entries)
    pump()
    assert export_board(b) == export_board(a)
    return {
        "generator": "tools/make_sync_vectors.py",
        "b_client_id": B_CLIENT_ID,
        "node_info_a": NODE_INFO_A,
        "node_info_b": NODE_INFO_B,
        "presence_b": PRESENCE_B,
        "from_a": [f.hex() for f in from_a],
        "from_b": [f.hex() for f in from_b],
        "board": export_board(a),
        "presence_b_states_after": {str(k): v for k, v in presence_b.states.items()},
    }


async def record_relay_session() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        async with Relay(Path(tmp), host="127.0.0.1", port=0) as relay:
            url = f"{relay.url}/vectors-room"
            c1: Doc[Any] = Doc(client_id=C1_CLIENT_ID)
            c1.get("map", type=Map)["title"] = "Zoë’s room"
            c1.get("map", type=Map)["count"] = 1
            step2 = c1.get_update(b"\x00")  # answers the relay's step 1 (an empty room)
            before = c1.get_state()
            c1.get("map", type=Map)["count"] = 2
            edit = c1.get_update(before)
            state = {"user": {"id": "c1", "name": "Zoë", "color": "#123456"}, "editing": None}
            c1_frames = [
                encode(SyncStep1(b"\x00")),
                encode(SyncStep2(step2)),
                encode(Awareness((AwarenessEntry(C1_CLIENT_ID, 1, state),))),
                encode(SyncUpdate(edit)),
                encode(QueryAwareness()),
            ]
            c2_frames = [encode(SyncStep1(Doc(client_id=C2_CLIENT_ID).get_state()))]
            async with websockets.connect(url) as ws1:
                c1_received = [await ws1.recv()]  # the relay's step 1
                c1_received += await _exchange(ws1, c1_frames)
                async with websockets.connect(url) as ws2:
                    c2_received = await _exchange(ws2, c2_frames, first=2)
            return {
                "generator": "tools/make_sync_vectors.py",
                "room": "vectors-room",
                "c1_sends": [f.hex() for f in c1_frames],
                "c1_receives": [_hex(f) for f in c1_received],
                "c2_sends": [f.hex() for f in c2_frames],
                "c2_receives": [_hex(f) for f in c2_received],
                "map": c1.get("map", type=Map).to_py(),
            }


async def _exchange(ws: Any, frames: list[bytes], first: int = 0) -> list[bytes]:
    """Send ``frames``; collect what comes back until the relay goes quiet."""
    received = [await ws.recv() for _ in range(first)]
    for frame in frames:
        await ws.send(frame)
    while True:
        try:
            received.append(await asyncio.wait_for(ws.recv(), 0.5))
        except TimeoutError:
            return received


def _hex(frame: Any) -> str:
    assert isinstance(frame, bytes)
    return frame.hex()


def main() -> None:
    VECTORS.mkdir(parents=True, exist_ok=True)
    node = record_node_session()
    relay = asyncio.run(record_relay_session())
    for name, data in (("node_session.json", node), ("relay_session.json", relay)):
        path = VECTORS / name
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
