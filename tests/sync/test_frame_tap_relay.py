"""The relay hands a client's sync updates to its room from data_received
(sync/frame_tap.py): the same order, the same refusals as through the queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from pycrdt import Doc, Map
from websockets.asyncio.client import ClientConnection
from websockets.frames import CloseCode, Frame, Opcode

from lanban.sync import relay as relay_module
from lanban.sync.messages import (
    Awareness,
    AwarenessEntry,
    QueryAwareness,
    SyncUpdate,
    decode,
    encode,
)
from lanban.sync.relay import Relay
from lanban.sync.relay_room import server_frame
from tests.support import within


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[Relay]:
    async with Relay(tmp_path / "relay", host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bytes]]:
    """Every frame the relay's fast path took (handled in data_received): ("took",
    frame), or ("raised", frame) when handling it raised."""
    frames: list[tuple[str, bytes]] = []
    original = relay_module._take_update

    def spy(room: Any, connection: Any, frame: bytes) -> bool:
        try:
            took = original(room, connection, frame)
        except Exception:
            frames.append(("raised", frame))
            raise
        if took:
            frames.append(("took", frame))
        return took

    monkeypatch.setattr(relay_module, "_take_update", spy)
    return frames


def an_update(key: str, value: str) -> bytes:
    doc: Doc[Any] = Doc()
    doc["m"] = Map({key: value})
    return doc.get_update()


async def received(ws: ClientConnection) -> object:
    frame = await within(ws.recv())
    assert isinstance(frame, bytes)
    return decode(frame)


async def joined(relay: Relay, room: str) -> ClientConnection:
    """A bare client in ``room``, past the relay's step 1 (nobody has awareness yet)."""
    ws = await websockets.connect(f"{relay.url}/{room}")
    assert type(await received(ws)).__name__ == "SyncStep1"
    return ws


async def test_updates_are_taken_as_parsed_and_reach_the_others(
    relay: Relay, taken: list[tuple[str, bytes]]
) -> None:
    alice, bob = await joined(relay, "board"), await joined(relay, "board")
    update = an_update("k", "v")
    await alice.send(encode(SyncUpdate(update)))
    got = await received(bob)
    assert isinstance(got, SyncUpdate)
    doc: Doc[Any] = Doc()
    doc.apply_update(got.update)
    assert doc.get("m", type=Map).to_py() == {"k": "v"}
    assert taken == [("took", encode(SyncUpdate(update)))]  # it did go the fast way
    assert isinstance(await received(alice), SyncUpdate)  # and back to its sender
    await alice.close()
    await bob.close()


async def test_an_update_right_behind_a_query_is_answered_after_it(
    relay: Relay, taken: list[tuple[str, bytes]]
) -> None:
    ws = await joined(relay, "board")
    await ws.send(encode(Awareness((AwarenessEntry(7, 1, {"user": "ada"}),))))
    assert isinstance(await received(ws), Awareness)  # its own state, echoed
    # Both frames in one write: the query waits in the queue for the task, so the
    # update behind it must not be taken ahead of it.
    update = encode(SyncUpdate(an_update("k", "v")))
    frames = [
        Frame(Opcode.BINARY, m).serialize(mask=True, extensions=[])
        for m in (encode(QueryAwareness()), update)
    ]
    ws.transport.write(b"".join(frames))
    assert isinstance(await received(ws), Awareness)  # the query's answer first
    assert isinstance(await received(ws), SyncUpdate)
    assert taken == []
    await ws.close()


async def test_a_refused_update_taken_as_parsed_closes_its_sender_only(
    relay: Relay, taken: list[tuple[str, bytes]]
) -> None:
    villain, bob = await joined(relay, "board"), await joined(relay, "board")
    bad = encode(SyncUpdate(b"\xff" * 20))
    await villain.send(bad)
    await within(villain.wait_closed())
    assert villain.close_code == CloseCode.POLICY_VIOLATION
    assert villain.close_reason == "varUint longer than 53 bits"  # the guard's reason
    assert taken == [("raised", bad)]  # on the fast path, and raised again by the task
    await bob.send(encode(SyncUpdate(an_update("k", "v"))))
    assert isinstance(await received(bob), SyncUpdate)  # the room still works
    await bob.close()


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_server_frame_is_what_websockets_serializes(size: int) -> None:
    message = bytes(range(256)) * (size // 256) + bytes(size % 256)
    expected = Frame(Opcode.BINARY, message).serialize(mask=False, extensions=[])
    assert server_frame(message) == expected
