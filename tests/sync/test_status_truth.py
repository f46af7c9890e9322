"""What the node says about sync is true (issue 10, defect 5): a goodbye is not a
failure, a dropped link is redialled and says so, a board nobody else has is only
on this computer, and the count of changes no peer has is honest.

Real nodes on loopback in this process; the wording is :mod:`lanban.sync.status_text`.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import lanban.sync.node as node_module
from lanban.sync.node import Node
from lanban.sync.serve import format_status
from lanban.sync.status import BoardStatus, DialStatus, LinkStatus, NodeStatus
from lanban.sync.status_text import RECONNECT_PATIENCE_S, SyncState, dial_text, summarize
from lanban.sync.store import Store
from tests.support import async_holds, async_wait_until
from tests.sync.nodes import lanban, peer_of, running, share_board
from tests.sync.proxy import proxies


def board_of(node: Node, board_id: str) -> BoardStatus:
    status = node.status().board(board_id)
    assert status is not None
    return status


def dial(**fields: object) -> DialStatus:
    base: dict[str, object] = {
        "kind": "lan",
        "address": "192.168.1.7:47001",
        "node_id": "ab" * 16,
        "name": "Grace",
        "state": "waiting",
        "next_try": 1008.0,
        "error": "connection refused",
        "ended": 990.0,
        "goodbye": False,
        "no_board": False,
    }
    return DialStatus(**(base | fields))  # type: ignore[arg-type]


def board(pending: int = 0, **fields: object) -> BoardStatus:
    base = BoardStatus("b1", "Team", 0, False, pending, None, ())
    return BoardStatus(**(base.__dict__ | fields))


NOW = 1000.0


# ------------------------------------------------------------------ wording


def test_each_state_in_words() -> None:
    said = {
        "solo": summarize(board(8, shared=False, ever_synced=False), NOW),
        "away": summarize(board(3), NOW),
        "synced": summarize(board(0), NOW),
        "joined": summarize(board(0, ever_synced=False), NOW),
        "dropped": summarize(board(3, dials=(dial(),)), NOW),
        "left": summarize(board(3, dials=(dial(goodbye=True, error="connection refused"),)), NOW),
        "long gone": summarize(board(3, dials=(dial(ended=NOW - RECONNECT_PATIENCE_S),)), NOW),
        "relay": summarize(
            board(dials=(dial(kind="relay", address="ws://relay.example:8080", name=""),)), NOW
        ),
        "not their board": summarize(board(8, shared=False, dials=(dial(no_board=True),)), NOW),
        "relay refused": summarize(
            board(
                dials=(
                    dial(
                        kind="relay",
                        address="wss://r.example",
                        error="HTTP 401, check the relay token",
                    ),
                )
            ),
            NOW,
        ),
        "relay tried": summarize(
            board(dials=(dial(kind="relay", address="ws://r.example:1", state="trying"),)), NOW
        ),
    }
    assert {k: (s.state.value, s.text) for k, s in said.items()} == {
        "solo": ("local", "Only on this computer"),
        "away": ("away", "No teammates online — 3 changes will sync when one is"),
        "synced": ("away", "No teammates online — all changes synced"),
        "joined": ("away", "Waiting for a teammate who has this board"),
        "dropped": ("reconnecting", "Reconnecting to Grace (192.168.1.7:47001) in 8 s"),
        "left": ("away", "No teammates online — 3 changes will sync when one is"),
        "long gone": ("away", "No teammates online — 3 changes will sync when one is"),
        "relay": ("reconnecting", "Relay relay.example:8080 unreachable, retrying in 8 s"),
        "not their board": ("local", "Only on this computer"),
        "relay refused": ("reconnecting", "Relay r.example refused this board, retrying in 8 s"),
        "relay tried": ("reconnecting", "Connecting to relay r.example:1…"),
    }
    assert said["solo"].waiting == said["away"].waiting == ""  # the line says it
    assert said["dropped"].waiting == "3 changes made here that no peer has yet"
    assert said["dropped"].tries == (
        "Grace at 192.168.1.7:47001: Reconnecting: next try in 8 s (connection refused)",
    )
    live = LinkStatus("lan", "1.2.3.4:5", "cd" * 16, "Ada", 1.0, 2.0, True, synced=True)
    assert summarize(board(2, links=(live,)), NOW).text == "Live (1 peer)"
    assert summarize(board(2, links=(live,), dials=(dial(),)), NOW).state is SyncState.LIVE


def test_a_peer_the_node_tries_in_words() -> None:
    assert dial_text(dial(goodbye=True, ended=NOW - 150), NOW) == (
        "Left 2 min ago; next try in 8 s (connection refused)"
    )
    assert dial_text(dial(ended=0.0, error="no answer"), NOW) == (
        "Not reached yet; next try in 8 s (no answer)"
    )
    assert dial_text(dial(no_board=True, next_try=NOW + 60), NOW) == (
        "Does not have this board; asking again in 60 s"
    )
    assert dial_text(dial(state="trying"), NOW) == "Trying now (connection refused)"


def test_lanban_status_tells_the_same_truth() -> None:
    status = NodeStatus(
        node_id="ab" * 16,
        name="Ada",
        listening="0.0.0.0:1",
        discovery=True,
        peers=(),
        boards=(
            board(1, id="b1", title="Solo", shared=False, ever_synced=False),
            board(3, id="b2", dials=(dial(ended=time.time() - 5, next_try=time.time() + 7.5),)),
        ),
        problems=(),
    )
    lines = format_status(status).splitlines()
    assert lines[2:] == [
        "board Solo (b1): Only on this computer",
        "  0 peer(s), 1 local change(s) not seen by any peer, last sync never",
        "board Team (b2): Reconnecting to Grace (192.168.1.7:47001) in 8 s",
        "  0 peer(s), 3 local change(s) not seen by any peer, last sync never",
        "  Grace at 192.168.1.7:47001: Reconnecting: next try in 8 s (connection refused)",
    ]


# -------------------------------------------------------------- real nodes


async def test_a_goodbye_is_a_departure_and_a_drop_is_redialled(tmp_path: Path) -> None:
    ada, bob = Store(tmp_path / "ada"), Store(tmp_path / "bob")
    board_id = share_board(ada, bob)
    with proxies() as hub:
        async with running(ada, name="Ada") as a:
            cable = hub.proxy(a.address[1])
            address = f"127.0.0.1:{cable.port}"
            async with running(bob, name="Bob", peers=[address]) as b:
                await async_wait_until(
                    lambda: summarize(board_of(b, board_id)).text == "Live (1 peer)"
                )
                cable.cut()  # no close frame: a failure
                await async_wait_until(
                    lambda: board_of(b, board_id).dials[0].error, what="a failed redial"
                )
                (dropped,) = board_of(b, board_id).dials
                assert (dropped.name, dropped.address, dropped.goodbye) == ("Ada", address, False)
                assert summarize(board_of(b, board_id)).state is SyncState.RECONNECTING
                cable.restore()
                await async_wait_until(
                    lambda: summarize(board_of(b, board_id)).state is SyncState.LIVE,
                    seconds=40,
                    what="the link back",
                )


async def test_a_goodbye_leaves_the_board_calm(tmp_path: Path) -> None:
    ada, bob = Store(tmp_path / "ada"), Store(tmp_path / "bob")
    board_id = share_board(ada, bob)
    async with running(bob, name="Bob") as b, running(ada, name="Ada", peers=[peer_of(b)]) as a:
        await async_wait_until(lambda: summarize(board_of(a, board_id)).text == "Live (1 peer)")
        await b.stop()  # Bob quits normally
        await async_wait_until(lambda: board_of(a, board_id).dials[0].error, what="a failed redial")
        (left,) = board_of(a, board_id).dials
        assert (left.name, left.goodbye, left.error) == ("Bob", True, "connection refused")
        said = summarize(board_of(a, board_id))
        assert said.state is SyncState.AWAY, said


async def test_a_solo_board_and_one_only_a_stranger_was_asked_about(tmp_path: Path) -> None:
    ada, bob = Store(tmp_path / "ada"), Store(tmp_path / "bob")
    share_board(ada, bob)
    with ada.create_board("Private") as bf:
        private = bf.board_id
        for title in "abcdefg":
            bf.board.add_ticket(title)
    async with running(bob) as b, running(ada, peers=[peer_of(b)]) as a:
        await async_wait_until(
            lambda: any(d.no_board for d in board_of(a, private).dials),
            what="Bob to say he does not have the board",
        )
        status = board_of(a, private)
        assert not status.shared and status.local_changes_not_seen_by_peers == 8
        assert summarize(status).text == "Only on this computer"


def test_an_invite_makes_a_board_shared(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.create_board("Team") as bf:
        board_id = bf.board_id
    assert lanban(tmp_path, "board", "invite", board_id).returncode == 0
    with store.open(board_id) as bf:
        from lanban.sync.sharing import ever_shared

        assert ever_shared(bf)


async def test_a_change_made_after_the_last_peer_left_stays_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sync bookkeeping runs once a second; a change made between a peer's
    leaving and that tick was never sent and must not be marked seen."""
    monkeypatch.setattr(node_module, "HOUSEKEEPING_INTERVAL_S", 3600.0)  # ticks by hand
    ada, bob = Store(tmp_path / "ada"), Store(tmp_path / "bob")
    board_id = share_board(ada, bob)
    async with running(ada) as a:
        hub = a.boards[board_id]
        async with running(bob, peers=[peer_of(a)]) as b:
            await async_wait_until(lambda: summarize(board_of(a, board_id)).state is SyncState.LIVE)
            hub.board.add_ticket("seen by Bob")
            await async_wait_until(
                lambda: [t.title for t in b.boards[board_id].board.tickets()] == ["seen by Bob"]
            )
        await async_wait_until(lambda: not hub.links, what="Bob gone")
        hub.board.add_ticket("made after Bob left")
        await async_wait_until(lambda: board_of(a, board_id).local_changes_not_seen_by_peers)
        hub.tick()
        await async_holds(
            lambda: board_of(a, board_id).local_changes_not_seen_by_peers >= 1,
            seconds=0.5,
            what="the change Bob never got counted",
        )


