"""lanban relay with real websockets on loopback and a real SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
import websockets
from pycrdt import Doc, Map, Text
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import CloseCode, Frame, Opcode

from lanban.sync import relay_room
from lanban.sync.messages import (
    Awareness,
    AwarenessEntry,
    Limits,
    QueryAwareness,
    SyncStep1,
    SyncUpdate,
    decode,
    encode,
    var_bytes,
)
from lanban.sync.relay import Relay, RelaySettings
from lanban.sync.update_log import RelayStore
from tests.interop.yclient import YClient
from tests.support import async_wait_until, timeout, within

RelayFactory = Callable[..., AbstractAsyncContextManager[Relay]]


@pytest.fixture
def start_relay(tmp_path: Path) -> RelayFactory:
    """``async with start_relay(token=None, **settings) as relay``: on a free loopback port."""

    def factory(token: str | None = None, **settings: Any) -> Relay:
        return Relay(
            tmp_path / "relay",
            host="127.0.0.1",
            port=0,
            token=token,
            settings=RelaySettings(**settings),
        )

    return factory


@pytest.fixture
async def relay(start_relay: RelayFactory) -> AsyncIterator[Relay]:
    async with start_relay() as running:
        yield running


@pytest.fixture
async def clients() -> AsyncIterator[Callable[..., Any]]:
    """clients(relay, room, **kw) -> a connected YClient, closed after the test."""
    opened: list[YClient] = []

    async def connect(relay: Relay, room: str, **kwargs: Any) -> YClient:
        client = YClient(relay.url, room, **kwargs)
        await client.connect()
        opened.append(client)
        return client

    yield connect
    await asyncio.gather(*(c.close() for c in opened))


async def synced(client: YClient) -> YClient:
    await within(client.synced.wait())
    return client


# ------------------------------------------------------------------ sync


async def test_two_clients_in_a_room_converge(relay: Relay, clients: Any) -> None:
    alice = await synced(await clients(relay, "board-1"))
    bob = await synced(await clients(relay, "board-1"))
    await alice.set("title", "Sprint 12")
    await bob.set("owner", "bob")
    want = {"title": "Sprint 12", "owner": "bob"}
    await async_wait_until(lambda: alice.map() == bob.map() == want, what="both maps converged")

    # A latecomer gets everything from the relay alone, in its step 2.
    carol = await synced(await clients(relay, "board-1"))
    assert carol.map() == want


async def test_edits_sent_just_before_hanging_up_are_kept(relay: Relay, clients: Any) -> None:
    """A client that writes and leaves at once (a script, a laptop shut right after an
    edit) while the relay still loads the room: its edits are applied, not dropped with
    the reply the relay can no longer send."""
    quick = YClient(relay.url, "board-1")
    await quick.connect()
    for i in range(3):
        await quick.set(f"edit {i}", "kept")
    await quick.close()
    later = await synced(await clients(relay, "board-1"))
    await async_wait_until(lambda: len(later.map()) == 3, what="the three edits")


async def test_offline_edits_merge_when_a_client_joins(relay: Relay, clients: Any) -> None:
    alice = await synced(await clients(relay, "b"))
    await alice.set("online", "yes")
    offline = YClient(relay.url, "b")
    offline.doc.get("map", type=Map)["offline"] = "edit"  # made before connecting
    await offline.connect()
    try:
        await async_wait_until(
            lambda: alice.map() == offline.map() == {"online": "yes", "offline": "edit"},
            what="the offline edit and the room's content merged",
        )
    finally:
        await offline.close()


async def test_rooms_are_isolated(relay: Relay, clients: Any) -> None:
    a1 = await synced(await clients(relay, "room-a"))
    a2 = await synced(await clients(relay, "room-a"))
    b1 = await synced(await clients(relay, "room-b"))
    b2 = await synced(await clients(relay, "room-b"))
    await a1.set("secret", "only for a")
    await async_wait_until(lambda: a2.map().get("secret") == "only for a", what="a2 got it")
    await b1.set("marker", "b")
    await async_wait_until(lambda: b2.map().get("marker") == "b", what="b2 got b1's edit")
    assert b1.map() == b2.map() == {"marker": "b"}
    assert "marker" not in a1.map()


async def test_an_update_that_arrives_before_its_dependency(relay: Relay, clients: Any) -> None:
    # On a LAN, a peer may send the relay an edit built on another peer's edit that the
    # relay has not seen yet; everyone must still end up with both.
    author: Doc[Any] = Doc(client_id=7)
    first_state = author.get_state()
    author.get("map", type=Map)["first"] = "1"
    first = author.get_update(first_state)
    second_state = author.get_state()
    author.get("map", type=Map)["second"] = "2"
    second = author.get_update(second_state)

    watcher = await synced(await clients(relay, "r"))
    early = await synced(await clients(relay, "r"))
    await early.send(SyncUpdate(second))
    late = await synced(await clients(relay, "r"))
    await late.send(SyncUpdate(first))
    both = {"first": "1", "second": "2"}
    await async_wait_until(lambda: watcher.map() == both, what="watcher has both edits")
    await async_wait_until(lambda: early.map() == late.map() == both, what="senders converged")


# ------------------------------------------------------------------ awareness


async def test_awareness_is_relayed_and_removed_when_its_client_leaves(
    relay: Relay, clients: Any
) -> None:
    alice = await synced(await clients(relay, "board"))
    bob = await synced(await clients(relay, "board"))
    state = {"user": {"id": "u1", "name": "Zoë", "color": "#f00"}, "editing": "t1"}
    await alice.set_awareness(state)
    await async_wait_until(lambda: bob.awareness.get(alice.client_id) == state, what="bob sees")
    # Echoed to the sender too, as the stock server does (y-websocket counts it as traffic).
    await async_wait_until(lambda: alice.awareness.get(alice.client_id) == state, what="echo")

    carol = await synced(await clients(relay, "board"))
    await async_wait_until(
        lambda: carol.awareness.get(alice.client_id) == state, what="a newcomer sees alice"
    )
    other_room = await synced(await clients(relay, "elsewhere"))

    await alice.close()
    await async_wait_until(
        lambda: alice.client_id not in bob.awareness and alice.client_id not in carol.awareness,
        what="alice's presence removed",
    )
    await other_room.query_awareness()  # awareness stays in its room, too
    await other_room.set("ping", "pong")
    await async_wait_until(lambda: other_room.map() == {"ping": "pong"}, what="other room alive")
    assert other_room.awareness == {}


async def test_awareness_that_arrives_together_leaves_together(
    start_relay: RelayFactory,
) -> None:
    # As stock clients that joined together renew together: one message per pass of the
    # relay's loop (at most limits.awareness_entries entries each), not one per change.
    async with (
        start_relay(limits=Limits(awareness_entries=4)) as relay,
        websockets.connect(f"{relay.url}/board") as observer,
        websockets.connect(f"{relay.url}/board") as crowd,
    ):
        assert decode(await within(observer.recv())) == SyncStep1(b"\x00")
        assert decode(await within(crowd.recv())) == SyncStep1(b"\x00")
        frames = [encode_awareness(i, {"n": i}) for i in range(1, 11)]
        masked = [Frame(Opcode.BINARY, f).serialize(mask=True, extensions=[]) for f in frames]
        crowd.transport.write(b"".join(masked))  # one write: the relay reads them at once
        got = await awareness_messages(observer, 10)
        assert [len(message.entries) for message in got] == [4, 4, 2]
        assert [e.client_id for message in got for e in message.entries] == list(range(1, 11))

        # A newcomer, and whoever queries, gets everyone in messages of that size too.
        async with websockets.connect(f"{relay.url}/board") as newcomer:
            assert isinstance(decode(await within(newcomer.recv())), SyncStep1)
            assert [len(m.entries) for m in await awareness_messages(newcomer, 10)] == [4, 4, 2]
            await newcomer.send(encode(QueryAwareness()))
            assert [len(m.entries) for m in await awareness_messages(newcomer, 10)] == [4, 4, 2]


async def awareness_messages(ws: Any, entries: int) -> list[Awareness]:
    """The next awareness messages ``ws`` receives, until they hold ``entries`` entries."""
    got: list[Awareness] = []
    while sum(len(message.entries) for message in got) < entries:
        message = decode(await within(ws.recv()))
        assert isinstance(message, Awareness)
        got.append(message)
    return got


async def test_query_awareness_returns_everyone_present(relay: Relay, clients: Any) -> None:
    alice = await synced(await clients(relay, "q"))
    bob = await synced(await clients(relay, "q"))
    await alice.set_awareness({"user": {"name": "alice"}})
    await bob.set_awareness({"user": {"name": "bob"}})
    await async_wait_until(lambda: len(bob.awareness) == 2, what="bob sees both")
    bob.awareness.clear()
    await bob.query_awareness()
    await async_wait_until(lambda: len(bob.awareness) == 2, what="the query answered")


async def test_a_reconnected_client_keeps_its_presence_when_the_old_link_closes(
    relay: Relay, clients: Any
) -> None:
    watcher = await synced(await clients(relay, "r"))
    old = await synced(await clients(relay, "r", client_id=4242))
    await old.set_awareness({"user": {"name": "dana"}})
    new = await synced(await clients(relay, "r", client_id=4242))
    new.awareness_clock = old.awareness_clock
    await new.set_awareness({"user": {"name": "dana", "back": True}})
    await async_wait_until(
        lambda: watcher.awareness.get(4242) == {"user": {"name": "dana", "back": True}},
        what="the new link's state",
    )
    await old.close()
    await new.set("after", "close")  # a round trip: the old link's removal came first if any
    await async_wait_until(lambda: watcher.map() == {"after": "close"}, what="round trip")
    assert watcher.awareness.get(4242) == {"user": {"name": "dana", "back": True}}


async def test_awareness_of_a_silent_client_expires(start_relay: RelayFactory) -> None:
    async with start_relay(awareness_timeout_s=0.3) as relay:
        quiet = await synced(await YClient(relay.url, "r").connect())
        watcher = await synced(await YClient(relay.url, "r").connect())
        try:
            await quiet.set_awareness({"user": {"name": "quiet"}})
            await async_wait_until(lambda: quiet.client_id in watcher.awareness, what="seen")
            await async_wait_until(
                lambda: quiet.client_id not in watcher.awareness,
                seconds=3,
                what="the unrenewed state expired",
            )
            assert not quiet.closed.is_set()
        finally:
            await quiet.close()
            await watcher.close()


# ------------------------------------------------------------------ token and HTTP


async def test_a_missing_or_wrong_token_is_refused_before_any_data(
    start_relay: RelayFactory,
) -> None:
    async with start_relay(token="s3cret+/=") as relay:
        with pytest.raises(InvalidStatus) as missing:
            await websockets.connect(f"{relay.url}/board")
        assert missing.value.response.status_code == 401
        with pytest.raises(InvalidStatus) as wrong:
            await websockets.connect(f"{relay.url}/board?token=guess")
        assert wrong.value.response.status_code == 403
        assert relay.loaded_rooms == frozenset()

        async with YClient(relay.url, "board", token="s3cret+/=") as ok:
            await within(ok.synced.wait())


async def test_health_endpoint(relay: Relay) -> None:
    url = f"http://127.0.0.1:{relay.port}"
    with await asyncio.to_thread(urllib.request.urlopen, f"{url}/healthz") as response:
        assert response.status == 200
    with pytest.raises(urllib.error.HTTPError) as plain:
        await asyncio.to_thread(urllib.request.urlopen, f"{url}/board")
    plain.value.close()
    assert plain.value.code == 426


def store_threads() -> int:
    return sum(t.name.startswith("lanban-relay-store") for t in threading.enumerate())


async def test_a_busy_port_is_a_clear_error_and_leaks_nothing(relay: Relay, tmp_path: Path) -> None:
    before = store_threads()
    second = Relay(tmp_path / "second", host="127.0.0.1", port=relay.port)
    with pytest.raises(OSError, match="address already in use"):
        await second.start()
    assert store_threads() == before


# ------------------------------------------------------------------ bad input


def _partially_applicable_update() -> bytes:
    """An update pycrdt applies in part before failing: the text's characters claim the
    number item <7#0> as their parent instead of the Text <7#1>."""
    doc: Doc[Any] = Doc(client_id=7)
    m = doc.get("map", type=Map)
    m["hijack"] = 1
    m["t"] = Text("hello")
    good = doc.get_update()
    bad = good.replace(b"\x00\x07\x01\x05hello", b"\x00\x07\x00\x05hello")
    assert bad != good
    with pytest.raises(RuntimeError):
        Doc().apply_update(bad)
    return bad


