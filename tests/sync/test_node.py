"""Nodes syncing boards over real websockets on loopback."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from lanban.model.board import Board
from lanban.sync.connect import DialFailed, DialOutcome, PeerAddress, connect_secure
from lanban.sync.node import Node, NodeError, NodeOptions
from lanban.sync.serve import format_status
from lanban.sync.status import BoardStatus, LinkStatus, NodeEvent, NodeStatus, PeerStatus
from lanban.sync.store import Store
from tests.support import POSIX_SIGNALS, async_holds, async_wait_until, timeout
from tests.sync.nodes import lanban, peer_of, running, serving, share_board

ADA = {
    "user": {"id": "ada", "name": "Ada", "color": "#e91e63"},
    "editing": None,
    "dragging": None,
    "typing": None,
}


def stores(tmp_path: Path, *names: str) -> list[Store]:
    return [Store(tmp_path / n) for n in names]


def titles(node: Node, board_id: str, column: str | None = None) -> list[str]:
    return [t.title for t in node.boards[board_id].board.tickets(column)]


async def test_edits_travel_both_ways_and_offline_edits_merge(tmp_path: Path) -> None:
    a_store, b_store = stores(tmp_path, "a", "b")
    board_id = share_board(a_store, b_store)
    async with running(a_store, name="Ada") as a:
        board_a = a.boards[board_id].board
        first = board_a.add_ticket("Written by Ada")
        async with running(b_store, name="Bob", peers=[peer_of(a)]) as b:
            board_b = b.boards[board_id].board
            await async_wait_until(
                lambda: titles(b, board_id) == ["Written by Ada"], what="Bob to get Ada's ticket"
            )
            board_b.move_ticket(first, "Done")
            await async_wait_until(
                lambda: board_a.column_of(first) == board_a.column("Done").id,
                what="Ada to see Bob's move",
            )
        # Bob is offline: both keep working.
        board_a.add_ticket("Ada offline")
        board_a.edit_ticket(first, title="Renamed by Ada")
    with b_store.open(board_id) as bf:
        bf.board.add_ticket("Bob offline")
    async with running(a_store) as a, running(b_store, peers=[peer_of(a)]) as b:
        want = {"Renamed by Ada", "Ada offline", "Bob offline"}
        await async_wait_until(
            lambda: set(titles(a, board_id)) == want == set(titles(b, board_id)),
            what="both sides to converge after reconnecting",
        )
        assert a.boards[board_id].board.tickets("Done")[0].title == "Renamed by Ada"


async def test_presence_arrives_and_leaves_with_the_link(tmp_path: Path) -> None:
    a_store, b_store = stores(tmp_path, "a", "b")
    board_id = share_board(a_store, b_store)
    async with running(b_store) as b:
        seen = b.boards[board_id].presence
        async with running(a_store, peers=[peer_of(b)]) as a:
            a.set_presence(board_id, ADA)
            await async_wait_until(
                lambda: any(s.get("user", {}).get("name") == "Ada" for s in seen.states.values()),
                what="Bob to see Ada",
            )
            a.set_presence_field(board_id, "editing", "ticket-1")
            await async_wait_until(
                lambda: any(s.get("editing") == "ticket-1" for s in seen.states.values()),
                what="Bob to see Ada editing",
            )
        start = time.monotonic()
        await async_wait_until(
            lambda: not seen.states, seconds=2, what="Ada's presence to go when her link closed"
        )
        assert time.monotonic() - start < timeout(2)  # not the 30 s awareness timeout


async def test_three_nodes_in_a_line_see_each_other(tmp_path: Path) -> None:
    a_store, b_store, c_store = stores(tmp_path, "a", "b", "c")
    board_id = share_board(a_store, b_store, c_store)
    async with (
        running(b_store, name="B") as b,
        running(a_store, name="A", peers=[peer_of(b)]) as a,
        running(c_store, name="C", peers=[peer_of(b)]) as c,
    ):
        a.set_presence(board_id, ADA)
        a.boards[board_id].board.add_ticket("from A")
        await async_wait_until(
            lambda: titles(c, board_id) == ["from A"], what="C to get A's ticket through B"
        )
        await async_wait_until(
            lambda: len(c.boards[board_id].presence.states) == 1,
            what="C to see A's presence through B",
        )
        assert not any(link.info.peer_name == "A" for link in c.boards[board_id].links.values())
        await a.stop()
        await async_wait_until(
            lambda: not c.boards[board_id].presence.states,
            seconds=2,
            what="C to drop A's presence when A leaves",
        )


async def test_one_link_when_both_sides_dial(tmp_path: Path) -> None:
    a_store, b_store = stores(tmp_path, "a", "b")
    board_id = share_board(a_store, b_store)
    async with running(a_store) as a, running(b_store, peers=[peer_of(a)]) as b:
        a.add_peer(peer_of(b))
        await async_wait_until(
            lambda: len(a.boards[board_id].links) == 1 == len(b.boards[board_id].links),
            what="one link each side",
        )
        board = a.boards[board_id].board
        board.add_ticket("after the race")
        await async_wait_until(lambda: titles(b, board_id) == ["after the race"])
        # and it stays that one link: the losing dialler does not keep replacing it
        (link,) = a.boards[board_id].links.values()
        await async_holds(
            lambda: (
                list(a.boards[board_id].links.values()) == [link]
                and len(b.boards[board_id].links) == 1
            ),
            seconds=3,
            what="a single, stable link",
        )


async def test_a_peer_without_the_key_gets_nothing(tmp_path: Path) -> None:
    a_store, m_store = stores(tmp_path, "a", "mallory")
    board_id = share_board(a_store)
    with a_store.open(board_id) as bf:
        bf.board.add_ticket("secret plan")
    # Mallory knows the board id but holds another key.
    m_store.add_board(Board(), key=b"\x01" * 32, board_id=board_id).close()
    async with running(a_store) as a, running(m_store, peers=[peer_of(a)]) as m:
        m.boards[board_id].board.add_column("Evil")
        m.boards[board_id].board.add_ticket("forged")
        await async_holds(
            lambda: not a.boards[board_id].links and not m.boards[board_id].links,
            seconds=1.5,
            what="no link without the key",
        )
        assert titles(m, board_id) == ["forged"]
        assert titles(a, board_id) == ["secret plan"]


async def test_status_api_needs_the_token(tmp_path: Path) -> None:
    (store,) = stores(tmp_path, "a")
    share_board(store)
    async with running(store, name="Ada") as node:
        url = f"http://127.0.0.1:{node.address[1]}/status"

        def get(headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
            request = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(request, timeout=timeout(5)) as response:
                return json.loads(response.read())  # type: ignore[no-any-return]

        with pytest.raises(urllib.error.HTTPError) as err:
            await asyncio.to_thread(get, {})  # the node answers on this loop
        assert err.value.code == 401
        status = await asyncio.to_thread(get, {"Authorization": f"Bearer {node.status_token}"})
        assert status["name"] == "Ada" and status["boards"][0]["title"] == "Shared"


async def test_typed_status_and_events_of_two_linked_nodes(tmp_path: Path) -> None:
    a_store, b_store = stores(tmp_path, "a", "b")
    board_id = share_board(a_store, b_store)
    events: list[tuple[NodeEvent, str | None]] = []
    async with running(a_store, name="Ada") as a:
        a.subscribe(lambda event, board: events.append((event, board)))
        async with running(b_store, name="Bob", peers=[peer_of(a)]) as b:
            await async_wait_until(
                lambda: any(lk.synced and lk.name == "Bob" for lk in a.status().boards[0].links),
                what="Ada's link to Bob synced and named",
            )
            b.set_presence(board_id, ADA)
            await async_wait_until(lambda: (NodeEvent.PRESENCE, board_id) in events)
            status = a.status()
            (peer,) = status.peers
            assert peer.name == "Bob" and peer.boards == (board_id,) and not peer.initiator
            board = status.board(board_id)
            assert board is not None and board == a.board_status(board_id)
            assert board.connected_peers == 1 and not board.relay and board.last_sync
            (link,) = board.links
            assert link.kind == "lan" and link.node_id == peer.node_id and link.synced
            assert link.connected_since <= link.last_heard <= time.time()
            # The JSON of the status API and `lanban status --json`: the same fields as
            # before the status was typed (plus the member ids of PROTOCOL.md 7.2, 7.3,
            # and whether a board was ever shared and whom the node dials for it), and
            # read back to the same status.
            data = json.loads(json.dumps(status.to_json()))
            assert list(data) == [
                "node_id", "name", "listening", "discovery", "peers", "boards", "problems",
                "member_id",
            ]  # fmt: skip
            assert list(data["peers"][0]) == [
                "kind", "address", "node_id", "name", "connected_since", "last_heard",
                "initiator", "boards",
            ]  # fmt: skip
            assert list(data["boards"][0]) == [
                "id", "title", "connected_peers", "relay", "local_changes_not_seen_by_peers",
                "last_sync", "links", "shared", "ever_synced", "dials",
            ]  # fmt: skip
            assert set(data["boards"][0]["links"][0]) == set(data["peers"][0]) - {"boards"} | {
                "synced",
                "member",
            }
            assert NodeStatus.from_json(data) == status
            with pytest.raises(ValueError):
                NodeStatus.from_json({**data, "peers": [{"name": 3}]})
        await async_wait_until(lambda: not a.status().peers, what="Bob gone from the status")
    assert (NodeEvent.LINKS, board_id) in events
    assert all(isinstance(event, NodeEvent) for event, _ in events)
    assert not a_store.root.joinpath("node.json").exists()


async def test_dial_outcomes_say_why_no_link_came(tmp_path: Path) -> None:
    (store,) = stores(tmp_path, "a")
    share_board(store)
    node_id = bytes(range(16))
    async with running(store) as node:
        here = PeerAddress.parse(peer_of(node))
        assert here == PeerAddress("127.0.0.1", node.address[1]) and str(here) == peer_of(node)
        with pytest.raises(DialFailed) as refused:
            await connect_secure(here, "other-board", b"\x02" * 32, node_id)
        assert refused.value.outcome is DialOutcome.NO_SUCH_BOARD
    with pytest.raises(DialFailed) as gone:  # nobody listens there any more
        await connect_secure(here, "other-board", b"\x02" * 32, node_id)
    assert gone.value.outcome is DialOutcome.UNREACHABLE
    assert PeerAddress.parse("[::1]:80") == PeerAddress("::1", 80)
    assert str(PeerAddress("::1", 80)) == "[::1]:80"
    for bad in ("nohost", "host:0", "host:70000", ":80"):
        with pytest.raises(ValueError):
            PeerAddress.parse(bad)


async def test_one_node_per_data_directory(tmp_path: Path) -> None:
    (store,) = stores(tmp_path, "a")
    async with running(store):
        second = Node(Store(tmp_path / "a"), NodeOptions(host="127.0.0.1", discovery=False))
        with pytest.raises(NodeError, match="already running"):
            await second.start()


async def test_cli_edits_reach_a_peer_quickly(tmp_path: Path) -> None:
    a_store, b_store = stores(tmp_path, "a", "b")
    board_id = share_board(a_store, b_store)
    async with running(a_store) as a, running(b_store, peers=[peer_of(a)]) as b:
        await async_wait_until(lambda: len(b.boards[board_id].links) == 1)
        done = lanban(a_store.root, "ticket", "add", board_id, "from the terminal")
        assert done.returncode == 0, done.stderr
        start = time.monotonic()
        await async_wait_until(
            lambda: titles(b, board_id) == ["from the terminal"],
            seconds=0.5,
            what="the CLI edit at the peer",
        )
        # 200 ms for the node to notice the file, plus a loopback hop
        assert time.monotonic() - start < timeout(0.3)


@POSIX_SIGNALS
def test_serve_and_status_from_the_command_line(tmp_path: Path) -> None:
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    board_id = share_board(Store(a_dir), Store(b_dir))
    with (
        serving(a_dir, "--name", "Ada") as a,
        serving(b_dir, "--name", "Bob", "--peer", a.address) as b,
    ):
        deadline = time.monotonic() + timeout(10)
        while not a.status()["peers"]:
            assert time.monotonic() < deadline, "the peers never connected"
            time.sleep(0.05)
        status = a.status()
        assert [p["name"] for p in status["peers"]] == ["Bob"]
        board = status["boards"][0]
        assert board["id"] == board_id and board["connected_peers"] == 1
        text = lanban(a_dir, "status")
        assert "Bob at 127.0.0.1:" in text.stdout and "1 peer(s)" in text.stdout
        again = lanban(a_dir, "serve", "--no-discovery")
        assert again.returncode == 1 and "already running" in again.stderr
        assert b.stop() == 0 and a.stop() == 0  # SIGTERM stops cleanly
    assert lanban(a_dir, "status").returncode == 1


@POSIX_SIGNALS
def test_a_frozen_peer_is_noticed_without_mdns(tmp_path: Path) -> None:
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    share_board(Store(a_dir), Store(b_dir))
    with serving(a_dir) as a, serving(b_dir, "--peer", a.address) as b:
        deadline = time.monotonic() + timeout(10)
        while not a.status()["peers"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        b.proc.send_signal(signal.SIGSTOP)  # alive but silent, as on a cut cable
        try:
            frozen = time.monotonic()
            while a.status()["peers"]:
                assert time.monotonic() - frozen < timeout(15), "a dead peer went unnoticed"
                time.sleep(0.2)
        finally:
            b.proc.send_signal(signal.SIGCONT)


def test_serve_rejects_bad_arguments(tmp_path: Path) -> None:
    done = lanban(tmp_path, "serve", "--peer", "nohost")
    assert done.returncode == 1 and "--peer" in done.stderr
    done = lanban(tmp_path, "serve", "--port", "70000")
    assert done.returncode == 2
    done = lanban(tmp_path, "serve", "--relay", "http://example")
    assert done.returncode == 1 and "ws://" in done.stderr


def test_status_text_for_a_user() -> None:
    now = time.time()
    peer = PeerStatus("lan", "1.2.3.4:5", "cd" * 16, "", now - 100, now - 3, True, ("b1",))
    links = (
        LinkStatus("lan", "1.2.3.4:5", "cd" * 16, "", now - 100, now - 3, True, synced=True),
        LinkStatus("relay", "ws://relay:1", "", "", now - 100, now - 3, True, synced=True),
    )
    status = NodeStatus(
        node_id="ab" * 16,
        name="",
        listening="0.0.0.0:1",
        discovery=False,
        peers=(peer,),
        boards=(
            BoardStatus("b1", "", 1, True, 3, None, links),
            BoardStatus("b2", "T", 0, False, 0, now - 7000, ()),
        ),
        problems=("x is damaged",),
    )
    assert format_status(status).splitlines() == [
        "node (no name) (abababababab) listening on 0.0.0.0:1, LAN discovery off",
        "1 peer(s) connected:",
        "  cdcdcdcdcdcd at 1.2.3.4:5, connected 2 min ago, last heard 3 s ago",
        "board (not synced yet) (b1): Live (1 peer, relay)",
        "  1 peer(s), relay linked, 3 local change(s) not seen by any peer, last sync never",
        "board T (b2): No teammates online — all changes synced",
        "  0 peer(s), 0 local change(s) not seen by any peer, last sync 1.9 h ago",
        "problem: x is damaged",
    ]


async def test_every_link_of_a_board_shares_its_guard(tmp_path: Path) -> None:
    """A board's totals (clients, size, pending) are kept once, whichever link sends."""
    ada, bob, cy = stores(tmp_path, "ada", "bob", "cy")
    board_id = share_board(ada, bob, cy)
    with ada.create_board("Other") as other:
        other_id = other.board_id
    async with (
        running(ada, name="Ada") as a,
        running(bob, peers=[peer_of(a)]),
        running(cy, peers=[peer_of(a)]),
    ):
        hub = a.boards[board_id]
        await async_wait_until(lambda: len(hub.links) == 2, what="both peers to link")
        sessions = [link.session for link in hub.links.values()]
        assert all(s is not None and s.protocol.guard is hub.guard for s in sessions)
        assert a.boards[other_id].guard is not hub.guard