@pytest.mark.timeout(60)  # a spinning dial loop holds the event loop: no deadline runs
async def test_a_peer_that_dialled_us_too_can_quit(tmp_path: Path) -> None:
    """Both nodes dial each other and one link wins, so one node's dial loop waits on
    a link its peer dialled. When that peer quits, the closed link stays registered
    while its socket closes: the loop must not spin on it (that held the event loop
    for good)."""
    ada, bob = Store(tmp_path / "ada"), Store(tmp_path / "bob")
    board_id = share_board(ada, bob)
    async with running(ada, name="Ada") as a, running(bob, name="Bob", peers=[peer_of(a)]) as b:
        a.add_peer(peer_of(b))
        await async_wait_until(
            lambda: (
                [d.state for d in board_of(a, board_id).dials] == ["linked"]
                and [d.state for d in board_of(b, board_id).dials] == ["linked"]
                and len(board_of(a, board_id).links) == 1
            ),
            what="both dial loops to rest on the one link",
        )
        (link,) = board_of(a, board_id).links
        waiter, leaver = (b, a) if link.initiator else (a, b)  # the waiter did not dial it
        # This node closes it (as it closes a peer too slow to keep up): its closing
        # handshake takes a few loop turns, while the dial loop wakes up.
        (first,) = waiter.boards[board_id].links.values()
        first.close("peer too slow: send buffer full")
        await async_wait_until(
            lambda: (
                first.id not in waiter.boards[board_id].links
                and summarize(board_of(waiter, board_id)).state is SyncState.LIVE
                and [d.state for d in board_of(waiter, board_id).dials] == ["linked"]
            ),
            seconds=10,
            what="the link back, and the dial loop resting on it",
        )
        await leaver.stop()
        await async_wait_until(
            lambda: board_of(waiter, board_id).dials[0].error == "connection refused",
            what="the node to notice its peer left and redial it",
        )
        assert summarize(board_of(waiter, board_id)).state is SyncState.AWAY