BAD_FRAMES: dict[str, bytes | str] = {
    "text frame": "hello",
    "unknown message type": b"\x07",
    "truncated sync message": b"\x00\x02\x05ab",
    "trailing bytes": encode(SyncStep1(b"\x00")) + b"\x00",
    "update pycrdt cannot decode": encode(SyncUpdate(b"\xff" * 20)),
    "bad state vector": encode(SyncStep1(b"\xff")),
    "awareness that is not JSON": b"\x01" + var_bytes(b"\x01\x05\x01" + var_bytes(b"{nope")),
}


@pytest.mark.parametrize("frame", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
async def test_a_malformed_frame_disconnects_only_its_sender(
    relay: Relay, clients: Any, frame: bytes | str
) -> None:
    alice = await synced(await clients(relay, "board"))
    bob = await synced(await clients(relay, "board"))
    elsewhere = await synced(await clients(relay, "other"))
    await alice.set("before", "1")
    await async_wait_until(lambda: bob.map() == {"before": "1"}, what="bob synced")

    villain = await synced(await clients(relay, "board"))
    await villain.send_raw(frame)
    await within(villain.closed.wait())
    assert villain.close_code == CloseCode.POLICY_VIOLATION

    await alice.set("after", "2")
    await elsewhere.set("still", "here")
    await async_wait_until(lambda: bob.map() == {"before": "1", "after": "2"}, what="room works")
    await async_wait_until(lambda: elsewhere.map() == {"still": "here"}, what="other room works")
    assert not alice.closed.is_set() and not bob.closed.is_set()


async def test_too_many_awareness_ids_on_one_connection(
    start_relay: RelayFactory, clients: Any
) -> None:
    async with start_relay(max_awareness_ids_per_connection=3) as relay:
        bob = await synced(await clients(relay, "board"))
        villain = await synced(await clients(relay, "board"))
        for client_id in range(1, 5):
            await villain.send_raw(
                encode_awareness(client_id, {"user": {"name": f"ghost {client_id}"}})
            )
        await within(villain.closed.wait())
        assert villain.close_code == CloseCode.POLICY_VIOLATION
        await async_wait_until(lambda: bob.awareness == {}, what="the ghosts are gone")


def encode_awareness(client_id: int, state: dict[str, Any]) -> bytes:
    return encode(Awareness((AwarenessEntry(client_id, 1, state),)))


async def test_an_oversized_frame_disconnects_only_its_sender(
    start_relay: RelayFactory, clients: Any
) -> None:
    async with start_relay(limits=Limits(frame_bytes=64 * 1024)) as relay:
        alice = await synced(await clients(relay, "board"))
        bob = await synced(await clients(relay, "board"))
        villain = await synced(await clients(relay, "board"))
        await villain.send_raw(encode(SyncUpdate(b"\x00" * 100_000)))
        await within(villain.closed.wait())
        assert villain.close_code == CloseCode.MESSAGE_TOO_BIG
        await alice.set("fine", "yes")
        await async_wait_until(lambda: bob.map() == {"fine": "yes"}, what="room still works")


async def test_an_update_that_breaks_half_way_does_not_corrupt_the_room(
    relay: Relay, clients: Any
) -> None:
    alice = await synced(await clients(relay, "board"))
    await alice.set("kept", "yes")
    villain = await synced(await clients(relay, "board"))
    await villain.send_raw(encode(SyncUpdate(_partially_applicable_update())))
    await within(villain.closed.wait())
    assert villain.close_code == CloseCode.POLICY_VIOLATION
    # Its neighbours are asked to reconnect so that the room reloads from disk ...
    await within(alice.closed.wait())
    assert alice.close_code == CloseCode.SERVICE_RESTART

    # ... where none of the broken update was stored.
    fresh = await synced(await clients(relay, "board"))
    assert fresh.map() == {"kept": "yes"}
    await fresh.set("more", "edits")
    again = await synced(await clients(relay, "board"))
    await async_wait_until(lambda: again.map() == {"kept": "yes", "more": "edits"}, what="sync")


async def test_frames_go_uncompressed_like_the_stock_server(relay: Relay) -> None:
    # Clients offer permessage-deflate (ws, browsers, websockets); the stock server declines,
    # and so does the relay: a broadcast then writes the same bytes to every client.
    async with websockets.connect(f"{relay.url}/board", compression="deflate") as ws:
        assert ws.request is not None and ws.response is not None
        assert "permessage-deflate" in ws.request.headers["Sec-WebSocket-Extensions"]
        assert "Sec-WebSocket-Extensions" not in ws.response.headers


# ------------------------------------------------------------------ limits


async def closed_by_relay(relay: Relay, room: str, *frames: bytes) -> tuple[int | None, str]:
    """Connect a bare websocket to ``room``, send ``frames``; how the relay closed it."""
    async with websockets.connect(f"{relay.url}/{room}") as ws:
        with contextlib.suppress(ConnectionClosed):  # it may close before the last frame
            for frame in frames:
                await ws.send(frame)
        await within(ws.wait_closed())
        return ws.close_code, ws.close_reason or ""


async def test_a_client_sending_too_fast_is_disconnected_alone(
    start_relay: RelayFactory, clients: Any
) -> None:
    async with start_relay(messages_per_second=1.0, message_burst=20.0) as relay:
        alice = await synced(await clients(relay, "board"))
        bob = await synced(await clients(relay, "board"))
        # Within the burst: a client's ordinary messages go through.
        for i in range(5):
            await alice.set(f"k{i}", i)
        await async_wait_until(lambda: len(bob.map()) == 5, what="bob got alice's edits")

        flood = [encode(QueryAwareness())] * 40
        code, reason = await closed_by_relay(relay, "board", *flood)
        assert (code, reason) == (CloseCode.POLICY_VIOLATION, "sending too many messages")

        await bob.set("still", "here")
        await async_wait_until(lambda: alice.map().get("still") == "here", what="room works")
        assert not alice.closed.is_set() and not bob.closed.is_set()


async def test_a_client_that_stops_reading_is_dropped_not_buffered_for(
    start_relay: RelayFactory, clients: Any
) -> None:
    # It may leave twice a frame's size unread; past that the relay drops it.
    async with start_relay(limits=Limits(frame_bytes=256 * 1024)) as relay:
        alice = await synced(await clients(relay, "board"))
        bob = await synced(await clients(relay, "board"))
        async with websockets.connect(f"{relay.url}/board") as stalled:
            await async_wait_until(lambda: relay.clients_in("board") == 3, what="all three in")
            stalled.transport.pause_reading()
            sent = 0
            while relay.clients_in("board") == 3:
                assert sent < 500, "10 MB later the stalled client is still in the room"
                sent += 1
                await alice.set("big", f"{sent}" + "x" * 100_000)
                await asyncio.sleep(0)
            await async_wait_until(
                lambda: bob.map().get("big", "").startswith(f"{sent}x"), what="bob keeps up"
            )
            assert not alice.closed.is_set() and not bob.closed.is_set()
            stalled.transport.abort()  # no closing handshake to wait for: it is gone


async def test_a_full_room_refuses_a_client_until_someone_leaves(
    start_relay: RelayFactory, clients: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with start_relay(max_clients_per_room=2) as relay:
        alice = await synced(await clients(relay, "board"))
        bob = await synced(await clients(relay, "board"))
        for _ in range(3):  # as a refused client comes back after its backoff
            code, reason = await closed_by_relay(relay, "board")
            assert (code, reason) == (CloseCode.TRY_AGAIN_LATER, "room is full")
        # One log line for them (a count of the rest follows at most every 10 s).
        assert len([r for r in caplog.records if "room is full" in r.getMessage()]) == 1
        elsewhere = await synced(await clients(relay, "other"))  # only that room is full
        await elsewhere.set("fine", "yes")

        await bob.close()
        await async_wait_until(lambda: relay.clients_in("board") == 1, what="bob gone")
        carol = await synced(await clients(relay, "board"))
        await alice.set("hello", "carol")
        await async_wait_until(lambda: carol.map() == {"hello": "carol"}, what="carol in")


async def test_a_relay_with_its_rooms_all_open_refuses_a_new_room(
    start_relay: RelayFactory, clients: Any
) -> None:
    async with start_relay(max_rooms=2, unload_delay_s=0.05) as relay:
        alice = await synced(await clients(relay, "a"))
        await synced(await clients(relay, "b"))
        code, reason = await closed_by_relay(relay, "c")
        assert (code, reason) == (CloseCode.TRY_AGAIN_LATER, "too many rooms open")
        more = await synced(await clients(relay, "a"))  # an open room still takes clients
        await alice.set("k", "v")
        await async_wait_until(lambda: more.map() == {"k": "v"}, what="room a works")

        await alice.close()
        await more.close()
        await async_wait_until(lambda: relay.loaded_rooms == {"b"}, what="room a unloaded")
        await synced(await clients(relay, "c"))
        assert relay.loaded_rooms == {"b", "c"}


# ------------------------------------------------------------------ persistence


async def test_content_survives_a_relay_restart(tmp_path: Path, clients: Any) -> None:
    data_dir = tmp_path / "relay"
    async with Relay(data_dir, host="127.0.0.1", port=0) as first:
        alice = await synced(await clients(first, "board-1"))
        bob = await synced(await clients(first, "board-2"))
        await alice.set("title", "Launch")
        await alice.set("status", "green")
        await bob.set("title", "Other board")
        # The relay has them once another client can read them back.
        check_1 = await clients(first, "board-1")
        check_2 = await clients(first, "board-2")
        await async_wait_until(lambda: len(check_1.map()) == 2, what="relay has board-1")
        await async_wait_until(lambda: len(check_2.map()) == 1, what="relay has board-2")

    assert (data_dir / "relay.sqlite3").is_file()
    async with Relay(data_dir, host="127.0.0.1", port=0) as second:
        alice = await synced(await clients(second, "board-1"))
        bob = await synced(await clients(second, "board-2"))
        assert alice.map() == {"title": "Launch", "status": "green"}
        assert bob.map() == {"title": "Other board"}


def stored(data_dir: Path, room: str) -> tuple[int, dict[str, Any]]:
    """(rows in the room's log, the map they hold), read with a connection of our own."""
    store = RelayStore.open(data_dir)
    try:
        updates = store.load(room)
    finally:
        store.close()
    doc: Doc[Any] = Doc()
    for update in updates:
        doc.apply_update(update)
    return len(updates), doc.get("map", type=Map).to_py() or {}


async def test_updates_are_logged_compacted_and_idle_rooms_unloaded(
    tmp_path: Path, clients: Any
) -> None:
    data_dir = tmp_path / "relay"
    settings = RelaySettings(compact_after_updates=5, unload_delay_s=0.05)
    want = {f"k{i}": float(i) for i in range(23)}
    async with Relay(data_dir, host="127.0.0.1", port=0, settings=settings) as relay:
        alice = await synced(await clients(relay, "board"))
        bob = await synced(await clients(relay, "board"))
        for i in range(3):
            await alice.set(f"k{i}", i)
        await async_wait_until(lambda: len(bob.map()) == 3, what="bob got 3 edits")
        await relay.flush()
        assert stored(data_dir, "board") == (3, {"k0": 0.0, "k1": 1.0, "k2": 2.0})

        for i in range(3, 23):
            await alice.set(f"k{i}", i)
        await async_wait_until(lambda: len(bob.map()) == 23, what="bob got every edit")
        await relay.flush()
        rows, content = stored(data_dir, "board")
        assert rows <= 5, "the log is compacted while the room is in use"
        assert content == want

        await alice.close()
        await bob.close()
        await async_wait_until(
            lambda: "board" not in relay.loaded_rooms, what="the idle room unloaded"
        )
        await relay.flush()
        assert stored(data_dir, "board") == (1, want)
        later = await synced(await clients(relay, "board"))
        assert later.map() == want


async def test_rooms_reload_correctly_while_clients_come_and_go(start_relay: RelayFactory) -> None:
    # With no unload delay every visit below loads, edits, unloads and compacts the room,
    # while the next visitor is already arriving.
    async with start_relay(unload_delay_s=0.0, compact_after_updates=2) as relay:

        async def visit(i: int) -> None:
            async with YClient(relay.url, "busy") as visitor:
                await within(visitor.synced.wait())
                assert len(visitor.map()) == 2 * i
                await visitor.set(f"visit-{i}", i)
                await visitor.set(f"again-{i}", i)

        for i in range(21):
            await within(visit(i))


# ------------------------------------------------------------------ scale


async def test_300_clients_in_30_rooms_converge(relay: Relay) -> None:
    rooms = [f"room-{r}" for r in range(30)]
    per_room = 10
    started = time.monotonic()
    everyone = [YClient(relay.url, room) for room in rooms for _ in range(per_room)]
    try:
        await within(asyncio.gather(*(c.connect() for c in everyone)), seconds=20)
        await within(asyncio.gather(*(c.synced.wait() for c in everyone)), seconds=20)
        await asyncio.gather(
            *(c.set(f"client-{c.client_id}", c.url) for c in everyone),
            *(c.set_awareness({"user": {"name": str(c.client_id)}}) for c in everyone),
        )

        def converged() -> bool:
            return all(len(c.map()) == per_room and len(c.awareness) == per_room for c in everyone)

        await async_wait_until(converged, seconds=30, what="all 300 clients converged")
        for c in everyone:
            assert set(c.map().values()) == {c.url}  # nothing leaked between rooms
    finally:
        await asyncio.gather(*(c.close() for c in everyone))
    assert time.monotonic() - started < timeout(30)


async def test_newcomers_get_the_states_encoded_once_per_change(
    relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoded: list[Awareness] = []

    def counting_encode(message: Any) -> bytes:
        if isinstance(message, Awareness):
            encoded.append(message)
        return encode(message)

    monkeypatch.setattr(relay_room, "encode", counting_encode)
    async with websockets.connect(f"{relay.url}/board") as alice:
        assert decode(await within(alice.recv())) == SyncStep1(b"\x00")
        await alice.send(encode_awareness(7, {"n": 1}))
        assert [e.state for m in await awareness_messages(alice, 1) for e in m.entries] == [
            {"n": 1}
        ]
        encoded.clear()

        async def newcomer_gets() -> bytes:
            async with websockets.connect(f"{relay.url}/board") as ws:
                assert isinstance(decode(await within(ws.recv())), SyncStep1)
                frame = await within(ws.recv())
                assert isinstance(frame, bytes)
                return frame

        first, second = await newcomer_gets(), await newcomer_gets()
        assert first == second == encode_awareness(7, {"n": 1})
        assert len(encoded) == 1, "the second join reused the first one's encoding"

        # A change (here a renewal: same state, later clock) makes the next join encode anew.
        await alice.send(encode(Awareness((AwarenessEntry(7, 2, {"n": 1}),))))
        await awareness_messages(alice, 1)
        third = await newcomer_gets()
        assert decode(third) == Awareness((AwarenessEntry(7, 2, {"n": 1}),))
        assert len(encoded) == 3  # the change passed on, then the newcomer's states
